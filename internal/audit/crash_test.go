package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// TestSequencerChildProcess is not a test: it is the sequencer that
// TestSequencerSurvivesSIGKILL runs in a child process (this test binary,
// re-executed) so that it can kill it.
func TestSequencerChildProcess(t *testing.T) {
	dbURL := os.Getenv("AUDIT_CHILD_DB_URL")
	if dbURL == "" {
		t.Skip("only run as the child of TestSequencerSurvivesSIGKILL")
	}
	db, err := store.Open(context.Background(), dbURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(os.Getenv("AUDIT_CHILD_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Sequencer{Signer: signer, BatchSize: 25}
	// Until killed; the time limit only guards against an orphan.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s.Run(store.WithDB(ctx, db), 2*time.Millisecond)
}

func TestSequencerSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	e := newEnv(t)
	skey, _, _ := GenerateKey("casebridge.test/audit")
	e.signer, _ = NewSigner(skey)
	e.vkey = e.signer.VerifierKey()
	childURL := e.dbinfo.AppURL

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSequencerChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AUDIT_CHILD_DB_URL="+childURL, "AUDIT_CHILD_KEY="+skey)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	// Load: 6 writers, each request a transaction with 3 events; one in
	// five requests fails and rolls back, and its events must never appear.
	var (
		mu        sync.Mutex
		committed []string
		aborted   []string
		stop      atomic.Bool
		wg        sync.WaitGroup
		loadErr   atomic.Value
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := officer(uuid.New())
			for i := 0; !stop.Load(); i++ {
				reqID := fmt.Sprintf("w%d-r%d", w, i)
				ctx := access.WithPrincipal(WithRequestInfo(e.ctx, reqID, "192.0.2.9"), p)
				fail := i%5 == 4
				err := store.WithTx(ctx, func(ctx context.Context) error {
					for k := range 3 {
						if err := Record(ctx, Event{Action: "case.read", ObjectType: "case", ObjectID: strconv.Itoa(k)}); err != nil {
							return err
						}
					}
					if fail {
						return errAbort
					}
					return nil
				})
				mu.Lock()
				switch {
				case err == nil:
					committed = append(committed, reqID)
				case errors.Is(err, errAbort):
					aborted = append(aborted, reqID)
				default:
					loadErr.Store(err)
				}
				mu.Unlock()
			}
		}()
	}

	// Kill the sequencer five times, each time while its transaction is
	// open (seen in pg_stat_activity), then restart it.
	kills := 0
	for round := 0; round < 5; round++ {
		cmd := start()
		deadline := time.Now().Add(20 * time.Second)
		midBatch := false
		for time.Now().Before(deadline) && !midBatch {
			var n int64
			// The sequencer's advisory lock is held exactly while its batch
			// transaction is open (pg_locks, unlike pg_stat_activity, shows
			// other roles' sessions).
			err := e.owner.Raw(`SELECT count(*) FROM pg_locks
				WHERE locktype = 'advisory' AND granted
				  AND classid = $1 AND objid = $2 AND objsubid = 1`,
				int64(sequencerLock>>32), int64(sequencerLock&0xffffffff)).Scan(&n).Error
			if err != nil {
				t.Fatal(err)
			}
			midBatch = n > 0
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if midBatch {
			kills++
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if err := loadErr.Load(); err != nil {
		t.Fatalf("load: %v", err)
	}
	if kills == 0 {
		t.Fatalf("never caught the sequencer inside a transaction")
	}

	// Restart once more and let it catch up.
	cmd := start()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var queued int64
		e.owner.Raw(`SELECT count(*) FROM audit_queue`).Scan(&queued)
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sequencer did not catch up: %d queued", queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	rep := e.verifyNow()
	if !rep.OK {
		t.Fatalf("verify after SIGKILLs: %+v", rep)
	}
	var inTree, ofAborted, events int64
	e.owner.Raw(`SELECT count(*) FROM audit_events e JOIN audit_leaves l ON l.event_id = e.id WHERE e.request_id = ANY($1)`, committed).Scan(&inTree)
	e.owner.Raw(`SELECT count(*) FROM audit_events WHERE request_id = ANY($1)`, aborted).Scan(&ofAborted)
	e.owner.Raw(`SELECT count(*) FROM audit_events`).Scan(&events)
	if inTree != 3*int64(len(committed)) || ofAborted != 0 || rep.Size != events {
		t.Fatalf("committed requests %d: %d of their %d events in the tree; %d events of aborted requests; tree %d, events %d",
			len(committed), inTree, 3*len(committed), ofAborted, rep.Size, events)
	}
	t.Logf("%d SIGKILLs mid-batch; %d committed requests (%d events) all in a tree of %d, %d checkpoints; %d aborted requests absent",
		kills, len(committed), inTree, rep.Size, rep.Checkpoints, len(aborted))
}

var errAbort = errors.New("request failed on purpose")
