package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
)

// xidsDuring returns how many transaction ids the cluster assigned while fn
// ran: pg_current_xact_id() before and after (each call takes one itself).
// Other activity in the cluster can only add ids, never remove them, so the
// smallest of a few attempts is the honest count.
func (e *env) xidsDuring(fn func()) int64 {
	e.t.Helper()
	best := int64(-1)
	for range 3 {
		var before, after int64
		if err := e.owner.Raw(`SELECT pg_current_xact_id()::text::bigint`).Scan(&before).Error; err != nil {
			e.t.Fatal(err)
		}
		fn()
		if err := e.owner.Raw(`SELECT pg_current_xact_id()::text::bigint`).Scan(&after).Error; err != nil {
			e.t.Fatal(err)
		}
		if n := after - before - 1; best < 0 || n < best {
			best = n
		}
	}
	return best
}

// A bearer read writes nothing but its audit event: N requests for the case
// list take exactly N transaction ids (the request's own transaction, for
// the audit INSERT), and N requests for /me, which audits nothing, take
// none. Before, each request also called the sign-in upsert autocommitted,
// which locked the user's row and took an id of its own.
// Not parallel: transaction ids are counted for the whole cluster.
func TestBearerReadTakesOneTransactionID(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.clientToken()
	hdr := map[string]string{"Authorization": "Bearer " + tok}
	// The first request signs the partner in (creates its user row).
	if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("case list: %d %s", resp.StatusCode, body)
	}
	const n = 20
	got := e.xidsDuring(func() {
		for range n {
			if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
				t.Fatalf("case list: %d %s", resp.StatusCode, body)
			}
		}
	})
	if got != n {
		t.Errorf("%d case-list requests took %d transaction ids, want %d (one each, the audit event's)", n, got, n)
	}
	got = e.xidsDuring(func() {
		for range n {
			if resp, body := e.bearer(tok); resp.StatusCode != http.StatusOK {
				t.Fatalf("me: %d %s", resp.StatusCode, body)
			}
		}
	})
	if got != 0 {
		t.Errorf("%d /me requests took %d transaction ids, want 0", n, got)
	}
	// The check can fail: a request that writes (a browser sign-in) shows.
	got = e.xidsDuring(func() { e.browser().mustSignIn("gdi-officer") })
	if got == 0 {
		t.Error("a browser sign-in took no transaction id: the count cannot see writes")
	}

	// Without the principal cache, cb_sign_in_user runs on every request:
	// with unchanged claims it reads and writes nothing (no row lock).
	e = newEnv(t, envOptions{config: func(c *config.Config) { c.Auth.PrincipalCacheTTL = 0 }})
	hdr = map[string]string{"Authorization": "Bearer " + e.clientToken()}
	if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("case list: %d %s", resp.StatusCode, body)
	}
	got = e.xidsDuring(func() {
		for range n {
			if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
				t.Fatalf("case list: %d %s", resp.StatusCode, body)
			}
		}
	})
	if got != n {
		t.Errorf("without the cache, %d case-list requests took %d transaction ids, want %d", n, got, n)
	}
}

// The principal cache does not hide a change: a token with a new role takes
// effect at once (and is recorded in users), and an agency disabled after
// its token was cached is refused on the next request.
func TestPrincipalCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	key, kid := e.signingKey(), e.idp.KeyID()
	c := e.claims()
	resp, body := e.bearer(sign(t, jose.RS256, key, kid, c))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"roles":["liaison"]`) {
		t.Fatalf("first token: %d %s", resp.StatusCode, body)
	}
	// Same subject, another name claim: resolved again and recorded.
	c2 := with(with(c, "name", "Renamed partner"), "jti", "t2")
	resp, body = e.bearer(sign(t, jose.RS256, key, kid, c2))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"name":"Renamed partner"`) {
		t.Fatalf("renamed: %d %s", resp.StatusCode, body)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE subject = 'crafted-partner' AND name = 'Renamed partner'`); n != 1 {
		t.Errorf("users row not updated for the new name: %d rows", n)
	}
	// A new role for a gdi user: first officer, then supervisor.
	g := with(with(with(c, "sub", "crafted-gdi"), "agency", "gdi"), "roles", []string{"officer"})
	if resp, body := e.bearer(sign(t, jose.RS256, key, kid, g)); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"roles":["officer"]`) {
		t.Fatalf("gdi officer: %d %s", resp.StatusCode, body)
	}
	g2 := with(with(g, "roles", []string{"supervisor"}), "jti", "t3")
	if resp, body := e.bearer(sign(t, jose.RS256, key, kid, g2)); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"roles":["supervisor"]`) {
		t.Fatalf("gdi supervisor: %d %s", resp.StatusCode, body)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE subject = 'crafted-gdi' AND roles = '{supervisor}'`); n != 1 {
		t.Errorf("users row does not carry the new role: %d rows", n)
	}
	// The officer token, still cached, is the officer again.
	if resp, body := e.bearer(sign(t, jose.RS256, key, kid, g)); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"roles":["officer"]`) {
		t.Fatalf("gdi officer again: %d %s", resp.StatusCode, body)
	}
	// Disabled after being cached: refused at once.
	tok := sign(t, jose.RS256, key, kid, g2)
	if resp, _ := e.bearer(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("before disabling: %d", resp.StatusCode)
	}
	if err := e.owner.Exec(`UPDATE agencies SET enabled = false WHERE code = 'gdi'`).Error; err != nil {
		t.Fatal(err)
	}
	if resp, body := e.bearer(tok); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "disabled") {
		t.Errorf("cached token of a disabled agency: %d %s", resp.StatusCode, body)
	}
	if err := e.owner.Exec(`UPDATE agencies SET enabled = true WHERE code = 'gdi'`).Error; err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.bearer(tok); resp.StatusCode != http.StatusOK {
		t.Errorf("enabled again: %d", resp.StatusCode)
	}
}

// Round trips of one bearer read, counted on the portal's pool: the
// agency check, BEGIN, the principal setup (one statement: role and
// settings), the query, the audit event, COMMIT. Before: also the sign-in
// upsert and a separate SET LOCAL ROLE (8).
func TestBearerReadRoundTrips(t *testing.T) {
	t.Parallel()
	rec := &store.Recorder{}
	e := newEnv(t, envOptions{tracer: rec})
	hdr := map[string]string{"Authorization": "Bearer " + e.clientToken()}
	for range 2 { // sign-in, then warm statement caches
		if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("case list: %d %s", resp.StatusCode, body)
		}
	}
	rec.Start()
	if resp, body := e.request("GET", "/api/v1/cases", hdr, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("case list: %d %s", resp.StatusCode, body)
	}
	stmts := rec.Stop()
	var sqls []string
	for _, s := range stmts {
		sqls = append(sqls, strings.Join(strings.Fields(s.SQL), " "))
	}
	if len(stmts) > 6 {
		t.Errorf("a bearer case-list request sent %d statements, want at most 6:\n%s", len(stmts), strings.Join(sqls, "\n"))
	}
	for _, s := range sqls {
		if strings.Contains(s, "cb_sign_in_user") || strings.HasPrefix(strings.ToUpper(s), "SET LOCAL ROLE") {
			t.Errorf("avoidable round trip: %s", s)
		}
	}
	t.Logf("%d statements:\n%s", len(stmts), strings.Join(sqls, "\n"))
}
