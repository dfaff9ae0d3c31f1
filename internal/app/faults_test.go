package app_test

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// Fault drill: PostgreSQL stopped the way `pg_ctl stop -m immediate` does
// (SIGQUIT, crash recovery at restart) while clients create cases, then
// restarted. During the outage every answer is a 503 problem with
// Retry-After (never a 500); afterwards the server recovers by itself, a
// client that retries with its Idempotency-Key gets exactly one case, no
// acknowledged write is lost, every case has its audit event and the audit
// log verifies.
func TestDrillPostgresImmediateStopUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault drill")
	}
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	// Production durability (not the test clusters' fsync=off,
	// synchronous_commit=off): with those, an immediate stop loses commits
	// already acknowledged, and this drill catches it (one case missing).
	opts := devpg.Options{Database: "casebridge"}
	cluster, err := devpg.Start(ctx, dir, opts)
	if err != nil {
		t.Skip("no PostgreSQL for a private cluster:", err)
	}
	t.Cleanup(func() { cluster.Stop() })
	if _, err := store.Migrate(ctx, cluster.OwnerURL("casebridge"), -1); err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, "127.0.0.1:"+strconv.Itoa(cluster.Port))
	via := func(raw string) string {
		u, _ := url.Parse(raw)
		u.Host = proxy.addr
		return u.String()
	}
	d := testenv.Database{Name: "casebridge", AppURL: via(cluster.AppURL("casebridge")), OwnerURL: via(cluster.OwnerURL("casebridge"))}
	a := newCaseAPIOn(t, d, nil, nil)

	type outcome struct {
		key    string
		status int
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     atomic.Bool
		seq      atomic.Int64
		wg       sync.WaitGroup
	)
	body := func(key string) string { return `{"title": "drill ` + key + `", "kind": "trafficking"}` }
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				key := fmt.Sprintf("w%d-%d", w, seq.Add(1))
				r := a.request("gdi-officer", "POST", "/api/v1/cases", body(key), "Idempotency-Key", key)
				if r.status == 503 && r.header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
				mu.Lock()
				outcomes = append(outcomes, outcome{key, r.status})
				mu.Unlock()
				if r.status != 201 {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	cluster.Crash()
	time.Sleep(1500 * time.Millisecond)
	restarted, err := devpg.Start(ctx, dir, opts)
	if err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { restarted.Stop() })
	proxy.retarget(net.JoinHostPort("127.0.0.1", strconv.Itoa(restarted.Port)))
	proxy.down() // drop connections to the dead server
	proxy.up()
	// Recovery by itself: the first 201 after the restart, within seconds.
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(outcomes)
		last := outcomes[n-1].status
		mu.Unlock()
		if last == 201 {
			break
		}
		if time.Now().After(deadline) {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("no successful write 15 s after PostgreSQL restarted (last status %d)", last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	counts := map[int]int{}
	for _, o := range outcomes {
		counts[o.status]++
		if o.status != 201 && o.status != 503 {
			t.Errorf("key %s: status %d (want 201, or 503 during the outage)", o.key, o.status)
		}
	}
	t.Logf("outcomes: %v", counts)
	if counts[503] == 0 {
		t.Errorf("no request met the outage; the drill proved nothing")
	}
	// Clients retry what failed, with the same key: each gets its case.
	for _, o := range outcomes {
		if o.status == 201 {
			continue
		}
		if r := a.request("gdi-officer", "POST", "/api/v1/cases", body(o.key), "Idempotency-Key", o.key); r.status != 201 {
			t.Errorf("retry of %s: %d %s", o.key, r.status, r.body)
		}
	}
	// Invariants: one case per key (no duplicate, none lost), each with its
	// audit event; the audit log verifies.
	var n, distinct, orphans int
	a.owner.Raw(`SELECT count(*), count(DISTINCT title) FROM cases WHERE title LIKE 'drill %'`).Row().Scan(&n, &distinct) //nolint:errcheck
	if n != len(outcomes) || distinct != n {
		t.Errorf("%d cases (%d distinct) for %d keys", n, distinct, len(outcomes))
	}
	a.owner.Raw(`SELECT count(*) FROM cases c WHERE title LIKE 'drill %' AND NOT EXISTS
		(SELECT 1 FROM audit_events e WHERE e.action = 'case.create' AND e.object_id = c.id::text)`).Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d cases without their audit event", orphans)
	}
	actx := store.WithDB(ctx, testenv.Open(t, d.AppURL))
	signer, _ := audit.NewSigner(drillAuditKey)
	if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 500}).Drain(actx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(actx, audit.VerifyOptions{VerifierKey: signer.VerifierKey()})
	if err != nil || !rep.OK {
		t.Errorf("audit verify after the drill: %+v %v", rep, err)
	}
}

var drillAuditKey = func() string {
	k, _, err := audit.GenerateKey("casebridge.test/drill")
	if err != nil {
		panic(err)
	}
	return k
}()
