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
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/testenv"
)

// testAuditKey signs the checkpoints of the servers these tests start
// (serve requires audit.signing_key).
var testAuditKey = func() string {
	skey, _, err := audit.GenerateKey("casebridge.test/audit")
	if err != nil {
		panic(err)
	}
	return skey
}()

var auditKeyEnv = "CASEBRIDGE_AUDIT_SIGNING_KEY=" + testAuditKey

func runCmd(t *testing.T, args []string, env []string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, env, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	ctx := testenv.Context(t, testenv.Open(t, d.AppURL))
	p := access.Principal{UserID: uuid.New(), AgencyID: uuid.New(), AgencyCode: "kh-imm", Roles: []access.Role{access.RoleOfficer}}
	for range 12 {
		if err := audit.Record(access.WithPrincipal(ctx, p), audit.Event{Action: "case.read", ObjectType: "case", ObjectID: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	signer, _ := audit.NewSigner(testAuditKey)
	if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 5}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	env := []string{"CASEBRIDGE_DATABASE_URL=" + d.AppURL, auditKeyEnv}

	code, out, errOut := runCmd(t, []string{"audit", "verify"}, env)
	if code != 0 || !strings.Contains(out, "audit log verified: 12 events, 3 signed checkpoints") {
		t.Fatalf("verify of an intact log: %d %q %q", code, out, errOut)
	}
	// With only the public key, and a kept checkpoint.
	latest, _ := audit.Latest(ctx)
	kept := filepath.Join(t.TempDir(), "checkpoint")
	os.WriteFile(kept, latest, 0o600) //nolint:errcheck
	code, out, _ = runCmd(t, []string{"audit", "verify", "--key", signer.VerifierKey(), "--checkpoint", kept},
		[]string{"CASEBRIDGE_DATABASE_URL=" + d.AppURL})
	if code != 0 || !strings.Contains(out, "1 kept checkpoints") {
		t.Fatalf("verify with --key and --checkpoint: %d %q", code, out)
	}

	owner := testenv.Open(t, d.OwnerURL)
	for _, sql := range []string{
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
		`UPDATE audit_events SET action = 'case.list' WHERE id = (SELECT event_id FROM audit_leaves WHERE idx = 7)`,
	} {
		if err := owner.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = runCmd(t, []string{"audit", "verify"}, env)
	if code != 1 || !strings.Contains(out, "first bad index 7") {
		t.Fatalf("verify of an edited log: exit %d, %q", code, out)
	}

	if code, _, errOut := runCmd(t, []string{"audit", "verify"}, []string{"CASEBRIDGE_DATABASE_URL=" + d.AppURL}); code != 2 || !strings.Contains(errOut, "--key") {
		t.Fatalf("verify without any key: %d %q", code, errOut)
	}
}

func TestAuditKeygenAndUsage(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "audit.key")
	code, stdout, _ := runCmd(t, []string{"audit", "keygen", "--origin", "casebridge.example.gov/audit", "--out", out}, nil)
	if code != 0 || !strings.Contains(stdout, "casebridge.example.gov/audit+") {
		t.Fatalf("keygen: %d %q", code, stdout)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(out)
	if _, err := audit.NewSigner(string(b)); err != nil {
		t.Fatalf("generated key does not load: %v", err)
	}
	// A second keygen never overwrites a key.
	if code, _, _ := runCmd(t, []string{"audit", "keygen", "--origin", "x", "--out", out}, nil); code != 1 {
		t.Fatalf("keygen over an existing file: exit %d", code)
	}
	for _, args := range [][]string{{"audit"}, {"audit", "nope"}, {"audit", "witness"}, {"audit", "keygen"}} {
		if code, _, _ := runCmd(t, args, nil); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// serve refuses to start without a checkpoint key, naming the setting.
	d := testenv.NewDatabase(t)
	code, _, errOut := runCmd(t, []string{"serve"}, []string{"CASEBRIDGE_DATABASE_URL=" + d.AppURL, "CASEBRIDGE_SERVER_LISTEN=127.0.0.1:0"})
	if code != 2 || !strings.Contains(errOut, "audit.signing_key") {
		t.Fatalf("serve without a key: %d %q", code, errOut)
	}
}

func TestAuditWitnessCommandFailsClearly(t *testing.T) {
	t.Parallel()
	// Nothing listens there: exit 1 with a message naming the URL.
	code, _, errOut := runCmd(t, []string{"audit", "witness", "--url", "http://127.0.0.1:9", "--state", t.TempDir()}, nil)
	if code != 1 || !strings.Contains(errOut, "127.0.0.1:9") {
		t.Fatalf("witness of an unreachable server: %d %q", code, errOut)
	}
}
