package testenv

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/casebridge/casebridge/internal/devidp"
)

// IdP is a development OpenID provider on loopback, for tests that sign in
// with real bearer tokens.
type IdP struct {
	*devidp.Provider
	t testing.TB
}

// StartIdP starts a provider for t (stopped when t ends), with no accounts
// but the demo ones; Token adds partner-system clients as needed.
func StartIdP(t testing.TB) *IdP {
	t.Helper()
	p, err := devidp.Start(t.Context(), devidp.Config{
		KeyFile: filepath.Join(t.TempDir(), "idp-key.pem"),
		Logger:  quietLogger(),
	})
	if err != nil {
		t.Fatalf("testenv: start identity provider: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &IdP{Provider: p, t: t}
}

// RegisterPortal registers the portal's confidential client with its
// callback under base and returns the client id and secret to configure.
func (p *IdP) RegisterPortal(base string) (id, secret string) {
	p.t.Helper()
	id, secret = "casebridge-portal", "portal-secret-"+uuid.NewString()
	if err := p.RegisterClient(devidp.Client{ID: id, Secret: secret, Name: "CaseBridge",
		RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/"}}); err != nil {
		p.t.Fatalf("testenv: register portal client: %v", err)
	}
	return id, secret
}

// Token registers a partner-system client of the agency with that code and
// those roles, and returns an access token the provider issued to it
// (client credentials grant).
func (p *IdP) Token(agencyCode string, roles ...string) string {
	p.t.Helper()
	id := "client-" + uuid.NewString()
	secret := "secret-" + uuid.NewString()
	if err := p.RegisterClient(devidp.Client{ID: id, Secret: secret, Agency: agencyCode, Roles: roles}); err != nil {
		p.t.Fatalf("testenv: register client: %v", err)
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.Issuer() + "/oauth2/token"}
	tok, err := cc.Token(p.t.Context())
	if err != nil {
		p.t.Fatalf("testenv: token for %s: %v", agencyCode, err)
	}
	return tok.AccessToken
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
