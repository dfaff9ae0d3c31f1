package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

const (
	childServeEnv    = "CB_TEST_CHILD_SERVE"    // the program's settings, JSON
	childServeAppEnv = "CB_TEST_CHILD_APP_NAME" // application_name of its connections
)

// runChildServe is the child process of the drill: the whole program
// (app.New, Program.Serve: HTTP, sweeper, audit sequencer) on a loopback
// port it prints, until it is killed or signalled.
func runChildServe() int {
	var cfg config.Config
	if err := json.Unmarshal([]byte(os.Getenv(childServeEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child: config:", err)
		return 2
	}
	u, err := url.Parse(cfg.Database.URL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: database url:", err)
		return 2
	}
	q := u.Query()
	q.Set("application_name", os.Getenv(childServeAppEnv))
	u.RawQuery = q.Encode()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := store.Open(ctx, u.String(), store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	prog, err := app.New(cfg, db, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	fmt.Printf("listening %s\n", ln.Addr())
	if err := prog.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

type childServer struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startChildServe starts the program as a separate process with cfg.
func startChildServe(t *testing.T, cfg config.Config, appName string) *childServer {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServeEnv+"="+string(b), childServeAppEnv+"="+appName)
	logFile, err := os.CreateTemp(t.TempDir(), "child-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childServer{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	select {
	case a := <-addr:
		c.base = "http://" + a
	case <-c.done:
		log, _ := os.ReadFile(logFile.Name())
		t.Fatalf("child server exited at start:\n%s", log)
	case <-time.After(60 * time.Second):
		t.Fatal("child server did not start in 60 s")
	}
	return c
}

func (c *childServer) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// Fault drill: the server is SIGKILLed while its audit sequencer is inside
// a batch transaction (seen in pg_stat_activity) and while clients create
// cases through it; it is started again. Afterwards every event is in the
// tree exactly once (none lost, none twice), the queue is empty, the log
// verifies against the signed checkpoints, every acknowledged case is
// there with its audit event, and a client that retries what got no
// answer (same Idempotency-Key) gets exactly one case.
func TestDrillKillDuringAuditSequencing(t *testing.T) {
	if testing.Short() {
		t.Skip("fault drill")
	}
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) {
		c.Audit.SigningKey = drillAuditKey
		c.Audit.BatchSize = 1000
		c.Audit.SequencerInterval = 10 * time.Millisecond
	})
	cfg := a.cfg
	cfg.Database.URL = a.appURL
	count := func(sql string, args ...any) int64 {
		t.Helper()
		var n int64
		a.scan(&n, sql, args...)
		return n
	}
	// A backlog of events, so that the sequencer is busy when it is killed.
	a.exec(`INSERT INTO audit_events (action, object_type, object_id, outcome, details)
		SELECT 'drill.backlog', 'drill', g::text, 'ok', jsonb_build_object('n', g) FROM generate_series(1, 30000) g`)

	appName := fmt.Sprintf("cb-drill-seq-%d", time.Now().UnixNano())
	child := startChildServe(t, cfg, appName)

	// Clients create cases through the child while it sequences.
	type outcome struct {
		key    string
		status int // 0: no answer (connection cut by the kill)
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	client := func(base string) *caseAPI { c := *a; c.base = base; c.http = &httpClient; return &c }
	body := func(key string) string { return `{"title": "seq drill ` + key + `", "kind": "trafficking"}` }
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("seq-%d-%d", w, i)
				status := rawPost(client(child.base), "/api/v1/cases", body(key), key)
				mu.Lock()
				outcomes = append(outcomes, outcome{key, status})
				mu.Unlock()
				if status == 0 {
					return
				}
			}
		}()
	}
	// Kill it inside a sequencing transaction, after at least one batch
	// and a few acknowledged cases.
	deadline := time.Now().Add(90 * time.Second)
	for {
		// The sequencer's lock is a transaction lock (pg_locks, unlike
		// most of pg_stat_activity, is visible to a role that is not a
		// superuser): held, the child is inside a batch.
		var inTx int64
		a.scan(&inTx, `SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
			AND l.pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = ?)`, appName)
		mu.Lock()
		acked := 0
		for _, o := range outcomes {
			if o.status == 201 {
				acked++
			}
		}
		mu.Unlock()
		if inTx > 0 && acked >= 3 && count(`SELECT count(*) FROM audit_checkpoints`) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sequencer never got busy: %d checkpoints, %d leaves, %d queued",
				count(`SELECT count(*) FROM audit_checkpoints`), count(`SELECT count(*) FROM audit_leaves`), count(`SELECT count(*) FROM audit_queue`))
		}
		time.Sleep(5 * time.Millisecond)
	}
	child.kill(t)
	close(stop)
	wg.Wait()
	queued := count(`SELECT count(*) FROM audit_queue`)
	leavesAtKill := count(`SELECT count(*) FROM audit_leaves`)
	t.Logf("killed with %d events in the tree and %d queued", leavesAtKill, queued)
	if queued == 0 {
		t.Fatal("the queue was empty at the kill: the drill proved nothing")
	}

	// Restarted, it finishes the work.
	child2 := startChildServe(t, cfg, appName+"-2")
	deadline = time.Now().Add(120 * time.Second)
	for count(`SELECT count(*) FROM audit_queue`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained 120 s after the restart (%d left)", count(`SELECT count(*) FROM audit_queue`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Clients retry what got no answer, with the same key, at the new server.
	acknowledged := 0
	for _, o := range outcomes {
		switch o.status {
		case 201:
			acknowledged++
		case 0:
			if s := rawPost(client(child2.base), "/api/v1/cases", body(o.key), o.key); s != 201 {
				t.Errorf("retry of %s after the restart: %d", o.key, s)
			}
		default:
			t.Errorf("case %s: status %d before the kill", o.key, o.status)
		}
	}
	t.Logf("%d cases acknowledged before the kill, %d answers lost to it", acknowledged, len(outcomes)-acknowledged)
	deadline = time.Now().Add(60 * time.Second)
	for count(`SELECT count(*) FROM audit_queue`) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}

	// Invariants.
	events := count(`SELECT count(*) FROM audit_events`)
	if leaves := count(`SELECT count(*) FROM audit_leaves`); leaves != events {
		t.Errorf("%d leaves for %d events", leaves, events)
	}
	if d := count(`SELECT count(DISTINCT event_id) FROM audit_leaves`); d != events {
		t.Errorf("%d distinct events in the tree, %d events", d, events)
	}
	if n := count(`SELECT count(*) FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.event_id = e.id)`); n != 0 {
		t.Errorf("%d events never sequenced", n)
	}
	for _, o := range outcomes {
		if n := count(`SELECT count(*) FROM cases WHERE title = ?`, "seq drill "+o.key); n != 1 {
			t.Errorf("key %s: %d cases, want 1", o.key, n)
		}
		if n := count(`SELECT count(*) FROM audit_events e JOIN cases c ON e.object_id = c.id::text
			WHERE e.action = 'case.create' AND c.title = ?`, "seq drill "+o.key); n != 1 {
			t.Errorf("key %s: %d case.create events, want 1", o.key, n)
		}
	}
	ctx := store.WithDB(context.Background(), testenv.Open(t, a.appURL))
	signer, _ := audit.NewSigner(drillAuditKey)
	rep, err := audit.Verify(ctx, audit.VerifyOptions{VerifierKey: signer.VerifierKey()})
	if err != nil || !rep.OK || rep.Size != events {
		t.Errorf("audit verify after the kill and restart: %+v %v (events %d)", rep, err, events)
	}
}

var httpClient = http.Client{Timeout: 60 * time.Second}

// rawPost posts body with an Idempotency-Key as gdi-officer; 0 when no
// answer came (the server was killed).
func rawPost(a *caseAPI, path, body, key string) int {
	req, err := http.NewRequest("POST", a.base+path, strings.NewReader(body))
	if err != nil {
		return -1
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.tokens["gdi-officer"])
	req.Header.Set("Idempotency-Key", key)
	resp, err := a.http.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
