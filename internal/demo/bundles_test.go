package demo

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/testenv"
)

// The Tuol Kork case gets a sealed bundle, really built from the PDFs the
// demo writes, and a draft next version with a late addition pending; a
// second run changes nothing.
func TestDemoBundles(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	if _, err := Load(t.Context(), d.OwnerURL); err != nil {
		t.Fatal(err)
	}
	l, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := testenv.Open(t, d.AppURL)
	docs, svc := documents.NewService(l, 10<<20, quiet), bundles.NewService(l, render.Limits{}, quiet)
	msg, err := Bundles(t.Context(), db, docs, svc)
	if err != nil || !strings.HasPrefix(msg, "demo bundles made") {
		t.Fatalf("%q %v", msg, err)
	}
	owner := testenv.Open(t, d.OwnerURL)
	var rows []struct {
		State         string
		BundleVersion int
		Pages         *int
		PDFSHA256     *string `gorm:"column:pdf_sha256"`
		Late          int
	}
	if err := owner.Raw(`SELECT b.state, b.bundle_version, b.pages, b.pdf_sha256,
			(SELECT count(*) FROM bundle_items i WHERE i.bundle_id = b.id AND i.part = 'late') AS late
		FROM bundles b JOIN cases c ON c.id = b.case_id WHERE c.reference = ? ORDER BY b.bundle_version`, RefTuolKork).
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].State != "sealed" || rows[0].PDFSHA256 == nil || rows[0].Pages == nil || *rows[0].Pages < 9 ||
		rows[1].State != "draft" || rows[1].BundleVersion != 2 || rows[1].Late != 1 {
		t.Fatalf("demo bundles: %+v", rows)
	}
	// The sealed PDF is in the blob store, recorded so the sweeper keeps it.
	if _, err := l.Stat(t.Context(), *rows[0].PDFSHA256); err != nil {
		t.Errorf("sealed PDF not stored: %v", err)
	}
	var recorded int
	owner.Raw(`SELECT count(*) FROM blobs WHERE sha256 = ?`, *rows[0].PDFSHA256).Scan(&recorded)
	if recorded != 1 {
		t.Errorf("sealed PDF not recorded in blobs")
	}
	if msg, err := Bundles(t.Context(), db, docs, svc); err != nil || msg != "demo bundles already made" {
		t.Errorf("second run: %q %v", msg, err)
	}
}
