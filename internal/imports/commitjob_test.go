package imports_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/imports"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/testenv"
)

// jobEnv is an env whose large imports are committed by a background job
// worked by a real River queue on the test database.
func jobEnv(t *testing.T) (*env, string) {
	t.Helper()
	d := testenv.NewDatabase(t)
	app, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	e := newEnvOn(t, app, owner, imports.Limits{MaxBytes: 10 << 20, MaxRows: 20000, MaxUnzippedBytes: 50 << 20, JobAboveRows: 10})
	return e, d.AppURL
}

func startWorkers(t *testing.T, e *env, url string) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &imports.CommitWorker{DB: e.appDB, Svc: e.svc})
	cfg := config.Default().Jobs
	cfg.PollInterval = 50 * time.Millisecond
	q, err := jobs.Open(t.Context(), url, cfg, jobs.Options{Workers: workers}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
}

// waitFor polls the import as the importer until it leaves committing.
func (e *env) waitFor(as string, im imports.Import) imports.Import {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got, err := e.svc.Get(e.as(as), im.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.Status != imports.StatusCommitting {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	type jobRow struct {
		State   string
		Attempt int
		Errors  string
	}
	var states []jobRow
	if err := e.owner.Raw(`SELECT state::text AS state, attempt, coalesce(array_to_string(errors, ' | '), '') AS errors FROM river_job`).Scan(&states).Error; err != nil {
		e.t.Log(err)
	}
	e.t.Fatalf("the import is still committing after 20 s; jobs: %v", states)
	return imports.Import{}
}

// A large import is handed to a background job in the request's
// transaction: the request answers at once (committing), the job writes
// every row in one transaction, reports its progress, and records one
// import.commit event; another agency sees none of it.
func TestLargeImportIsCommittedByABackgroundJob(t *testing.T) {
	t.Parallel()
	e, url := jobEnv(t)
	im, err := e.upload("gdi-officer", "owned", "raid.csv", csvRows(2500, "J"))
	if err != nil {
		t.Fatal(err)
	}
	st := e.state()
	asked, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Status != imports.StatusCommitting || asked.ProgressTotal != 5000 || asked.ProgressDone != 0 {
		t.Fatalf("asked: status %s progress %d/%d, want committing 0/5000", asked.Status, asked.ProgressDone, asked.ProgressTotal)
	}
	if e.state() != st {
		t.Fatal("the request wrote rows itself")
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'imports.commit'`); n != 1 {
		t.Fatalf("%d jobs enqueued", n)
	}
	// A second commit while the first is pending is refused.
	if _, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("second commit: %v", err)
	}
	// Another agency cannot see the import, committing or not.
	if _, err := e.svc.Get(e.as("ncct-officer"), im.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("other agency: %v", err)
	}

	startWorkers(t, e, url)
	done := e.waitFor("gdi-officer", im)
	if done.Status != imports.StatusCommitted || done.Result == nil || len(done.Result.Created) != 2500 {
		t.Fatalf("after the job: status %s error %q", done.Status, done.CommitError)
	}
	if done.ProgressDone != done.ProgressTotal {
		t.Errorf("progress %d of %d at the end", done.ProgressDone, done.ProgressTotal)
	}
	if n := e.count(`SELECT count(DISTINCT p.xmin::text) FROM persons p WHERE p.passport_number LIKE 'J%'`); n != 1 {
		t.Errorf("persons written in %d transactions, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM case_persons cp JOIN persons p ON p.id = cp.person_id
		WHERE p.passport_number LIKE 'J%' AND cp.case_id = ?`, e.w.Case("owned").ID); n != 2500 {
		t.Errorf("%d links", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'import.commit' AND object_id = ?`, im.ID.String()); n != 1 {
		t.Errorf("%d import.commit events", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'import.commit_requested' AND object_id = ?`, im.ID.String()); n != 1 {
		t.Errorf("%d import.commit_requested events", n)
	}
}

// A rule that refuses the commit when the job runs (here: a person with a
// passport of the file was recorded in between, and the importer had not
// confirmed linking) ends the job: the import is failed with the reason,
// nothing is written, and the importer can commit again.
func TestBackgroundCommitRefusedBecomesFailed(t *testing.T) {
	t.Parallel()
	e, url := jobEnv(t)
	data := csvRows(20, "R")
	im, err := e.upload("gdi-officer", "owned", "raid.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Commit(e.as("gdi-officer"), im.ID, false); err != nil {
		t.Fatal(err)
	}
	// Before any worker runs, the same passport is recorded on file by the
	// same agency in the case.
	first, err := e.upload("gdi-officer", "owned", "one.csv", []byte(strings.Join(strings.SplitN(string(data), "\n", 3)[:2], "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.svc.Commit(e.as("gdi-officer"), first.ID, false); err != nil || c.Status != imports.StatusCommitted {
		t.Fatalf("one-row import: %v %s", err, c.Status)
	}
	st := e.state()
	startWorkers(t, e, url)
	done := e.waitFor("gdi-officer", im)
	if done.Status != imports.StatusFailed || !strings.Contains(done.CommitError, "match persons already on file") {
		t.Fatalf("status %s, error %q", done.Status, done.CommitError)
	}
	if e.state() != st {
		t.Fatal("a refused background commit wrote something")
	}
	// Committing again, now confirming the match, goes through: the person
	// on file is already linked to the case, the other 19 are created.
	if _, err := e.svc.Commit(e.as("gdi-officer"), im.ID, true); err != nil {
		t.Fatal(err)
	}
	done = e.waitFor("gdi-officer", im)
	if done.Status != imports.StatusCommitted || len(done.Result.AlreadyLinked) != 1 || len(done.Result.Created) != 19 {
		t.Fatalf("after confirming: %s %+v", done.Status, done.Result)
	}
}
