package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it when the test ends. It skips the test where mounting is not possible
// (not root, or no permission in this container): the drills need a real
// file system that fills up and that can be made read-only, because root
// is not refused by directory permissions (a chmod does not stop it).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("storage drill: needs root to mount a tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("storage drill: cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, mode, err, out)
	}
}

// fill writes a ballast file until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return path
		}
	}
}

// Fault drill: the document store (a real file system, tmpfs) fills up,
// then becomes read-only. Uploads answer 507 "document store full" and 503
// "document store unavailable" with Retry-After, /readyz reports the store,
// reads of stored documents keep working, and once space is freed or the
// store is writable again uploads succeed without a restart. Afterwards:
// every acknowledged upload is there with its bytes (no committed write
// lost), no version lacks its bytes (documents.Verify), nothing of a
// refused upload is kept, and the audit log verifies.
func TestDrillBlobStoreFullAndReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("fault drill")
	}
	t.Parallel()
	mnt := mountTmpfs(t, 80<<20) // readyz calls a local store under 64 MiB free full
	blobDir := filepath.Join(mnt, "blobs")
	a := newCaseAPI(t, func(c *config.Config) { c.Blob.Dir = blobDir })
	owned := a.w.Case("owned").ID.String()
	path := "/api/v1/cases/" + owned + "/documents"
	meta := `{"title": "Statement", "kind": "other", "classification": "restricted"}`
	pdf := func(n int) string {
		return fmt.Sprintf("%%PDF-1.4\n%% drill %d\n1 0 obj <<>> endobj\ntrailer <<>>\n%%%%EOF\n", n)
	}
	acknowledged := map[string]string{} // document id -> sha256 of what was sent
	n := 0
	upload := func() response {
		t.Helper()
		n++
		body := pdf(n)
		r := a.upload("gdi-officer", path, meta, fmt.Sprintf("d%d.pdf", n), body)
		if r.status == 201 {
			var d struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(r.body, &d); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(body))
			acknowledged[d.ID] = hex.EncodeToString(sum[:])
		}
		return r
	}
	docs := func() int {
		var c int
		a.scan(&c, `SELECT count(*) FROM documents WHERE case_id = ?`, owned)
		return c
	}
	tmpEmpty := func(what string) {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(blobDir, "tmp"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("%s: %d temporary files left in the store", what, len(entries))
		}
	}
	initial := docs()
	if r := upload(); r.status != 201 {
		t.Fatalf("upload before the drill: %d %s", r.status, r.body)
	}
	if r := a.request("", "GET", "/readyz", ""); r.status != 200 {
		t.Fatalf("readyz before the drill: %d %s", r.status, r.body)
	}

	// 1. Full.
	ballast := fill(t, mnt)
	before := docs()
	wantProblem(t, "upload into a full store", upload(), 507, true, "document store")
	wantProblem(t, "readyz with a full store", a.request("", "GET", "/readyz", ""), 503, true, "document store")
	if docs() != before {
		t.Errorf("a refused upload left a document row")
	}
	tmpEmpty("after the full-store refusal")
	for id := range acknowledged {
		if r := a.request("gdi-officer", "GET", "/api/v1/documents/"+id+"/content", ""); r.status != 200 {
			t.Errorf("download while the store is full: %d", r.status)
		}
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if r := a.request("", "GET", "/readyz", ""); r.status != 200 {
		t.Errorf("readyz once space is free: %d %s", r.status, r.body)
	}
	if r := upload(); r.status != 201 {
		t.Errorf("upload once space is free: %d %s", r.status, r.body)
	}

	// 2. Read-only (what an operator's chmod is to a server that is not
	// root; the EACCES mapping itself is TestStorageOutageProblems).
	remount(t, mnt, "ro")
	before = docs()
	wantProblem(t, "upload into a read-only store", upload(), 503, true, "document store")
	wantProblem(t, "readyz with a read-only store", a.request("", "GET", "/readyz", ""), 503, true, "document store")
	if docs() != before {
		t.Errorf("a refused upload left a document row")
	}
	for id := range acknowledged {
		if r := a.request("gdi-officer", "GET", "/api/v1/documents/"+id+"/content", ""); r.status != 200 {
			t.Errorf("download while the store is read-only: %d", r.status)
		}
	}
	remount(t, mnt, "rw")
	if r := a.request("", "GET", "/readyz", ""); r.status != 200 {
		t.Errorf("readyz once the store is writable: %d %s", r.status, r.body)
	}
	if r := upload(); r.status != 201 {
		t.Errorf("upload once the store is writable: %d %s", r.status, r.body)
	}
	tmpEmpty("at the end")

	// Invariants.
	blobs, err := blob.NewLocal(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	checkDocumentInvariants(t, a, blobs, acknowledged)
	if got := docs() - initial; got != len(acknowledged) {
		t.Errorf("%d documents added to the case, %d acknowledged", got, len(acknowledged))
	}
}

// Fault drill: the S3 server goes away and comes back. The server under
// test reaches versitygw through a TCP proxy that is cut (connections
// closed, new ones refused) — the shared versitygw of the test process
// keeps running for the other tests, so "down" is what the portal sees,
// not a stopped process. While it is down, uploads, downloads and /readyz
// answer 503 with Retry-After naming the document store; once it is back
// everything works again without a restart. Invariants as for the local
// store.
func TestDrillS3DownAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("fault drill")
	}
	t.Parallel()
	s3cfg := testenv.S3(t)
	proxy := newTCPProxy(t, strings.TrimPrefix(s3cfg.Endpoint, "http://"))
	a := newCaseAPI(t, func(c *config.Config) {
		c.Blob = config.Blob{Backend: "s3", S3Endpoint: "http://" + proxy.addr, S3Region: s3cfg.Region,
			S3Bucket: s3cfg.Bucket, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
			S3PathStyle: true, S3PartSize: 5 << 20, S3Concurrency: 2}
	})
	owned := a.w.Case("owned").ID.String()
	path := "/api/v1/cases/" + owned + "/documents"
	meta := `{"title": "Statement", "kind": "other", "classification": "restricted"}`
	acknowledged := map[string]string{}
	n := 0
	upload := func() response {
		t.Helper()
		n++
		body := fmt.Sprintf("%%PDF-1.4\n%% s3 drill %d\n%%%%EOF\n", n)
		r := a.upload("gdi-officer", path, meta, fmt.Sprintf("s%d.pdf", n), body)
		if r.status == 201 {
			var d struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(r.body, &d); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(body))
			acknowledged[d.ID] = hex.EncodeToString(sum[:])
		}
		return r
	}
	var first string
	if r := upload(); r.status != 201 {
		t.Fatalf("upload before the drill: %d %s", r.status, r.body)
	}
	for id := range acknowledged {
		first = id
	}
	var before int
	a.scan(&before, `SELECT count(*) FROM documents WHERE case_id = ?`, owned)

	proxy.down()
	start := time.Now()
	wantProblem(t, "upload with S3 down", upload(), 503, true, "document store")
	wantProblem(t, "download with S3 down", a.request("gdi-officer", "GET", "/api/v1/documents/"+first+"/content", ""), 503, true, "document store")
	wantProblem(t, "readyz with S3 down", a.request("", "GET", "/readyz", ""), 503, true, "document store")
	t.Logf("three answers with S3 down took %s", time.Since(start).Round(time.Millisecond))
	var during int
	a.scan(&during, `SELECT count(*) FROM documents WHERE case_id = ?`, owned)
	if during != before {
		t.Errorf("a refused upload left a document row")
	}

	proxy.up()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := a.request("", "GET", "/readyz", "")
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz not 200 15 s after S3 came back: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := upload(); r.status != 201 {
		t.Errorf("upload after S3 came back: %d %s", r.status, r.body)
	}
	if r := a.request("gdi-officer", "GET", "/api/v1/documents/"+first+"/content", ""); r.status != 200 {
		t.Errorf("download after S3 came back: %d", r.status)
	}
	blobs, err := blob.NewS3(t.Context(), s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkDocumentInvariants(t, a, blobs, acknowledged)
}

// checkDocumentInvariants: every acknowledged document is committed with
// the bytes the client sent, every recorded version's bytes are in the
// store (documents.Verify), and the audit log, sequenced, verifies.
func checkDocumentInvariants(t *testing.T, a *caseAPI, blobs blob.Store, acknowledged map[string]string) {
	t.Helper()
	for id, sum := range acknowledged {
		var got string
		a.scan(&got, `SELECT v.sha256 FROM document_versions v JOIN documents d ON d.id = v.document_id
			WHERE d.id = ? AND v.version = d.current_version`, id)
		if got != sum {
			t.Errorf("acknowledged document %s: stored sha256 %q, sent %s", id, got, sum)
		}
	}
	ctx := store.WithDB(context.Background(), testenv.Open(t, a.appURL))
	res, err := documents.Verify(ctx, blobs)
	if err != nil || len(res.Problems) != 0 {
		t.Errorf("documents verify: %+v %v", res.Problems, err)
	}
	if res.Recorded < len(acknowledged) {
		t.Errorf("verify checked %d recorded blobs, want at least %d", res.Recorded, len(acknowledged))
	}
	signer, _ := audit.NewSigner(drillAuditKey)
	if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 500}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, audit.VerifyOptions{VerifierKey: signer.VerifierKey()})
	if err != nil || !rep.OK {
		t.Errorf("audit verify after the drill: %+v %v", rep, err)
	}
	for id := range acknowledged {
		var events int
		a.scan(&events, `SELECT count(*) FROM audit_events WHERE action = 'document.create' AND object_id = ?`, id)
		if events != 1 {
			t.Errorf("document %s has %d document.create audit events, want 1", id, events)
		}
	}
}
