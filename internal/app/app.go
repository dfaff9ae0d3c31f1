// Package app assembles the running program from its parts: configuration,
// database, services, background workers and the HTTP server. `serve` and
// `dev` both run it; cmd/casebridge only parses flags and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/auth"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/httpapi"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// StartupError is a failure to start, reported as one line naming the
// setting or resource at fault; the program exits with status 2.
type StartupError struct{ Msg string }

func (e *StartupError) Error() string { return e.Msg }

// Startupf returns a StartupError.
func Startupf(format string, args ...any) error {
	return &StartupError{Msg: oneLine(fmt.Sprintf(format, args...))}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// NewLogger builds the structured logger the settings ask for.
func NewLogger(cfg config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// Listen binds addr, turning "address in use" into a startup error naming it.
func Listen(setting, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, Startupf("%s: %s is already in use", setting, addr)
		}
		return nil, Startupf("%s: cannot listen on %s: %v", setting, addr, err)
	}
	return ln, nil
}

// OpenDB connects as the application role, migrating first when asked.
func OpenDB(ctx context.Context, cfg config.Config) (*gorm.DB, error) {
	if cfg.Database.MigrateOnStart {
		if _, err := store.Migrate(ctx, cfg.Database.OwnerURL, -1); err != nil {
			return nil, Startupf("database.owner_url: %v", err)
		}
	}
	db, err := store.Open(ctx, cfg.Database.URL, store.Options{
		MaxOpenConns:   cfg.Database.MaxOpenConns,
		MaxIdleConns:   cfg.Database.MaxOpenConns,
		ConnectTimeout: cfg.Database.ConnectTimeout,
	})
	if err != nil {
		return nil, Startupf("database.url: %v", err)
	}
	return db, nil
}

// Program is the assembled application.
type Program struct {
	Config config.Config
	DB     *gorm.DB
	Log    *slog.Logger
	HTTP   *httpapi.Server
	// Blobs holds document bytes; Documents is the document service.
	Blobs     blob.Store
	Documents *documents.Service
	// Bundles is the court-bundle service (its builds are jobs).
	Bundles *bundles.Service
	// Auth is sign-in: the OpenID relying party, sessions, bearer tokens.
	Auth *auth.Service
	// AuditSigner signs audit checkpoints; nil runs no sequencer.
	AuditSigner *audit.Signer
	// Workers are the kinds of background job this program works
	// (registerJobs); Jobs is the running queue once StartJobs was called.
	Workers  *river.Workers
	Jobs     *jobs.Queue
	periodic []*river.PeriodicJob
	// Webhooks delivers events to embassy systems (a job queue worker);
	// WebhookSealer encrypts their secrets (nil: no key configured).
	Webhooks      *webhooks.Deliverer
	WebhookSealer *webhooks.Sealer
}

// New assembles the program on an open database.
func New(cfg config.Config, db *gorm.DB, log *slog.Logger) (*Program, error) {
	p := &Program{Config: cfg, DB: db, Log: log}
	blobs, err := OpenBlobStore(context.Background(), cfg.Blob)
	if err != nil {
		return nil, err
	}
	p.Blobs = blobs
	p.Documents = documents.NewService(blobs, cfg.Documents.MaxSize, log)
	b := cfg.Bundles
	p.Bundles = bundles.NewService(blobs, bundles.Limits(b.MaxSourceBytes, b.MaxSourcePages, b.MaxTotalPages, b.MaxImagePixels), log)
	p.Bundles.SetRestartAfter(2 * cfg.Jobs.RescueAfter)
	p.Documents.SetAgencyDailyQuota(cfg.Documents.AgencyDailyQuota)
	authSvc, err := auth.New(auth.ConfigFrom(cfg, log))
	if err != nil {
		return nil, Startupf("auth: %v", err)
	}
	p.Auth = authSvc
	if p.AuditSigner, err = AuditSigner(cfg.Audit); err != nil {
		return nil, err
	}
	var auditKey string
	if p.AuditSigner != nil {
		auditKey = p.AuditSigner.VerifierKey()
	}
	if p.WebhookSealer, err = WebhookSealer(cfg.Webhooks); err != nil {
		return nil, err
	}
	p.Webhooks = &webhooks.Deliverer{DB: db, Sealer: p.WebhookSealer, Policy: WebhookPolicy(cfg.Webhooks),
		Timeout: cfg.Webhooks.Timeout, RetryBase: cfg.Webhooks.RetryBase, MaxAttempts: cfg.Webhooks.MaxAttempts,
		Log: log.With("component", "webhooks")}
	p.registerJobs()
	p.HTTP = httpapi.New(httpapi.Deps{DB: db, Log: log, Config: cfg, Documents: p.Documents, Bundles: p.Bundles, Auth: p.Auth,
		AuditVerifierKey: auditKey, Webhooks: webhooks.NewService(p.WebhookSealer, WebhookPolicy(cfg.Webhooks), log)})
	return p, nil
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully:
// in-flight requests finish (up to server.shutdown_timeout).
func (p *Program) Serve(ctx context.Context, ln net.Listener) error {
	s := p.Config.Server
	if err := pingBlobs(ctx, p.Config.Blob, p.Blobs); err != nil {
		return err
	}
	stopJobs, err := p.StartJobs(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
		defer cancel()
		if err := stopJobs(sctx); err != nil {
			p.Log.Warn("stop job queue", "error", err.Error())
		}
	}()
	if s.PprofListen != "" {
		if _, err := StartPprof(ctx, s.PprofListen, p.Log); err != nil {
			return err
		}
	}
	if p.AuditSigner != nil {
		go RunAuditSequencer(ctx, p)
	}
	srv := &http.Server{
		Handler:           p.HTTP.Handler(),
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       s.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	p.Log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	p.Log.Info("shutting down", "timeout", s.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
