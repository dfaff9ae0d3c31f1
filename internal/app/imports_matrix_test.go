package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/config"
)

// uploadImport sends a multipart import (metadata, then file) as principal as.
func (a *caseAPI) uploadImport(as, metadata, filename string, file []byte) response {
	a.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write([]byte(metadata))
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(a.t.Context(), "POST", a.base+"/api/v1/imports", &b)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[as])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// TestImportAndStatsMatrix: every route of imports and stats for every
// principal of the world (and nobody), with the responses held to
// api/openapi.yaml.
func TestImportAndStatsMatrix(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) { c.Imports.MaxBytes = 1 << 20 })
	m := &matrix{t: t, a: a}
	owned := a.w.Case("owned").ID.String()
	file := []byte("family_name,given_names,nationality,passport_number,custody_status,role\n" +
		"Chen,Li,CN,MX0001,detained,detainee\nNguyễn,Văn Hải,VN,MX0002,detained,detainee\n")
	meta := `{"case_id":"` + owned + `"}`
	conforms := func(who, name, schema string, r response) {
		t.Helper()
		if err := a.conforms(schema, r.body); err != nil {
			t.Errorf("%s | %s: does not conform to %s: %v\n%s", who, name, schema, err, r.body)
		}
	}

	var importID string
	for _, p := range a.w.Principals {
		as := p.Name
		want := http.StatusNotFound
		switch as {
		case "gdi-officer", "gdi-supervisor":
			want = http.StatusCreated
		case "gdi-viewer", "moi-coordinator": // they see the case, may not import
			want = http.StatusForbidden
		}
		m.cells++
		r := a.uploadImport(as, meta, "raid.csv", file)
		if r.status != want {
			t.Errorf("%s | import: status %d, want %d\n%s", as, r.status, want, r.body)
			continue
		}
		if r.status == http.StatusCreated {
			conforms(as, "import", "Import", r)
			if as == "gdi-officer" {
				importID = r.object(t)["id"].(string)
			}
		} else {
			conforms(as, "import refused", "Problem", r)
		}
	}
	if r := a.uploadImport("", meta, "raid.csv", file); r.status != http.StatusUnauthorized {
		t.Errorf("nobody | import: %d", r.status)
	}
	if importID == "" {
		t.Fatal("no import")
	}
	for _, p := range a.w.Principals {
		as := p.Name
		want := http.StatusNotFound
		if as == "gdi-officer" || as == "gdi-supervisor" {
			want = http.StatusOK
		}
		r := m.expect("read import", as, "GET", "/api/v1/imports/"+importID, "", want)
		if r.status == http.StatusOK {
			conforms(as, "read import", "Import", r)
		}
		if want == http.StatusNotFound {
			m.expect("commit import", as, "POST", "/api/v1/imports/"+importID+"/commit", `{"link_existing":true}`, http.StatusNotFound)
		}
		m.expect("template.csv", as, "GET", "/api/v1/imports/template.csv", "", http.StatusOK)
		m.expect("template.xlsx", as, "GET", "/api/v1/imports/template.xlsx", "", http.StatusOK)
		statsWant := http.StatusForbidden
		if as == "moi-coordinator" || as == "moi-admin" || as == "gdi-admin" {
			statsWant = http.StatusOK
		}
		r = m.expect("stats overview", as, "GET", "/api/v1/stats/overview", "", statsWant)
		if r.status == http.StatusOK {
			conforms(as, "stats overview", "StatsOverview", r)
		} else if !strings.Contains(string(r.body), "stats.read") {
			t.Errorf("%s | stats overview: the problem does not name stats.read: %s", as, r.body)
		}
		r = m.expect("stats timeseries", as, "GET", "/api/v1/stats/timeseries?from=2025-01&to=2026-12", "", statsWant)
		if r.status == http.StatusOK {
			conforms(as, "stats timeseries", "StatsTimeseries", r)
		}
	}
	for _, path := range []string{"/api/v1/imports/" + importID, "/api/v1/imports/template.csv", "/api/v1/stats/overview", "/api/v1/stats/timeseries"} {
		m.expect("nobody", "", "GET", path, "", http.StatusUnauthorized)
	}
	m.expect("bad month", "moi-coordinator", "GET", "/api/v1/stats/timeseries?from=2025-13", "", http.StatusUnprocessableEntity)

	// The owner's officer commits; the template's header is the documented columns.
	r := m.expect("commit", "gdi-officer", "POST", "/api/v1/imports/"+importID+"/commit", "", http.StatusOK)
	conforms("gdi-officer", "commit", "Import", r)
	var res struct {
		Status string `json:"status"`
		Result struct {
			Created []string `json:"created"`
		} `json:"result"`
	}
	_ = json.Unmarshal(r.body, &res)
	if res.Status != "committed" || len(res.Result.Created) != 2 {
		t.Errorf("commit: %s", r.body)
	}
	m.expect("commit twice", "gdi-supervisor", "POST", "/api/v1/imports/"+importID+"/commit", "", http.StatusConflict)
	r = m.expect("template", "gdi-officer", "GET", "/api/v1/imports/template.csv", "", http.StatusOK)
	if !strings.HasPrefix(string(r.body), "\uFEFFfamily_name,given_names,family_name_native") {
		t.Errorf("template.csv: %q", r.body)
	}
	// Bad files over HTTP: problems, nothing kept.
	for _, c := range []struct {
		name   string
		file   []byte
		status int
	}{
		{"wrong header", []byte("surname\nX\n"), 422},
		{"Latin-1", []byte("family_name,nationality\nM\xfcller,DE\n"), 422},
		{"UTF-16", []byte{0xFF, 0xFE, 'a', 0}, 422},
		{"empty", nil, 422},
		{"formula", []byte("family_name,nationality\n=1+1,CN\n"), 422},
		{"over the limit", bytes.Repeat([]byte("x"), 1<<20+10), 413},
	} {
		r := a.uploadImport("gdi-officer", meta, "bad.csv", c.file)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.name, r.status, c.status, r.body)
		}
		conforms("gdi-officer", c.name, "Problem", r)
	}
	t.Logf("%d cells", m.cells)
}
