package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/bundles/minipdf"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// bundleTest drives the bundle routes over HTTP and works build jobs in
// the test (with the arguments the queue holds), on the server's database
// and blob store.
type bundleTest struct {
	*caseAPI
	svc *bundles.Service
}

func newBundleTest(t *testing.T) *bundleTest {
	a := newCaseAPI(t, nil)
	l, err := blob.NewLocal(a.cfg.Blob.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return &bundleTest{caseAPI: a, svc: bundles.NewService(l, render.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

// work runs the newest build job of bundle id.
func (b *bundleTest) work(id string) {
	b.t.Helper()
	var raw []string
	b.scan(&raw, `SELECT args::text FROM river_job WHERE kind = 'bundles.build' AND args->>'bundle_id' = ? ORDER BY id DESC LIMIT 1`, id)
	if len(raw) == 0 {
		b.t.Fatalf("no build job for bundle %s", id)
	}
	var args bundles.BuildArgs
	if err := json.Unmarshal([]byte(raw[0]), &args); err != nil {
		b.t.Fatal(err)
	}
	ctx := store.WithDB(context.Background(), testenv.Open(b.t, b.appURL))
	if err := b.svc.Build(ctx, args, bundles.Attempt{N: 1, Max: 10}); err != nil {
		b.t.Fatalf("build %s: %v", id, err)
	}
}

func (b *bundleTest) uploadPDF(as, caseID, title, class string, pages int) string {
	b.t.Helper()
	texts := make([]string, pages)
	for i := range texts {
		texts[i] = fmt.Sprintf("%s page %d", title, i+1)
	}
	meta := fmt.Sprintf(`{"title": %q, "kind": "evidence", "classification": %q}`, title, class)
	r := b.upload(as, "/api/v1/cases/"+caseID+"/documents", meta, title+".pdf", string(minipdf.Pages(texts, minipdf.Options{})))
	if r.status != http.StatusCreated {
		b.t.Fatalf("upload %s: %d %s", title, r.status, r.body)
	}
	return r.object(b.t)["id"].(string)
}

func sectionsJSON(label, title string, docs ...string) string {
	items := make([]string, len(docs))
	for i, d := range docs {
		items[i] = `{"document_id": "` + d + `", "version": 1}`
	}
	return `[{"label": "` + label + `", "title": "` + title + `", "items": [` + strings.Join(items, ",") + `]}]`
}

func bundleVersion(t *testing.T, r response) string {
	t.Helper()
	if e := r.header.Get("ETag"); e != "" {
		return e
	}
	return `"` + strconv.Itoa(int(r.object(t)["version"].(float64))) + `"`
}

// TestBundleMatrix: every bundle route for every principal of the world
// (and nobody), against ACCESS.md: bundles are seen with a full grant on
// the case; create, edit and build by owner officers and supervisors and
// the G5 clerk; seal by the owner's supervisors and the G5 clerk; download
// by whoever may read every document in the bundle. 404 for whoever cannot
// see the bundle, 403 naming the permission otherwise. Every response is
// held to api/openapi.yaml.
func TestBundleMatrix(t *testing.T) {
	t.Parallel()
	b := newBundleTest(t)
	w := b.w
	m := &matrix{t: t, a: b.caseAPI}
	c := w.Case("court-before") // owner gdi, before the court court-pp
	cid := c.ID.String()
	charge := b.uploadPDF("gdi-officer", cid, "Charge sheet", "restricted", 2)
	statement := b.uploadPDF("gdi-officer", cid, "Statement", "confidential", 3)
	informant := b.uploadPDF("gdi-officer", cid, "Informant report", "secret", 1)

	create := func(title, secs string) string {
		r := m.expect("setup", "gdi-officer", "POST", "/api/v1/cases/"+cid+"/bundles",
			`{"title": "`+title+`", "numbering": "consecutive", "sections": `+secs+`}`, http.StatusCreated)
		return r.object(t)["id"].(string)
	}
	build := func(id string) {
		m.expect("setup build", "gdi-officer", "POST", "/api/v1/bundles/"+id+"/build", "", http.StatusAccepted)
		b.work(id)
	}
	built := create("Hearing bundle", sectionsJSON("A", "Charges", charge, statement))
	build(built)
	secret := create("With the informant report", sectionsJSON("A", "Reports", charge, informant))
	build(secret)
	patched := create("To edit", sectionsJSON("A", "Charges", charge))
	toBuild := create("To build", sectionsJSON("A", "Charges", charge))

	full := func(p *authztest.Principal) bool { return w.CaseAccess(p, c).Level == "full" }
	seesCase := func(p *authztest.Principal) bool { return w.CaseAccess(p, c).Level != "" }
	clerk := func(p *authztest.Principal) bool {
		return p.Agency == c.Court && p.Has(access.RoleClerk)
	}
	canEdit := func(p *authztest.Principal) bool {
		return (p.Agency == c.Owner && p.Has(access.RoleOfficer, access.RoleSupervisor)) || clerk(p)
	}
	canSeal := func(p *authztest.Principal) bool {
		return (p.Agency == c.Owner && p.Has(access.RoleSupervisor)) || clerk(p)
	}
	reads := func(p *authztest.Principal, class string) bool {
		g := w.CaseAccess(p, c)
		return g.Level == "full" && g.Ceiling >= map[string]int{"restricted": 1, "confidential": 2, "secret": 3}[class]
	}
	names := func(as string, r response, perm string) {
		t.Helper()
		if r.status == http.StatusForbidden && !strings.Contains(string(r.body), `"missing_permission":"`+perm+`"`) {
			t.Errorf("%s: the 403 does not name %s: %s", as, perm, r.body)
		}
	}
	var manifestSHA string
	sealed := false
	counts := map[string]int{}
	for _, p := range w.Principals {
		as := p.Name
		vis := full(p)
		// List: the case's visibility decides 404; a summary reader sees no bundle.
		r := m.expect("list", as, "GET", "/api/v1/cases/"+cid+"/bundles", "", status(seesCase(p), seesCase(p), http.StatusOK))
		if r.status == http.StatusOK {
			var pg struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			_ = json.Unmarshal(r.body, &pg)
			want := 0
			if vis {
				want = 4 + counts["created"]
			}
			if len(pg.Items) != want {
				t.Errorf("%s | list: %d bundles, want %d", as, len(pg.Items), want)
			}
		}
		r = m.expect("create", as, "POST", "/api/v1/cases/"+cid+"/bundles",
			`{"title": "By `+as+`", "numbering": "per_section", "sections": `+sectionsJSON("A", "Charges", charge)+`}`,
			status(seesCase(p), canEdit(p), http.StatusCreated))
		names(as, r, "bundle.edit")
		if r.status == http.StatusCreated {
			counts["created"]++
			if !strings.HasPrefix(r.header.Get("Location"), "/api/v1/bundles/") {
				t.Errorf("%s | create: Location %q", as, r.header.Get("Location"))
			}
		}
		// Read, as the progress poll.
		r = m.expect("read", as, "GET", "/api/v1/bundles/"+built, "", status(vis, vis, http.StatusOK))
		if r.status == http.StatusOK {
			var got struct {
				State string `json:"state"`
				Can   struct {
					Edit, Build, Seal, Download bool
				} `json:"can"`
			}
			_ = json.Unmarshal(r.body, &got)
			wantDownload := reads(p, "restricted") && reads(p, "confidential")
			if got.Can.Edit != (canEdit(p) && got.State != "sealed") || got.Can.Download != wantDownload ||
				got.Can.Seal != (canSeal(p) && got.State == "built") {
				t.Errorf("%s | read: can %+v (state %s)", as, got.Can, got.State)
			}
		}
		// Edit a draft, with its current ETag.
		etag := `"1"`
		if vis {
			etag = bundleVersion(t, b.request("gdi-officer", "GET", "/api/v1/bundles/"+patched, ""))
		}
		r = m.expect("edit", as, "PATCH", "/api/v1/bundles/"+patched, `{"title": "Edited by `+as+`"}`,
			status(vis, canEdit(p), http.StatusOK), "If-Match", etag)
		names(as, r, "bundle.edit")
		// Build (a second request while building is answered as it is).
		r = m.expect("build", as, "POST", "/api/v1/bundles/"+toBuild+"/build", "", status(vis, canEdit(p), http.StatusAccepted))
		names(as, r, "bundle.edit")
		// Downloads: every document readable.
		dl := vis && reads(p, "restricted") && reads(p, "confidential")
		r = m.expect("pdf", as, "GET", "/api/v1/bundles/"+built+"/pdf", "", status(vis, dl, http.StatusOK))
		names(as, r, "bundle.download")
		if r.status == http.StatusOK {
			s := sha256.Sum256(r.body)
			if got := hex.EncodeToString(s[:]); r.header.Get("ETag") != `"`+got+`"` || r.header.Get("Content-Type") != "application/pdf" ||
				!strings.Contains(r.header.Get("Content-Disposition"), "-bundle-v1.pdf") {
				t.Errorf("%s | pdf: ETag %s for %s, type %s, %s", as, r.header.Get("ETag"), got,
					r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
			}
		}
		r = m.expect("manifest", as, "GET", "/api/v1/bundles/"+built+"/manifest", "", status(vis, dl, http.StatusOK))
		names(as, r, "bundle.download")
		if r.status == http.StatusOK {
			manifestSHA = r.object(t)["pdf_sha256"].(string)
		}
		dlSecret := vis && reads(p, "secret")
		r = m.expect("pdf with a secret document", as, "GET", "/api/v1/bundles/"+secret+"/pdf", "", status(vis, dlSecret, http.StatusOK))
		names(as, r, "bundle.download")
		// Seal: the first sealer seals; after that it is 409 for sealers.
		etag = `"1"`
		if vis {
			etag = bundleVersion(t, b.request("gdi-officer", "GET", "/api/v1/bundles/"+built, ""))
		}
		want := status(vis, canSeal(p), http.StatusOK)
		if want == http.StatusOK && sealed {
			want = http.StatusConflict
		}
		r = m.expect("seal", as, "POST", "/api/v1/bundles/"+built+"/seal", "", want, "If-Match", etag)
		names(as, r, "bundle.seal")
		if r.status == http.StatusOK {
			sealed = true
		}
		if r.status == http.StatusConflict && !strings.Contains(string(r.body), `"code":"bundle-sealed"`) {
			t.Errorf("%s | seal twice: %s", as, r.body)
		}
	}
	if !sealed || manifestSHA == "" {
		t.Fatal("nobody sealed or read the manifest: the matrix proves little")
	}
	// The sealed bundle: 409 on edit and rebuild, the manifest sealed, its
	// hash the download's.
	r := m.expect("edit sealed", "gdi-officer", "PATCH", "/api/v1/bundles/"+built, `{"title": "x"}`, http.StatusConflict,
		"If-Match", bundleVersion(t, b.request("gdi-officer", "GET", "/api/v1/bundles/"+built, "")))
	if !strings.Contains(string(r.body), `"code":"bundle-sealed"`) {
		t.Errorf("edit sealed: %s", r.body)
	}
	m.expect("rebuild sealed", "gdi-officer", "POST", "/api/v1/bundles/"+built+"/build", "", http.StatusConflict)
	r = m.expect("sealed manifest", "court-pp-clerk", "GET", "/api/v1/bundles/"+built+"/manifest", "", http.StatusOK)
	man := r.object(t)
	pdf := m.expect("sealed pdf", "court-pp-clerk", "GET", "/api/v1/bundles/"+built+"/pdf", "", http.StatusOK)
	s := sha256.Sum256(pdf.body)
	if man["sealed_at"] == nil || man["pdf_sha256"] != hex.EncodeToString(s[:]) {
		t.Errorf("sealed manifest %v vs download %x", man, s)
	}
	// Its documents are under legal hold (and the case is before the court).
	m.expect("withdraw held", "gdi-supervisor", "POST", "/api/v1/documents/"+statement+"/withdraw", `{"reason": "mistake"}`, http.StatusForbidden)
	// Errors of form.
	m.expect("edit without If-Match", "gdi-officer", "PATCH", "/api/v1/bundles/"+patched, `{"title": "x"}`, http.StatusPreconditionRequired)
	m.expect("edit an old version", "gdi-officer", "PATCH", "/api/v1/bundles/"+patched, `{"title": "x"}`, http.StatusPreconditionFailed, "If-Match", `"1"`)
	m.expect("unknown field", "gdi-officer", "POST", "/api/v1/cases/"+cid+"/bundles", `{"title": "x", "numbering": "consecutive", "colour": 1}`, http.StatusUnprocessableEntity)
	m.expect("bad numbering", "gdi-officer", "POST", "/api/v1/cases/"+cid+"/bundles", `{"title": "x", "numbering": "roman"}`, http.StatusUnprocessableEntity)
	m.expect("no such bundle", "gdi-officer", "GET", "/api/v1/bundles/"+uuid.NewString(), "", http.StatusNotFound)
	m.expect("not built", "gdi-officer", "GET", "/api/v1/bundles/"+patched+"/pdf", "", http.StatusNotFound)
	r = m.expect("seal a draft", "gdi-supervisor", "POST", "/api/v1/bundles/"+patched+"/seal", "", http.StatusConflict,
		"If-Match", bundleVersion(t, b.request("gdi-officer", "GET", "/api/v1/bundles/"+patched, "")))
	if !strings.Contains(string(r.body), `"code":"bundle-not-built"`) {
		t.Errorf("seal a draft: %s", r.body)
	}
	for _, route := range [][2]string{{"GET", "/api/v1/cases/" + cid + "/bundles"}, {"POST", "/api/v1/cases/" + cid + "/bundles"},
		{"GET", "/api/v1/bundles/" + built}, {"PATCH", "/api/v1/bundles/" + built}, {"POST", "/api/v1/bundles/" + built + "/build"},
		{"POST", "/api/v1/bundles/" + built + "/seal"}, {"GET", "/api/v1/bundles/" + built + "/pdf"},
		{"GET", "/api/v1/bundles/" + built + "/manifest"}} {
		body := ""
		if route[0] != "GET" {
			body = "{}"
		}
		m.expect("nobody", "", route[0], route[1], body, http.StatusUnauthorized)
	}
	// Every refusal of a principal who sees the bundle was audited.
	var denied []string
	b.scan(&denied, `SELECT DISTINCT action FROM audit_events WHERE outcome = 'denied' AND action LIKE 'bundle.%' ORDER BY 1`)
	for _, a := range []string{"bundle.build.request", "bundle.create", "bundle.manifest.read", "bundle.pdf.read", "bundle.seal", "bundle.update"} {
		if !slices.Contains(denied, a) {
			t.Errorf("no denied audit event for %s (have %v)", a, denied)
		}
	}
	t.Logf("%d cells", m.cells)
}
