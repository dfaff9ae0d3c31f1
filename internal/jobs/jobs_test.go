package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
	"github.com/casebridge/casebridge/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// River's own schema is applied by our migration, exactly as the River
// version in go.mod ships it, and River agrees that nothing is pending.
func TestRiverSchemaIsPinned(t *testing.T) {
	t.Parallel()
	var ours string
	for _, f := range []string{"00140_river_1.sql", "00141_river_2.sql"} {
		body, err := migrations.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ours += string(body)
	}
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := m.AllVersions()
	if len(all) != 8 {
		t.Errorf("River %d migrations; 00140/00141_river pin 8: add a migration with River's new versions", len(all))
	}
	for _, v := range all {
		up := strings.TrimSpace(strings.ReplaceAll(v.SQLUp, "/* TEMPLATE: schema */", ""))
		if !strings.Contains(ours, up) {
			t.Errorf("River migration %d (%s) is not in 00140/00141_river as River ships it", v.Version, v.Name)
		}
	}

	d := testenv.NewDatabase(t)
	db, err := sql.Open("pgx", d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vm, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := vm.Validate(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Errorf("River reports pending migrations: %v", res.Messages)
	}
}

type countArgs struct {
	Label string `json:"label"`
}

func (countArgs) Kind() string { return "test.count" }

type countWorker struct {
	river.WorkerDefaults[countArgs]
	runs  atomic.Int32
	seen  chan string
	fails atomic.Int32 // fail this many attempts first
}

func (w *countWorker) Work(_ context.Context, j *river.Job[countArgs]) error {
	w.runs.Add(1)
	if w.fails.Add(-1) >= 0 {
		return errors.New("deliberate failure")
	}
	w.seen <- j.Args.Label
	return nil
}

func (w *countWorker) NextRetry(*river.Job[countArgs]) time.Time { return time.Now() }

func startQueue(t *testing.T, url string, w *countWorker) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	cfg := config.Default().Jobs
	cfg.PollInterval = 50 * time.Millisecond
	q, err := jobs.Open(t.Context(), url, cfg, jobs.Options{Workers: workers}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}

// A job inserted in a transaction that rolls back never runs; one whose
// transaction commits runs once; a failing job is retried until it
// succeeds, and then not again.
func TestJobsFollowTheirTransaction(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	db := testenv.Open(t, d.AppURL)
	ctx := testenv.Context(t, db)
	w := &countWorker{seen: make(chan string, 10)}
	w.fails.Store(2)
	startQueue(t, d.AppURL, w)

	rollback := errors.New("roll back")
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := jobs.Insert(ctx, countArgs{Label: "rolled back"}, nil); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if err := store.WithTx(ctx, func(ctx context.Context) error {
		_, err := jobs.Insert(ctx, countArgs{Label: "committed"}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-w.seen:
		if got != "committed" {
			t.Fatalf("ran %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the committed job did not run")
	}
	time.Sleep(500 * time.Millisecond) // give a wrong second run its chance
	if n := w.runs.Load(); n != 3 {
		t.Errorf("attempts = %d, want 3 (two deliberate failures, one success)", n)
	}
	select {
	case got := <-w.seen:
		t.Errorf("a second job ran: %q", got)
	default:
	}
	var total int
	if err := db.Raw(`SELECT count(*) FROM river_job`).Scan(&total).Error; err != nil {
		t.Fatal(err)
	}
	if total != 1 {
		t.Errorf("river_job has %d rows; the rolled-back insert left one behind?", total)
	}
}

// Outside a transaction Insert refuses: a job is part of the change that
// makes it due.
func TestInsertNeedsATransaction(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := testenv.Context(t, db)
	if _, err := jobs.Insert(ctx, countArgs{}, nil); err == nil || !strings.Contains(err.Error(), "not inside a transaction") {
		t.Fatalf("err = %v", err)
	}
}
