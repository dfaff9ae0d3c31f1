package documents_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
)

var backends = []string{"local", "s3"}

// forEachBackend runs test on a fresh world for each blob backend.
func forEachBackend(t *testing.T, maxSize int64, test func(t *testing.T, w *world)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			test(t, newWorld(t, b, maxSize))
		})
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readContent(t *testing.T, c documents.Content) []byte {
	t.Helper()
	defer c.Body.Close()
	b, err := io.ReadAll(c.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUploadVersionsDownload(t *testing.T) {
	forEachBackend(t, 64<<20, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		caseID := w.newCase(police)
		v1 := pdf(1)
		d := w.upload(officer, caseID, meta("Passport scan", access.Restricted), "passport.pdf", v1)
		if d.CurrentVersion != 1 || d.Current.SHA256 != sum(v1) || d.Current.Size != int64(len(v1)) ||
			d.Current.MediaType != "application/pdf" || d.Current.Filename != "passport.pdf" || d.CaseID != caseID {
			t.Fatalf("created %+v", d)
		}
		// A second version, large enough for a multipart upload on S3.
		v2 := append(pdf(2), bytes.Repeat([]byte("stream "), 2<<20)...)
		rev := d.Revision
		d2, err := w.svc.AddVersion(officer, d.ID, &rev, file("passport-v2.pdf", v2))
		if err != nil {
			t.Fatal(err)
		}
		if d2.CurrentVersion != 2 || d2.Current.SHA256 != sum(v2) || d2.Revision != rev+1 {
			t.Fatalf("after new version: %+v", d2)
		}
		// A stale revision is refused, before any byte is stored.
		before := len(w.objects())
		if _, err := w.svc.AddVersion(officer, d.ID, &rev, file("x.pdf", pdf(3))); !errors.Is(err, apperr.ErrPreconditionFailed) {
			t.Fatalf("stale If-Match: %v", err)
		}
		if len(w.objects()) != before {
			t.Fatal("a refused version stored bytes")
		}
		got, err := w.svc.Get(officer, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Versions) != 2 || got.Versions[0].SHA256 != sum(v1) || got.Versions[1].SHA256 != sum(v2) {
			t.Fatalf("versions %+v", got.Versions)
		}
		// Current and any earlier version read back exactly.
		for n, want := range map[int][]byte{0: v2, 1: v1, 2: v2} {
			c, err := w.svc.Open(officer, d.ID, n)
			if err != nil {
				t.Fatalf("open version %d: %v", n, err)
			}
			if b := readContent(t, c); !bytes.Equal(b, want) {
				t.Fatalf("version %d reads back %d bytes, want %d", n, len(b), len(want))
			}
		}
		if _, err := w.svc.Open(officer, d.ID, 3); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("version 3: %v", err)
		}
		// Ranges through the stored object.
		c, err := w.svc.Open(officer, d.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Body.Seek(1<<20, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 1000)
		if _, err := io.ReadFull(c.Body, part); err != nil || !bytes.Equal(part, v2[1<<20:1<<20+1000]) {
			t.Fatalf("range read: %v", err)
		}
		c.Body.Close()
		// Versions and the audit trail of reads are in the database.
		if n := w.count(`SELECT count(*) FROM document_versions WHERE document_id = ?`, d.ID); n != 2 {
			t.Fatalf("%d version rows", n)
		}
		if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'document.content.read' AND object_id = ?`, d.ID.String()); n < 4 {
			t.Fatalf("%d content reads audited, want at least 4", n)
		}
		// Versions are immutable even for the owner role.
		if err := w.owner.Exec(`UPDATE document_versions SET filename = 'x' WHERE document_id = ?`, d.ID).Error; err == nil {
			t.Fatal("a version row was updated")
		}
		if err := w.db.Exec(`DELETE FROM document_versions`).Error; err == nil {
			t.Fatal("the application role deleted versions")
		}
	})
}

func TestDeduplicatesEqualContent(t *testing.T) {
	forEachBackend(t, 64<<20, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		c1, c2 := w.newCase(police), w.newCase(police)
		data := pdf(42)
		a := w.upload(officer, c1, meta("Judgment", access.Public), "judgment.pdf", data)
		b := w.upload(officer, c2, meta("Judgment (copy)", access.Confidential), "copy.pdf", data)
		if a.Current.SHA256 != b.Current.SHA256 || a.ID == b.ID {
			t.Fatalf("two documents, same bytes: %s %s", a.Current.SHA256, b.Current.SHA256)
		}
		if objs := w.objects(); len(objs) != 1 || objs[0] != sum(data) {
			t.Fatalf("stored objects %v, want one", objs)
		}
		if n := w.count(`SELECT count(*) FROM blobs`); n != 1 {
			t.Fatalf("%d blob rows", n)
		}
	})
}

func TestUploadLimits(t *testing.T) {
	const max = 6 << 20
	forEachBackend(t, max, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		caseID := w.newCase(police)
		tooBig := append(pdf(1), make([]byte, max)...)
		exact := append(pdf(2), make([]byte, max-len(pdf(2)))...)
		cases := []struct {
			name string
			data []byte
			want error
		}{
			{"oversize", tooBig, apperr.ErrTooLarge},
			{"executable", append([]byte("MZ\x90\x00\x03"), make([]byte, 500)...), apperr.ErrUnsupportedMediaType},
			{"html", []byte("<!doctype html><script>alert(1)</script>"), apperr.ErrUnsupportedMediaType},
			{"empty", nil, apperr.ErrInvalid},
		}
		for _, c := range cases {
			_, err := w.svc.Create(officer, caseID, meta(c.name, access.Public), file("x.pdf", c.data))
			if !errors.Is(err, c.want) {
				t.Fatalf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if objs := w.objects(); len(objs) != 0 {
			t.Fatalf("refused uploads left objects %v", objs)
		}
		if n := w.count(`SELECT count(*) FROM documents`); n != 0 {
			t.Fatalf("refused uploads left %d documents", n)
		}
		if _, err := w.svc.Create(officer, caseID, meta("at the limit", access.Public), file("x.pdf", exact)); err != nil {
			t.Fatalf("file of exactly max_size: %v", err)
		}
		// Invalid metadata is refused before the file is even asked for.
		asked := false
		bad := documents.Metadata{Title: " ", Kind: "selfie", Classification: "top", ConsularReleasable: true}
		_, err := w.svc.Create(officer, caseID, bad, func() (documents.File, error) {
			asked = true
			return documents.File{}, errors.New("must not be called")
		})
		var ve *apperr.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 3 || asked {
			t.Fatalf("bad metadata: %v (file asked for: %v)", err, asked)
		}
	})
}

func TestHostileFilenames(t *testing.T) {
	forEachBackend(t, 1<<20, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		caseID := w.newCase(police)
		names := map[string]string{
			"../../../../etc/passwd":             "passwd",
			`..\..\windows\system32\x.pdf`:       "x.pdf",
			"report\u202Efdp.exe":                "reportfdp.exe",
			"a\r\nContent-Type: text<html>":      "aContent-Type_ text_html_",
			"a\r\nContent-Type: text/html":       "html",
			strings.Repeat("long", 100) + ".pdf": strings.Repeat("long", 100)[:251] + ".pdf",
			"":                                   "document",
		}
		i := 0
		for in, want := range names {
			i++
			d := w.upload(officer, caseID, meta("doc", access.Public), in, pdf(i))
			if d.Current.Filename != want {
				t.Errorf("%q stored as %q, want %q", in, d.Current.Filename, want)
			}
		}
		// Whatever the name, the bytes are stored under their hash only.
		for _, sha := range w.objects() {
			if !blob.ValidHash(sha) {
				t.Fatalf("object named %q", sha)
			}
			if _, err := os.Stat(w.dir(sha)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// visibilityWorld builds the situations of ACCESS.md that decide who reads
// which document.
type visibilityWorld struct {
	*world
	docs        map[string]documents.Document // by title
	caseA       uuid.UUID
	caseB       uuid.UUID
	caseC       uuid.UUID
	pVN         uuid.UUID
	principals  map[string]context.Context
	supervisorA context.Context
}

func newVisibilityWorld(t *testing.T, backend string) *visibilityWorld {
	w := newWorld(t, backend, 1<<20)
	v := &visibilityWorld{world: w, docs: map[string]documents.Document{}, principals: map[string]context.Context{}}
	police := w.agency(access.KindImmigrationPolice, "")
	partner := w.agency(access.KindImmigrationPolice, "")
	summaryPartner := w.agency(access.KindImmigrationPolice, "")
	stranger := w.agency(access.KindImmigrationPolice, "")
	ct := w.agency(access.KindCounterTrafficking, "")
	embVN := w.agency(access.KindEmbassy, "VN")
	embTH := w.agency(access.KindEmbassy, "TH")
	ministry := w.agency(access.KindInteriorMinistry, "")
	court := w.agency(access.KindCourt, "")

	v.caseA = w.newCase(police)
	v.caseB = w.newCase(police)
	v.caseC = w.newCase(police, status("before_court", court.ID))
	v.pVN = w.newPerson(police, detainedNational("VN"), v.caseA)
	declined := detainedNational("VN")
	declined.notification = "declined"
	pDeclined := w.newPerson(police, declined, v.caseA)
	atLarge := detainedNational("VN")
	atLarge.custody = "at_large"
	pAtLarge := w.newPerson(police, atLarge, v.caseA)
	victim := detainedNational("VN")
	victim.flag = "suspected"
	pVictim := w.newPerson(police, victim, v.caseB)
	w.share(v.caseA, partner, "full", "confidential")
	w.share(v.caseA, summaryPartner, "summary", "secret")
	w.share(v.caseA, embTH, "full", "secret") // a liaison's ceiling caps it at restricted

	officer := w.as(police, access.RoleOfficer)
	add := func(caseID uuid.UUID, title string, c access.Classification, releasable bool, person *uuid.UUID) {
		m := meta(title, c)
		m.ConsularReleasable, m.PersonID = releasable, person
		v.docs[title] = w.upload(officer, caseID, m, title+".pdf", pdf(len(v.docs)+1))
	}
	add(v.caseA, "a-public", access.Public, false, nil)
	add(v.caseA, "a-restricted", access.Restricted, false, nil)
	add(v.caseA, "a-confidential", access.Confidential, false, nil)
	add(v.caseA, "a-secret", access.Secret, false, nil)
	add(v.caseA, "a-vn-releasable-public", access.Public, true, &v.pVN)
	add(v.caseA, "a-vn-releasable-restricted", access.Restricted, true, &v.pVN)
	add(v.caseA, "a-vn-not-releasable", access.Restricted, false, &v.pVN)
	add(v.caseA, "a-vn-confidential", access.Confidential, false, &v.pVN)
	add(v.caseA, "a-declined-releasable", access.Public, true, &pDeclined)
	add(v.caseA, "a-at-large-releasable", access.Public, true, &pAtLarge)
	add(v.caseA, "a-withdrawn", access.Public, true, &v.pVN)
	add(v.caseB, "b-victim-releasable", access.Restricted, true, &pVictim)
	add(v.caseB, "b-confidential", access.Confidential, false, nil)
	add(v.caseC, "c-confidential", access.Confidential, false, nil)
	add(v.caseC, "c-secret", access.Secret, false, nil)

	v.supervisorA = w.as(police, access.RoleSupervisor)
	d := v.docs["a-withdrawn"]
	if _, err := w.svc.Withdraw(v.supervisorA, d.ID, "Uploaded to the wrong case", nil); err != nil {
		t.Fatal(err)
	}
	v.principals = map[string]context.Context{
		"owner supervisor":        v.supervisorA,
		"owner officer":           officer,
		"owner viewer":            w.as(police, access.RoleViewer),
		"owner admin":             w.as(police, access.RoleAdmin),
		"partner officer":         w.as(partner, access.RoleOfficer),
		"summary partner":         w.as(summaryPartner, access.RoleOfficer),
		"other agency":            w.as(stranger, access.RoleSupervisor),
		"ct viewer":               w.as(ct, access.RoleViewer),
		"ct officer":              w.as(ct, access.RoleOfficer),
		"embassy VN":              w.as(embVN, access.RoleLiaison),
		"embassy VN without role": w.as(embVN),
		"embassy TH (shared)":     w.as(embTH, access.RoleLiaison),
		"ministry coordinator":    w.as(ministry, access.RoleCoordinator),
		"court clerk":             w.as(court, access.RoleClerk),
	}
	return v
}

func TestVisibility(t *testing.T) {
	all := func(except ...string) []string {
		out := []string{"a-public", "a-restricted", "a-confidential", "a-secret", "a-vn-releasable-public",
			"a-vn-releasable-restricted", "a-vn-not-releasable", "a-vn-confidential", "a-declined-releasable",
			"a-at-large-releasable", "b-victim-releasable", "b-confidential", "c-confidential", "c-secret"}
		return slices.DeleteFunc(out, func(s string) bool { return slices.Contains(except, s) })
	}
	upToRestrictedA := []string{"a-public", "a-restricted", "a-vn-releasable-public", "a-vn-releasable-restricted",
		"a-vn-not-releasable", "a-declined-releasable", "a-at-large-releasable"}
	want := map[string][]string{
		"owner supervisor": append(all(), "a-withdrawn"),
		"owner officer":    all(),
		"owner viewer":     all("a-secret", "c-secret"),
		"owner admin":      nil,
		"partner officer":  all("a-secret", "b-victim-releasable", "b-confidential", "c-confidential", "c-secret"),
		"summary partner":  nil,
		"other agency":     nil,
		"ct viewer":        {"b-victim-releasable"},
		"ct officer":       {"b-victim-releasable", "b-confidential"},
		// Only releasable, at most restricted, about a national it sees in
		// the consular view: not the declined, the one at large, the
		// possible victim without consent, nor the withdrawn one.
		"embassy VN":              {"a-vn-releasable-public", "a-vn-releasable-restricted"},
		"embassy VN without role": nil,
		"embassy TH (shared)":     upToRestrictedA,
		"ministry coordinator":    append(slices.Clone(upToRestrictedA), "b-victim-releasable"),
		"court clerk":             {"c-confidential"},
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			v := newVisibilityWorld(t, backend)
			for name, ctx := range v.principals {
				t.Run(name, func(t *testing.T) {
					expected := want[name]
					var seen []string
					for title, d := range v.docs {
						got, err := v.svc.Get(ctx, d.ID)
						switch {
						case err == nil:
							seen = append(seen, title)
							if got.Title != title {
								t.Fatalf("got %q for %q", got.Title, title)
							}
							c, err := v.svc.Open(ctx, d.ID, 0)
							if err != nil {
								t.Fatalf("%s readable but content not: %v", title, err)
							}
							c.Body.Close()
						case errors.Is(err, apperr.ErrNotFound):
							if _, err := v.svc.Open(ctx, d.ID, 0); !errors.Is(err, apperr.ErrNotFound) {
								t.Fatalf("%s hidden but content: %v", title, err)
							}
						default:
							t.Fatalf("get %s: %v", title, err)
						}
					}
					sort.Strings(seen)
					exp := slices.Clone(expected)
					sort.Strings(exp)
					if !slices.Equal(seen, exp) {
						t.Fatalf("reads %v\nwant  %v", seen, exp)
					}
					// The lists agree with the single reads: every listed id can
					// be fetched, and nothing fetchable is missing from the list
					// of a case the principal sees.
					var listed []string
					for _, caseID := range []uuid.UUID{v.caseA, v.caseB, v.caseC} {
						page, err := v.svc.List(ctx, documents.ListFilter{CaseID: caseID, Limit: 200})
						if errors.Is(err, apperr.ErrNotFound) {
							continue
						}
						if err != nil {
							t.Fatal(err)
						}
						for _, d := range page.Items {
							listed = append(listed, d.Title)
						}
					}
					page, err := v.svc.List(ctx, documents.ListFilter{PersonID: v.pVN, Limit: 200})
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range page.Items {
						if !slices.Contains(listed, d.Title) {
							listed = append(listed, d.Title)
						}
						if name == "embassy VN" && (d.CaseID != uuid.Nil || d.CreatedBy != uuid.Nil || d.Current.CreatedBy != uuid.Nil) {
							t.Fatalf("the consular projection shows case %s / staff %s", d.CaseID, d.CreatedBy)
						}
					}
					sort.Strings(listed)
					if !slices.Equal(listed, exp) {
						t.Fatalf("lists %v\nwant   %v", listed, exp)
					}
				})
			}
		})
	}
}

func TestUploadPermissions(t *testing.T) {
	w := newWorld(t, "local", 1<<20)
	police := w.agency(access.KindImmigrationPolice, "")
	other := w.agency(access.KindImmigrationPolice, "")
	embassy := w.agency(access.KindEmbassy, "VN")
	caseID := w.newCase(police)
	w.share(caseID, other, "full", "secret")
	otherCase := w.newCase(other)
	person := w.newPerson(police, detainedNational("VN"), caseID)
	cases := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"owner viewer", w.as(police, access.RoleViewer), apperr.ErrForbidden},
		{"owner admin", w.as(police, access.RoleAdmin), apperr.ErrNotFound},
		{"partner with a full share", w.as(other, access.RoleSupervisor), apperr.ErrForbidden},
		{"embassy", w.as(embassy, access.RoleLiaison), apperr.ErrNotFound},
	}
	for _, c := range cases {
		asked := false
		_, err := w.svc.Create(c.ctx, caseID, meta("x", access.Public), func() (documents.File, error) {
			asked = true
			return documents.File{Name: "x.pdf", Body: bytes.NewReader(pdf(1))}, nil
		})
		if !errors.Is(err, c.want) || asked {
			t.Errorf("%s: %v (file read: %v), want %v", c.name, err, asked, c.want)
		}
	}
	var pe *apperr.PermissionError
	_, err := w.svc.Create(w.as(police, access.RoleViewer), caseID, meta("x", access.Public), file("x.pdf", pdf(1)))
	if !errors.As(err, &pe) || pe.Permission != documents.PermUpload {
		t.Fatalf("403 names %v", err)
	}
	// A person not linked to the case is refused.
	m := meta("x", access.Public)
	stray := w.newPerson(other, detainedNational("VN"), otherCase)
	m.PersonID = &stray
	if _, err := w.svc.Create(w.as(police, access.RoleOfficer), caseID, m, file("x.pdf", pdf(1))); !errors.Is(err, apperr.ErrInvalid) {
		t.Fatalf("unlinked person: %v", err)
	}
	m.PersonID = &person
	d := w.upload(w.as(police, access.RoleOfficer), caseID, m, "x.pdf", pdf(1))
	// New versions follow the same rule.
	if _, err := w.svc.AddVersion(w.as(other, access.RoleSupervisor), d.ID, nil, file("y.pdf", pdf(2))); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("partner adds a version: %v", err)
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE outcome = 'denied' AND action = 'document.version.create'`); n != 1 {
		t.Fatalf("%d denied attempts audited", n)
	}
	// The database refuses a direct insert as well (defence in depth).
	err = store.WithTx(w.as(other, access.RoleSupervisor), func(ctx context.Context) error {
		return store.DB(ctx).Exec(`INSERT INTO documents (case_id, title, kind, classification, current_version)
			VALUES (?, 'forged', 'other', 'public', 1)`, caseID).Error
	})
	if store.PgCode(err) != "42501" {
		t.Fatalf("direct insert by a partner: %v", err)
	}
}

func TestWithdraw(t *testing.T) {
	w := newWorld(t, "local", 1<<20)
	police := w.agency(access.KindImmigrationPolice, "")
	court := w.agency(access.KindCourt, "")
	officer, supervisor := w.as(police, access.RoleOfficer), w.as(police, access.RoleSupervisor)
	caseID := w.newCase(police)
	heldCase := w.newCase(police, status("adjudicated", court.ID))
	d := w.upload(officer, caseID, meta("Statement", access.Restricted), "s.pdf", pdf(1))
	held := w.upload(officer, heldCase, meta("Judgment", access.Public), "j.pdf", pdf(2))

	var pe *apperr.PermissionError
	if _, err := w.svc.Withdraw(officer, d.ID, "wrong file", nil); !errors.As(err, &pe) || pe.Permission != documents.PermWithdraw {
		t.Fatalf("officer withdraws: %v", err)
	}
	if _, err := w.svc.Withdraw(supervisor, d.ID, "   ", nil); !errors.Is(err, apperr.ErrInvalid) {
		t.Fatalf("no reason: %v", err)
	}
	stale := d.Revision + 5
	if _, err := w.svc.Withdraw(supervisor, d.ID, "wrong file", &stale); !errors.Is(err, apperr.ErrPreconditionFailed) {
		t.Fatalf("stale If-Match: %v", err)
	}
	if _, err := w.svc.Withdraw(supervisor, held.ID, "wrong file", nil); !errors.As(err, &pe) || !strings.Contains(pe.Reason, "legal hold") {
		t.Fatalf("under legal hold: %v", err)
	}
	// The database refuses it too, whatever the Go code says.
	err := w.db.Exec(`UPDATE documents SET withdrawn_at = now(), withdrawn_reason = 'x' WHERE id = ?`, held.ID).Error
	if err == nil {
		// Without a principal the row is not even visible: nothing changed.
		if n := w.count(`SELECT count(*) FROM documents WHERE withdrawn_at IS NOT NULL`); n != 0 {
			t.Fatal("a document under legal hold was withdrawn")
		}
	}
	got, err := w.svc.Withdraw(supervisor, d.ID, "Uploaded to the wrong case", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Withdrawal == nil || got.Withdrawal.Reason != "Uploaded to the wrong case" {
		t.Fatalf("withdrawal %+v", got.Withdrawal)
	}
	if _, err := w.svc.Withdraw(supervisor, d.ID, "again", nil); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("withdraw twice: %v", err)
	}
	// Only the owner's supervisors still see it; the bytes are kept.
	if _, err := w.svc.Get(officer, d.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("officer reads a withdrawn document: %v", err)
	}
	c, err := w.svc.Open(supervisor, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readContent(t, c), pdf(1)) {
		t.Fatal("withdrawn bytes differ")
	}
	if _, err := w.svc.AddVersion(supervisor, d.ID, nil, file("x.pdf", pdf(3))); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("new version of a withdrawn document: %v", err)
	}
	// Withdrawal is final even for the owner role.
	if err := w.owner.Exec(`UPDATE documents SET withdrawn_at = NULL, withdrawn_reason = NULL WHERE id = ?`, d.ID).Error; err == nil {
		t.Fatal("a withdrawal was undone")
	}
	if n := w.count(`SELECT count(*) FROM audit_events WHERE action = 'document.withdraw' AND outcome = 'ok'`); n != 1 {
		t.Fatalf("%d withdrawals audited", n)
	}
}

func TestListPagination(t *testing.T) {
	w := newWorld(t, "local", 1<<20)
	police := w.agency(access.KindImmigrationPolice, "")
	officer := w.as(police, access.RoleOfficer)
	caseID := w.newCase(police)
	var ids []uuid.UUID
	for i := range 7 {
		ids = append(ids, w.upload(officer, caseID, meta("doc", access.Public), "d.pdf", pdf(i)).ID)
	}
	var got []uuid.UUID
	cursor := ""
	pages := 0
	for {
		page, err := w.svc.List(officer, documents.ListFilter{CaseID: caseID, Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range page.Items {
			got = append(got, d.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	slices.Reverse(ids) // newest first
	if pages != 3 || !slices.Equal(got, ids) {
		t.Fatalf("%d pages, %v\nwant %v", pages, got, ids)
	}
	for _, bad := range []documents.ListFilter{{CaseID: caseID, Limit: 201}, {CaseID: caseID, Cursor: "garbage"}} {
		if _, err := w.svc.List(officer, bad); !errors.Is(err, apperr.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}

func TestSweeper(t *testing.T) {
	forEachBackend(t, 64<<20, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		caseID := w.newCase(police)
		kept := w.upload(officer, caseID, meta("kept", access.Public), "k.pdf", pdf(1))
		// Bytes stored by an upload that died before its row committed.
		orphan, err := w.blobs.Put(t.Context(), bytes.NewReader(pdf(2)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		// Within the grace period nothing goes.
		res, err := documents.Sweep(w.system(), w.blobs, time.Hour)
		if err != nil || res.Orphans != 0 {
			t.Fatalf("sweep within grace: %+v, %v", res, err)
		}
		if len(w.objects()) != 2 {
			t.Fatal("sweep within grace removed bytes")
		}
		time.Sleep(1100 * time.Millisecond) // S3 times have second resolution
		res, err = documents.Sweep(w.system(), w.blobs, time.Millisecond)
		if err != nil || res.Orphans != 1 {
			t.Fatalf("sweep: %+v, %v", res, err)
		}
		objs := w.objects()
		if len(objs) != 1 || objs[0] != kept.Current.SHA256 {
			t.Fatalf("after sweep: %v (orphan %s)", objs, orphan.SHA256)
		}
		c, err := w.svc.Open(officer, kept.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readContent(t, c), pdf(1)) {
			t.Fatal("referenced bytes changed")
		}
	})
}

func TestVerify(t *testing.T) {
	forEachBackend(t, 64<<20, func(t *testing.T, w *world) {
		police := w.agency(access.KindImmigrationPolice, "")
		officer := w.as(police, access.RoleOfficer)
		caseID := w.newCase(police)
		var docs []documents.Document
		for i := range 3 {
			docs = append(docs, w.upload(officer, caseID, meta("doc", access.Public), "d.pdf", pdf(i)))
		}
		res, err := documents.Verify(w.system(), w.blobs)
		if err != nil || len(res.Problems) != 0 || res.Objects != 3 || res.Recorded != 3 {
			t.Fatalf("clean: %+v, %v", res, err)
		}
		modified, deleted := docs[0].Current.SHA256, docs[1].Current.SHA256
		if err := os.WriteFile(w.dir(modified), append(pdf(0), 'x'), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(w.dir(deleted)); err != nil {
			t.Fatal(err)
		}
		res, err = documents.Verify(w.system(), w.blobs)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range res.Problems {
			got[p.SHA256] = p.Kind
		}
		if len(got) != 2 || got[modified] != "corrupt" || got[deleted] != "missing" {
			t.Fatalf("problems %+v", res.Problems)
		}
	})
}
