package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
)

// errVerifyFailed makes the exit status 1 after the problems were listed.
var errVerifyFailed = errors.New("verification failed")

// verify re-hashes every stored document object and checks that every
// version's bytes exist, listing what is missing or corrupted.
func verify(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); default $CASEBRIDGE_CONFIG")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, environ, "verify")
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return app.Startupf("database.url: must be set")
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	blobs, err := app.OpenBlobStore(ctx, cfg.Blob)
	if err != nil {
		return err
	}
	res, err := documents.Verify(store.WithDB(ctx, db), blobs)
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stdout, "%s %s: %v\n", p.Kind, p.SHA256, p.Err)
	}
	fmt.Fprintf(stdout, "checked %d stored objects and %d recorded blobs: %d problems\n",
		res.Objects, res.Recorded, len(res.Problems))
	if len(res.Problems) > 0 {
		return errVerifyFailed
	}
	return nil
}
