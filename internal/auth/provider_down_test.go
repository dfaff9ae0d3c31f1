package auth_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// startSignIn goes through /auth/login and the provider's page and stops
// before the callback; it returns the callback URL the provider sent the
// browser to.
func (b *browser) startSignIn(account string) string {
	t := b.e.t
	t.Helper()
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.e.base+"/auth/callback") || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := b.c.Get(b.e.base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, resp)
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form on the provider's page: %d %s", resp.StatusCode, body)
	}
	action, _ := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	resp, err = b.c.PostForm(action.String(), url.Values{"account": {account}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, resp)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, b.e.base+"/auth/callback") {
		t.Fatalf("the provider did not send the browser to the callback: %d %q", resp.StatusCode, loc)
	}
	return loc
}

// Found 5: the provider stops answering in the middle of a sign-in: the
// callback is a 503 page saying the provider cannot be reached (not "did
// not accept the sign-in"), /auth/login then answers the same page instead
// of sending browsers into a dead provider, and existing sessions keep
// working.
func TestProviderDownMidSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	signedIn := e.browser()
	signedIn.mustSignIn("gdi-officer")

	b := e.browser()
	callback := b.startSignIn("gdi-officer")
	if err := e.idp.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := b.do("GET", strings.TrimPrefix(callback, e.base), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Errorf("callback with the provider down: %d %s", resp.StatusCode, body)
	}
	resp, body = e.browser().do("GET", "/auth/login", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Errorf("login with the provider down: %d %s", resp.StatusCode, body)
	}
	if _, status := signedIn.me(); status != http.StatusOK {
		t.Errorf("an existing session with the provider down: %d", status)
	}
}

// Found 5: RFC 9207 — an authorization response naming another issuer is
// refused.
func TestCallbackIssuerChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	callback := b.startSignIn("gdi-officer")
	resp, body := b.do("GET", strings.TrimPrefix(callback, e.base)+"&iss="+url.QueryEscape("https://attacker.example"), nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "configured identity provider") {
		t.Errorf("callback naming another issuer: %d %s", resp.StatusCode, body)
	}
	if _, status := b.me(); status == http.StatusOK {
		t.Error("signed in through a response from another issuer")
	}
	// The right issuer passes.
	b2 := e.browser()
	callback = b2.startSignIn("gdi-officer")
	b2.do("GET", strings.TrimPrefix(callback, e.base)+"&iss="+url.QueryEscape(e.idp.Issuer()), nil)
	if _, status := b2.me(); status != http.StatusOK {
		t.Errorf("callback naming the right issuer: not signed in (%d)", status)
	}
}

// Found 5: disabling an agency ends its sessions; enabling it again does
// not revive them.
func TestDisabledAgencySessionsEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.mustSignIn("gdi-officer")
	if _, status := b.me(); status != http.StatusOK {
		t.Fatalf("signed in: %d", status)
	}
	for _, sql := range []string{`UPDATE agencies SET enabled = false WHERE code = 'gdi'`,
		`UPDATE agencies SET enabled = true WHERE code = 'gdi'`} {
		if err := e.owner.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, status := b.me(); status != http.StatusUnauthorized {
		t.Errorf("session after the agency was disabled and enabled again: %d, want 401", status)
	}
	var n int
	if err := e.owner.Raw(`SELECT count(*) FROM sessions s JOIN agencies a ON a.id = s.agency_id WHERE a.code = 'gdi'`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d sessions of the disabled agency remain", n)
	}
}
