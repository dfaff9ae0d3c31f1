package app

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/casebridge/casebridge/internal/bundles"
	"github.com/casebridge/casebridge/internal/imports"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// registerJobs adds every kind of background job this program works, and
// the periodic ones the elected instance schedules. Each area's worker is
// registered here, next to the others, so one list says what runs in the
// background.
func (p *Program) registerJobs() {
	p.Workers = river.NewWorkers()
	river.AddWorker(p.Workers, &sweepWorker{p: p})
	river.AddWorker(p.Workers, &imports.CommitWorker{DB: p.DB, Svc: imports.NewService(imports.LimitsFrom(p.Config.Imports),
		p.Config.Consular.MandatoryCountries, p.Log)})
	river.AddWorker(p.Workers, &bundleBuildWorker{p: p})
	p.periodic = append(p.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(p.Config.Documents.SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return SweepArgs{}, nil // only the elected leader schedules: one sweep per interval
		},
		&river.PeriodicJobOpts{ID: "documents.sweep", RunOnStart: true}))
	// Webhooks (internal/webhooks): the elected leader turns the outbox
	// into deliveries every webhooks.dispatch_interval; each delivery is
	// its own job, retried with exponential backoff.
	river.AddWorker(p.Workers, &webhooks.DispatchWorker{D: p.Webhooks})
	river.AddWorker(p.Workers, &webhooks.DeliverWorker{D: p.Webhooks})
	p.periodic = append(p.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(p.Config.Webhooks.DispatchInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return webhooks.DispatchArgs{}, &river.InsertOpts{MaxAttempts: 1}
		},
		&river.PeriodicJobOpts{ID: "webhooks.dispatch", RunOnStart: true}))
}

// StartJobs opens the job queue and works jobs until the returned stop is
// called (Serve does this; tests that need background work call it too).
// stop lets running jobs finish until its context ends.
func (p *Program) StartJobs(ctx context.Context) (stop func(context.Context) error, err error) {
	q, err := jobs.Open(ctx, p.Config.Database.URL, p.Config.Jobs, jobs.Options{
		Workers: p.Workers, Periodic: p.periodic}, p.Log)
	if err != nil {
		return nil, Startupf("jobs: %v", err)
	}
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		_ = q.Stop(ctx)
		return nil, Startupf("jobs: %v", err)
	}
	p.Jobs = q
	return q.Stop, nil
}

// SweepArgs is the periodic sweep of document bytes that no version refers
// to (documents.Sweep). River's leader schedules it every
// documents.sweep_interval; the advisory lock in sweepOnce keeps a manual
// run and a scheduled one from overlapping.
type SweepArgs struct{}

// Kind names the job in the queue.
func (SweepArgs) Kind() string { return "documents.sweep" }

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	p *Program
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	if err := sweepOnce(ctx, w.p.DB, w.p.Blobs, w.p.Config.Documents.SweepGrace, w.p.Log); err != nil {
		return fmt.Errorf("sweep document blobs: %w", err)
	}
	return nil
}

// Timeout: a sweep of a large store may take long; River's default (one
// minute) would cut it.
func (w *sweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return time.Hour }

// bundleBuildWorker builds a court bundle (bundles.Service.Build) as the
// principal who asked for it; the service records the result once, however
// often River runs the job.
type bundleBuildWorker struct {
	river.WorkerDefaults[bundles.BuildArgs]
	p *Program
}

func (w *bundleBuildWorker) Work(ctx context.Context, job *river.Job[bundles.BuildArgs]) error {
	ctx = store.WithDB(ctx, w.p.DB)
	return w.p.Bundles.Build(ctx, job.Args, bundles.Attempt{N: job.Attempt, Max: job.MaxAttempts})
}
