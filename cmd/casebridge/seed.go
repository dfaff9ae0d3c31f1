package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/store"
)

// seedCmd writes synthetic data at scale (internal/seed) into the database
// at --database-url (an owner URL), into the private cluster under
// --data-dir (as `dev` uses it), or else into database.owner_url of the
// configuration. It migrates first.
func seedCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", stderr)
	scale := fs.Int("scale", 0, "number of persons to create (cases: scale/5)")
	dbURL := fs.String("database-url", "", "owner URL of the database to seed (default: database.owner_url of the configuration)")
	dataDir := fs.String("data-dir", "", "seed the private cluster kept in this directory (as `casebridge dev --data-dir`)")
	cfgPath := fs.String("config", "", "configuration file (YAML) when neither --database-url nor --data-dir is given")
	rngSeed := fs.Uint64("seed", 1, "random seed (the same seed gives the same data)")
	vacuum := fs.Bool("vacuum", true, "VACUUM (ANALYZE) the seeded tables at the end (else ANALYZE only)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *scale < 1:
		return &usageError{msg: "--scale must be a positive number of persons"}
	case *dbURL != "" && *dataDir != "":
		return &usageError{msg: "give either --database-url or --data-dir, not both"}
	}
	url := *dbURL
	if *dataDir != "" {
		dir, err := filepath.Abs(*dataDir)
		if err != nil {
			return app.Startupf("--data-dir: %v", err)
		}
		cluster, err := devpg.Start(ctx, dir, devpg.Options{Log: func(f string, a ...any) { fmt.Fprintf(stdout, "casebridge seed: "+f+"\n", a...) }})
		if err != nil {
			if errors.Is(err, devpg.ErrNoPostgres) {
				return app.Startupf("%v", err)
			}
			return app.Startupf("private PostgreSQL: %v", err)
		}
		defer cluster.Stop()
		url = cluster.OwnerURL("casebridge")
	}
	if url == "" {
		cfg, err := loadConfig(*cfgPath, environ, "migrate")
		if err != nil {
			return err
		}
		url = cfg.Database.OwnerURL
	}
	if _, err := store.Migrate(ctx, url, -1); err != nil {
		return app.Startupf("migrate: %v", err)
	}
	res, err := seed.Run(ctx, url, seed.Options{
		Persons: *scale, Seed: *rngSeed, Vacuum: *vacuum,
		Log: func(f string, a ...any) { fmt.Fprintf(stdout, "casebridge seed: "+f+"\n", a...) },
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, res.String())
	return err
}
