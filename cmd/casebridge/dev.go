package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/demo"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/store"
)

// dev runs the whole product on this machine with no setup: a private
// PostgreSQL cluster under the data dir, migrations, and the server.
// Settings are the defaults, overridable by CASEBRIDGE_* variables.
func dev(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		return devToken(ctx, args[1:], environ, stdout, stderr)
	}
	fs := newFlags("dev", stderr)
	dataDir := fs.String("data-dir", ".data", "directory for the private cluster and dev keys (reused across runs)")
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on (loopback)")
	idpListen := fs.String("idp-listen", "", "address of the development identity provider (loopback; unused when auth.issuer is set); default: --listen's port + 1")
	receiver := fs.Bool("webhook-receiver", true, "run a webhook receiver on a free loopback port that prints what it receives, and point the demo US embassy's webhook at it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *idpListen == "" {
		next, err := nextPort(*listen)
		if err != nil {
			return &usageError{msg: "--listen: " + err.Error()}
		}
		*idpListen = next
	}
	cfg, err := config.Load("", environ)
	if err != nil {
		return err
	}
	cfg.Server.Listen = *listen
	if cfg.Server.PublicURL == "" {
		cfg.Server.PublicURL = "http://" + *listen
	}
	// The URLs are filled in below from the private cluster.
	cfg.Database.URL, cfg.Database.OwnerURL = "postgres://placeholder", "postgres://placeholder"
	// The audit checkpoint key is generated on the first run, below.
	devAuditKey := cfg.Audit.SigningKey == "" && cfg.Audit.SigningKeyFile == ""
	if devAuditKey {
		cfg.Audit.SigningKeyFile = filepath.Join(*dataDir, "audit.key")
	}
	// The key of webhook secrets is generated on the first run, below;
	// webhooks may go to this machine (the demo receiver); the demo list
	// of mandatory-notification countries (docs/consular.md) unless set.
	devWebhookKey := cfg.Webhooks.SecretKey == "" && cfg.Webhooks.SecretKeyFile == ""
	if devWebhookKey {
		cfg.Webhooks.SecretKeyFile = filepath.Join(*dataDir, "webhooks.key")
	}
	cfg.Webhooks.AllowLoopback = true
	if len(cfg.Consular.MandatoryCountries) == 0 {
		cfg.Consular.MandatoryCountries = config.DemoMandatoryCountries()
	}
	// Document bytes live with the rest of the dev data unless configured.
	if cfg.Blob.Backend == "local" && cfg.Blob.Dir == config.Default().Blob.Dir {
		cfg.Blob.Dir = filepath.Join(*dataDir, "blobs")
	}
	if err := cfg.Validate("serve"); err != nil {
		return err
	}
	log := app.NewLogger(cfg.Log)

	ln, err := app.Listen("--listen", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return app.Startupf("--data-dir: %v", err)
	}
	fmt.Fprintf(stdout, "casebridge dev: data in %s\n", dir)
	cluster, err := devpg.Start(ctx, dir, devpg.Options{Log: func(f string, a ...any) { fmt.Fprintf(stdout, "casebridge dev: "+f+"\n", a...) }})
	if err != nil {
		if errors.Is(err, devpg.ErrNoPostgres) {
			return app.Startupf("%v", err)
		}
		return app.Startupf("private PostgreSQL: %v", err)
	}
	defer func() {
		fmt.Fprintln(stdout, "casebridge dev: stopping PostgreSQL")
		cluster.Stop()
	}()
	cfg.Database.URL, cfg.Database.OwnerURL = cluster.AppURL("casebridge"), cluster.OwnerURL("casebridge")
	if devAuditKey {
		cfg.Audit.SigningKeyFile = filepath.Join(dir, "audit.key")
		if _, err := audit.LoadOrCreateKey(cfg.Audit.SigningKeyFile, "casebridge-dev.localhost/audit"); err != nil {
			return app.Startupf("audit key: %v", err)
		}
	}
	if devWebhookKey {
		cfg.Webhooks.SecretKeyFile = filepath.Join(dir, "webhooks.key")
		if _, err := loadOrCreateSecretFile(cfg.Webhooks.SecretKeyFile, newWebhookKey); err != nil {
			return app.Startupf("webhooks key: %v", err)
		}
	}
	if _, err := store.Migrate(ctx, cfg.Database.OwnerURL, -1); err != nil {
		return app.Startupf("migrate: %v", err)
	}
	demoData, err := demo.Load(ctx, cfg.Database.OwnerURL)
	if err != nil {
		return app.Startupf("demo data: %v", err)
	}
	fmt.Fprintf(stdout, "casebridge dev: %s\n", demoData)
	// Sign-in: the development identity provider, unless auth.issuer names
	// another one; and the demo agencies its accounts belong to.
	if err := ensureDemoAgencies(ctx, cfg.Database.OwnerURL); err != nil {
		return app.Startupf("demo agencies: %v", err)
	}
	if cfg.Auth.Issuer == "" {
		idp, err := startDevIdP(ctx, &cfg, dir, *idpListen, log)
		if err != nil {
			return err
		}
		defer idp.Close() //nolint:errcheck
		fmt.Fprintf(stdout, "casebridge dev: development identity provider at %s\n", idp.Issuer())
	}
	if *receiver {
		url, stop, err := startDevWebhookReceiver(ctx, cfg, dir, stdout)
		if err != nil {
			return app.Startupf("%v", err)
		}
		defer stop()
		fmt.Fprintf(stdout, "casebridge dev: webhook receiver at %s (the %s webhook; deliveries print here)\n", url, demoWebhookAgency)
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	prog, err := app.New(cfg, db, log)
	if err != nil {
		return err
	}
	// The Tuol Kork case's court bundles, made through the services as the
	// owner's supervisor (a real build and seal); a failure here does not
	// keep the portal from starting.
	if demoData.Skipped == "" {
		if msg, err := demo.Bundles(ctx, db, prog.Documents, prog.Bundles); err != nil {
			fmt.Fprintf(stdout, "casebridge dev: demo bundles not made: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "casebridge dev: %s\n", msg)
		}
	}
	fmt.Fprintf(stdout, "casebridge dev: PostgreSQL on 127.0.0.1:%d\n", cluster.Port)
	if err := printDemoAccounts(stdout, cfg.Server.PublicURL); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "casebridge dev: serving on %s (Ctrl-C stops the server and the cluster)\n", cfg.Server.PublicURL)
	return prog.Serve(ctx, ln)
}

// nextPort returns addr with its port plus one: the dev identity provider's
// default address, so that several dev instances run side by side and each
// keeps the same issuer across runs.
func nextPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n >= 65535 {
		return "", fmt.Errorf("%q needs a fixed port below 65535", addr)
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1)), nil
}
