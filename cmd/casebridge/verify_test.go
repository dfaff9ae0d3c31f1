package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// `casebridge verify` lists a stored document whose file was modified on
// disk and one whose file was deleted, and exits 1; on intact storage it
// exits 0.
func TestVerifyFindsModifiedAndDeletedFiles(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	owner := testenv.Open(t, db.OwnerURL)
	dir := filepath.Join(t.TempDir(), "blobs")
	blobs, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	agency, caseID := uuid.New(), uuid.New()
	for _, q := range []string{
		`INSERT INTO agencies (id, code, name, kind) VALUES ('` + agency.String() + `', 'verify-police', 'Police', 'immigration_police')`,
		`INSERT INTO cases (id, reference, owner_agency_id, title, kind) VALUES ('` + caseID.String() + `', 'V-1', '` + agency.String() + `', 'Verify', 'illegal_work')`,
	} {
		if err := owner.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	ctx := access.WithPrincipal(store.WithDB(t.Context(), testenv.Open(t, db.AppURL)), access.Principal{
		UserID: uuid.New(), AgencyID: agency, AgencyCode: "verify-police", Kind: access.KindImmigrationPolice,
		Roles: []access.Role{access.RoleOfficer},
	})
	svc := documents.NewService(blobs, 1<<20, nil)
	var shas []string
	for i := range 3 {
		body := []byte("%PDF-1.7\n% verify " + strings.Repeat("x", i+1) + "\n")
		d, err := svc.Create(ctx, caseID, documents.Metadata{Title: "doc", Kind: "other", Classification: access.Public},
			func() (documents.File, error) { return documents.File{Name: "d.pdf", Body: bytes.NewReader(body)}, nil })
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, d.Current.SHA256)
	}
	env := []string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, "CASEBRIDGE_BLOB_DIR=" + dir}
	verify := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"verify"}, env, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := verify(); code != 0 || !strings.Contains(out, "3 stored objects and 3 recorded blobs: 0 problems") {
		t.Fatalf("intact storage: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.WriteFile(blobs.Path(shas[0]), []byte("%PDF-1.7\n% tampered\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(blobs.Path(shas[1])); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := verify()
	if code != 1 {
		t.Fatalf("damaged storage: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"corrupt " + shas[0], "missing " + shas[1], "2 problems"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, shas[2]) {
		t.Errorf("the intact object is listed:\n%s", out)
	}
}
