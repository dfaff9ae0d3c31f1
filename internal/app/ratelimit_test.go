package app_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/internal/config"
)

// Hardening: rate limits counted in PostgreSQL answer 429 with
// Retry-After — refused bearer tokens per address (after which even a
// valid token from that address waits), downloads per principal, and
// sign-ins per address.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) {
		c.RateLimits.TokenFailuresPerAddress = 3
		c.RateLimits.DownloadsPerPrincipal = 2
		c.RateLimits.SignInPerAddress = 2
	})
	// Downloads per principal.
	owned := a.w.Case("owned").ID.String()
	up := a.upload("gdi-officer", "/api/v1/cases/"+owned+"/documents",
		`{"title": "rl", "kind": "other", "classification": "restricted"}`, "r.pdf", "%PDF-1.4\n% rl\n")
	if up.status != 201 {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	var doc struct{ ID string }
	_ = json.Unmarshal(up.body, &doc)
	for i, want := range []int{200, 200, 429} {
		r := a.request("gdi-officer", "GET", "/api/v1/documents/"+doc.ID+"/content", "")
		if r.status != want {
			t.Errorf("download %d: %d, want %d", i+1, r.status, want)
		}
		if want == 429 && r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if r := a.request("gdi-supervisor", "GET", "/api/v1/documents/"+doc.ID+"/content", ""); r.status != 200 {
		t.Errorf("another principal's download: %d", r.status)
	}
	// Sign-ins per address.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, want := range []int{302, 302, 429} {
		resp, err := noFollow.Get(a.base + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("sign-in %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	// Refused tokens per address: then even a valid token waits.
	a.tokens["forged"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	for i := range 3 {
		if r := a.request("forged", "GET", "/api/v1/me", ""); r.status != 401 {
			t.Errorf("forged token %d: %d", i+1, r.status)
		}
	}
	r := a.request("gdi-officer", "GET", "/api/v1/me", "")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("valid token after 3 refused ones from the address: %d %s", r.status, r.body)
	}
	var n int
	a.owner.Raw(`SELECT count(*) FROM rate_limits`).Scan(&n)
	if n == 0 {
		t.Error("no counts in rate_limits")
	}
}
