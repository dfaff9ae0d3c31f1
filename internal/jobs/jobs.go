// Package jobs runs the portal's background work on River, a job queue in
// the same PostgreSQL database: bundle builds, webhook deliveries, the blob
// sweep. Several instances share one queue; a job whose process dies
// (SIGKILL, a lost machine) stays "running" until River's rescuer sees it
// older than jobs.rescue_after and runs it again, so work is retried, not
// lost. Workers must therefore be idempotent: each records its result in
// the same transaction that checks it has not been recorded yet.
//
// Jobs are inserted with Insert inside the transaction of the change that
// makes them due (store.WithTx), so a job exists exactly when that change
// commits. River's schema comes from our own migrations
// (migrations/00140_river_1.sql, 00141_river_2.sql), never from a run-time migration.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"

	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
)

// Queue is this instance's River client: it works the jobs of the kinds
// registered in its Workers.
type Queue struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB
	log    *slog.Logger
}

// Options configure a Queue beyond the settings.
type Options struct {
	// Workers holds the job kinds this instance works (river.AddWorker).
	Workers *river.Workers
	// Periodic are jobs inserted on a schedule by the elected leader (one
	// instance at a time).
	Periodic []*river.PeriodicJob
}

// Open connects the job queue's own small pool to url (the application
// role) and builds the client. Start runs the workers.
func Open(ctx context.Context, url string, cfg config.Jobs, opt Options, log *slog.Logger) (*Queue, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("job queue: open database: %w", err)
	}
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("job queue: connect to database: %w", err)
	}
	poll := cfg.PollInterval
	rc := &river.Config{
		Logger:               log.With("component", "jobs"),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              opt.Workers,
		PeriodicJobs:         opt.Periodic,
		JobTimeout:           cfg.Timeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    poll,
		FetchCooldown:        min(poll, 100*time.Millisecond),
		MaxAttempts:          10,
	}
	client, err := river.NewClient(riverdatabasesql.New(db), rc)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, db: db, log: log}, nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them (they are
// retried later) and closes the pool.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(cctx)
	}
	if cerr := q.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("job queue: stop: %w", err)
	}
	return nil
}

// Client is the River client, for tests and for subscribing to job events.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

var (
	inserterOnce sync.Once
	inserter     *river.Client[*sql.Tx]
	inserterErr  error
)

// Insert enqueues a job in the transaction ctx carries (store.WithTx): the
// job becomes workable when that transaction commits and vanishes if it
// rolls back. Outside a transaction it is an error: a job must be part of
// the change that makes it due.
func Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	tx, ok := store.SQLTx(ctx)
	if !ok {
		return nil, fmt.Errorf("insert job %s: not inside a transaction", args.Kind())
	}
	inserterOnce.Do(func() {
		// An insert-only client: no pool, no workers; it writes job rows on
		// the caller's transaction.
		inserter, inserterErr = river.NewClient(riverdatabasesql.New(nil), &river.Config{MaxAttempts: 10})
	})
	if inserterErr != nil {
		return nil, fmt.Errorf("insert job %s: %w", args.Kind(), inserterErr)
	}
	res, err := inserter.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert job %s: %w", args.Kind(), err)
	}
	return res, nil
}
