package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// The backup and restore drill of docs/operations.md: pg_dump of the
// database and a copy of the document store, restored into a new database
// and a new directory, pass `casebridge audit verify` (against a
// checkpoint a witness kept before the backup) and `casebridge verify`;
// the restored portal goes on writing and its log stays consistent with
// the witness's checkpoint.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	bin, err := devpg.BinDir()
	if err != nil {
		t.Skip("no PostgreSQL programs:", err)
	}
	src := testenv.NewDatabase(t)
	owner := testenv.Open(t, src.OwnerURL)
	dir := filepath.Join(t.TempDir(), "blobs")
	blobs, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	agency, caseID := uuid.New(), uuid.New()
	for _, q := range []string{
		`INSERT INTO agencies (id, code, name, kind) VALUES ('` + agency.String() + `', 'restore-police', 'Police', 'immigration_police')`,
		`INSERT INTO cases (id, reference, owner_agency_id, title, kind) VALUES ('` + caseID.String() + `', 'R-1', '` + agency.String() + `', 'Restore', 'illegal_work')`,
	} {
		if err := owner.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	principal := access.Principal{UserID: uuid.New(), AgencyID: agency, AgencyCode: "restore-police",
		Kind: access.KindImmigrationPolice, Roles: []access.Role{access.RoleOfficer}}
	ctx := access.WithPrincipal(store.WithDB(t.Context(), testenv.Open(t, src.AppURL)), principal)
	svc := documents.NewService(blobs, 1<<20, nil)
	for i := range 4 {
		body := []byte("%PDF-1.7\n% restore " + strings.Repeat("x", i+1) + "\n")
		if _, err := svc.Create(ctx, caseID, documents.Metadata{Title: "doc", Kind: "other", Classification: access.Public},
			func() (documents.File, error) { return documents.File{Name: "d.pdf", Body: bytes.NewReader(body)}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := audit.NewSigner(testAuditKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 3}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// What a witness kept: the latest signed checkpoint before the backup.
	latest, err := audit.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	witness := filepath.Join(t.TempDir(), "witness-checkpoint")
	if err := os.WriteFile(witness, latest, 0o600); err != nil {
		t.Fatal(err)
	}

	// Backup: pg_dump (custom format) as the owner, and a copy of the store.
	dump := filepath.Join(t.TempDir(), "casebridge.dump")
	run := func(name string, args ...string) {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), pgTool(bin, name), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("pg_dump", "--format=custom", "--file="+dump, "--dbname="+src.OwnerURL)
	backupDir := filepath.Join(t.TempDir(), "blobs-backup")
	if out, err := exec.Command("cp", "-a", dir, backupDir).CombinedOutput(); err != nil {
		t.Fatalf("copy the store: %v %s", err, out)
	}

	// Restore into a new, empty database and a new directory.
	dst := testenv.EmptyDatabase(t)
	run("pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--dbname="+dst.OwnerURL, dump)
	restoredDir := filepath.Join(t.TempDir(), "blobs-restored")
	if out, err := exec.Command("cp", "-a", backupDir, restoredDir).CombinedOutput(); err != nil {
		t.Fatalf("restore the store: %v %s", err, out)
	}

	env := []string{"CASEBRIDGE_DATABASE_URL=" + dst.AppURL, "CASEBRIDGE_DATABASE_OWNER_URL=" + dst.OwnerURL,
		"CASEBRIDGE_BLOB_DIR=" + restoredDir, auditKeyEnv}
	if code, out, errOut := runCmd(t, []string{"audit", "verify", "--checkpoint", witness}, env); code != 0 ||
		!strings.Contains(out, "audit log verified") || !strings.Contains(out, "1 kept checkpoints") {
		t.Fatalf("audit verify after restore: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, []string{"verify"}, env); code != 0 || !strings.Contains(out, "4 stored objects and 4 recorded blobs: 0 problems") {
		t.Fatalf("verify after restore: exit %d\n%s%s", code, out, errOut)
	}

	// The restored portal goes on: new documents and audit events, and the
	// log still extends the witness's checkpoint.
	restoredBlobs, err := blob.NewLocal(restoredDir)
	if err != nil {
		t.Fatal(err)
	}
	rctx := access.WithPrincipal(store.WithDB(t.Context(), testenv.Open(t, dst.AppURL)), principal)
	if _, err := documents.NewService(restoredBlobs, 1<<20, nil).Create(rctx, caseID,
		documents.Metadata{Title: "after", Kind: "other", Classification: access.Public},
		func() (documents.File, error) {
			return documents.File{Name: "a.pdf", Body: strings.NewReader("%PDF-1.7\n% after the restore\n")}, nil
		}); err != nil {
		t.Fatalf("write after restore: %v", err)
	}
	if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 3}).Drain(rctx); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd(t, []string{"audit", "verify", "--checkpoint", witness}, env); code != 0 ||
		!strings.Contains(out, "1 kept checkpoints") {
		t.Fatalf("audit verify after new writes: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, []string{"verify"}, env); code != 0 || !strings.Contains(out, "5 stored objects and 5 recorded blobs: 0 problems") {
		t.Fatalf("verify after new writes: exit %d\n%s%s", code, out, errOut)
	}
}

// pgTool finds a PostgreSQL client program: beside the server's, else in
// Debian's versioned directories, else on PATH.
func pgTool(bin, name string) string {
	if p := filepath.Join(bin, name); fileExists(p) {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
