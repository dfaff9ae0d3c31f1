package app_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/config"
)

// tcpProxy forwards a loopback port to PostgreSQL; down cuts every
// connection and refuses new ones (a database outage as the server sees
// it), up listens again on the same port.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
	_, _ = io.Copy(c, s)
	_ = c.Close()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *tcpProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// wantProblem checks a problem+json answer with status and, when given,
// Retry-After and a detail containing words.
func wantProblem(t *testing.T, what string, r response, status int, retryAfter bool, words string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d\n%s", what, r.status, status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if retryAfter && r.header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", what)
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Errorf("%s: no X-Request-ID", what)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != status {
		t.Errorf("%s: not a problem document: %v %s", what, err, r.body)
	}
	if words != "" && !strings.Contains(strings.ToLower(p.Title+" "+p.Detail), words) {
		t.Errorf("%s: problem %q / %q does not say %q", what, p.Title, p.Detail, words)
	}
}

// Found 1: with PostgreSQL unreachable every API call is a 503 naming the
// database, with Retry-After; it recovers by itself when PostgreSQL is
// back.
func TestDatabaseOutageIs503(t *testing.T) {
	t.Parallel()
	var proxy *tcpProxy
	a := newCaseAPIVia(t, nil, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		proxy = newTCPProxy(t, u.Host)
		u.Host = proxy.addr
		return u.String()
	})
	owned := a.w.Case("owned").ID.String()
	if r := a.request("gdi-officer", "GET", "/api/v1/cases/"+owned, ""); r.status != 200 {
		t.Fatalf("before the outage: %d %s", r.status, r.body)
	}
	proxy.down()
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cases/" + owned, ""},
		{"GET", "/api/v1/cases", ""},
		{"GET", "/api/v1/persons", ""},
		{"POST", "/api/v1/cases", `{"title": "during the outage", "kind": "trafficking"}`},
	} {
		wantProblem(t, rq.method+" "+rq.path+" with the database down",
			a.request("gdi-officer", rq.method, rq.path, rq.body), 503, true, "database")
	}
	wantProblem(t, "readyz with the database down", a.request("", "GET", "/readyz", ""), 503, true, "database")
	proxy.up()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := a.request("gdi-officer", "GET", "/api/v1/cases/"+owned, "")
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 5 s after the database came back: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Found 1: /readyz reports the document store.
func TestReadyzReportsBlobStore(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newCaseAPI(t, func(c *config.Config) { c.Blob.Dir = filepath.Join(file, "blobs") })
	wantProblem(t, "readyz with an unusable document store", a.request("", "GET", "/readyz", ""), 503, true, "document store")

	ok := newCaseAPI(t, nil)
	r := ok.request("", "GET", "/readyz", "")
	if r.status != 200 || !strings.Contains(string(r.body), `"blob_store":"ok"`) {
		t.Errorf("readyz with a good store: %d %s", r.status, r.body)
	}
}

// Found 2 and 8: every query parameter is checked once, before any service:
// NUL, control characters, invalid UTF-8, over-long values, limit=0 and the
// nil UUID are refused with one vocabulary and never reach PostgreSQL.
func TestQueryParametersValidatedOnce(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned").ID.String()
	long := strings.Repeat("a", 20000)
	for _, tc := range []struct {
		as, path, field string
	}{
		{"gdi-officer", "/api/v1/cases?q=%ff%fe", "q"},
		{"emb-cn-liaison", "/api/v1/consular/nationals?facility=%ff", "facility"},
		{"gdi-supervisor", "/api/v1/audit/events?action=%00", "action"},
		{"gdi-admin", "/api/v1/users?agency=%00", "agency"},
		{"gdi-supervisor", "/api/v1/audit/events?action=" + long, "action"},
		{"gdi-officer", "/api/v1/cases?q=" + long, "q"},
		{"gdi-officer", "/api/v1/cases?q=%ed%a0%80", "q"}, // a lone surrogate, UTF-8 encoded
		{"gdi-officer", "/api/v1/cases?q=a%0Ab", "q"},
		{"gdi-officer", "/api/v1/cases?limit=0", "limit"},
		{"gdi-officer", "/api/v1/persons?limit=0", "limit"},
		{"gdi-officer", "/api/v1/cases/" + owned + "/documents?limit=0", "limit"},
		{"gdi-officer", "/api/v1/cases/" + owned + "/documents?limit=-1", "limit"},
		{"gdi-officer", "/api/v1/cases/" + owned + "/documents?limit=201", "limit"},
		{"gdi-supervisor", "/api/v1/audit/events?limit=0", "limit"},
		{"gdi-officer", "/api/v1/cases?limit=x", "limit"},
		{"gdi-officer", "/api/v1/cases?cursor=%zz", "query"},
	} {
		r := a.request(tc.as, "GET", tc.path, "")
		short := tc.path
		if len(short) > 80 {
			short = short[:80] + "…"
		}
		wantProblem(t, short, r, 422, false, "")
		if r.status == 422 {
			wantFields(t, short, r, tc.field)
		}
	}
	nilUUID := "00000000-0000-0000-0000-000000000000"
	for _, path := range []string{"/api/v1/cases/" + nilUUID + "/documents", "/api/v1/cases/" + nilUUID,
		"/api/v1/persons/" + nilUUID, "/api/v1/documents/" + nilUUID} {
		wantProblem(t, path, a.request("gdi-officer", "GET", path, ""), 404, false, "")
	}
	// Good values still pass.
	for _, path := range []string{"/api/v1/cases?q=" + url.QueryEscape("Sihanoukville ក្រុង") + "&limit=200",
		"/api/v1/cases/" + owned + "/documents?limit=1"} {
		if r := a.request("gdi-officer", "GET", path, ""); r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	_ = http.StatusOK
}
