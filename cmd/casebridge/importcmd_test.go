package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportCommand runs `casebridge dev` and imports a small raid file
// into the Tuol Kork case with `casebridge import`, as the demo officer:
// first a file with a bad row (exit 1, the row named, nothing written),
// then the corrected file with --commit, then the same file again
// (linked, not duplicated).
func TestImportCommand(t *testing.T) {
	t.Parallel()
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, idpAddr, dir := free(), free(), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr lockedBuffer
	go func() {
		done <- run(ctx, []string{"dev", "--listen", addr, "--idp-listen", idpAddr, "--data-dir", dir}, nil, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop within 30s")
		}
	}()
	waitReady(t, "http://"+addr+"/readyz")
	var tok, tokErr bytes.Buffer
	if code := run(context.Background(), []string{"dev", "token", "--data-dir", dir, "gdi-officer"}, nil, &tok, &tokErr); code != 0 {
		t.Fatalf("dev token: %s", tokErr.String())
	}
	env := []string{"CASEBRIDGE_TOKEN=" + strings.TrimSpace(tok.String())}
	file := filepath.Join(t.TempDir(), "raid.csv")
	write := func(nat string) {
		data := "family_name,given_names,nationality,passport_number,custody_status\n" +
			"Huang,Mei,CN,CLI000001,detained\nPhạm,Văn Long," + nat + ",CLI000002,detained\n"
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	imp := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"import", "--url", "http://" + addr, "--case", "GDI-2026-000002"}, args...),
			env, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	write("Vietnam")
	if code, out := imp("--commit", file); code != 1 || !strings.Contains(out, "line 3, nationality") {
		t.Fatalf("bad file: exit %d\n%s", code, out)
	}
	write("VN")
	if code, out := imp("--commit", file); code != 0 || !strings.Contains(out, "committed: 2 persons created, 0 linked") {
		t.Fatalf("good file: exit %d\n%s", code, out)
	}
	if code, out := imp("--commit", file); code == 0 || !strings.Contains(out, "link_existing") {
		t.Fatalf("same file without --link-existing: exit %d\n%s", code, out)
	}
	if code, out := imp("--commit", "--link-existing", file); code != 0 || !strings.Contains(out, "0 persons created, 0 linked, 2 already linked") {
		t.Fatalf("same file again: exit %d\n%s", code, out)
	}
}
