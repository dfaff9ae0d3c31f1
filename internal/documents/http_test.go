package documents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
	"github.com/casebridge/casebridge/internal/testenv/contract"
)

// portal is the whole program (real router, real sign-in by bearer tokens
// from the development OpenID provider) serving over loopback HTTP, on the
// world's database and blob store.
type portal struct {
	*world
	base string
	idp  *testenv.IdP
	cfg  config.Config
}

func newPortal(t *testing.T, backend string, maxSize int64) *portal {
	t.Helper()
	return newPortalWith(t, backend, maxSize, nil)
}

// newPortalWith is newPortal with settings changed by adjust.
func newPortalWith(t *testing.T, backend string, maxSize int64, adjust func(*config.Config)) *portal {
	t.Helper()
	w := newWorld(t, backend, maxSize)
	p := &portal{world: w}
	p.idp = testenv.StartIdP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.base = "http://" + ln.Addr().String()
	p.cfg = p.config(p.base)
	if adjust != nil {
		adjust(&p.cfg)
	}
	prog, err := app.New(p.cfg, w.db, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: prog.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// config is the program's configuration for a portal at base.
func (p *portal) config(base string) config.Config {
	p.t.Helper()
	clientID, secret := p.idp.RegisterPortal(base)
	cfg := config.Default()
	cfg.Server.PublicURL = base
	cfg.Database.URL = p.dbinfo.AppURL
	cfg.Auth.Issuer = p.idp.Issuer()
	cfg.Auth.ClientID, cfg.Auth.ClientSecret = clientID, secret
	cfg.Blob = p.blobCfg
	cfg.Documents.MaxSize = p.svc.MaxSize()
	return cfg
}

// token returns a bearer token for a partner-system client of agency a
// with roles, issued by the provider.
func (p *portal) token(a agency, roles ...access.Role) string {
	p.t.Helper()
	rs := make([]string, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	return p.idp.Token(a.Code, rs...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (p *portal) do(method, path, token string, body io.Reader, hdr map[string]string) response {
	p.t.Helper()
	req, err := http.NewRequestWithContext(p.t.Context(), method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	// The response-validation step: every answer conforms to api/openapi.yaml.
	ct, err := contract.Load()
	if err != nil {
		p.t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := ct.Check(method, path, r.status, r.header, r.body); err != nil {
		p.t.Errorf("contract: %v", err)
	}
	return r
}

// part is one part of a multipart upload.
type part struct {
	name, filename string
	body           io.Reader
}

// multipartBody streams parts through a pipe (so large files are never in
// memory) and returns the body and its content type.
func multipartBody(parts ...part) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			cd := fmt.Sprintf(`form-data; name=%q`, p.name)
			if p.filename != "" || p.name == "file" {
				cd += `; filename="` + strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(p.filename) + `"`
				h.Set("Content-Type", "application/octet-stream")
			} else {
				h.Set("Content-Type", "application/json")
			}
			h.Set("Content-Disposition", cd)
			w, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(w, p.body)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

func metadataPart(v any) part {
	b, _ := json.Marshal(v)
	return part{name: "metadata", body: bytes.NewReader(b)}
}

func (p *portal) uploadHTTP(token, path string, parts ...part) response {
	p.t.Helper()
	body, ct := multipartBody(parts...)
	return p.do("POST", path, token, body, map[string]string{"Content-Type": ct})
}

type docJSON struct {
	ID                 string  `json:"id"`
	CaseID             *string `json:"case_id"`
	Title              string  `json:"title"`
	Version            int     `json:"version"`
	Revision           int     `json:"revision"`
	SHA256             string  `json:"sha256"`
	Size               int64   `json:"size"`
	MediaType          string  `json:"media_type"`
	Filename           string  `json:"filename"`
	CreatedBy          *string `json:"created_by"`
	ConsularReleasable bool    `json:"consular_releasable"`
	Withdrawn          *struct {
		Reason string `json:"reason"`
	} `json:"withdrawn"`
	Versions []struct {
		Version int    `json:"version"`
		SHA256  string `json:"sha256"`
	} `json:"versions"`
}

type problemJSON struct {
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Permission string `json:"missing_permission"`
	Errors     []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func TestHTTPUploadAndDownload(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, backend, 32<<20)
			police := p.agency(access.KindImmigrationPolice, "")
			officer := p.token(police, access.RoleOfficer)
			caseID := p.newCase(police)
			data := append(pdf(1), bytes.Repeat([]byte("0123456789abcdef"), 700_000)...) // ~11 MiB: multipart on S3
			name := "Паспорт 'scan'; ቅ %41.pdf"
			r := p.uploadHTTP(officer, "/api/v1/cases/"+caseID.String()+"/documents",
				metadataPart(map[string]any{"title": "Passport", "kind": "passport", "classification": "restricted"}),
				part{name: "file", filename: name, body: bytes.NewReader(data)})
			if r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			var d docJSON
			r.json(t, &d)
			if d.SHA256 != sum(data) || d.Size != int64(len(data)) || d.MediaType != "application/pdf" ||
				d.Version != 1 || d.Filename != name || r.header.Get("Location") != "/api/v1/documents/"+d.ID {
				t.Fatalf("created %+v, Location %q", d, r.header.Get("Location"))
			}
			content := "/api/v1/documents/" + d.ID + "/content"

			// Full download.
			r = p.do("GET", content, officer, nil, nil)
			if r.status != 200 || !bytes.Equal(r.body, data) {
				t.Fatalf("download: %d, %d bytes", r.status, len(r.body))
			}
			etag := `"` + d.SHA256 + `"`
			checks := map[string]string{
				"ETag":                   etag,
				"Content-Type":           "application/pdf",
				"X-Content-Type-Options": "nosniff",
				"Content-Length":         fmt.Sprint(len(data)),
				"Accept-Ranges":          "bytes",
			}
			for k, want := range checks {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			cd := r.header.Get("Content-Disposition")
			disp, params, err := mime.ParseMediaType(cd)
			if err != nil || disp != "attachment" || params["filename"] != name {
				t.Errorf("Content-Disposition %q parses to %s %v (%v)", cd, disp, params, err)
			}
			if strings.ContainsAny(cd, "\r\n") || !strings.Contains(cd, `filename="`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			// Ranges.
			r = p.do("GET", content, officer, nil, map[string]string{"Range": "bytes=1000-1999"})
			if r.status != 206 || !bytes.Equal(r.body, data[1000:2000]) ||
				r.header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(data)) {
				t.Fatalf("range: %d %q, %d bytes", r.status, r.header.Get("Content-Range"), len(r.body))
			}
			r = p.do("GET", content, officer, nil, map[string]string{"Range": "bytes=-10"})
			if r.status != 206 || !bytes.Equal(r.body, data[len(data)-10:]) {
				t.Fatalf("suffix range: %d", r.status)
			}
			r = p.do("GET", content, officer, nil, map[string]string{"Range": "bytes=0-3,5000000-5000009"})
			if r.status != 206 || !strings.HasPrefix(r.header.Get("Content-Type"), "multipart/byteranges") ||
				!bytes.Contains(r.body, data[5000000:5000010]) {
				t.Fatalf("multi-range: %d %s", r.status, r.header.Get("Content-Type"))
			}
			r = p.do("GET", content, officer, nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(data)+10)})
			if r.status != 416 {
				t.Fatalf("unsatisfiable range: %d", r.status)
			}
			// Conditional requests and HEAD.
			r = p.do("GET", content, officer, nil, map[string]string{"If-None-Match": etag})
			if r.status != 304 || len(r.body) != 0 {
				t.Fatalf("If-None-Match: %d", r.status)
			}
			r = p.do("GET", content, officer, nil, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`})
			if r.status != 200 || len(r.body) != len(data) {
				t.Fatalf("If-Range mismatch: %d", r.status)
			}
			r = p.do("HEAD", content, officer, nil, nil)
			if r.status != 200 || len(r.body) != 0 || r.header.Get("ETag") != etag || r.header.Get("Content-Length") != fmt.Sprint(len(data)) {
				t.Fatalf("HEAD: %d %v", r.status, r.header)
			}

			// A new version (If-Match on the revision), then both versions.
			v2 := []byte("Plain text statement, version two.\n")
			body, ct := multipartBody(part{name: "file", filename: "statement.txt", body: bytes.NewReader(v2)})
			r = p.do("POST", "/api/v1/documents/"+d.ID+"/versions", officer, body,
				map[string]string{"Content-Type": ct, "If-Match": fmt.Sprintf(`"%d"`, d.Revision)})
			if r.status != 201 {
				t.Fatalf("new version: %d %s", r.status, r.body)
			}
			r = p.do("GET", content, officer, nil, nil)
			if !bytes.Equal(r.body, v2) || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("current is not version 2: %q", r.header.Get("Content-Type"))
			}
			r = p.do("GET", content+"?version=1", officer, nil, nil)
			if r.status != 200 || !bytes.Equal(r.body, data) {
				t.Fatalf("version 1: %d", r.status)
			}
			r = p.do("GET", "/api/v1/documents/"+d.ID, officer, nil, nil)
			var got docJSON
			r.json(t, &got)
			if r.status != 200 || len(got.Versions) != 2 || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, got.Revision) {
				t.Fatalf("metadata: %d %s", r.status, r.body)
			}
			// Stale If-Match.
			body, ct = multipartBody(part{name: "file", filename: "x.txt", body: strings.NewReader("x")})
			r = p.do("POST", "/api/v1/documents/"+d.ID+"/versions", officer, body,
				map[string]string{"Content-Type": ct, "If-Match": `"1"`})
			if r.status != 412 {
				t.Fatalf("stale If-Match: %d", r.status)
			}

			// The list shows it; another agency sees nothing at all.
			r = p.do("GET", "/api/v1/cases/"+caseID.String()+"/documents?limit=10", officer, nil, nil)
			var page struct {
				Items []docJSON `json:"items"`
			}
			r.json(t, &page)
			if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != d.ID {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			stranger := p.token(p.agency(access.KindImmigrationPolice, ""), access.RoleSupervisor)
			for _, path := range []string{"/api/v1/documents/" + d.ID, content, content + "?version=1",
				"/api/v1/cases/" + caseID.String() + "/documents"} {
				if r := p.do("GET", path, stranger, nil, nil); r.status != 404 || bytes.Contains(r.body, []byte("Passport")) {
					t.Errorf("other agency GET %s: %d %s", path, r.status, r.body)
				}
			}
			r = p.uploadHTTP(stranger, "/api/v1/cases/"+caseID.String()+"/documents",
				metadataPart(map[string]any{"title": "x", "kind": "other", "classification": "public"}),
				part{name: "file", filename: "x.pdf", body: bytes.NewReader(pdf(9))})
			if r.status != 404 {
				t.Fatalf("other agency uploads: %d", r.status)
			}
			if r := p.do("GET", content, "", nil, nil); r.status != 401 {
				t.Fatalf("anonymous download: %d", r.status)
			}
		})
	}
}

func TestHTTPRefusals(t *testing.T) {
	const max = 4 << 20
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, backend, max)
			police := p.agency(access.KindImmigrationPolice, "")
			officer := p.token(police, access.RoleOfficer)
			viewer := p.token(police, access.RoleViewer)
			caseID := p.newCase(police)
			path := "/api/v1/cases/" + caseID.String() + "/documents"
			good := map[string]any{"title": "Scan", "kind": "passport", "classification": "public"}
			cases := []struct {
				name   string
				token  string
				parts  []part
				status int
				field  string
			}{
				{"oversize, streamed", officer, []part{metadataPart(good),
					{name: "file", filename: "big.pdf", body: io.MultiReader(bytes.NewReader(pdf(1)), io.LimitReader(zeros{}, max))}}, 413, ""},
				{"executable", officer, []part{metadataPart(good),
					{name: "file", filename: "x.pdf", body: bytes.NewReader(append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...))}}, 415, ""},
				{"svg", officer, []part{metadataPart(good),
					{name: "file", filename: "x.png", body: strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)}}, 415, ""},
				{"empty file", officer, []part{metadataPart(good), {name: "file", filename: "x.pdf", body: strings.NewReader("")}}, 422, "file"},
				{"no file", officer, []part{metadataPart(good)}, 422, "file"},
				{"file before metadata", officer, []part{{name: "file", filename: "x.pdf", body: bytes.NewReader(pdf(1))}, metadataPart(good)}, 422, "metadata"},
				{"bad metadata", officer, []part{metadataPart(map[string]any{"title": "", "kind": "x", "classification": "public", "consular_releasable": true}),
					{name: "file", filename: "x.pdf", body: bytes.NewReader(pdf(1))}}, 422, "title"},
				{"unknown metadata field", officer, []part{metadataPart(map[string]any{"title": "t", "kind": "other", "classification": "public", "owner": "me"}),
					{name: "file", filename: "x.pdf", body: bytes.NewReader(pdf(1))}}, 422, "metadata.owner"},
				{"viewer may not upload", viewer, []part{metadataPart(good), {name: "file", filename: "x.pdf", body: bytes.NewReader(pdf(1))}}, 403, ""},
			}
			for _, c := range cases {
				r := p.uploadHTTP(c.token, path, c.parts...)
				var pr problemJSON
				r.json(t, &pr)
				if r.status != c.status || pr.Status != c.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d %s", c.name, r.status, r.body)
					continue
				}
				if c.field != "" && (len(pr.Errors) == 0 || pr.Errors[0].Field != c.field) {
					t.Errorf("%s: errors %+v, want field %s", c.name, pr.Errors, c.field)
				}
				if c.status == 403 && pr.Permission != "document.upload" {
					t.Errorf("%s: missing_permission %q", c.name, pr.Permission)
				}
			}
			// A declared length over the limit is refused before reading.
			r := p.do("POST", path, officer, bytes.NewReader(make([]byte, 10)), map[string]string{
				"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "10"})
			if r.status != 422 {
				t.Fatalf("truncated multipart: %d %s", r.status, r.body)
			}
			r = p.do("POST", path, officer, strings.NewReader(`{"title":"x"}`), map[string]string{"Content-Type": "application/json"})
			if r.status != 415 {
				t.Fatalf("JSON instead of multipart: %d", r.status)
			}
			if objs := p.objects(); len(objs) != 0 {
				t.Fatalf("refused uploads left objects %v", objs)
			}
			if n := p.count(`SELECT count(*) FROM documents`); n != 0 {
				t.Fatalf("refused uploads left %d documents", n)
			}
		})
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func TestHTTPEmbassyAndWithdrawal(t *testing.T) {
	p := newPortal(t, "local", 1<<20)
	police := p.agency(access.KindImmigrationPolice, "")
	court := p.agency(access.KindCourt, "")
	embVN := p.agency(access.KindEmbassy, "VN")
	caseID := p.newCase(police)
	person := p.newPerson(police, detainedNational("VN"), caseID)
	officer, supervisor := p.token(police, access.RoleOfficer), p.token(police, access.RoleSupervisor)
	liaison := p.token(embVN, access.RoleLiaison)
	up := func(title, class string, releasable bool) docJSON {
		r := p.uploadHTTP(officer, "/api/v1/cases/"+caseID.String()+"/documents",
			metadataPart(map[string]any{"title": title, "kind": "passport", "classification": class,
				"consular_releasable": releasable, "person_id": person.String()}),
			part{name: "file", filename: title + ".pdf", body: bytes.NewReader(pdf(len(title)))})
		if r.status != 201 {
			t.Fatalf("upload %s: %d %s", title, r.status, r.body)
		}
		var d docJSON
		r.json(t, &d)
		return d
	}
	rel := up("releasable", "restricted", true)
	internal := up("internal-note", "restricted", false)

	// The embassy finds the releasable document through its national, in the
	// consular projection (no case id, no staff ids), and reads it.
	r := p.do("GET", "/api/v1/persons/"+person.String()+"/documents", liaison, nil, nil)
	var page struct {
		Items []docJSON `json:"items"`
	}
	r.json(t, &page)
	if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != rel.ID {
		t.Fatalf("embassy list: %d %s", r.status, r.body)
	}
	if page.Items[0].CaseID != nil || page.Items[0].CreatedBy != nil || bytes.Contains(r.body, []byte(caseID.String())) {
		t.Fatalf("consular projection leaks the case or staff: %s", r.body)
	}
	if r := p.do("GET", "/api/v1/documents/"+rel.ID+"/content", liaison, nil, nil); r.status != 200 {
		t.Fatalf("embassy reads releasable: %d", r.status)
	}
	for _, path := range []string{"/api/v1/documents/" + internal.ID, "/api/v1/documents/" + internal.ID + "/content",
		"/api/v1/cases/" + caseID.String() + "/documents"} {
		if r := p.do("GET", path, liaison, nil, nil); r.status != 404 {
			t.Fatalf("embassy GET %s: %d", path, r.status)
		}
	}
	// The embassy may not withdraw what it sees (403 names the permission).
	r = p.do("POST", "/api/v1/documents/"+rel.ID+"/withdraw", liaison, strings.NewReader(`{"reason":"no"}`),
		map[string]string{"Content-Type": "application/json"})
	var pr problemJSON
	r.json(t, &pr)
	if r.status != 403 || pr.Permission != "document.withdraw" {
		t.Fatalf("embassy withdraws: %d %s", r.status, r.body)
	}
	// Withdrawal: reason required; then gone for all but supervisors.
	r = p.do("POST", "/api/v1/documents/"+rel.ID+"/withdraw", supervisor, strings.NewReader(`{"reason":""}`),
		map[string]string{"Content-Type": "application/json"})
	if r.status != 422 {
		t.Fatalf("withdraw without reason: %d", r.status)
	}
	r = p.do("POST", "/api/v1/documents/"+rel.ID+"/withdraw", supervisor, strings.NewReader(`{"reason":"Wrong person"}`),
		map[string]string{"Content-Type": "application/json", "If-Match": fmt.Sprintf(`"%d"`, rel.Revision)})
	var wd docJSON
	r.json(t, &wd)
	if r.status != 200 || wd.Withdrawn == nil || wd.Withdrawn.Reason != "Wrong person" {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	for who, tok := range map[string]string{"officer": officer, "embassy": liaison} {
		if r := p.do("GET", "/api/v1/documents/"+rel.ID, tok, nil, nil); r.status != 404 {
			t.Fatalf("%s reads a withdrawn document: %d", who, r.status)
		}
	}
	r = p.do("GET", "/api/v1/cases/"+caseID.String()+"/documents", supervisor, nil, nil)
	r.json(t, &page)
	if len(page.Items) != 2 {
		t.Fatalf("supervisor lists %d documents, want both (one withdrawn)", len(page.Items))
	}
	// Legal hold: once the case is before the court, nothing is withdrawn.
	p.exec(`UPDATE cases SET status = 'before_court', court_agency_id = ? WHERE id = ?`, court.ID, caseID)
	r = p.do("POST", "/api/v1/documents/"+internal.ID+"/withdraw", supervisor, strings.NewReader(`{"reason":"tidy up"}`),
		map[string]string{"Content-Type": "application/json"})
	r.json(t, &pr)
	if r.status != 403 || !strings.Contains(pr.Detail, "legal hold") {
		t.Fatalf("withdraw under legal hold: %d %s", r.status, r.body)
	}
	if n := p.count(`SELECT count(*) FROM audit_events WHERE action = 'document.withdraw' AND outcome = 'denied'`); n != 2 {
		t.Fatalf("%d refused withdrawals audited, want 2", n)
	}
}
