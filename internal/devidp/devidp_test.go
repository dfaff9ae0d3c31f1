package devidp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/casebridge/casebridge/internal/devidp"
)

const (
	portalID        = "casebridge-portal"
	portalSecret    = "portal-secret-for-tests"
	portalCallback  = "http://127.0.0.1:9/auth/callback" // never contacted: the test stops at the redirect
	portalLoggedOut = "http://127.0.0.1:9/"
	partnerID       = "emb-vn-case-system"
	partnerSecret   = "partner-secret-for-tests"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testClients() []devidp.Client {
	return []devidp.Client{
		{ID: portalID, Secret: portalSecret, Name: "CaseBridge",
			RedirectURIs: []string{portalCallback}, PostLogoutRedirectURIs: []string{portalLoggedOut}},
		{ID: partnerID, Secret: partnerSecret, Agency: "emb-vn", Roles: []string{"liaison"}, Name: "Viet Nam embassy case system"},
	}
}

func start(t *testing.T, cfg devidp.Config) *devidp.Provider {
	t.Helper()
	if cfg.Clients == nil {
		cfg.Clients = testClients()
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	p, err := devidp.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start provider: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close provider: %v", err)
		}
	})
	return p
}

// rp is a relying party as the portal will be: go-oidc + oauth2.
type rp struct {
	provider *oidc.Provider
	conf     oauth2.Config
	browser  *http.Client
}

func newRP(t *testing.T, issuer string) *rp {
	t.Helper()
	prov, err := oidc.NewProvider(t.Context(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rp{
		provider: prov,
		conf: oauth2.Config{
			ClientID: portalID, ClientSecret: portalSecret, RedirectURL: portalCallback,
			Endpoint: prov.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		browser: &http.Client{
			Jar:     jar,
			Timeout: 30 * time.Second,
			// Stop at redirects that leave the provider, as a browser would
			// hand them to the portal.
			CheckRedirect: func(req *http.Request, _ []*http.Request) error {
				if strings.HasPrefix(req.URL.String(), issuer) {
					return nil
				}
				return http.ErrUseLastResponse
			},
		},
	}
}

func random(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// signIn runs the browser part of the code flow: the authorization URL, the
// sign-in page, the button of account; it returns the redirect back to the
// portal.
func (r *rp) signIn(t *testing.T, authURL, account string) *url.URL {
	t.Helper()
	resp, err := r.browser.Get(authURL)
	if err != nil {
		t.Fatalf("get authorization url: %v", err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: status %d: %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="`+account+`"`) {
		t.Fatalf("sign-in page does not offer %s:\n%s", account, body)
	}
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("sign-in page without a form:\n%s", body)
	}
	action, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse(authURL)
	resp, err = r.browser.PostForm(page.ResolveReference(action).String(), url.Values{"account": {account}})
	if err != nil {
		t.Fatalf("post sign-in form: %v", err)
	}
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: want a redirect, got %d: %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// codeFlow signs account in and exchanges the code: the whole flow as the
// portal runs it, with PKCE S256, state and nonce.
func (r *rp) codeFlow(t *testing.T, account string, extraScopes ...string) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	ctx := t.Context()
	state, nonce, verifier := random(t), random(t), oauth2.GenerateVerifier()
	conf := r.conf
	conf.Scopes = append(slices.Clone(conf.Scopes), extraScopes...)
	loc := r.signIn(t, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), account)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != portalCallback {
		t.Fatalf("redirected to %s, want %s", loc, portalCallback)
	}
	if loc.Query().Get("state") != state {
		t.Fatalf("state not returned: %s", loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.provider.Verifier(&oidc.Config{ClientID: portalID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("id token nonce %q, want %q", idt.Nonce, nonce)
	}
	return tok, idt
}

// accessClaims verifies an access token as a resource server does (JWKS,
// issuer, audience "casebridge") and returns its claims.
func (r *rp) accessClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	claims, err := r.verifyAccess(t.Context(), token)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	return claims
}

func (r *rp) verifyAccess(ctx context.Context, token string) (map[string]any, error) {
	at, err := r.provider.Verifier(&oidc.Config{ClientID: "casebridge"}).Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := at.Claims(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
		t.Fatalf("issuer %q is not on loopback", p.Issuer())
	}
	r := newRP(t, p.Issuer())
	var doc struct {
		EndSession string   `json:"end_session_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
		PKCE       []string `json:"code_challenge_methods_supported"`
		Grants     []string `json:"grant_types_supported"`
		UserInfo   string   `json:"userinfo_endpoint"`
	}
	if err := r.provider.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.EndSession != p.Issuer()+"/oauth2/logout" || doc.UserInfo == "" {
		t.Errorf("end_session_endpoint %q userinfo %q", doc.EndSession, doc.UserInfo)
	}
	if !slices.Equal(doc.Algs, []string{"RS256"}) || !slices.Equal(doc.PKCE, []string{"S256"}) {
		t.Errorf("algs %v, pkce %v", doc.Algs, doc.PKCE)
	}
	for _, g := range []string{"authorization_code", "client_credentials", "refresh_token"} {
		if !slices.Contains(doc.Grants, g) {
			t.Errorf("grant %s not advertised: %v", g, doc.Grants)
		}
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	tok, idt := r.codeFlow(t, "emb-cn-liaison")

	var id map[string]any
	if err := idt.Claims(&id); err != nil {
		t.Fatal(err)
	}
	if id["agency"] != "emb-cn" || !slices.Equal(strs(id["roles"]), []string{"liaison"}) ||
		id["name"] != "Li Wei" || id["preferred_username"] != "emb-cn-liaison" {
		t.Errorf("id token claims: %v", id)
	}
	if idt.Subject == "" || idt.Subject == "emb-cn-liaison" {
		t.Errorf("subject %q should be an opaque id, not the username", idt.Subject)
	}

	at := r.accessClaims(t, tok.AccessToken)
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti"} {
		if at[c] == nil {
			t.Errorf("access token lacks %s: %v", c, at)
		}
	}
	if at["sub"] != idt.Subject || at["agency"] != "emb-cn" || !slices.Equal(strs(at["roles"]), []string{"liaison"}) {
		t.Errorf("access token claims: %v", at)
	}
	if !slices.Equal(strs(at["aud"]), []string{"casebridge"}) {
		t.Errorf("access token aud %v, want [casebridge]", at["aud"])
	}
	if h := jwtHeader(t, tok.AccessToken); h["alg"] != "RS256" || h["kid"] != p.KeyID() {
		t.Errorf("access token header %v, want RS256 and kid %s", h, p.KeyID())
	}

	// The portal's client id is not a valid audience for access tokens:
	// an ID token is not a bearer token.
	if _, err := r.verifyAccess(t.Context(), tok.Extra("id_token").(string)); err == nil {
		t.Error("an ID token passed as an access token")
	}

	ui, err := r.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != idt.Subject {
		t.Errorf("userinfo subject %q, want %q", ui.Subject, idt.Subject)
	}
}

func TestCodeFlowRefresh(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	tok, _ := r.codeFlow(t, "gdi-officer", "offline_access")
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	tok.Expiry = time.Now().Add(-time.Minute) // force the refresh
	fresh, err := r.conf.TokenSource(t.Context(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken {
		t.Fatal("refresh returned the same access token")
	}
	at := r.accessClaims(t, fresh.AccessToken)
	if at["agency"] != "gdi" || !slices.Equal(strs(at["roles"]), []string{"officer"}) {
		t.Errorf("refreshed access token claims: %v", at)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	state := random(t)
	verifier := oauth2.GenerateVerifier()

	redirectError := func(t *testing.T, authURL string) string {
		t.Helper()
		resp, err := r.browser.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		loc, err := resp.Location()
		if err != nil {
			return "status " + resp.Status + ": " + body
		}
		return loc.Query().Get("error")
	}
	t.Run("no PKCE", func(t *testing.T) {
		if got := redirectError(t, r.conf.AuthCodeURL(state)); got != "invalid_request" {
			t.Errorf("without code_challenge: %s", got)
		}
	})
	t.Run("plain PKCE", func(t *testing.T) {
		u := r.conf.AuthCodeURL(state, oauth2.SetAuthURLParam("code_challenge", verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		if got := redirectError(t, u); got != "invalid_request" {
			t.Errorf("with plain code_challenge_method: %s", got)
		}
	})
	t.Run("unregistered redirect", func(t *testing.T) {
		conf := r.conf
		conf.RedirectURL = "http://127.0.0.1:9/elsewhere"
		resp, err := r.browser.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode < 400 {
			t.Errorf("unregistered redirect_uri: status %d, want an error page", resp.StatusCode)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		loc := r.signIn(t, r.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "gdi-viewer")
		_, err := r.conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if err == nil {
			t.Error("code exchanged with the wrong PKCE verifier")
		}
	})
	t.Run("code used twice", func(t *testing.T) {
		loc := r.signIn(t, r.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "gdi-viewer")
		code := loc.Query().Get("code")
		if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err == nil {
			t.Error("code exchanged twice")
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		authURL := r.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
		u, _ := url.Parse(authURL)
		resp, err := r.browser.PostForm(p.Issuer()+u.Path+"?"+u.RawQuery, url.Values{"account": {"mallory"}})
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no account named mallory") {
			t.Errorf("unknown account: %d %s", resp.StatusCode, body)
		}
	})
}

func TestLoginPageLists(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	resp, err := r.browser.Get(r.conf.AuthCodeURL(random(t), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	demo, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range demo.Accounts {
		button := `<button type="submit" name="account" value="` + a.Username + `" aria-describedby="who-` + a.Username + `">Sign in as ` + a.Username + `</button>`
		if !strings.Contains(body, button) {
			t.Errorf("sign-in page lacks the button for %s", a.Username)
		}
	}
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Signing in to <strong>CaseBridge</strong>") {
		t.Errorf("sign-in page:\n%s", body)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	cc := clientcredentials.Config{ClientID: partnerID, ClientSecret: partnerSecret, TokenURL: r.provider.Endpoint().TokenURL}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	at := r.accessClaims(t, tok.AccessToken)
	if at["sub"] != partnerID || at["agency"] != "emb-vn" || !slices.Equal(strs(at["roles"]), []string{"liaison"}) {
		t.Errorf("client credentials token claims: %v", at)
	}

	cc.ClientSecret = "wrong"
	if _, err := cc.Token(t.Context()); err == nil {
		t.Error("client credentials with a wrong secret succeeded")
	}
	// The portal client has no agency of its own: no client_credentials.
	cc = clientcredentials.Config{ClientID: portalID, ClientSecret: portalSecret, TokenURL: r.provider.Endpoint().TokenURL}
	if _, err := cc.Token(t.Context()); err == nil {
		t.Error("the portal client got a client credentials token")
	}
}

// TestES256RealmAccessRoles is the Keycloak-like configuration: ES256 keys
// and roles under realm_access.roles.
func TestES256RealmAccessRoles(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{Algorithm: devidp.ES256, RolesClaim: "realm_access.roles", AgencyClaim: "agency"})
	r := newRP(t, p.Issuer())
	tok, idt := r.codeFlow(t, "gdi-supervisor")
	for name, raw := range map[string]string{"id": tok.Extra("id_token").(string), "access": tok.AccessToken} {
		if h := jwtHeader(t, raw); h["alg"] != "ES256" {
			t.Errorf("%s token alg %v, want ES256", name, h["alg"])
		}
	}
	var id map[string]any
	if err := idt.Claims(&id); err != nil {
		t.Fatal(err)
	}
	at := r.accessClaims(t, tok.AccessToken)
	for name, claims := range map[string]map[string]any{"id": id, "access": at} {
		ra, _ := claims["realm_access"].(map[string]any)
		if !slices.Equal(strs(ra["roles"]), []string{"supervisor"}) || claims["roles"] != nil || claims["agency"] != "gdi" {
			t.Errorf("%s token claims: %v", name, claims)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	cc := clientcredentials.Config{ClientID: partnerID, ClientSecret: partnerSecret, TokenURL: r.provider.Endpoint().TokenURL}
	mint := func() string {
		t.Helper()
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	// One verifier for the whole test, so its cached JWKS has to be
	// refreshed when an unknown kid shows up.
	v := r.provider.Verifier(&oidc.Config{ClientID: "casebridge"})
	verify := func(tok string) error { _, err := v.Verify(t.Context(), tok); return err }

	old := mint()
	oldKid := p.KeyID()
	if err := verify(old); err != nil {
		t.Fatal(err)
	}
	kid, err := p.RotateKey(true)
	if err != nil {
		t.Fatal(err)
	}
	if kid == oldKid || p.KeyID() != kid {
		t.Fatalf("rotation kept kid %s", kid)
	}
	rotated := mint()
	if h := jwtHeader(t, rotated); h["kid"] != kid {
		t.Fatalf("token after rotation has kid %v, want %s", h["kid"], kid)
	}
	if err := verify(rotated); err != nil {
		t.Errorf("token signed with the new key: %v", err)
	}
	if err := verify(old); err != nil {
		t.Errorf("token signed with the kept old key: %v", err)
	}

	if _, err := p.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	if err := verify(mint()); err != nil {
		t.Errorf("token signed after the second rotation: %v", err)
	}
	if err := verify(old); err == nil {
		t.Error("token signed with a dropped key still verifies")
	}
	if err := verify(rotated); err == nil {
		t.Error("token signed with a dropped key still verifies")
	}
}

func TestKeyFilePersists(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "keys", "devidp-key.pem")
	p1, err := devidp.Start(t.Context(), devidp.Config{KeyFile: keyFile, Clients: testClients(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	kid := p1.KeyID()
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	p2 := start(t, devidp.Config{KeyFile: keyFile})
	if p2.KeyID() != kid {
		t.Errorf("kid after restart %s, want %s", p2.KeyID(), kid)
	}
	rotated, err := p2.RotateKey(false)
	if err != nil {
		t.Fatal(err)
	}
	p3 := start(t, devidp.Config{KeyFile: keyFile})
	if p3.KeyID() != rotated {
		t.Errorf("kid after rotation and restart %s, want %s", p3.KeyID(), rotated)
	}
	// An RSA key file does not fit ES256.
	if _, err := devidp.Start(t.Context(), devidp.Config{KeyFile: keyFile, Algorithm: devidp.ES256, Logger: quietLogger()}); err == nil {
		t.Error("started ES256 with an RSA key file")
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	p := start(t, devidp.Config{})
	r := newRP(t, p.Issuer())
	tok, _ := r.codeFlow(t, "moi-coordinator")
	idToken := tok.Extra("id_token").(string)
	end := p.Issuer() + "/oauth2/logout"

	get := func(t *testing.T, q url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := r.browser.Get(end + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	t.Run("registered redirect", func(t *testing.T) {
		resp, _ := get(t, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {portalLoggedOut}, "state": {"xyz"}})
		loc, err := resp.Location()
		if resp.StatusCode != http.StatusFound || err != nil || loc.String() != portalLoggedOut+"?state=xyz" {
			t.Errorf("end session: %d %v", resp.StatusCode, loc)
		}
	})
	t.Run("client id instead of hint", func(t *testing.T) {
		resp, _ := get(t, url.Values{"client_id": {portalID}, "post_logout_redirect_uri": {portalLoggedOut}})
		if resp.StatusCode != http.StatusFound {
			t.Errorf("end session with client_id: %d", resp.StatusCode)
		}
	})
	t.Run("unregistered redirect", func(t *testing.T) {
		resp, body := get(t, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not registered") {
			t.Errorf("unregistered post_logout_redirect_uri: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("redirect without client", func(t *testing.T) {
		resp, _ := get(t, url.Values{"post_logout_redirect_uri": {portalLoggedOut}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("post_logout_redirect_uri without a client: %d", resp.StatusCode)
		}
	})
	t.Run("forged hint", func(t *testing.T) {
		other := start(t, devidp.Config{})
		otherRP := newRP(t, other.Issuer())
		otherTok, _ := otherRP.codeFlow(t, "moi-coordinator")
		resp, _ := get(t, url.Values{"id_token_hint": {otherTok.Extra("id_token").(string)}, "post_logout_redirect_uri": {portalLoggedOut}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("id_token_hint of another provider: %d", resp.StatusCode)
		}
	})
	t.Run("no redirect", func(t *testing.T) {
		resp, body := get(t, url.Values{})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You are signed out") {
			t.Errorf("end session without redirect: %d %s", resp.StatusCode, body)
		}
	})
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		p, err := devidp.Start(t.Context(), devidp.Config{Addr: addr, Logger: quietLogger()})
		if err == nil {
			p.Close() //nolint:errcheck,gosec // the test already failed
			t.Errorf("started on %q", addr)
		}
	}
	p := start(t, devidp.Config{Addr: "localhost:0"})
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
		t.Errorf("localhost became %s", p.Issuer())
	}
}

func TestMintToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := start(t, devidp.Config{DataDir: dir})
	fi, err := os.Stat(filepath.Join(dir, devidp.DevFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", devidp.DevFileName, fi.Mode().Perm())
	}
	r := newRP(t, p.Issuer())
	tok, err := devidp.MintToken(t.Context(), dir, "court-clerk")
	if err != nil {
		t.Fatalf("mint token: %v", err)
	}
	at := r.accessClaims(t, tok)
	_, idt := r.codeFlow(t, "court-clerk")
	if at["sub"] != idt.Subject || at["agency"] != "pp-court" || !slices.Equal(strs(at["roles"]), []string{"clerk"}) ||
		at["preferred_username"] != "court-clerk" {
		t.Errorf("minted token claims %v, want the account's (sub %s)", at, idt.Subject)
	}

	if _, err := devidp.MintToken(t.Context(), dir, "mallory"); err == nil || !strings.Contains(err.Error(), "no such account") {
		t.Errorf("mint token for an unknown account: %v", err)
	}
	if _, err := devidp.MintToken(t.Context(), t.TempDir(), "court-clerk"); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mint token without a dev file: %v", err)
	}
	// Without DataDir there are no dev-token clients at all.
	q := start(t, devidp.Config{})
	cc := clientcredentials.Config{ClientID: "dev-token.court-clerk", ClientSecret: "", TokenURL: q.Issuer() + "/oauth2/token"}
	if _, err := cc.Token(t.Context()); err == nil {
		t.Error("dev-token client exists without a data dir")
	}
}

func TestDemoDirectory(t *testing.T) {
	t.Parallel()
	d, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gdi-officer": "gdi", "gdi-supervisor": "gdi", "gdi-viewer": "gdi", "ncct-officer": "ncct",
		"emb-cn-liaison": "emb-cn", "emb-vn-liaison": "emb-vn", "emb-us-liaison": "emb-us", "emb-au-liaison": "emb-au",
		"moi-coordinator": "moi", "court-clerk": "pp-court", "admin": "moi",
	}
	if len(d.Accounts) != len(want) {
		t.Errorf("%d demo accounts, want %d", len(d.Accounts), len(want))
	}
	for _, a := range d.Accounts {
		if want[a.Username] != a.Agency {
			t.Errorf("account %s in agency %s, want %q", a.Username, a.Agency, want[a.Username])
		}
	}
	for code, country := range map[string]string{"emb-cn": "CN", "emb-vn": "VN", "emb-us": "US", "emb-au": "AU"} {
		if a, ok := d.AgencyByCode(code); !ok || a.Country != country || a.Kind != "embassy" {
			t.Errorf("agency %s: %+v", code, a)
		}
	}
	var table strings.Builder
	if err := d.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "court-clerk") || !strings.Contains(table.String(), "Phnom Penh Municipal Court") {
		t.Errorf("accounts table:\n%s", table.String())
	}

	for name, bad := range map[string]string{
		"unknown field":      "agencies: []\naccounts: []\nextra: 1\n",
		"unknown agency":     "agencies: []\naccounts: [{username: a, agency: nope}]\n",
		"bad kind":           "agencies: [{code: x, name: X, kind: police}]\n",
		"embassy no country": "agencies: [{code: x, name: X, kind: embassy}]\n",
		"duplicate":          "agencies: [{code: x, name: X, kind: court}, {code: x, name: Y, kind: court}]\n",
	} {
		if _, err := devidp.ParseDirectory([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
