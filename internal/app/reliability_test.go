package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
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

// rawRequest writes an HTTP/1.1 request by hand (so its body can be cut
// short or sent slowly) and returns the status line's code and the
// response head.
func (a *caseAPI) rawRequest(t *testing.T, as, method, path, contentType string, contentLength int, send func(c net.Conn)) (int, string) {
	t.Helper()
	u, _ := url.Parse(a.base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		method, path, u.Host, a.tokens[as], contentType, contentLength)
	send(c)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type") + " " + string(body)
}

// Found 2: an upload whose body is cut short (correct Content-Length, the
// client stops sending and closes its side) is a 400, and nothing is kept.
func TestTruncatedUploadIs400(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned").ID.String()
	body := "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n" +
		`{"title": "cut short", "kind": "other", "classification": "restricted"}` + "\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n" + strings.Repeat("x", 4000)
	status, head := a.rawRequest(t, "gdi-officer", "POST", "/api/v1/cases/"+owned+"/documents",
		"multipart/form-data; boundary=b", len(body)+100000, func(c net.Conn) {
			_, _ = io.WriteString(c, body)
			_ = c.(*net.TCPConn).CloseWrite()
		})
	if status != http.StatusBadRequest || !strings.HasPrefix(head, "application/problem+json") {
		t.Errorf("truncated upload: %d %s", status, head)
	}
	var n int
	a.owner.Raw(`SELECT count(*) FROM documents WHERE case_id = ?`, owned).Scan(&n)
	if n != 0 {
		t.Errorf("%d documents kept from a truncated upload", n)
	}
	// The same for a JSON body.
	status, head = a.rawRequest(t, "gdi-officer", "POST", "/api/v1/cases", "application/json", 500, func(c net.Conn) {
		_, _ = io.WriteString(c, `{"title": "cut`)
		_ = c.(*net.TCPConn).CloseWrite()
	})
	if status != http.StatusBadRequest {
		t.Errorf("truncated JSON body: %d %s", status, head)
	}
}

// Found 9: a JSON body that trickles in is cut at server.body_timeout
// (408), not held for read_timeout (30 minutes).
func TestSlowJSONBodyCut(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) {
		c.Server.BodyTimeout = time.Second
		c.Server.UploadMinRate, c.Server.UploadGrace = 64<<10, time.Second
	})
	start := time.Now()
	status, head := a.rawRequest(t, "gdi-officer", "POST", "/api/v1/cases", "application/json", 100, func(c net.Conn) {
		for i := 0; i < 5; i++ {
			if _, err := io.WriteString(c, `{"t`[:1]); err != nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	if status != http.StatusRequestTimeout || time.Since(start) > 10*time.Second {
		t.Errorf("slow JSON body: %d after %v: %s", status, time.Since(start), head)
	}
	// An upload trickling far below the minimum rate is cut too.
	owned := a.w.Case("owned").ID.String()
	start = time.Now()
	status, head = a.rawRequest(t, "gdi-officer", "POST", "/api/v1/cases/"+owned+"/documents",
		"multipart/form-data; boundary=b", 1<<20, func(c net.Conn) {
			_, _ = io.WriteString(c, "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"title\": \"slow\", \"kind\": \"other\", \"classification\": \"restricted\"}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\n")
			for i := 0; i < 12; i++ {
				if _, err := io.WriteString(c, strings.Repeat("x", 100)); err != nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	if status != http.StatusRequestTimeout || time.Since(start) > 15*time.Second {
		t.Errorf("slow upload: %d after %v: %s", status, time.Since(start), head)
	}
}

// Found 8: values that cannot be true are refused with the same field
// vocabulary on every resource.
func TestImpossibleValuesRefused(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	wantFields(t, "year-0 operation date", a.request("gdi-officer", "POST", "/api/v1/cases",
		`{"title": "t", "kind": "trafficking", "operation": {"date": "0000-06-01"}}`), "operation.date")
	wantFields(t, "lone surrogate in a case title", a.request("gdi-officer", "POST", "/api/v1/cases",
		`{"title": "a\ud800b", "kind": "trafficking"}`), "body")
	wantFields(t, "lone low surrogate", a.request("gdi-officer", "POST", "/api/v1/cases",
		`{"title": "\udc00", "kind": "trafficking"}`), "body")
	wantFields(t, "nationality ZZ", a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "Test", "nationality": "ZZ"}`), "nationality")
	wantFields(t, "year-0 birth date", a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "Test", "nationality": "CN", "date_of_birth": "0000-01-01"}`), "date_of_birth")
	wantFields(t, "year-0 detention", a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "Test", "nationality": "CN", "custody_status": "detained", "detained_at": "0000-01-01T00:00:00Z"}`), "detained_at")
	wantFields(t, "nationality filter ZZ", a.request("gdi-officer", "GET", "/api/v1/persons?nationality=ZZ", ""), "nationality")
	// Real values still pass: a surrogate pair, a real code.
	if r := a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": "ok \ud83d\ude00", "kind": "trafficking"}`); r.status != 201 {
		t.Errorf("surrogate pair: %d %s", r.status, r.body)
	}
	if r := a.request("gdi-officer", "POST", "/api/v1/persons", `{"family_name": "Test", "nationality": "KH"}`); r.status != 201 {
		t.Errorf("nationality KH: %d %s", r.status, r.body)
	}
}

// upload posts a multipart upload (metadata then file) as principal as.
func (a *caseAPI) upload(as, path, metadata, filename, content string, headers ...string) response {
	a.t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	if metadata != "" {
		mh := textproto.MIMEHeader{}
		mh.Set("Content-Disposition", `form-data; name="metadata"`)
		mh.Set("Content-Type", "application/json")
		w, _ := mw.CreatePart(mh)
		_, _ = io.WriteString(w, metadata)
	}
	w, _ := mw.CreateFormFile("file", filename)
	_, _ = io.WriteString(w, content)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(a.t.Context(), "POST", a.base+path, strings.NewReader(buf.String()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.tokens[as])
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkContract(a.t, "POST", path, r)
	return r
}

// Found 6: uploads honour Idempotency-Key: a retry gets the first result
// and creates nothing; a different upload under the same key is a 422;
// concurrent uploads under one key create one document.
func TestUploadIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned").ID.String()
	path := "/api/v1/cases/" + owned + "/documents"
	meta := `{"title": "Statement", "kind": "other", "classification": "restricted"}`
	pdf := "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
	count := func() int {
		var n int
		if err := a.owner.Raw(`SELECT count(*) FROM documents WHERE case_id = ?`, owned).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := a.upload("gdi-officer", path, meta, "s.pdf", pdf, "Idempotency-Key", "upload-1")
	if first.status != 201 {
		t.Fatalf("first upload: %d %s", first.status, first.body)
	}
	again := a.upload("gdi-officer", path, meta, "s.pdf", pdf, "Idempotency-Key", "upload-1")
	if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" ||
		string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("replay: %d %q %s\nfirst: %s", again.status, again.header.Get("Idempotent-Replayed"), again.body, first.body)
	}
	if n := count(); n != 1 {
		t.Errorf("%d documents after a replay, want 1", n)
	}
	wantProblem(t, "other file under the same key",
		a.upload("gdi-officer", path, meta, "s.pdf", pdf+"more\n", "Idempotency-Key", "upload-1"), 422, false, "idempotency-key")
	wantProblem(t, "other metadata under the same key",
		a.upload("gdi-officer", path, strings.Replace(meta, "Statement", "Other", 1), "s.pdf", pdf, "Idempotency-Key", "upload-1"), 422, false, "idempotency-key")
	if n := count(); n != 1 {
		t.Errorf("%d documents after refused reuses, want 1", n)
	}
	// Another principal's same key is its own.
	if r := a.upload("gdi-supervisor", path, meta, "s.pdf", pdf, "Idempotency-Key", "upload-1"); r.status != 201 ||
		r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another user's key: %d %s", r.status, r.body)
	}
	// Concurrent retries of one upload: one document.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = a.upload("gdi-officer", path, meta, "c.pdf", pdf+"c\n", "Idempotency-Key", "upload-c").status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 {
			t.Errorf("concurrent upload %d: %d", i, s)
		}
	}
	if n := count(); n != 3 {
		t.Errorf("%d documents after 8 concurrent uploads under one key, want 3 in all", n)
	}
	// A new version under a key: replayed likewise.
	var doc struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(first.body, &doc)
	vpath := "/api/v1/documents/" + doc.ID + "/versions"
	v1 := a.upload("gdi-officer", vpath, "", "s2.pdf", pdf+"v2\n", "Idempotency-Key", "version-1")
	v2 := a.upload("gdi-officer", vpath, "", "s2.pdf", pdf+"v2\n", "Idempotency-Key", "version-1")
	if v1.status != 201 || v2.status != 201 || v2.header.Get("Idempotent-Replayed") != "true" || string(v1.body) != string(v2.body) {
		t.Errorf("version replay: %d %d %s / %s", v1.status, v2.status, v1.body, v2.body)
	}
	var versions int
	a.owner.Raw(`SELECT count(*) FROM document_versions WHERE document_id = ?`, doc.ID).Scan(&versions)
	if versions != 2 {
		t.Errorf("%d versions after a replayed version upload, want 2", versions)
	}
}
