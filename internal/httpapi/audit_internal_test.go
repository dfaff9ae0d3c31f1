package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/testenv"
)

// The audit handlers behind a stand-in for the sign-in middleware (which
// has its own tests): the header X-Test-As picks the principal. Everything
// else is real: router group, handlers, problems, database, witness client.
type auditFixture struct {
	srv    *httptest.Server
	ctx    context.Context
	signer *audit.Signer
	owner  func(sql string, args ...any)
	agency uuid.UUID
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	d := testenv.NewDatabase(t)
	db := testenv.Open(t, d.AppURL)
	owner := testenv.Open(t, d.OwnerURL)
	skey, _, err := audit.GenerateKey("casebridge.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := audit.NewSigner(skey)
	f := &auditFixture{ctx: testenv.Context(t, db), signer: signer, agency: uuid.New()}
	f.owner = func(sql string, args ...any) {
		t.Helper()
		if err := owner.Exec(sql, args...).Error; err != nil {
			t.Fatalf("owner: %v", err)
		}
	}
	principals := map[string]access.Principal{
		"admin": {UserID: uuid.New(), Subject: "admin", AgencyID: uuid.New(), AgencyCode: "kh-moi",
			Kind: access.KindInteriorMinistry, Roles: []access.Role{access.RoleAdmin}},
		"officer": {UserID: uuid.New(), Subject: "officer", AgencyID: f.agency, AgencyCode: "kh-imm",
			Kind: access.KindImmigrationPolice, Roles: []access.Role{access.RoleOfficer}},
	}
	s := &Server{deps: Deps{DB: db, AuditVerifierKey: signer.VerifierKey()}}
	e := gin.New()
	e.Use(requestID(), s.withStore(), func(c *gin.Context) {
		p, ok := principals[c.GetHeader("X-Test-As")]
		if !ok {
			Fail(c, errors.New("test: no principal"))
			return
		}
		c.Request = c.Request.WithContext(access.WithPrincipal(c.Request.Context(), p))
		c.Next()
	})
	s.auditRoutes(e.Group("/api/v1"))
	f.srv = httptest.NewServer(e)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *auditFixture) record(t *testing.T, n int) {
	t.Helper()
	p := access.Principal{UserID: uuid.New(), Subject: "officer", AgencyID: f.agency, AgencyCode: "kh-imm",
		Kind: access.KindImmigrationPolice, Roles: []access.Role{access.RoleOfficer}}
	ctx := access.WithPrincipal(audit.WithRequestInfo(f.ctx, "req-1", "192.0.2.1"), p)
	for i := range n {
		ev := audit.Event{Action: "person.read", ObjectType: "person", ObjectID: uuid.NewString(), Details: map[string]int{"i": i}}
		if err := audit.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&audit.Sequencer{Signer: f.signer, BatchSize: 4}).Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *auditFixture) get(t *testing.T, as, path string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	req.Header.Set("X-Test-As", as)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestAuditEndpoints(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)

	// No checkpoint yet.
	if code, _, _ := f.get(t, "officer", "/api/v1/audit/checkpoint"); code != 404 {
		t.Fatalf("empty log checkpoint: %d", code)
	}
	f.record(t, 10)

	code, ct, body := f.get(t, "officer", "/api/v1/audit/checkpoint")
	if code != 200 || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("checkpoint: %d %s", code, ct)
	}
	_, _, key := f.get(t, "officer", "/api/v1/audit/key")
	cp, err := audit.OpenCheckpoint(body, string(key))
	if err != nil || cp.Size != 10 {
		t.Fatalf("checkpoint %+v does not verify with the served key: %v", cp, err)
	}

	// Officers may not list events or run the check; the refusal names the permission.
	for _, path := range []string{"/api/v1/audit/events", "/api/v1/audit/verify"} {
		code, ct, body := f.get(t, "officer", path)
		var p Problem
		_ = json.Unmarshal(body, &p)
		if code != 403 || ct != "application/problem+json" || p.Permission != audit.PermRead {
			t.Fatalf("officer GET %s: %d %s %s", path, code, ct, body)
		}
	}

	// Admin list: each item's leaf is its canonical encoding, and the
	// inclusion proof ties it to the signed checkpoint.
	code, _, body = f.get(t, "admin", "/api/v1/audit/events?action=person.read&agency="+f.agency.String()+"&limit=3")
	var list struct {
		Items []struct {
			ID        int64           `json:"id"`
			Action    string          `json:"action"`
			Details   json.RawMessage `json:"details"`
			TreeIndex *int64          `json:"tree_index"`
			Leaf      string          `json:"leaf"`
			CaseID    *string         `json:"case_id"`
			RequestID string          `json:"request_id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &list); err != nil || code != 200 || len(list.Items) != 3 || list.NextCursor == "" {
		t.Fatalf("admin list: %d %s", code, body)
	}
	for _, it := range list.Items {
		leaf, _ := base64.StdEncoding.DecodeString(it.Leaf)
		e, err := audit.DecodeLeaf(leaf)
		if err != nil || e.ID != it.ID || e.Action != it.Action || it.CaseID != nil || e.RequestID != "req-1" {
			t.Fatalf("leaf of event %d: %+v %v", it.ID, e, err)
		}
		q := url.Values{"index": {strconv.FormatInt(*it.TreeIndex, 10)}, "size": {"10"}}
		code, _, body := f.get(t, "officer", "/api/v1/audit/proof/inclusion?"+q.Encode())
		var pr audit.ProofResponse
		if err := json.Unmarshal(body, &pr); err != nil || code != 200 {
			t.Fatalf("inclusion: %d %s", code, body)
		}
		if err := tlog.CheckRecord(pr.Hashes, cp.Size, cp.Root, *it.TreeIndex, tlog.RecordHash(leaf)); err != nil {
			t.Fatalf("inclusion proof of event %d: %v", it.ID, err)
		}
	}
	code, _, body = f.get(t, "admin", "/api/v1/audit/events?cursor="+list.NextCursor+"&action=person.read")
	if code != 200 || !strings.Contains(string(body), `"items":[{`) {
		t.Fatalf("second page: %d %s", code, body)
	}

	// Bad parameters are 422 with the field named.
	for path, field := range map[string]string{
		"/api/v1/audit/events?case=nope":                    "case",
		"/api/v1/audit/events?from=yesterday":               "from",
		"/api/v1/audit/events?limit=0":                      "limit",
		"/api/v1/audit/proof/inclusion?index=x&size=10":     "index",
		"/api/v1/audit/proof/inclusion?index=10&size=10":    "index",
		"/api/v1/audit/proof/consistency?from=4&to=11":      "to",
		"/api/v1/audit/proof/consistency?from=0&to=4":       "from",
		"/api/v1/audit/proof/consistency?from=five&to=nine": "from",
	} {
		code, _, body := f.get(t, "admin", path)
		var p Problem
		_ = json.Unmarshal(body, &p)
		if code != 422 || len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Errorf("GET %s: %d %s, want 422 naming %s", path, code, body, field)
		}
	}

	// The integrity check, before and after an insider edit.
	code, _, body = f.get(t, "admin", "/api/v1/audit/verify")
	if code != 200 || !strings.HasPrefix(string(body), `{"ok":true,"size":10,`) {
		t.Fatalf("verify: %d %s", code, body)
	}
	f.owner(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`)
	f.owner(`UPDATE audit_events SET object_id = 'other' WHERE id = (SELECT event_id FROM audit_leaves WHERE idx = 6)`)
	code, _, body = f.get(t, "admin", "/api/v1/audit/verify")
	if code != 200 || !strings.Contains(string(body), `"ok":false`) || !strings.Contains(string(body), `"first_bad_index":6`) {
		t.Fatalf("verify after tampering: %d %s", code, body)
	}
}

func TestAuditWitnessOverHTTP(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	state := t.TempDir()
	tr := &http.Transport{}
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("X-Test-As", "officer")
		return tr.RoundTrip(r)
	})}
	w := &audit.Witness{BaseURL: f.srv.URL, StateDir: state, VerifierKey: f.signer.VerifierKey(), Client: client}
	f.record(t, 6)
	if _, err := w.Run(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.record(t, 7)
	res, err := w.Run(f.ctx)
	if err != nil || res.Previous.Size != 6 || res.Current.Size != 13 {
		t.Fatalf("witness: %+v %v", res, err)
	}
	// Rebuild the log from scratch with one event left out, re-signed with
	// the server's key.
	for _, tbl := range []string{"audit_events", "audit_leaves", "audit_hashes", "audit_checkpoints"} {
		f.owner(`ALTER TABLE ` + tbl + ` DISABLE TRIGGER ` + tbl + `_append_only`)
	}
	f.owner(`DELETE FROM audit_events WHERE id = (SELECT event_id FROM audit_leaves WHERE idx = 2)`)
	f.owner(`TRUNCATE audit_leaves, audit_hashes, audit_checkpoints`)
	f.owner(`INSERT INTO audit_queue (event_id) SELECT id FROM audit_events`)
	f.record(t, 3)
	if _, err := w.Run(f.ctx); !errors.Is(err, audit.ErrInconsistent) {
		t.Fatalf("witness accepted a rebuilt log: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
