package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/auth"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
)

// Every demo account signs in through the whole browser flow (portal
// redirect, the provider's sign-in form, callback, session cookie) and
// /api/v1/me says who it is: the right agency, kind, country and roles.
func TestBrowserSignInEveryDemoAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	demo, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range demo.Accounts {
		b := e.browser()
		resp, body := b.signIn(a.Username, "/cases/42?tab=persons")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/42?tab=persons" {
			t.Fatalf("%s: callback answered %d to %q: %s", a.Username, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		m, status := b.me()
		if status != http.StatusOK {
			t.Fatalf("%s: /api/v1/me %d", a.Username, status)
		}
		ag, _ := demo.AgencyByCode(a.Agency)
		if m.Agency.Code != a.Agency || m.Agency.Kind != string(ag.Kind) || m.Agency.Name != ag.Name {
			t.Errorf("%s: agency %+v, want %+v", a.Username, m.Agency, ag)
		}
		if (ag.Country == "") != (m.Agency.Country == nil) || (m.Agency.Country != nil && *m.Agency.Country != ag.Country) {
			t.Errorf("%s: country %v, want %q", a.Username, m.Agency.Country, ag.Country)
		}
		if !slices.Equal(m.Roles, a.Roles) {
			t.Errorf("%s: roles %v, want %v", a.Username, m.Roles, a.Roles)
		}
		if m.User.Name != a.Name || m.User.Issuer != e.idp.Issuer() || m.User.Subject == "" || m.User.ID == "" {
			t.Errorf("%s: user %+v", a.Username, m.User)
		}
		if len(m.CSRFToken) < 32 {
			t.Errorf("%s: csrf token %q", a.Username, m.CSRFToken)
		}
	}
	if n := e.count(`SELECT count(*) FROM users`); n != len(demo.Accounts) {
		t.Errorf("%d users recorded, want %d", n, len(demo.Accounts))
	}
	if !strings.Contains(e.logs.String(), `"event":"sign_in"`) {
		t.Error("sign-ins are not logged")
	}
}

// The session cookie is HttpOnly, SameSite=Lax, not Secure on plain-HTTP
// loopback; the database keeps only its hash; the id changes at every
// sign-in, and the old one stops working.
func TestSessionCookieAndRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	resp, _ := b.signIn("gdi-officer", "")
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "cb_session" {
			sc = c
		}
	}
	if sc == nil {
		t.Fatalf("no session cookie set: %v", resp.Header["Set-Cookie"])
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.Path != "/" {
		t.Errorf("session cookie attributes: %s", resp.Header.Values("Set-Cookie"))
	}
	first := b.sessionCookie()
	sum := sha256.Sum256([]byte(first))
	if n := e.count(`SELECT count(*) FROM sessions WHERE token_hash = decode(?, 'hex')`, hex.EncodeToString(sum[:])); n != 1 {
		t.Errorf("%d sessions with the cookie's hash, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM sessions s WHERE s::text LIKE '%' || ? || '%'`, first); n != 0 {
		t.Error("the session token itself is stored")
	}

	b.mustSignIn("gdi-supervisor")
	second := b.sessionCookie()
	if second == "" || second == first {
		t.Fatal("session id did not change at sign-in")
	}
	if resp, _ := e.request("GET", "/api/v1/me", nil, first); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session replaced by a new sign-in still works: %d", resp.StatusCode)
	}
	if m, _ := b.me(); m.Agency.Code != "gdi" || !slices.Equal(m.Roles, []string{"supervisor"}) {
		t.Errorf("after the second sign-in: %+v", m)
	}
	if n := e.count(`SELECT count(*) FROM sessions`); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
}

func TestReturnToStaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ returnTo, want string }{
		{"https://evil.example/phish", "/"},
		{"//evil.example/phish", "/"},
		{`/\evil.example`, "/"},
		{"/\t/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"http:/evil.example", "/"},
		{"/auth/logout", "/"},
		{"/persons?custody_status=detained", "/persons?custody_status=detained"},
	} {
		resp, body := e.browser().signIn("gdi-viewer", tc.returnTo)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("return_to %q: %d to %q, want %q: %s", tc.returnTo, resp.StatusCode, resp.Header.Get("Location"), tc.want, body)
		}
	}
}

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"":                     "/",
		"/":                    "/",
		"/cases/1":             "/cases/1",
		"/cases/1?x=%2F%2Fa#b": "/cases/1?x=%2F%2Fa#b",
		"//evil":               "/",
		`/\evil`:               "/",
		"/\n/evil":             "/",
		"https://evil":         "/",
		"evil":                 "/",
		"/auth/login":          "/",
		"/%zz":                 "/",
	} {
		if got := auth.SafeReturnTo(raw); got != want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A cookie-authenticated request that changes something needs the CSRF
// token: without it 403 and nothing happens; with it, it goes through.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.mustSignIn("ncct-officer")
	m, _ := b.me()

	for name, hdr := range map[string]map[string]string{
		"missing": nil,
		"wrong":   {"X-CSRF-Token": m.CSRFToken[:len(m.CSRFToken)-1] + "x"},
	} {
		resp, body := b.do("POST", "/auth/logout", hdr)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("logout with %s CSRF token: %d %s", name, resp.StatusCode, body)
		}
		if _, status := b.me(); status != http.StatusOK {
			t.Errorf("logout with %s CSRF token ended the session", name)
		}
		resp, _ = b.do("POST", "/api/v1/cases", hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("API POST with %s CSRF token: %d", name, resp.StatusCode)
		}
	}
	resp, _ := b.do("POST", "/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout with the CSRF token: %d", resp.StatusCode)
	}
}

// Logout ends the session server-side (the old cookie, replayed, is
// refused), logs it, and sends the browser to the provider's end-session
// endpoint, which accepts the portal's post-logout address.
func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.mustSignIn("court-clerk")
	m, _ := b.me()
	old := b.sessionCookie()

	resp, _ := b.do("POST", "/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken})
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("logout: %d %v", resp.StatusCode, err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.idp.Issuer()+"/oauth2/logout" ||
		loc.Query().Get("client_id") != portalID || loc.Query().Get("post_logout_redirect_uri") != e.base+"/" {
		t.Errorf("logout sends to %s", loc)
	}
	if b.sessionCookie() != "" {
		t.Error("logout did not clear the cookie")
	}
	if resp, _ := e.request("GET", "/api/v1/me", nil, old); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old cookie still works after logout: %d", resp.StatusCode)
	}
	// The provider accepts the end-session request and sends the browser back.
	resp, err = http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	if resp.Request.URL.String() != e.base+"/" {
		t.Errorf("the provider's end session ended at %s", resp.Request.URL)
	}
	if !strings.Contains(e.logs.String(), `"event":"sign_out"`) {
		t.Error("sign-out not logged")
	}

	// A script asks for JSON and gets the URL instead of a redirect.
	b.mustSignIn("court-clerk")
	m, _ = b.me()
	resp, body := b.do("POST", "/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken, "Accept": "application/json"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"logout_url":"`+e.idp.Issuer()) {
		t.Errorf("JSON logout: %d %s", resp.StatusCode, body)
	}
	if _, status := b.me(); status != http.StatusUnauthorized {
		t.Errorf("after JSON logout /me is %d", status)
	}
}

// A callback not started by this browser, or replayed, is refused.
func TestCallbackState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	// Stop at the callback to replay it.
	var callback string
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), e.base+"/auth/callback") {
			callback = req.URL.String()
			return http.ErrUseLastResponse
		}
		if strings.HasPrefix(req.URL.String(), e.idp.Issuer()) {
			return nil
		}
		return http.ErrUseLastResponse
	}
	b.signIn("gdi-officer", "")
	if callback == "" {
		t.Fatal("never reached the callback")
	}
	// Another browser (no login cookie) presents this callback: refused.
	other := e.browser()
	resp, body := other.do("GET", strings.TrimPrefix(callback, e.base), nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign-in expired") {
		t.Errorf("callback in another browser: %d %s", resp.StatusCode, body)
	}
	// The right browser with a tampered state: refused.
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	u.RawQuery = q.Encode()
	if resp, _ := b.do("GET", u.RequestURI(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with a tampered state: %d", resp.StatusCode)
	}
	// Note the cookie was cleared by that attempt: sign in afresh, then
	// replay the finished callback.
	b.c.CheckRedirect = e.browser().c.CheckRedirect
	b.mustSignIn("gdi-officer")
	if resp, _ := b.do("GET", strings.TrimPrefix(callback, e.base), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d", resp.StatusCode)
	}
	if _, status := b.me(); status != http.StatusOK {
		t.Errorf("a refused callback ended the session: %d", status)
	}
}

// The same portal against a provider that signs with ES256 and puts roles
// under realm_access.roles (as Keycloak does): configuration only.
func TestES256AndRealmAccessRoles(t *testing.T) {
	t.Parallel()
	idp := devidp.Config{Algorithm: devidp.ES256, RolesClaim: "realm_access.roles"}
	e := newEnv(t, envOptions{idp: idp, config: func(c *config.Config) { c.Auth.RolesClaim = "realm_access.roles" }})
	b := e.browser()
	b.mustSignIn("ncct-officer")
	if m, status := b.me(); status != http.StatusOK || m.Agency.Code != "ncct" || !slices.Equal(m.Roles, []string{"officer"}) {
		t.Errorf("ES256 browser sign-in: %d %+v", status, m)
	}
	resp, body := e.bearer(e.clientToken())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"roles":["liaison"]`) {
		t.Errorf("ES256 bearer: %d %s", resp.StatusCode, body)
	}

	// The control: the same provider with the portal still reading "roles"
	// signs in with no roles at all.
	plain := newEnv(t, envOptions{idp: idp})
	pb := plain.browser()
	pb.mustSignIn("ncct-officer")
	if m, _ := pb.me(); len(m.Roles) != 0 {
		t.Errorf("roles read from the wrong claim: %v", m.Roles)
	}
}

// An agency that is not registered, or disabled, cannot sign in: a page
// says so, nothing is created; sessions of a disabled agency end.
func TestAgencyRefused(t *testing.T) {
	t.Parallel()
	demo, _ := devidp.Demo()
	accounts := append(slices.Clone(demo.Accounts),
		devidp.Account{Username: "ghost", Name: "Ghost Liaison", Agency: "emb-zz", Roles: []string{"liaison"}},
		devidp.Account{Username: "stateless", Name: "No Agency", Agency: "", Roles: []string{"officer"}},
	)
	e := newEnv(t, envOptions{idp: devidp.Config{Accounts: accounts}})

	resp, body := e.browser().signIn("ghost", "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "emb-zz") || !strings.Contains(body, "not registered") {
		t.Errorf("unknown agency: %d %s", resp.StatusCode, body)
	}
	resp, body = e.browser().signIn("stateless", "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "did not say which agency") {
		t.Errorf("no agency claim: %d %s", resp.StatusCode, body)
	}
	if n := e.count(`SELECT count(*) FROM users`); n != 0 {
		t.Errorf("refused sign-ins created %d users", n)
	}
	if !strings.Contains(e.logs.String(), `"event":"sign_in_refused"`) {
		t.Error("refused sign-in not logged")
	}

	// Disabled: an existing session ends, and a new sign-in is refused.
	b := e.browser()
	b.mustSignIn("emb-au-liaison")
	if err := e.owner.Exec(`UPDATE agencies SET enabled = false WHERE code = 'emb-au'`).Error; err != nil {
		t.Fatal(err)
	}
	if _, status := b.me(); status != http.StatusUnauthorized {
		t.Errorf("session of a disabled agency: %d", status)
	}
	resp, body = e.browser().signIn("emb-au-liaison", "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "disabled") {
		t.Errorf("disabled agency: %d %s", resp.StatusCode, body)
	}
}

// Roles the agency's kind does not allow are dropped and logged.
func TestRolesNotAllowedAreDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{idp: devidp.Config{Accounts: []devidp.Account{
		{Username: "greedy", Name: "Greedy Officer", Agency: "gdi", Roles: []string{"officer", "liaison", "coordinator", "admin"}},
		{Username: "nobody", Name: "No Role", Agency: "emb-us", Roles: []string{"officer"}},
	}}})
	b := e.browser()
	b.mustSignIn("greedy")
	if m, _ := b.me(); !slices.Equal(m.Roles, []string{"admin", "officer"}) {
		t.Errorf("roles %v, want [admin officer]", m.Roles)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "roles dropped") || !strings.Contains(logs, "liaison") {
		t.Errorf("dropped roles not logged:\n%s", logs)
	}
	// No valid role: signed in, with no roles (and so it sees nothing).
	nb := e.browser()
	nb.mustSignIn("nobody")
	if m, status := nb.me(); status != http.StatusOK || len(m.Roles) != 0 || m.Agency.Code != "emb-us" {
		t.Errorf("no valid role: %d %+v", status, m)
	}
}

// Users are created at first sign-in and found again by issuer and subject.
func TestUserCreatedOnceAndUpdated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.mustSignIn("moi-coordinator")
	first, _ := b.me()
	b.mustSignIn("moi-coordinator")
	second, _ := b.me()
	if first.User.ID == "" || first.User.ID != second.User.ID {
		t.Errorf("user id changed between sign-ins: %s, %s", first.User.ID, second.User.ID)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE issuer = ? AND subject = ? AND last_sign_in_at IS NOT NULL`,
		e.idp.Issuer(), first.User.Subject); n != 1 {
		t.Errorf("%d user rows for the account", n)
	}
	if err := e.owner.Exec(`UPDATE users SET name = 'stale'`).Error; err != nil {
		t.Fatal(err)
	}
	b.mustSignIn("moi-coordinator")
	if n := e.count(`SELECT count(*) FROM users WHERE name = 'Rithy Mao'`); n != 1 {
		t.Error("the user's name was not brought up to date at sign-in")
	}
}

// Idle and absolute timeouts end a session.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ name, update string }{
		{"idle", `UPDATE sessions SET last_seen_at = now() - interval '31 minutes'`},
		{"absolute", `UPDATE sessions SET expires_at = now() - interval '1 second'`},
	} {
		b := e.browser()
		b.mustSignIn("emb-cn-liaison")
		if _, status := b.me(); status != http.StatusOK {
			t.Fatalf("%s: fresh session refused", tc.name)
		}
		if err := e.owner.Exec(tc.update).Error; err != nil {
			t.Fatal(err)
		}
		resp, _ := b.do("GET", "/api/v1/me", nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s timeout: %d", tc.name, resp.StatusCode)
		}
		if b.sessionCookie() != "" {
			t.Errorf("%s timeout: the stale cookie was not cleared", tc.name)
		}
	}
	// Requests keep a session alive (last_seen_at moves).
	b := e.browser()
	b.mustSignIn("emb-cn-liaison")
	if err := e.owner.Exec(`UPDATE sessions SET last_seen_at = now() - interval '29 minutes'`).Error; err != nil {
		t.Fatal(err)
	}
	b.me()
	if n := e.count(`SELECT count(*) FROM sessions WHERE last_seen_at > now() - interval '1 minute'`); n != 1 {
		t.Error("a request did not refresh last_seen_at")
	}
}

// Without a reachable provider, sign-in says so instead of failing oddly.
func TestProviderUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{config: func(c *config.Config) { c.Auth.Issuer = "http://127.0.0.1:1" }})
	resp, body := e.request("GET", "/auth/login", nil, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Errorf("login with the provider down: %d %s", resp.StatusCode, body)
	}
	resp, body = e.bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("bearer with the provider down: %d %s", resp.StatusCode, body)
	}
}

// auth.discovery_url: the portal fetches discovery from another address
// (as a container reaches Keycloak by service name), the issuer stays the
// one browsers and tokens use; a document naming another issuer is refused.
func TestDiscoveryURL(t *testing.T) {
	t.Parallel()
	var idpIssuer string
	e := newEnv(t, envOptions{config: func(c *config.Config) {
		idpIssuer = c.Auth.Issuer
		c.Auth.DiscoveryURL = strings.Replace(c.Auth.Issuer, "127.0.0.1", "localhost", 1)
	}})
	b := e.browser()
	b.mustSignIn("gdi-officer")
	if m, _ := b.me(); m.User.Issuer != idpIssuer {
		t.Errorf("issuer %q, want %q", m.User.Issuer, idpIssuer)
	}

	wrong := newEnv(t, envOptions{config: func(c *config.Config) {
		c.Auth.DiscoveryURL = c.Auth.Issuer
		c.Auth.Issuer = strings.Replace(c.Auth.Issuer, "127.0.0.1", "localhost", 1)
	}})
	if resp, body := wrong.request("GET", "/auth/login", nil, ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("discovery naming another issuer: %d %s", resp.StatusCode, body)
	}
}

// Sign-in, sign-out and refused sign-ins are audit events (ACCESS.md, Audit),
// with the actor and outcome, and no secret in them.
func TestAuthEventsAreAudited(t *testing.T) {
	t.Parallel()
	demo, _ := devidp.Demo()
	accounts := append(slices.Clone(demo.Accounts),
		devidp.Account{Username: "ghost", Name: "Ghost Liaison", Agency: "emb-zz", Roles: []string{"liaison"}})
	e := newEnv(t, envOptions{idp: devidp.Config{Accounts: accounts}})

	b := e.browser()
	b.mustSignIn("gdi-officer")
	m, _ := b.me()
	b.do("POST", "/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken})
	e.browser().signIn("ghost", "")
	e.bearer("not-a-token")

	for _, want := range []struct{ action, outcome, agency string }{
		{"auth.sign_in", "ok", "gdi"},
		{"auth.sign_out", "ok", "gdi"},
		{"auth.sign_in_refused", "denied", "emb-zz"},
		{"auth.bearer_refused", "denied", ""},
	} {
		n := e.count(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = ? AND agency_code = ?`,
			want.action, want.outcome, want.agency)
		if n != 1 {
			t.Errorf("%d audit events %+v, want 1", n, want)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || ? || '%'`, b.sessionCookie()); b.sessionCookie() != "" && n != 0 {
		t.Errorf("session id in audit details")
	}
}
