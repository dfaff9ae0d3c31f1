package bundles_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/bundles/minipdf"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var seq atomic.Int64

type agency struct {
	ID   uuid.UUID
	Code string
	Kind access.Kind
}

// fixture is a database with a case of owner "gdi" before the court "court",
// a local blob store, and the document and bundle services.
type fixture struct {
	t      *testing.T
	db     *gorm.DB
	owner  *gorm.DB
	blobs  blob.Store
	docs   *documents.Service
	svc    *bundles.Service
	gdi    agency
	ppm    agency
	court  agency
	caseID uuid.UUID
	appURL string
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T, lim render.Limits) *fixture {
	t.Helper()
	d := testenv.NewDatabase(t)
	f := &fixture{t: t, db: testenv.Open(t, d.AppURL), owner: testenv.Open(t, d.OwnerURL), appURL: d.AppURL}
	l, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.blobs = l
	f.docs = documents.NewService(l, 50<<20, quiet())
	f.svc = bundles.NewService(l, lim, quiet())
	f.gdi = f.agency(access.KindImmigrationPolice)
	f.ppm = f.agency(access.KindImmigrationPolice)
	f.court = f.agency(access.KindCourt)
	f.caseID = f.newCase(f.gdi, "open", nil)
	return f
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if err := f.owner.Exec(sql, args...).Error; err != nil {
		f.t.Fatalf("fixture: %v\n%s", err, sql)
	}
}

func (f *fixture) agency(kind access.Kind) agency {
	f.t.Helper()
	a := agency{ID: uuid.New(), Code: fmt.Sprintf("b%d", seq.Add(1)), Kind: kind}
	f.exec(`INSERT INTO agencies (id, code, name, kind) VALUES (?, ?, ?, ?)`, a.ID, a.Code, "Agency "+a.Code, string(kind))
	return a
}

func (f *fixture) newCase(owner agency, status string, court *agency) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	var courtID any
	if court != nil {
		courtID = court.ID
	}
	f.exec(`INSERT INTO cases (id, reference, owner_agency_id, title, kind, status, court_agency_id)
		VALUES (?, ?, ?, 'Raid on a construction site', 'illegal_work', ?, ?)`,
		id, fmt.Sprintf("GDI-2026-%04d", seq.Add(1)), owner.ID, status, courtID)
	return id
}

func (f *fixture) as(a agency, roles ...access.Role) context.Context {
	p := access.Principal{UserID: uuid.New(), Issuer: "test", Subject: uuid.NewString(), Name: "Tester",
		AgencyID: a.ID, AgencyCode: a.Code, AgencyName: "Agency " + a.Code, Kind: a.Kind, Roles: roles}
	return access.WithPrincipal(store.WithDB(f.t.Context(), f.db), p)
}

// upload stores a document of the case as the owner's officer.
func (f *fixture) upload(caseID uuid.UUID, title, class string, data []byte) uuid.UUID {
	f.t.Helper()
	doc, err := f.docs.Create(f.as(f.gdi, access.RoleOfficer), caseID,
		documents.Metadata{Title: title, Kind: "evidence", Classification: access.Classification(class)},
		func() (documents.File, error) {
			return documents.File{Name: title + ".pdf", Body: bytes.NewReader(data)}, nil
		})
	if err != nil {
		f.t.Fatalf("upload %s: %v", title, err)
	}
	return doc.ID
}

// runBuild works the bundles.build job the last build request enqueued,
// with the arguments stored in the queue (as River would).
func (f *fixture) runBuild(id uuid.UUID) bundles.BuildArgs {
	f.t.Helper()
	args := f.jobArgs(id)
	ctx := store.WithDB(f.t.Context(), f.db)
	if err := f.svc.Build(ctx, args, bundles.Attempt{N: 1, Max: 10}); err != nil {
		f.t.Fatalf("build: %v", err)
	}
	return args
}

func (f *fixture) jobArgs(id uuid.UUID) bundles.BuildArgs {
	f.t.Helper()
	var raw []string
	if err := f.owner.Raw(`SELECT args::text FROM river_job WHERE kind = 'bundles.build' AND args->>'bundle_id' = ?
		ORDER BY id DESC LIMIT 1`, id.String()).Scan(&raw).Error; err != nil || len(raw) == 0 {
		f.t.Fatalf("no build job for %s: %v", id, err)
	}
	var args bundles.BuildArgs
	if err := json.Unmarshal([]byte(raw[0]), &args); err != nil {
		f.t.Fatal(err)
	}
	return args
}

func (f *fixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.owner.Raw(sql, args...).Scan(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

func code(err error) string {
	var de *apperr.DetailError
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func permission(err error) string {
	var pe *apperr.PermissionError
	if errors.As(err, &pe) {
		return pe.Permission
	}
	return ""
}

func item(doc uuid.UUID) bundles.ItemRef { return bundles.ItemRef{DocumentID: doc, Version: 1} }

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func pdfPages(n int, label string) []byte {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("%s, page %d", label, i+1)
	}
	return minipdf.Pages(texts, minipdf.Options{})
}

// The whole life of a bundle, with who may do what at each step.
func TestBundleLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	charge := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(2, "Charge sheet"))
	statement := f.upload(f.caseID, "Statement of the detainee", "confidential", pdfPages(3, "Statement"))
	note := f.upload(f.caseID, "Officer's note", "restricted", []byte("Seen at the site on 3 March.\nNo papers.\n"))
	officer, supervisor := f.as(f.gdi, access.RoleOfficer), f.as(f.gdi, access.RoleSupervisor)
	viewer, other := f.as(f.gdi, access.RoleViewer), f.as(f.ppm, access.RoleOfficer, access.RoleSupervisor)

	nb := bundles.NewBundle{Title: "Hearing bundle", Numbering: bundles.Consecutive, Sections: []bundles.SectionInput{
		{Label: "A", Title: "Charges", Items: []bundles.ItemRef{item(charge)}},
		{Label: "B", Title: "Evidence", Items: []bundles.ItemRef{item(statement), item(note)}},
	}}
	if _, err := f.svc.Create(viewer, f.caseID, nb); !errors.Is(err, apperr.ErrForbidden) || permission(err) != bundles.PermEdit {
		t.Fatalf("viewer creates: %v", err)
	}
	if _, err := f.svc.Create(other, f.caseID, nb); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("other agency creates: %v", err)
	}
	b, err := f.svc.Create(officer, f.caseID, nb)
	if err != nil {
		t.Fatal(err)
	}
	if b.State != bundles.Draft || len(b.Sections) != 2 || len(b.Sections[1].Items) != 2 || b.Can.Seal || !b.Can.Edit ||
		b.BundleVersion != 1 || b.CaseReference == "" {
		t.Fatalf("created: %+v", b)
	}
	// Another agency sees nothing: not the bundle, not the list.
	if _, err := f.svc.Get(other, b.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("other agency reads: %v", err)
	}
	if _, err := f.svc.List(other, f.caseID, 0, ""); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("other agency lists: %v", err)
	}
	if _, err := f.svc.RequestBuild(other, b.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("other agency builds: %v", err)
	}
	if _, err := f.svc.OpenPDF(other, b.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("other agency downloads: %v", err)
	}
	// The viewer reads it but may not build it.
	if got, err := f.svc.Get(viewer, b.ID); err != nil || got.Can.Edit || got.Can.Build {
		t.Errorf("viewer reads: %+v %v", got.Can, err)
	}
	if _, err := f.svc.RequestBuild(viewer, b.ID); permission(err) != bundles.PermEdit {
		t.Errorf("viewer builds: %v", err)
	}
	// Not built: no PDF, no manifest, no seal.
	if _, err := f.svc.OpenPDF(officer, b.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("pdf before build: %v", err)
	}
	if _, err := f.svc.Seal(supervisor, b.ID, b.Version); code(err) != "bundle-not-built" {
		t.Errorf("seal before build: %v", err)
	}

	b, err = f.svc.RequestBuild(officer, b.ID)
	if err != nil || b.State != bundles.Building {
		t.Fatalf("request build: %+v %v", b, err)
	}
	if _, err := f.svc.Update(officer, b.ID, b.Version, bundles.Patch{Title: ptr("Other")}); code(err) != "bundle-building" {
		t.Errorf("edit while building: %v", err)
	}
	f.runBuild(b.ID)
	b, err = f.svc.Get(officer, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	// cover + index + 2 + 3 + 1 (the note typesets on one page)
	if b.State != bundles.Built || b.Stale || b.Pages == nil || *b.Pages != 8 || b.Progress.Percent != 100 {
		t.Fatalf("built: state %s stale %v pages %v progress %+v", b.State, b.Stale, b.Pages, b.Progress)
	}
	if p := b.Sections[1].Items[0].Pages; p == nil || p.First != 5 || p.Last != 7 || p.FirstLabel != "5" {
		t.Errorf("statement pages: %+v", p)
	}
	first := *b.PDFSHA256
	pdf, err := f.svc.OpenPDF(officer, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(pdf.Body)
	_ = pdf.Body.Close()
	if sha(data) != first || !bytes.HasPrefix(data, []byte("%PDF-")) || !strings.HasSuffix(pdf.Filename, "-bundle-v1.pdf") {
		t.Errorf("pdf: %d bytes, sha %s (row %s), name %s", len(data), sha(data), first, pdf.Filename)
	}

	// Two builds of the same contents give the same bytes.
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	f.runBuild(b.ID)
	if b, err = f.svc.Get(officer, b.ID); err != nil || b.PDFSHA256 == nil || *b.PDFSHA256 != first {
		t.Fatalf("second build: %v %v, want %s", b.PDFSHA256, err, first)
	}
	// An edit makes it stale: it cannot be sealed until rebuilt.
	b, err = f.svc.Update(officer, b.ID, b.Version, bundles.Patch{Title: ptr("Hearing bundle, 12 May")})
	if err != nil || !b.Stale || b.Can.Seal {
		t.Fatalf("edit after build: stale %v can %+v %v", b.Stale, b.Can, err)
	}
	if _, err := f.svc.Seal(supervisor, b.ID, b.Version); code(err) != "bundle-not-built" {
		t.Errorf("seal stale: %v", err)
	}
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	f.runBuild(b.ID)
	b, _ = f.svc.Get(supervisor, b.ID)
	if *b.PDFSHA256 == first {
		t.Errorf("a new title gave the same PDF")
	}

	// Sealing: supervisor only, with the current version.
	if _, err := f.svc.Seal(officer, b.ID, b.Version); permission(err) != bundles.PermSeal {
		t.Errorf("officer seals: %v", err)
	}
	if _, err := f.svc.Seal(supervisor, b.ID, b.Version-1); !errors.Is(err, apperr.ErrPreconditionFailed) {
		t.Errorf("seal an old version: %v", err)
	}
	sealed, err := f.svc.Seal(supervisor, b.ID, b.Version)
	if err != nil || sealed.State != bundles.Sealed || sealed.SealedAt == nil || sealed.Can.Edit || sealed.Can.Build {
		t.Fatalf("seal: %+v %v", sealed, err)
	}
	// Sealed: no edit, no rebuild, no second seal — 409 with the reason.
	if _, err := f.svc.Update(officer, b.ID, sealed.Version, bundles.Patch{Title: ptr("x")}); code(err) != "bundle-sealed" {
		t.Errorf("edit sealed: %v", err)
	}
	if _, err := f.svc.RequestBuild(officer, b.ID); code(err) != "bundle-sealed" {
		t.Errorf("rebuild sealed: %v", err)
	}
	if _, err := f.svc.Seal(supervisor, b.ID, sealed.Version); code(err) != "bundle-sealed" {
		t.Errorf("seal twice: %v", err)
	}
	// Not even the owner role changes a sealed bundle.
	if err := f.owner.Exec(`UPDATE bundles SET title = 'x' WHERE id = ?`, b.ID).Error; err == nil {
		t.Errorf("the owner role changed a sealed bundle")
	}
	if err := f.owner.Exec(`DELETE FROM bundle_items WHERE bundle_id = ?`, b.ID).Error; err == nil {
		t.Errorf("the owner role removed items of a sealed bundle")
	}
	// Its documents are under legal hold.
	_, err = f.docs.Withdraw(supervisor, statement, "Entered by mistake", nil)
	if !errors.Is(err, apperr.ErrForbidden) || !strings.Contains(err.Error(), "sealed court bundle") {
		t.Errorf("withdraw a sealed bundle's document: %v", err)
	}
	other2 := f.upload(f.caseID, "Unrelated", "restricted", pdfPages(1, "x"))
	if _, err := f.docs.Withdraw(supervisor, other2, "Entered by mistake", nil); err != nil {
		t.Errorf("withdraw a document in no bundle: %v", err)
	}

	// The manifest names every source with its hash and pages.
	m, err := f.svc.Manifest(viewer, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.PDFSHA256 != *sealed.PDFSHA256 || m.SealedAt == nil || len(m.Sources) != 3 || m.Pages != 8 {
		t.Fatalf("manifest: %+v", m)
	}
	if s := m.Sources[1]; s.DocumentID != statement || s.Section != "B" || s.FirstPage != 5 || s.LastPage != 7 ||
		s.SHA256 != sha(pdfPages(3, "Statement")) {
		t.Errorf("manifest source: %+v", s)
	}
	// Reads, the seal and downloads are audit events.
	for action, want := range map[string]int{"bundle.create": 1, "bundle.seal": 1, "bundle.pdf.read": 1,
		"bundle.manifest.read": 1, "bundle.build": 3, "bundle.build.request": 3} {
		if n := f.count(`SELECT count(*) FROM audit_events WHERE action = ? AND object_id = ? AND outcome = 'ok'`,
			action, b.ID.String()); n != want {
			t.Errorf("audit %s: %d events, want %d", action, n, want)
		}
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'bundle.read' AND outcome = 'not_found'`); n == 0 {
		t.Errorf("the other agency's 404 on an existing bundle was not audited")
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'bundle.seal' AND outcome = 'denied'`); n != 1 {
		t.Errorf("the officer's refused seal: %d denied events", n)
	}

	// Late additions: the next version keeps every page of the sealed one.
	late := f.upload(f.caseID, "Medical report", "restricted", pdfPages(2, "Medical"))
	if _, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "v2", Numbering: bundles.PerSection, BasedOn: &b.ID}); err == nil {
		t.Errorf("a next version with another numbering was accepted")
	}
	v2, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "Hearing bundle, late additions",
		Numbering: bundles.Consecutive, BasedOn: &b.ID})
	if err != nil || v2.BundleVersion != 2 || len(v2.Sections) != 2 || v2.BasedOn == nil {
		t.Fatalf("next version: %+v %v", v2, err)
	}
	if _, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "again", Numbering: bundles.Consecutive, BasedOn: &b.ID}); code(err) != "bundle-has-next-version" {
		t.Errorf("a second next version: %v", err)
	}
	if _, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "on a draft", Numbering: bundles.Consecutive, BasedOn: &v2.ID}); !errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("based on a draft: %v", err)
	}
	secs := []bundles.SectionInput{{Label: "A", Title: "Charges"}}
	if _, err := f.svc.Update(officer, v2.ID, v2.Version, bundles.Patch{Sections: &secs}); !errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("edit the frozen main part: %v", err)
	}
	lateSecs := []bundles.SectionInput{{Label: "C", Title: "Late additions", Items: []bundles.ItemRef{item(late)}}}
	v2, err = f.svc.Update(officer, v2.ID, v2.Version, bundles.Patch{LateAdditions: &lateSecs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestBuild(officer, v2.ID); err != nil {
		t.Fatal(err)
	}
	f.runBuild(v2.ID)
	m2, err := f.svc.Manifest(officer, v2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Sources) != 4 || m2.SealedAt != nil {
		t.Fatalf("v2 manifest: %+v", m2)
	}
	for i, s := range m.Sources {
		if m2.Sources[i].FirstPage != s.FirstPage || m2.Sources[i].LastPage != s.LastPage || m2.Sources[i].FirstLabel != s.FirstLabel {
			t.Errorf("late additions moved %s: %+v, was %+v", s.Title, m2.Sources[i], s)
		}
	}
	if s := m2.Sources[3]; s.DocumentID != late || s.FirstPage <= m.Pages {
		t.Errorf("late addition: %+v (sealed bundle had %d pages)", s, m.Pages)
	}
	// Lists: newest first.
	pg, err := f.svc.List(viewer, f.caseID, 0, "")
	if err != nil || len(pg.Items) != 2 || pg.Items[0].ID != v2.ID {
		t.Errorf("list: %d items %v", len(pg.Items), err)
	}
	pg, err = f.svc.List(viewer, f.caseID, 1, "")
	if err != nil || len(pg.Items) != 1 || pg.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", pg, err)
	}
	if pg2, err := f.svc.List(viewer, f.caseID, 1, pg.NextCursor); err != nil || len(pg2.Items) != 1 || pg2.Items[0].ID != b.ID {
		t.Errorf("page 2: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// Items must be versions of documents of the bundle's case that the editor
// can read.
func TestItemsBelongToTheCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	mine := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(1, "x"))
	elsewhere := f.newCase(f.gdi, "open", nil)
	theirs := f.upload(elsewhere, "Other case", "restricted", pdfPages(1, "y"))
	officer := f.as(f.gdi, access.RoleOfficer)
	for name, refs := range map[string][]bundles.ItemRef{
		"another case's document":       {item(theirs)},
		"a version that does not exist": {{DocumentID: mine, Version: 2}},
		"no document":                   {item(uuid.New())},
	} {
		_, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "x", Numbering: bundles.Consecutive,
			Sections: []bundles.SectionInput{{Label: "A", Title: "A", Items: refs}}})
		if !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The database refuses it too, past the service's check.
	b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "x", Numbering: bundles.Consecutive,
		Sections: []bundles.SectionInput{{Label: "A", Title: "A"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = store.WithTx(officer, func(ctx context.Context) error {
		return store.DB(ctx).Exec(`INSERT INTO bundle_items (bundle_id, part, section_position, position, document_id, version)
			VALUES (?, 'main', 0, 0, ?, 1)`, b.ID, theirs).Error
	})
	if err == nil {
		t.Errorf("the database took another case's document into a bundle")
	}
	if err := f.owner.Exec(`INSERT INTO bundle_items (bundle_id, part, section_position, position, document_id, version)
			VALUES (?, 'main', 0, 0, ?, 1)`, b.ID, theirs).Error; err == nil {
		t.Errorf("the owner role put another case's document into a bundle")
	}
}

// The court's clerk builds and seals the bundle of a case before its court
// (G5); a document above the clerk's ceiling (secret) keeps the download
// from the clerk, who still sees that it is there.
func TestClerkAndDownloadNeedsEveryDocument(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	c := f.newCase(f.gdi, "before_court", &f.court)
	open := f.upload(c, "Judgment", "confidential", pdfPages(1, "J"))
	secret := f.upload(c, "Informant report", "secret", pdfPages(1, "S"))
	clerk := f.as(f.court, access.RoleClerk)
	otherClerk := f.as(f.agency(access.KindCourt), access.RoleClerk)
	b, err := f.svc.Create(clerk, c, bundles.NewBundle{Title: "Court bundle", Numbering: bundles.PerSection,
		Sections: []bundles.SectionInput{{Label: "A", Title: "Judgment", Items: []bundles.ItemRef{item(open)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(otherClerk, b.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("another court's clerk: %v", err)
	}
	// The clerk cannot add what it cannot read.
	secs := []bundles.SectionInput{{Label: "A", Title: "Judgment", Items: []bundles.ItemRef{item(open), item(secret)}}}
	if _, err := f.svc.Update(clerk, b.ID, b.Version, bundles.Patch{Sections: &secs}); !errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("clerk adds a secret document: %v", err)
	}
	if _, err := f.svc.RequestBuild(clerk, b.ID); err != nil {
		t.Fatal(err)
	}
	args := f.runBuild(b.ID)
	if args.Principal.Kind != string(access.KindCourt) || args.Principal.AgencyID != f.court.ID || len(args.Principal.Roles) != 1 {
		t.Errorf("the job does not run as the clerk: %+v", args.Principal)
	}
	b, _ = f.svc.Get(clerk, b.ID)
	if b.State != bundles.Built || b.Sections[0].Items[0].Pages.FirstLabel != "A1" {
		t.Fatalf("built: %s %+v", b.State, b.Sections[0].Items[0].Pages)
	}
	sealed, err := f.svc.Seal(clerk, b.ID, b.Version)
	if err != nil {
		t.Fatal(err)
	}
	// The owner's supervisor makes the next version with the secret report.
	sup := f.as(f.gdi, access.RoleSupervisor)
	v2, err := f.svc.Create(sup, c, bundles.NewBundle{Title: "v2", Numbering: bundles.PerSection, BasedOn: &sealed.ID})
	if err != nil {
		t.Fatal(err)
	}
	lateSecs := []bundles.SectionInput{{Label: "B", Title: "Reports", Items: []bundles.ItemRef{item(secret)}}}
	if v2, err = f.svc.Update(sup, v2.ID, v2.Version, bundles.Patch{LateAdditions: &lateSecs}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestBuild(sup, v2.ID); err != nil {
		t.Fatal(err)
	}
	f.runBuild(v2.ID)
	got, err := f.svc.Get(clerk, v2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it := got.LateAdditions[0].Items[0]; it.Title != nil || it.Classification != nil || got.Can.Download {
		t.Errorf("the clerk learns of the secret report: %+v, can %+v", it, got.Can)
	}
	if _, err := f.svc.OpenPDF(clerk, v2.ID); permission(err) != bundles.PermDownload {
		t.Errorf("clerk downloads a bundle with a secret document: %v", err)
	}
	if _, err := f.svc.Manifest(clerk, v2.ID); permission(err) != bundles.PermDownload {
		t.Errorf("clerk reads the manifest of a bundle with a secret document: %v", err)
	}
	if _, err := f.svc.OpenPDF(sup, v2.ID); err != nil {
		t.Errorf("the owner's supervisor downloads: %v", err)
	}
}

// A corrupt PDF, an encrypted PDF and a page bomb each fail the build with
// an error naming them; the service goes on building others.
func TestBadSourcesFailTheBuild(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{MaxSourcePages: 20})
	good := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(1, "ok"))
	officer := f.as(f.gdi, access.RoleOfficer)
	for name, data := range map[string][]byte{
		"Corrupt scan":   []byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nthis is not a PDF at all\n"),
		"Encrypted file": minipdf.Pages([]string{"secret"}, minipdf.Options{Encrypt: true}),
		"Page bomb":      pdfPages(21, "bomb"),
	} {
		doc := f.upload(f.caseID, name, "restricted", data)
		b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: name, Numbering: bundles.Consecutive,
			Sections: []bundles.SectionInput{{Label: "A", Title: "Docs", Items: []bundles.ItemRef{item(good), item(doc)}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
			t.Fatal(err)
		}
		f.runBuild(b.ID)
		b, _ = f.svc.Get(officer, b.ID)
		if b.State != bundles.Failed || b.Error == nil || b.Error.DocumentID == nil || *b.Error.DocumentID != doc ||
			b.Error.Title != name || b.Error.Reason == "" || b.PDFSHA256 != nil {
			t.Errorf("%s: state %s error %+v", name, b.State, b.Error)
			continue
		}
		t.Logf("%s: %s", name, b.Error.Reason)
		// Changing the contents forgets the failure; the good document alone builds.
		secs := []bundles.SectionInput{{Label: "A", Title: "Docs", Items: []bundles.ItemRef{item(good)}}}
		b, err = f.svc.Update(officer, b.ID, b.Version, bundles.Patch{Sections: &secs})
		if err != nil || b.State != bundles.Draft || b.Error != nil {
			t.Fatalf("%s: edit after failure: %s %+v %v", name, b.State, b.Error, err)
		}
		if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
			t.Fatal(err)
		}
		f.runBuild(b.ID)
		if b, _ = f.svc.Get(officer, b.ID); b.State != bundles.Built {
			t.Errorf("%s: rebuild without it: %s %+v", name, b.State, b.Error)
		}
	}
}

// A job run again (retried, rescued, or a stale generation) records
// nothing twice.
func TestBuildRecordsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	doc := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(2, "x"))
	officer := f.as(f.gdi, access.RoleOfficer)
	b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "x", Numbering: bundles.Consecutive,
		Sections: []bundles.SectionInput{{Label: "A", Title: "A", Items: []bundles.ItemRef{item(doc)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	old := f.jobArgs(b.ID)
	// A second request while building enqueues nothing.
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'bundles.build'`); n != 1 {
		t.Errorf("%d jobs after two requests while building", n)
	}
	args := f.runBuild(b.ID)
	got, _ := f.svc.Get(officer, b.ID)
	ctx := store.WithDB(t.Context(), f.db)
	if err := f.svc.Build(ctx, args, bundles.Attempt{N: 2, Max: 10}); err != nil {
		t.Fatal(err)
	}
	again, _ := f.svc.Get(officer, b.ID)
	if again.Version != got.Version || *again.BuiltAt != *got.BuiltAt {
		t.Errorf("a repeated job recorded again: version %d → %d", got.Version, again.Version)
	}
	// A new build request makes the old generation's job a no-op.
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Build(ctx, old, bundles.Attempt{N: 1, Max: 10}); err != nil {
		t.Fatal(err)
	}
	if cur, _ := f.svc.Get(officer, b.ID); cur.State != bundles.Building {
		t.Errorf("an old generation's job finished the new build: %s", cur.State)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'bundle.build' AND object_id = ?`, b.ID.String()); n != 1 {
		t.Errorf("%d bundle.build events, want 1", n)
	}
	// The PDF is a recorded blob: the sweeper keeps it.
	if n := f.count(`SELECT count(*) FROM blobs WHERE sha256 = ?`, *got.PDFSHA256); n != 1 {
		t.Errorf("the bundle PDF is not recorded in blobs")
	}
}

// A build that has run for longer than the restart time (its job may have
// ended without a result) is started again by a new request; a younger
// one is not.
func TestStuckBuildRestarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	f.svc.SetRestartAfter(30 * time.Minute)
	doc := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(1, "x"))
	officer := f.as(f.gdi, access.RoleOfficer)
	b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "x", Numbering: bundles.Consecutive,
		Sections: []bundles.SectionInput{{Label: "A", Title: "A", Items: []bundles.ItemRef{item(doc)}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'bundles.build'`); n != 1 {
		t.Fatalf("%d jobs for a young build", n)
	}
	stuck := f.jobArgs(b.ID)
	f.exec(`UPDATE bundles SET updated_at = now() - interval '1 hour' WHERE id = ?`, b.ID)
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'bundles.build'`); n != 2 {
		t.Fatalf("%d jobs after restarting a stuck build", n)
	}
	if f.jobArgs(b.ID).Generation != stuck.Generation+1 {
		t.Errorf("the restart did not start a new generation")
	}
	f.runBuild(b.ID)
	if got, _ := f.svc.Get(officer, b.ID); got.State != bundles.Built {
		t.Errorf("restarted build: %s", got.State)
	}
}

// The cover names at most a dozen parties (a raid's case links hundreds),
// and a next version keeps the sealed bundle's hearing date.
func TestCoverAndNextVersion(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	f := newFixture(t, render.Limits{})
	for i := range 15 {
		id := uuid.New()
		f.exec(`INSERT INTO persons (id, family_name, given_names, nationality, custody_status, created_by_agency_id)
			VALUES (?, ?, 'Wei', 'CN', 'detained', ?)`, id, fmt.Sprintf("Person%02d", i), f.gdi.ID)
		f.exec(`INSERT INTO case_persons (case_id, person_id, role) VALUES (?, ?, 'detainee')`, f.caseID, id)
	}
	doc := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(1, "x"))
	sup := f.as(f.gdi, access.RoleSupervisor)
	hearing := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	b, err := f.svc.Create(sup, f.caseID, bundles.NewBundle{Title: "x", Numbering: bundles.Consecutive, HearingDate: &hearing,
		Sections: []bundles.SectionInput{{Label: "A", Title: "A", Items: []bundles.ItemRef{item(doc)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = f.svc.BuildNow(sup, b.ID); err != nil || b.State != bundles.Built {
		t.Fatalf("build now: %v %v", b.State, err)
	}
	pdf, err := f.svc.OpenPDF(sup, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(pdf.Body)
	_ = pdf.Body.Close()
	p := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-f", "1", "-l", "1", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	cover := string(out)
	if !strings.Contains(cover, "Person00, Wei (detainee)") || !strings.Contains(cover, "and 4 more") || strings.Contains(cover, "Person14") {
		t.Errorf("cover parties:\n%s", cover)
	}
	if b, err = f.svc.Seal(sup, b.ID, b.Version); err != nil {
		t.Fatal(err)
	}
	next, err := f.svc.Create(sup, f.caseID, bundles.NewBundle{Title: "v2", Numbering: bundles.Consecutive, BasedOn: &b.ID})
	if err != nil || next.HearingDate == nil || !next.HearingDate.Equal(hearing) {
		t.Errorf("next version hearing date: %v %v", next.HearingDate, err)
	}
}

// The bundle list pages by cursor, newest first: every bundle once, the
// limits of spec/API.md, and a cursor it did not give is refused.
func TestListPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	doc := f.upload(f.caseID, "Charge sheet", "restricted", pdfPages(1, "Charge sheet"))
	officer := f.as(f.gdi, access.RoleOfficer)
	made := map[uuid.UUID]bool{}
	for i := range 5 {
		b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: fmt.Sprintf("Bundle %d", i), Numbering: bundles.Consecutive,
			Sections: []bundles.SectionInput{{Label: "A", Title: "Charges", Items: []bundles.ItemRef{item(doc)}}}})
		if err != nil {
			t.Fatal(err)
		}
		made[b.ID] = true
	}
	seen := map[uuid.UUID]bool{}
	cursor, pages := "", 0
	for {
		pg, err := f.svc.List(officer, f.caseID, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range pg.Items {
			if seen[b.ID] {
				t.Fatalf("bundle %s listed twice", b.ID)
			}
			seen[b.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if len(seen) != len(made) || pages != 3 {
		t.Errorf("listed %d of %d bundles in %d pages, want all in 3", len(seen), len(made), pages)
	}
	for _, bad := range []struct {
		limit  int
		cursor string
	}{{201, ""}, {-1, ""}, {2, "not-a-cursor"}, {2, "e30"}} {
		if _, err := f.svc.List(officer, f.caseID, bad.limit, bad.cursor); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("limit %d cursor %q: %v, want invalid", bad.limit, bad.cursor, err)
		}
	}
}
