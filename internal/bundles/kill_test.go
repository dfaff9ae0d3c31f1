package bundles_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/bundles/minipdf"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// childServerEnv makes the test binary run `serve` (app.New + Serve, which
// works the job queue) instead of the tests: a real server process to kill.
const childServerEnv = "CB_BUNDLES_TEST_SERVER"

func init() {
	if os.Getenv(childServerEnv) == "1" {
		os.Exit(runChildServer())
	}
}

func runChildServer() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load("", os.Environ())
	if err == nil {
		err = cfg.Validate("serve")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := app.Listen("server.listen", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer store.Close(db) //nolint:errcheck
	prog, err := app.New(cfg, db, app.NewLogger(cfg.Log))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(ln.Addr().String())
	if err := prog.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(t *testing.T, settings map[string]string) *child {
	t.Helper()
	env := []string{childServerEnv + "=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) {
			env = append(env, kv)
		}
	}
	for k, v := range settings {
		env = append(env, config.EnvName(k)+"="+v)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	cmd.Stderr = logWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("child server did not start")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("child server did not start within 60s")
	}
	return c
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimSpace(string(b)))
	return len(b), nil
}

// SIGKILL of the server in the middle of a build, then a restart: River
// rescues the job, it runs again, and the build is recorded exactly once.
func TestKillMidBuild(t *testing.T) {
	t.Parallel()
	f := newFixture(t, render.Limits{})
	// The fixture's blob store is the server's too.
	loc, ok := f.blobs.(interface{ Root() string })
	if !ok {
		t.Fatal("local blob store has no Root")
	}
	idp := testenv.StartIdP(t)
	base := "http://127.0.0.1:1"
	clientID, secret := idp.RegisterPortal(base)
	skey, _, err := audit.GenerateKey("casebridge.test/bundles")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{
		"server.listen": "127.0.0.1:0", "server.public_url": base, "database.url": f.appURL,
		"auth.issuer": idp.Issuer(), "auth.client_id": clientID, "auth.client_secret": secret,
		"blob.backend": "local", "blob.dir": loc.Root(), "log.level": "warn", "audit.signing_key": skey,
		"documents.sweep_interval": "1h",
		// A job of a killed process is rescued once older than rescue_after
		// (River's rescuer looks every 30 s).
		// The timeout leaves a loaded machine time to finish the build.
		"jobs.timeout": "45s", "jobs.rescue_after": "46s", "jobs.poll_interval": "100ms",
	}

	// A bundle big enough to take a while: 80 documents of 25 pages.
	officer := f.as(f.gdi, access.RoleOfficer)
	var items []bundles.ItemRef
	for i := range 80 {
		items = append(items, item(f.upload(f.caseID, fmt.Sprintf("Exhibit %d", i+1), "restricted", pdfPages(25, fmt.Sprintf("Exhibit %d", i+1)))))
	}
	b, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "Big bundle", Numbering: bundles.Consecutive,
		Sections: []bundles.SectionInput{{Label: "A", Title: "Exhibits", Items: items}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}

	// A bundle with an encrypted PDF, built by the same server: it fails
	// naming the document, and the server goes on with the big build.
	bad := f.upload(f.caseID, "Encrypted scan", "restricted", minipdf.Pages([]string{"x"}, minipdf.Options{Encrypt: true}))
	badBundle, err := f.svc.Create(officer, f.caseID, bundles.NewBundle{Title: "Bad", Numbering: bundles.Consecutive,
		Sections: []bundles.SectionInput{{Label: "A", Title: "A", Items: []bundles.ItemRef{item(bad)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestBuild(officer, badBundle.ID); err != nil {
		t.Fatal(err)
	}

	srv := startChild(t, settings)
	// Wait for the build to be under way (progress written, not finished).
	deadline := time.Now().Add(90 * time.Second)
	for {
		var st struct {
			State        string
			ProgressDone int
		}
		if err := f.owner.Raw(`SELECT state, progress_done FROM bundles WHERE id = ?`, b.ID).Scan(&st).Error; err != nil {
			t.Fatal(err)
		}
		if st.State != "building" {
			t.Fatalf("the build ended before the kill (%s): make the bundle bigger", st.State)
		}
		if st.ProgressDone > 0 {
			t.Logf("killing the server at %d of 81 steps", st.ProgressDone)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the build did not start within 90s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'bundle.build' AND object_id = ?`, b.ID.String()); n != 0 {
		t.Fatalf("the killed build recorded %d results", n)
	}
	var jobState string
	if err := f.owner.Raw(`SELECT state::text FROM river_job WHERE kind = 'bundles.build' AND args->>'bundle_id' = ?`, b.ID.String()).
		Scan(&jobState).Error; err != nil || jobState != "running" {
		t.Fatalf("job after the kill: %q %v", jobState, err)
	}

	restarted := time.Now()
	startChild(t, settings)
	deadline = time.Now().Add(180 * time.Second)
	for {
		var state string
		if err := f.owner.Raw(`SELECT state FROM bundles WHERE id = ?`, b.ID).Scan(&state).Error; err != nil {
			t.Fatal(err)
		}
		if state == "built" {
			t.Logf("built %s after the restart", time.Since(restarted).Round(time.Second))
			break
		}
		if state != "building" {
			t.Fatalf("after restart the bundle is %s", state)
		}
		if time.Now().After(deadline) {
			t.Fatal("the build did not complete within 180s of the restart")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Give a duplicate, if there were one, the time to finish too.
	time.Sleep(2 * time.Second)
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'bundle.build' AND object_id = ?`, b.ID.String()); n != 1 {
		t.Errorf("%d recorded build results, want exactly 1", n)
	}
	var job struct {
		State   string
		Attempt int
	}
	if err := f.owner.Raw(`SELECT state::text AS state, attempt FROM river_job WHERE kind = 'bundles.build' AND args->>'bundle_id' = ?`,
		b.ID.String()).Scan(&job).Error; err != nil {
		t.Fatal(err)
	}
	if job.State != "completed" || job.Attempt < 2 {
		t.Errorf("job: %+v, want completed after a second attempt", job)
	}
	got, err := f.svc.Get(officer, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pages == nil || *got.Pages < 2+80*25 {
		t.Fatalf("pages: %v", got.Pages)
	}
	pdf, err := f.svc.OpenPDF(officer, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(pdf.Body)
	_ = pdf.Body.Close()
	if sha(data) != *got.PDFSHA256 {
		t.Errorf("the stored PDF does not match its recorded hash")
	}
	if bb, err := f.svc.Get(officer, badBundle.ID); err != nil || bb.State != bundles.Failed || bb.Error == nil ||
		bb.Error.DocumentID == nil || *bb.Error.DocumentID != bad {
		t.Errorf("the encrypted source's bundle: %+v %v", bb.Error, err)
	}
	// The rescued build wrote what an undisturbed build writes.
	if _, err := f.svc.RequestBuild(officer, b.ID); err != nil {
		t.Fatal(err)
	}
	f.runBuild(b.ID)
	if again, _ := f.svc.Get(officer, b.ID); again.PDFSHA256 == nil || *again.PDFSHA256 != *got.PDFSHA256 {
		t.Errorf("an undisturbed build gives %v, the rescued one %s", again.PDFSHA256, *got.PDFSHA256)
	}
	if _, err := exec.LookPath("qpdf"); err == nil {
		p := filepath.Join(t.TempDir(), "b.pdf")
		_ = os.WriteFile(p, data, 0o600)
		if out, err := exec.Command("qpdf", "--check", p).CombinedOutput(); err != nil && !bytes.Contains(out, []byte("No syntax or stream encoding errors")) {
			t.Errorf("qpdf --check: %v\n%s", err, out)
		}
	}
}
