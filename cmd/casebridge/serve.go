package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
)

// loadConfig reads --config (or CASEBRIDGE_CONFIG) and the environment, and
// validates for mode.
func loadConfig(path string, environ []string, mode string) (config.Config, error) {
	if path == "" {
		path = lookupEnv(environ, "CASEBRIDGE_CONFIG")
	}
	cfg, err := config.Load(path, environ)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate(mode)
}

func serve(ctx context.Context, args, environ []string, _, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); default $CASEBRIDGE_CONFIG")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, environ, "serve")
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.Log)
	// Libraries and any code that logs through slog's default logger
	// write in the configured format too.
	slog.SetDefault(log)
	ln, err := app.Listen("server.listen", cfg.Server.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	prog, err := app.New(cfg, db, log)
	if err != nil {
		return err
	}
	return prog.Serve(ctx, ln)
}

func migrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); default $CASEBRIDGE_CONFIG")
	target := fs.Int64("to", -1, "target version (0 rolls every migration back); default: latest")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, environ, "migrate")
	if err != nil {
		return err
	}
	v, err := store.Migrate(ctx, cfg.Database.OwnerURL, *target)
	if err != nil {
		return app.Startupf("database.owner_url: %v", err)
	}
	_, err = fmt.Fprintf(stdout, "database at migration version %d\n", v)
	return err
}
