package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
)

const requestIDKey = "request_id"

var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

// RequestID returns the request's id.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// requestID keeps a sane incoming X-Request-ID or makes a new one, and
// returns it on the response.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !saneRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Request = c.Request.WithContext(audit.WithRequestInfo(c.Request.Context(), id, c.ClientIP()))
		c.Next()
	}
}

// recovery turns a panic into a 500 problem; the stack goes to the log only.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "request_id", RequestID(c), "path", c.Request.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					Fail(c, fmt.Errorf("panic: %v", v))
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// StatusClientClosedRequest is the status recorded (access log, metrics)
// for a request whose client went away before it was answered: nginx's 499.
// It is never a server error.
const StatusClientClosedRequest = 499

const cancelledKey = "client_cancelled"

// clientGone answers (and reports true) when the request failed because
// its client went away: the request's context ends only when the client
// disconnects (or the server shuts down), and a statement cut short by it
// fails with whatever error the driver gives. Nobody is there to read a
// problem: the request is recorded as cancelled, 499, not as a failure.
func clientGone(c *gin.Context, err error) bool {
	ctxErr := c.Request.Context().Err()
	if ctxErr == nil {
		return false
	}
	c.Set(cancelledKey, err.Error())
	if !c.Writer.Written() {
		c.Status(StatusClientClosedRequest)
		c.Writer.WriteHeaderNow()
	}
	c.Abort()
	return true
}

// accessLog writes one structured line per request: INFO (also for a
// request cancelled by its client: 499, with the error it cut short), ERROR
// for a server error.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []any{
			"request_id", RequestID(c), "method", c.Request.Method, "route", c.FullPath(),
			"path", c.Request.URL.Path, "status", c.Writer.Status(),
			"bytes", c.Writer.Size(), "duration_ms", time.Since(start).Milliseconds(),
			"client", c.ClientIP(),
		}
		if p, ok := access.FromContext(c.Request.Context()); ok {
			attrs = append(attrs, "agency", p.AgencyCode, "user", p.UserID.String())
		}
		level := slog.LevelInfo
		if why, ok := c.Get(cancelledKey); ok {
			attrs = append(attrs, "cancelled", true, "cancelled_during", why)
		}
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

// securityHeaders sets the headers every response carries.
func securityHeaders(https bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		c.Next()
	}
}

const rawBodyKey = "raw_body"

// bodyLimit caps every request body at limit bytes. Handlers that stream
// large bodies under their own limit (document uploads) take the unwrapped
// body with LargeBody.
func bodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit && !largeBodyRoute(c) {
			Problemf(c, http.StatusRequestEntityTooLarge, "too-large", "Request too large",
				"The request body exceeds "+strconv.FormatInt(limit, 10)+" bytes.")
			return
		}
		c.Set(rawBodyKey, c.Request.Body)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// largeBodyRoutes are the routes whose handlers enforce their own, larger
// body limit while streaming. A fixed table: every server reads it, none
// writes it (several servers run at once in tests and in one process).
var largeBodyRoutes = map[string]bool{
	"/api/v1/cases/:id/documents":    true,
	"/api/v1/documents/:id/versions": true,
	"/api/v1/imports":                true,
}

func largeBodyRoute(c *gin.Context) bool { return largeBodyRoutes[c.FullPath()] }

// LargeBody returns the request body without the general size cap, for a
// handler that enforces its own limit while streaming. Only routes listed
// in largeBodyRoutes may use it.
func LargeBody(c *gin.Context) io.ReadCloser {
	if raw, ok := c.Get(rawBodyKey); ok && largeBodyRoute(c) {
		return raw.(io.ReadCloser)
	}
	return c.Request.Body
}

// metrics counts requests and their latency by route and status.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casebridge_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casebridge_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "casebridge_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

func (m *metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		c.Next()
		m.inFlight.Dec()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}
