package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
	"github.com/casebridge/casebridge/internal/store"
)

// devPortalClient is the portal's client id at the development provider.
const devPortalClient = "casebridge-portal"

// startDevIdP starts the development OpenID provider for `dev` and points
// the portal's sign-in at it. Its signing key lives in the data dir (so
// tokens survive a restart) and it writes DIR/devidp.json for `dev token`.
// It listens on a fixed loopback port so that the issuer, and with it the
// users' identities (issuer, subject), stay the same from run to run.
func startDevIdP(ctx context.Context, cfg *config.Config, dir, addr string, log *slog.Logger) (*devidp.Provider, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	public := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	client := devidp.Client{
		ID: devPortalClient, Secret: base64.RawURLEncoding.EncodeToString(secret), Name: "CaseBridge",
		RedirectURIs:           []string{public + "/auth/callback"},
		PostLogoutRedirectURIs: []string{public + "/"},
	}
	idp, err := devidp.Start(ctx, devidp.Config{
		Addr: addr, KeyFile: filepath.Join(dir, "devidp-key.pem"), DataDir: dir,
		Audience: cfg.Auth.Audience, AgencyClaim: cfg.Auth.AgencyClaim, RolesClaim: cfg.Auth.RolesClaim,
		Clients: []devidp.Client{client}, Logger: log,
	})
	if err != nil {
		return nil, app.Startupf("--idp-listen: %v", err)
	}
	cfg.Auth.Issuer, cfg.Auth.ClientID, cfg.Auth.ClientSecret = idp.Issuer(), client.ID, client.Secret
	cfg.Auth.RedirectURL, cfg.Auth.PostLogoutRedirectURL = client.RedirectURIs[0], client.PostLogoutRedirectURIs[0]
	return idp, nil
}

// ensureDemoAgencies creates the agencies of configs/demo-accounts.yaml that
// do not exist yet, so the demo accounts can sign in. It runs as the owner
// (agencies are writable by admins only) and never changes an existing one.
func ensureDemoAgencies(ctx context.Context, ownerURL string) error {
	demo, err := devidp.Demo()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, ownerURL, store.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	for _, a := range demo.Agencies {
		var country *string
		if a.Country != "" {
			country = &a.Country
		}
		err := db.WithContext(ctx).Exec(`INSERT INTO agencies (code, name, kind, country) VALUES (?, ?, ?, ?)
			ON CONFLICT (code) DO NOTHING`, a.Code, a.Name, string(a.Kind), country).Error
		if err != nil {
			return fmt.Errorf("create demo agency %s: %w", a.Code, err)
		}
	}
	return nil
}

// printDemoAccounts prints the accounts the sign-in page offers.
func printDemoAccounts(w io.Writer, public string) error {
	demo, err := devidp.Demo()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "casebridge dev: sign in at %s/auth/login as one of these accounts (no password):\n\n", strings.TrimSuffix(public, "/"))
	if err := demo.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ncasebridge dev: an access token for scripts and curl: casebridge dev token ACCOUNT")
	return nil
}

// devToken prints a fresh access token for a demo account of the `dev`
// instance running with --data-dir (see internal/devidp/devtoken.go):
//
//	curl -H "Authorization: Bearer $(casebridge dev token gdi-officer)" http://127.0.0.1:8080/api/v1/me
func devToken(ctx context.Context, args, _ []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev token", stderr)
	dataDir := fs.String("data-dir", ".data", "data dir of the running `casebridge dev`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: casebridge dev token [--data-dir DIR] ACCOUNT")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		var names []string
		if demo, err := devidp.Demo(); err == nil {
			for _, a := range demo.Accounts {
				names = append(names, a.Username)
			}
		}
		return &usageError{msg: "name one account: " + strings.Join(names, ", ")}
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return app.Startupf("--data-dir: %v", err)
	}
	tok, err := devidp.MintToken(ctx, dir, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
