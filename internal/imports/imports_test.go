package imports_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/imports"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type env struct {
	t     *testing.T
	w     *authztest.World
	owner *gorm.DB
	appDB *gorm.DB
	base  context.Context
	svc   *imports.Service
}

func newEnv(t *testing.T, lim imports.Limits) *env {
	t.Helper()
	d := testenv.NewDatabase(t)
	return newEnvOn(t, testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL), lim)
}

func newEnvOn(t *testing.T, app, owner *gorm.DB, lim imports.Limits) *env {
	t.Helper()
	w := authztest.New()
	w.Insert(t, owner)
	if lim.MaxBytes == 0 {
		lim = imports.Limits{MaxBytes: 10 << 20, MaxRows: 20000, MaxUnzippedBytes: 50 << 20}
	}
	return &env{t: t, w: w, owner: owner, appDB: app, base: testenv.Context(t, app), svc: imports.NewService(lim, []string{"VN"}, nil)}
}

func (e *env) as(name string) context.Context {
	return access.WithPrincipal(e.base, e.w.Principal(name).Access())
}

func (e *env) upload(as, kase, name string, data []byte) (imports.Import, error) {
	return e.svc.Create(e.as(as), e.w.Case(kase).ID, func() (imports.File, error) {
		return imports.File{Name: name, Body: bytes.NewReader(data)}, nil
	})
}

// count runs a count as the owner (what is really there).
func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.owner.Raw(sql, args...).Scan(&n).Error; err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// state is what an import may change: persons, links, imports.
func (e *env) state() string {
	return fmt.Sprintf("persons=%d links=%d imports=%d", e.count(`SELECT count(*) FROM persons`),
		e.count(`SELECT count(*) FROM case_persons`), e.count(`SELECT count(*) FROM imports`))
}

const header = "family_name,given_names,family_name_native,given_names_native,sex,date_of_birth,nationality,passport_number,custody_status,facility,detained_at,role\n"

func csvRows(n int, prefix string) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i := range n {
		fmt.Fprintf(&b, "Wang,Wei %d,王,伟,male,1990-01-%02d,CN,%s%07d,detained,Phnom Penh IDC,2026-11-14T06:30:00+07:00,detainee\n",
			i, i%28+1, prefix, i)
	}
	return []byte(b.String())
}

func TestImportTenThousandRowsInOneTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	before := e.count(`SELECT count(*) FROM case_persons WHERE case_id = ?`, e.w.Case("owned").ID)
	start := time.Now()
	im, err := e.upload("gdi-officer", "owned", "raid.csv", csvRows(10000, "E"))
	if err != nil {
		t.Fatal(err)
	}
	if im.Status != imports.StatusValidated || im.TotalRows != 10000 || len(im.Errors) != 0 {
		t.Fatalf("validate: status %s rows %d errors %v", im.Status, im.TotalRows, im.Errors[:min(3, len(im.Errors))])
	}
	validated := time.Since(start)
	done, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10,000 rows: validated in %s, committed in %s", validated, time.Since(start)-validated)
	if len(done.Result.Created) != 10000 || len(done.Result.Linked) != 0 {
		t.Fatalf("created %d linked %d", len(done.Result.Created), len(done.Result.Linked))
	}
	if got := e.count(`SELECT count(*) FROM case_persons WHERE case_id = ?`, e.w.Case("owned").ID); got != before+10000 {
		t.Fatalf("case links: %d, want %d", got, before+10000)
	}
	// One transaction: every person and link carries the same xmin.
	if n := e.count(`SELECT count(DISTINCT p.xmin::text) FROM persons p WHERE p.passport_number LIKE 'E%'`); n != 1 {
		t.Fatalf("persons written in %d transactions", n)
	}
	// One audit event lists what the commit created (by count and digest
	// here: 10,000 ids exceed an event's details; the import holds them).
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'import.commit' AND object_id = ?
		AND (details->>'created_count')::int = 10000`, im.ID.String()); n != 1 {
		t.Fatalf("import.commit audit events: %d", n)
	}
	// Committing again is refused and changes nothing.
	st := e.state()
	if _, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("second commit: %v", err)
	}
	if e.state() != st {
		t.Fatal("second commit changed something")
	}
}

func TestThreeBadRowsImportNothingAndAreReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	lines := strings.Split(strings.TrimSuffix(string(csvRows(20, "B")), "\n"), "\n")
	// header is line 1; data row i is line i+2.
	lines[3] = strings.Replace(lines[3], ",CN,", ",China,", 1)              // line 4: nationality
	lines[8] = strings.Replace(lines[8], "1990-01-08", "08/01/1990", 1)     // line 9: date_of_birth
	lines[15] = strings.Replace(lines[15], ",detained,", ",in_custody,", 1) // line 16: custody_status
	data := []byte(strings.Join(lines, "\n") + "\n")
	st := e.state()
	im, err := e.upload("gdi-officer", "owned", "bad.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line   int
		column string
		reason string
	}{{4, "nationality", "ISO 3166-1 alpha-2"}, {9, "date_of_birth", "YYYY-MM-DD"}, {16, "custody_status", "must be one of"}}
	if im.Status != imports.StatusInvalid || len(im.Errors) != len(want) {
		t.Fatalf("status %s, errors %+v", im.Status, im.Errors)
	}
	for i, w := range want {
		g := im.Errors[i]
		if g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d: %+v, want line %d column %s reason containing %q", i, g, w.line, w.column, w.reason)
		}
	}
	if _, err := e.svc.Commit(e.as("gdi-officer"), im.ID, true); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("commit of an invalid import: %v", err)
	}
	// Only the import (its report) was stored: no person, no link.
	if got, wantState := e.state(), strings.Replace(st, "imports=0", "imports=1", 1); got != wantState {
		t.Fatalf("state %s, want %s", got, wantState)
	}
	// The report reads back the same.
	again, err := e.svc.Get(e.as("gdi-officer"), im.ID)
	if err != nil || len(again.Errors) != 3 || again.Errors[1].Line != 9 {
		t.Fatalf("get: %v %+v", err, again.Errors)
	}
}

func TestDuplicatePassportInFileIsABadRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	data := header + "A,,,,male,,CN,G1,detained,,,detainee\nB,,,,male,,CN,G2,detained,,,detainee\nC,,,,female,,CN,G1,detained,,,witness\n"
	im, err := e.upload("gdi-officer", "owned", "dup.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Errors) != 1 || im.Errors[0].Line != 4 || im.Errors[0].Column != "passport_number" ||
		!strings.Contains(im.Errors[0].Reason, "line 2") {
		t.Fatalf("errors %+v", im.Errors)
	}
}

func xlsx(t *testing.T, rows [][]any, formulaCell string) []byte {
	t.Helper()
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if formulaCell != "" {
		if err := f.SetCellFormula(sheet, formulaCell, "HYPERLINK(\"http://evil.example\",\"x\")"); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipBomb is a zip archive whose one part expands to 100 MiB of zeros.
func zipBomb(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for range 100 {
		_, _ = w.Write(zero)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBadFilesChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{MaxBytes: 256 << 10, MaxRows: 1000, MaxUnzippedBytes: 10 << 20})
	latin1 := []byte(header + "M\xfcller,J\xf6rg,,,male,,DE,D1,detained,,,detainee\n")
	utf16 := []byte{0xFF, 0xFE, 'f', 0, 'a', 0}
	hdr := []any{"family_name", "nationality"}
	cases := []struct {
		name, file string
		data       []byte
		kind       error
		says       string
	}{
		{"wrong header", "a.csv", []byte("surname,country\nWang,CN\n"), apperr.ErrInvalid, "unknown column"},
		{"missing required column", "a.csv", []byte("family_name,given_names\nWang,Wei\n"), apperr.ErrInvalid, "nationality is missing"},
		{"Latin-1", "a.csv", latin1, apperr.ErrInvalid, "not UTF-8 (line 2"},
		{"UTF-16", "a.csv", utf16, apperr.ErrInvalid, "UTF-16"},
		{"empty", "a.csv", nil, apperr.ErrInvalid, "is empty"},
		{"header only", "a.csv", []byte(header), apperr.ErrInvalid, "no rows"},
		{"over the byte limit", "a.csv", csvRows(5000, "L"), apperr.ErrTooLarge, "limit of 262144 bytes"},
		{"CSV formula cells", "a.csv", []byte(header + "=SUM(A1:A9)*2,,,,male,,CN,F1,detained,,,detainee\n"),
			apperr.ErrInvalid, "line 2 column family_name"},
		{"CSV cell starting with @", "a.csv", []byte("family_name,nationality\n@SUM(1+1),CN\n"), apperr.ErrInvalid, "formulas"},
		{"XLSX formula cell", "a.xlsx", xlsx(t, [][]any{hdr, {"Wang", "CN"}}, "A2"), apperr.ErrInvalid, "row 2 column family_name"},
		{"XLSX zip bomb", "a.xlsx", zipBomb(t), apperr.ErrInvalid, "zip bomb"},
		{"not a workbook", "a.xlsx", []byte("PK\x03\x04garbage"), apperr.ErrInvalid, "not a valid XLSX"},
	}
	st := e.state()
	for _, c := range cases {
		_, err := e.upload("gdi-officer", "owned", c.file, c.data)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %v saying %q", c.name, err, c.kind, c.says)
		}
	}
	if e.state() != st {
		t.Fatalf("bad files changed something: %s, was %s", e.state(), st)
	}
}

func TestSameFileTwiceLinksInsteadOfDuplicating(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	data := csvRows(5, "S")
	first, err := e.upload("gdi-officer", "owned", "s.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Commit(e.as("gdi-officer"), first.ID, false); err != nil {
		t.Fatal(err)
	}
	persons := e.count(`SELECT count(*) FROM persons`)
	// Into the same case: every row is a person already linked there.
	again, err := e.upload("gdi-officer", "owned", "s.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Matches) != 5 || !again.Matches[0].AlreadyLinked || again.Matches[0].Line != 2 {
		t.Fatalf("matches %+v", again.Matches)
	}
	if _, err := e.svc.Commit(e.as("gdi-officer"), again.ID, false); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("commit without confirming the links: %v", err)
	}
	done, err := e.svc.Commit(e.as("gdi-officer"), again.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Result.Created) != 0 || len(done.Result.AlreadyLinked) != 5 {
		t.Fatalf("result %+v", done.Result)
	}
	// Into another case of the agency: linked, not duplicated.
	other, err := e.upload("gdi-supervisor", "victim", "s.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	done, err = e.svc.Commit(e.as("gdi-supervisor"), other.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Result.Created) != 0 || len(done.Result.Linked) != 5 {
		t.Fatalf("result %+v", done.Result)
	}
	if got := e.count(`SELECT count(*) FROM persons`); got != persons {
		t.Fatalf("persons %d, want %d (no duplicates)", got, persons)
	}
	if got := e.count(`SELECT count(*) FROM case_persons WHERE case_id = ? AND person_id IN ?`,
		e.w.Case("victim").ID, done.Result.Linked); got != 5 {
		t.Fatalf("links to the second case: %d", got)
	}
}

func TestNamesAreKeptByteExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	names := [][2]string{
		{"សុខ", "ចាន់ណា"},                   // Khmer, with coeng and vowel signs
		{"王", "小明"},                         // Chinese
		{"Nguyễn", "Thị Thu Hương"},         // Vietnamese, precomposed
		{"Nguye\u0302\u0303n", "Thi\u0323"}, // Vietnamese, decomposed (NFD): not normalised
	}
	var b strings.Builder
	b.Write([]byte{0xEF, 0xBB, 0xBF}) // with a byte order mark
	b.WriteString("family_name,given_names,family_name_native,nationality,passport_number\n")
	for i, n := range names {
		fmt.Fprintf(&b, "%s,%s,%s,KH,N%d\n", n[0], n[1], n[0], i)
	}
	im, err := e.upload("gdi-officer", "owned", "names.csv", []byte(b.String()))
	if err != nil || len(im.Errors) > 0 {
		t.Fatalf("%v %+v", err, im.Errors)
	}
	done, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range done.Result.Created {
		var got struct{ FamilyName, GivenNames, FamilyNameNative string }
		if err := e.owner.Raw(`SELECT family_name, given_names, family_name_native FROM persons WHERE id = ?`, id).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.FamilyName != names[i][0] || got.GivenNames != names[i][1] || got.FamilyNameNative != names[i][0] {
			t.Errorf("row %d: % x / % x, want % x / % x", i, got.FamilyName, got.GivenNames, names[i][0], names[i][1])
		}
	}
}

func TestXLSXImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	data := xlsx(t, [][]any{
		{"family_name", "given_names", "nationality", "passport_number", "date_of_birth", "custody_status", "role"},
		{"Trần", "Văn An", "VN", "C0012345", "1994-03-02", "detained", "detainee"},
		{"李", "娜", "CN", "E7654321", "1999-12-31", "detained", "witness"},
	}, "")
	im, err := e.upload("gdi-officer", "owned", "raid.xlsx", data)
	if err != nil || im.Format != imports.FormatXLSX || len(im.Errors) != 0 || im.TotalRows != 2 {
		t.Fatalf("%v %+v", err, im)
	}
	done, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var note string
	if err := e.owner.Raw(`SELECT consular_notification FROM persons WHERE id = ?`, done.Result.Created[0]).Scan(&note).Error; err != nil {
		t.Fatal(err)
	}
	if note != "mandatory" { // VN is configured mandatory in this test
		t.Fatalf("consular_notification %q", note)
	}
	// The templates read back as files with the documented header.
	tpl, err := imports.TemplateXLSX()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.upload("gdi-officer", "owned", "t.xlsx", tpl); err == nil || !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("empty xlsx template: %v", err)
	}
	if _, err := e.upload("gdi-officer", "owned", "t.csv", imports.TemplateCSV()); err == nil || !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("empty csv template: %v", err)
	}
}

// TestWhoMayImport: officers and supervisors of the owner agency; a viewer
// or a coordinator who sees the case gets 403; an agency that does not see
// it gets 404 and never sees another agency's import.
func TestWhoMayImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, imports.Limits{})
	data := csvRows(2, "W")
	for _, c := range []struct {
		who  string
		want error
	}{
		{"gdi-officer", nil}, {"gdi-supervisor", nil},
		{"gdi-viewer", apperr.ErrForbidden}, {"gdi-admin", apperr.ErrNotFound}, {"moi-coordinator", apperr.ErrForbidden},
		{"ppm-officer", apperr.ErrNotFound}, {"ncct-officer", apperr.ErrNotFound}, {"emb-cn-liaison", apperr.ErrNotFound},
		{"court-pp-clerk", apperr.ErrNotFound}, {"gdi-norole", apperr.ErrNotFound},
	} {
		_, err := e.upload(c.who, "owned", "w.csv", data)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.who, err, c.want)
		}
	}
	im, err := e.upload("gdi-officer", "owned", "w.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ppm-officer", "gdi-viewer", "moi-coordinator", "emb-cn-liaison", "moi-admin"} {
		if _, err := e.svc.Get(e.as(who), im.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("%s reads the import: %v", who, err)
		}
		if _, err := e.svc.Commit(e.as(who), im.ID, true); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("%s commits the import: %v", who, err)
		}
	}
	// Refusals are audited.
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'import.create' AND outcome = 'denied'`); n != 2 {
		t.Errorf("denied import attempts audited: %d", n)
	}
	_ = uuid.Nil
	_ = store.DB
}
