// Package httpapi is the HTTP adapter: the Gin router, middleware, problem
// details and thin handlers that decode a request, call one service method
// and encode the answer. No rule lives here; access is decided by the
// database, actions by the domain packages.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/api"
	"github.com/casebridge/casebridge/frontend"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/auth"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// Deps is what the HTTP layer needs from the program.
type Deps struct {
	DB     *gorm.DB
	Log    *slog.Logger
	Config config.Config
	// Documents serves the document routes; nil leaves them out.
	Documents *documents.Service
	// Bundles serves the court-bundle routes; nil leaves them out.
	Bundles *bundles.Service
	// Auth signs people in and finds the principal of every request; nil
	// refuses every API request (401).
	Auth *auth.Service
	// AuditVerifierKey is the audit checkpoint verifier key served at
	// /api/v1/audit/key; empty when no signing key is configured.
	AuditVerifierKey string
	// Webhooks sets embassies' webhooks and reads their delivery log; nil
	// leaves the routes out.
	Webhooks *webhooks.Service
}

// Server is the HTTP application.
type Server struct {
	deps    Deps
	engine  *gin.Engine
	metrics *metrics
	reg     *prometheus.Registry
	web     *webApp
}

// New builds the router with every route.
func New(deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{deps: deps, engine: gin.New(), reg: reg, metrics: newMetrics(reg)}
	s.engine.ContextWithFallback = true
	s.engine.HandleMethodNotAllowed = true
	_ = s.engine.SetTrustedProxies(nil)
	https := strings.HasPrefix(deps.Config.Server.PublicURL, "https://")
	lm := s.limits()
	s.engine.Use(func(c *gin.Context) { c.Set(loggerKey, deps.Log) }, requestID(), recovery(deps.Log), headerLimit(), accessLog(deps.Log), s.metrics.middleware(),
		securityHeaders(https), guardBody(deps.Config.Server), bodyLimit(deps.Config.Server.MaxBodyBytes), s.withStore(), lm.beforeAuth(), s.authenticate(), validateInputs(), lm.downloads())
	web, err := newWebApp(frontend.App())
	if err != nil {
		deps.Log.Error("web app not served", "error", err.Error())
		web, _ = newWebApp(nil)
	}
	s.web = web
	s.engine.NoRoute(s.noRoute) // the web app's files and pages, else 404
	s.engine.NoMethod(func(c *gin.Context) {
		Problemf(c, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			"This resource does not support "+c.Request.Method+".")
	})
	s.routes()
	return s
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine exposes the router to tests (route listing).
func (s *Server) Engine() *gin.Engine { return s.engine }

// Registry exposes the metrics registry so other parts of the program
// (the audit sequencer, job workers) can register their own metrics.
func (s *Server) Registry() prometheus.Registerer { return s.reg }

// routes registers every route. Each area adds its own register call here.
func (s *Server) routes() {
	s.engine.GET("/healthz", s.healthz)
	s.engine.HEAD("/healthz", s.healthz)
	s.engine.GET("/readyz", s.readyz)
	s.engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	s.engine.GET("/api/openapi.yaml", s.openapi)
	s.authRoutes()
	s.documentRoutes(s.engine.Group("/api/v1"))
	s.auditRoutes(s.engine.Group("/api/v1"))
	s.caseRoutes(s.engine.Group("/api/v1"))
	s.personRoutes(s.engine.Group("/api/v1"))
	s.consularRoutes(s.engine.Group("/api/v1"))
	s.agencyRoutes(s.engine.Group("/api/v1"))
	s.webhookRoutes(s.engine.Group("/api/v1"))
	s.facilityRoutes(s.engine.Group("/api/v1"))
	s.notificationRoutes(s.engine.Group("/api/v1"))
	s.importRoutes(s.engine.Group("/api/v1"))
	s.statsRoutes(s.engine.Group("/api/v1"))
	s.bundleRoutes(s.engine.Group("/api/v1"))
}

// withStore puts the connection pool into the request context, where the
// services find it (store.DB, store.WithTx).
func (s *Server) withStore() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.deps.DB != nil {
			c.Request = c.Request.WithContext(store.WithDB(c.Request.Context(), s.deps.DB))
		}
		c.Next()
	}
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when the database answers and has every migration
// this binary knows.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	if s.deps.DB == nil {
		Problemf(c, http.StatusServiceUnavailable, "not-ready", "Not ready", "No database configured.")
		return
	}
	if err := store.CheckSchema(ctx, s.deps.DB); err != nil {
		detail := "The database is not reachable."
		if errors.Is(err, store.ErrSchemaBehind) {
			detail = "The database schema is behind this binary: run casebridge migrate."
		}
		s.deps.Log.Warn("not ready", "component", "database", "error", err.Error())
		c.Header("Retry-After", "5")
		Problemf(c, http.StatusServiceUnavailable, "not-ready", "Not ready", detail)
		return
	}
	if s.deps.Documents != nil {
		if err := blobReady(ctx, s.deps.Documents.Blobs()); err != nil {
			s.deps.Log.Warn("not ready", "component", "blob_store", "error", err.Error())
			c.Header("Retry-After", "60")
			Problemf(c, http.StatusServiceUnavailable, "not-ready", "Not ready",
				"The document store is not usable: "+err.Error()+".")
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": "ok", "blob_store": blobStatus(s.deps.Documents)})
}

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", api.OpenAPI)
}

// DecodeJSON decodes the request body strictly into v: one JSON object, no
// unknown fields, within the body limit. Its errors are domain errors ready
// for Fail.
func DecodeJSON(c *gin.Context, v any) error {
	ct := c.ContentType()
	if ct != "application/json" && ct != "application/merge-patch+json" {
		return apperr.With(apperr.ErrUnsupportedMediaType, "Send the body as application/json.")
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Invalid("body", "must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errTruncated), errors.Is(err, errSlowBody):
		return err
	case errors.As(err, &maxErr):
		return apperr.With(apperr.ErrTooLarge, "The request body exceeds the limit of %d bytes.", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return apperr.Invalid("body", "is empty; a JSON object is required")
	case errors.As(err, &syntaxErr):
		return apperr.Invalid("body", "is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return apperr.Invalid(field, "must be of type %s", typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid(name, "is not a known field")
	default:
		return apperr.Invalid("body", "could not be read as JSON")
	}
}
