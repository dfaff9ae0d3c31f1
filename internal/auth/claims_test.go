package auth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Found 3: claims are input. A provider-signed token whose claims cannot be
// true (a NUL byte, a subject over 255 characters, control characters in
// the agency or roles) is refused with 403 and a reason naming the claim,
// not a 500; nothing reaches the database.
func TestClaimsValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	key, kid := e.signingKey(), e.idp.KeyID()
	valid := e.claims()
	if resp, body := e.bearer(sign(t, jose.RS256, key, kid, valid)); resp.StatusCode != http.StatusOK {
		t.Fatalf("control token refused: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name, claim string
		value       any
	}{
		{"NUL in subject", "sub", "abc\x00def"},
		{"subject of 256 characters", "sub", strings.Repeat("s", 256)},
		{"subject of 20000 characters", "sub", strings.Repeat("s", 20000)},
		{"NUL in name", "name", "Crafted\x00partner"},
		{"newline in agency", "agency", "emb-vn\n"},
		{"NUL in agency", "agency", "emb\x00vn"},
		{"NUL in a role", "roles", []string{"liaison\x00admin"}},
		{"too many roles", "roles", strings.Split(strings.Repeat("r,", 40), ",")},
		{"escape in email", "email", "a\x1b[31m@example.org"},
	} {
		resp, body := e.bearer(sign(t, jose.RS256, key, kid, with(valid, tc.claim, tc.value)))
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401 or 403\n%s", tc.name, resp.StatusCode, body)
			continue
		}
		var p struct{ Detail string }
		_ = json.Unmarshal([]byte(body), &p)
		want := tc.claim
		if want == "roles" {
			want = "role"
		}
		if !strings.Contains(p.Detail, want) {
			t.Errorf("%s: the reason does not name the claim %q: %s", tc.name, tc.claim, body)
		}
	}
	// A subject of exactly 255 characters is fine.
	if resp, body := e.bearer(sign(t, jose.RS256, key, kid, with(valid, "sub", strings.Repeat("s", 255)))); resp.StatusCode != http.StatusOK {
		t.Errorf("subject of 255 characters: %d %s", resp.StatusCode, body)
	}
	// The refusals are logged through the configured (JSON) logger.
	for line := range strings.SplitSeq(strings.TrimSpace(e.logs.String()), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %.200s", line)
		}
	}
}
