// Command auditbench measures the audit log in one run, against a private
// PostgreSQL cluster it starts (durable settings: fsync on, synchronous
// commit) or an existing migrated database:
//
//  1. raw INSERT rate: concurrent writers insert audit rows, one per
//     transaction, into a table of the same shape with no queue trigger;
//  2. audited INSERT rate: the same rows through audit.Record (event row
//     plus its queue row), sequencer stopped, which leaves a backlog;
//  3. sequencing throughput: the sequencer drains that backlog;
//  4. under concurrent load: writers record through audit.Record while the
//     sequencer runs at its configured interval; per event, the lag from
//     the writer's COMMIT returning to the COMMIT of the sequencer batch
//     that integrated it (p50, p99, max);
//  5. audit verify over everything written.
//
// It prints a Markdown table for docs/benchmarks.md.
//
//	go run ./bench/auditbench -writers 8 -duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/store"
)

func main() {
	writers := flag.Int("writers", 8, "concurrent writers (one event per transaction)")
	duration := flag.Duration("duration", 10*time.Second, "length of each load phase")
	interval := flag.Duration("interval", 500*time.Millisecond, "sequencer interval in the concurrent phase (audit.sequencer_interval)")
	batch := flag.Int("batch", 2000, "sequencer batch size (audit.batch_size)")
	rows := flag.Int("rows", 200, "rows per transaction in the batched phases")
	appURL := flag.String("db-url", "", "existing migrated database as casebridge_app (default: a private cluster)")
	ownerURL := flag.String("owner-url", "", "the same database as its owner (with -db-url)")
	flag.Parse()
	ctx := context.Background()

	if *appURL == "" {
		dir, err := os.MkdirTemp("", "auditbench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		c, err := devpg.Start(ctx, dir, devpg.Options{Database: "casebridge"})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Stop()
		*appURL, *ownerURL = c.AppURL("casebridge"), c.OwnerURL("casebridge")
		if _, err := store.Migrate(ctx, *ownerURL, -1); err != nil {
			log.Fatal(err)
		}
	}
	db, err := store.Open(ctx, *appURL, store.Options{MaxOpenConns: *writers + 4, MaxIdleConns: *writers + 4})
	if err != nil {
		log.Fatal(err)
	}
	owner, err := store.Open(ctx, *ownerURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		log.Fatal(err)
	}
	ctx = store.WithDB(ctx, db)
	must(owner.Exec(`DROP TABLE IF EXISTS bench_raw_audit`).Error)
	must(owner.Exec(`CREATE TABLE bench_raw_audit (LIKE audit_events INCLUDING ALL)`).Error)
	must(owner.Exec(`GRANT INSERT ON bench_raw_audit TO casebridge_app`).Error)
	defer owner.Exec(`DROP TABLE IF EXISTS bench_raw_audit`) //nolint:errcheck

	skey, _, err := audit.GenerateKey("auditbench/audit")
	must(err)
	signer, err := audit.NewSigner(skey)
	must(err)

	// 1. Raw INSERT rate.
	raw := load(ctx, *writers, *duration, func(ctx context.Context, w, i int) error {
		return store.WithTx(ctx, func(ctx context.Context) error {
			p, _ := access.FromContext(ctx)
			return store.DB(ctx).Exec(`INSERT INTO bench_raw_audit
				(actor_user_id, actor_issuer, actor_subject, actor_name, agency_id, agency_code,
				 action, object_type, object_id, case_id, outcome, request_id, client_addr, details)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
				p.UserID.String(), p.Issuer, p.Subject, p.Name, p.AgencyID.String(), p.AgencyCode,
				"case.read", "case", strconv.Itoa(i), uuid.NewString(), "ok", reqID(w, i), "192.0.2.10", `{"fields": ["status"]}`).Error
		})
	}, nil)
	report("raw INSERT (no queue)", raw)
	rawBatch := load(ctx, *writers, *duration, func(ctx context.Context, w, i int) error {
		return insertBatch(ctx, "bench_raw_audit", "r", w, i, *rows)
	}, nil)
	rawBatch.n *= int64(*rows)
	report("raw INSERT, batched (no queue)", rawBatch)

	// 2. Audited INSERT, sequencer stopped.
	ins := load(ctx, *writers, *duration, recordEvent("a"), nil)
	report("audit.Record (event + queue row)", ins)

	insBatch := load(ctx, *writers, *duration, func(ctx context.Context, w, i int) error {
		return insertBatch(ctx, "audit_events", "s", w, i, *rows)
	}, nil)
	insBatch.n *= int64(*rows)
	report("audited INSERT, batched (event + queue rows)", insBatch)

	// 3. Drain the backlog.
	seq := &audit.Sequencer{Signer: signer, BatchSize: *batch}
	start := time.Now()
	drained, err := seq.Drain(ctx)
	must(err)
	drainTook := time.Since(start)
	seqRate := float64(drained) / drainTook.Seconds()
	fmt.Fprintf(os.Stderr, "sequencer drained %d events in %s: %.0f events/s\n", drained, drainTook.Round(time.Millisecond), seqRate)

	// 4. Concurrent load with the sequencer running.
	var mu sync.Mutex
	var batches []batchDone
	seq.OnBatch = func(n int, size int64, _ time.Duration) {
		mu.Lock()
		batches = append(batches, batchDone{size: size, at: time.Now()})
		mu.Unlock()
	}
	sctx, stop := context.WithCancel(ctx)
	var seqDone sync.WaitGroup
	seqDone.Add(1)
	go func() { defer seqDone.Done(); seq.Run(sctx, *interval) }()
	commits := make([]map[string]time.Time, *writers)
	for i := range commits {
		commits[i] = map[string]time.Time{}
	}
	conc := load(ctx, *writers, *duration, recordEvent("c"), func(w int, id string, at time.Time) { commits[w][id] = at })
	// Let the sequencer integrate the tail, then stop it.
	waitEmpty(owner)
	stop()
	seqDone.Wait()
	report("audit.Record with the sequencer running", conc)
	lags := lagsOf(owner, "c", commits, batches)

	// 4b. Overload: batched writers at full speed with the sequencer
	// running; does integration keep up?
	sctx, stop = context.WithCancel(ctx)
	seqDone.Add(1)
	go func() { defer seqDone.Done(); seq.Run(sctx, *interval) }()
	for i := range commits {
		commits[i] = map[string]time.Time{}
	}
	heavy := load(ctx, *writers, *duration, func(ctx context.Context, w, i int) error {
		return insertBatch(ctx, "audit_events", "b", w, i, *rows)
	}, func(w int, id string, at time.Time) { commits[w][id] = at })
	heavy.n *= int64(*rows)
	var backlog int64
	must(owner.Raw(`SELECT count(*) FROM audit_queue`).Scan(&backlog).Error)
	catchStart := time.Now()
	waitEmpty(owner)
	catchUp := time.Since(catchStart)
	stop()
	seqDone.Wait()
	report("batched INSERT with the sequencer running", heavy)
	heavyLags := lagsOf(owner, "b", commits, batches)

	// 5. Verify everything.
	start = time.Now()
	rep, err := audit.Verify(ctx, audit.VerifyOptions{VerifierKey: signer.VerifierKey()})
	must(err)
	verifyTook := time.Since(start)
	if !rep.OK {
		log.Fatalf("verify failed: %+v", rep)
	}

	fmt.Printf("\nAudit benchmark: %d writers, %s per phase, sequencer batch %d, interval %s; %d CPUs, %s\n\n",
		*writers, *duration, *batch, *interval, runtime.NumCPU(), runtime.Version())
	fmt.Println("| measure | figure |")
	fmt.Println("|---|---|")
	fmt.Printf("| raw INSERT rate, same rows, no queue trigger, 1 row per transaction (what a request does) | %.0f rows/s |\n", raw.rate())
	fmt.Printf("| raw INSERT rate, same rows, no queue trigger, %d rows per transaction | %.0f rows/s |\n", *rows, rawBatch.rate())
	fmt.Printf("| audit.Record, 1 event per transaction (event + queue row), sequencer stopped | %.0f events/s (%.2f× raw) |\n", ins.rate(), ins.rate()/raw.rate())
	fmt.Printf("| audited INSERT, %d per transaction, sequencer stopped | %.0f events/s (%.2f× raw batched) |\n", *rows, insBatch.rate(), insBatch.rate()/rawBatch.rate())
	fmt.Printf("| sequencing throughput (drain a backlog of %d) | %.0f events/s |\n", drained, seqRate)
	fmt.Printf("| **sequencing throughput / raw INSERT rate (1 row/tx; batched)** | **%.1f×; %.2f×** |\n", seqRate/raw.rate(), seqRate/rawBatch.rate())
	fmt.Printf("| audit.Record, 1 event/tx, with the sequencer running | %.0f events/s (%.2f× raw) |\n", conc.rate(), conc.rate()/raw.rate())
	fmt.Printf("| commit → integration lag under that load (%d events) | %s |\n", len(lags), pcts(lags))
	fmt.Printf("| overload: %d-row batches at full speed with the sequencer running | %.0f events/s written; backlog at the end %d, integrated %s later |\n",
		*rows, heavy.rate(), backlog, catchUp.Round(time.Millisecond))
	fmt.Printf("| commit → integration lag under overload (%d events) | %s |\n", len(heavyLags), pcts(heavyLags))
	fmt.Printf("| audit verify (recompute everything) | %d events in %s (%.0f events/s) |\n",
		rep.Size, verifyTook.Round(time.Millisecond), float64(rep.Size)/verifyTook.Seconds())
}

type batchDone struct {
	size int64
	at   time.Time
}

type phase struct {
	n    int64
	took time.Duration
}

func (p phase) rate() float64 { return float64(p.n) / p.took.Seconds() }

func report(name string, p phase) {
	fmt.Fprintf(os.Stderr, "%s: %d in %s: %.0f/s\n", name, p.n, p.took.Round(time.Millisecond), p.rate())
}

func reqID(w, i int) string { return "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i) }

var principal = access.Principal{UserID: uuid.New(), Issuer: "https://idp.bench", Subject: "officer-1",
	Name: "Bench Officer", AgencyID: uuid.New(), AgencyCode: "kh-imm", Kind: access.KindImmigrationPolice,
	Roles: []access.Role{access.RoleOfficer}}

// recordEvent is one request recording one event in its own transaction.
func recordEvent(prefix string) func(ctx context.Context, w, i int) error {
	return func(ctx context.Context, w, i int) error {
		ctx = audit.WithRequestInfo(ctx, prefix+reqID(w, i), "192.0.2.10")
		return store.WithTx(ctx, func(ctx context.Context) error {
			return audit.Record(ctx, audit.Event{Action: "case.read", ObjectType: "case",
				ObjectID: strconv.Itoa(i), CaseID: uuid.New(), Details: map[string]any{"fields": []string{"status"}}})
		})
	}
}

// load runs writers for d, each calling fn in a loop, and counts successes;
// committed (when set) gets each committed request id with the time its
// COMMIT returned.
func load(ctx context.Context, writers int, d time.Duration, fn func(ctx context.Context, w, i int) error,
	committed func(w int, id string, at time.Time)) phase {
	ctx = access.WithPrincipal(ctx, principal)
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				if err := fn(ctx, w, i); err != nil {
					log.Fatal(err)
				}
				if committed != nil {
					committed(w, reqID(w, i), time.Now())
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return phase{n: n.Load(), took: time.Since(start)}
}

// insertBatch inserts n audit rows in one transaction and one statement,
// all with request id <prefix><writer>-<i>.
func insertBatch(ctx context.Context, table, prefix string, w, i, n int) error {
	return store.WithTx(ctx, func(ctx context.Context) error {
		p, _ := access.FromContext(ctx)
		return store.DB(ctx).Exec(`INSERT INTO `+table+`
			(actor_user_id, actor_issuer, actor_subject, actor_name, agency_id, agency_code,
			 action, object_type, object_id, case_id, outcome, request_id, client_addr, details)
			SELECT ?::uuid, ?, ?, ?, ?::uuid, ?, 'case.read', 'case', g::text, gen_random_uuid(), 'ok', ?, '192.0.2.10',
			       '{"fields": ["status"]}'::jsonb
			FROM generate_series(1, ?::int) g`,
			p.UserID.String(), p.Issuer, p.Subject, p.Name, p.AgencyID.String(), p.AgencyCode, prefix+reqID(w, i), n).Error
	})
}

func waitEmpty(owner *gorm.DB) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var queued int64
		must(owner.Raw(`SELECT count(*) FROM audit_queue`).Scan(&queued).Error)
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			log.Fatalf("sequencer did not catch up: %d queued", queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pcts(lags []time.Duration) string {
	slices.Sort(lags)
	p := func(q float64) time.Duration { return lags[min(len(lags)-1, int(q*float64(len(lags))))] }
	return fmt.Sprintf("p50 %s, p99 %s, max %s", ms(p(0.50)), ms(p(0.99)), ms(lags[len(lags)-1]))
}

// lagsOf pairs each committed event with the batch that integrated it: the
// first batch whose tree size exceeds the event's index.
func lagsOf(owner *gorm.DB, prefix string, commits []map[string]time.Time, batches []batchDone) []time.Duration {
	var rows []struct {
		RequestID string
		Idx       int64
	}
	must(owner.Raw(`SELECT e.request_id, l.idx FROM audit_events e JOIN audit_leaves l ON l.event_id = e.id
		WHERE e.request_id LIKE ?`, prefix+"%").Scan(&rows).Error)
	var lags []time.Duration
	for _, r := range rows {
		var at time.Time
		for _, c := range commits {
			if t, ok := c[r.RequestID[1:]]; ok {
				at = t
				break
			}
		}
		if at.IsZero() {
			continue
		}
		k, _ := slices.BinarySearchFunc(batches, r.Idx+1, func(b batchDone, size int64) int {
			switch {
			case b.size < size:
				return -1
			case b.size > size:
				return 1
			}
			return 0
		})
		if k == len(batches) {
			log.Fatalf("event at index %d not in any batch of this run", r.Idx)
		}
		lag := batches[k].at.Sub(at)
		lags = append(lags, max(lag, 0))
	}
	if len(lags) == 0 {
		log.Fatal("no lags measured")
	}
	return lags
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
