// Command statsbench seeds a private PostgreSQL cluster with N persons
// (casebridge seed; default 1,000,000) and times the oversight figures as
// the server computes them (internal/stats, as the ministry coordinator and
// as an admin, inside store.WithTx with the principal published). It prints
// a Markdown report (docs/benchmarks.md, "Oversight figures at scale").
//
//	go run ./bench/cmd/statsbench -persons 1000000 -data-dir bench/out/scale-1m
//
// The cluster is kept in -data-dir (the same as bench/cmd/scale's), so a
// second run reuses the data.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/bench"
	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/stats"
	"github.com/casebridge/casebridge/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "statsbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("statsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	persons := fs.Int("persons", 1_000_000, "persons to seed (cases: persons/5)")
	dataDir := fs.String("data-dir", "bench/out/scale", "directory of the private cluster (kept between runs)")
	iterations := fs.Int("n", 200, "timed runs per figure")
	bulkNotes := fs.Bool("bulk-notifications", true, "seed with the per-row consular notification trigger off, then create the notifications in one statement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, "statsbench: "+f+"\n", a...) }
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	cluster, err := devpg.Start(ctx, dir, devpg.Options{Log: logf, Ephemeral: true})
	if err != nil {
		return fmt.Errorf("private PostgreSQL: %w", err)
	}
	defer cluster.Stop()
	ownerURL, appURL := cluster.OwnerURL("casebridge"), cluster.AppURL("casebridge")
	if _, err := store.Migrate(ctx, ownerURL, -1); err != nil {
		return err
	}
	owner, err := store.Open(ctx, ownerURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer store.Close(owner) //nolint:errcheck
	app, err := store.Open(ctx, appURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer store.Close(app) //nolint:errcheck
	var have int64
	if err := owner.Raw("SELECT count(*) FROM persons").Scan(&have).Error; err != nil {
		return err
	}
	if int(have) < *persons {
		logf("seeding %d persons (the database has %d)", *persons-int(have), have)
		start := time.Now()
		if *bulkNotes {
			// The notifications of inserted persons are made in bulk below
			// instead (their trigger was per row, ~3 ms a person, when this
			// was written; it now runs once per statement).
			if err := owner.Exec(`ALTER TABLE persons DISABLE TRIGGER persons_notifications_insert`).Error; err != nil {
				return err
			}
		}
		_, err := seed.Run(ctx, ownerURL, seed.Options{Persons: *persons - int(have), Seed: 1, Vacuum: true, Log: logf})
		if *bulkNotes {
			if eerr := owner.Exec(`ALTER TABLE persons ENABLE TRIGGER persons_notifications_insert`).Error; eerr != nil && err == nil {
				err = eerr
			}
		}
		if err != nil {
			return err
		}
		if *bulkNotes {
			// What the trigger would have made (one per person in custody
			// whom their embassy may see), with due times from detention and
			// 85% acknowledged within 0–96 hours.
			if err := owner.Exec(`INSERT INTO consular_notifications (person_id, country, episode, due_at, acknowledged_at)
				SELECT id, nationality, GREATEST(custody_episode, 1), COALESCE(detained_at, created_at),
				       CASE WHEN random() < 0.85 THEN COALESCE(detained_at, created_at) + random() * interval '96 hours' END
				  FROM persons
				 WHERE custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation')
				   AND cb_consular_conditions(custody_status, consular_notification, trafficking_flag, victim_consents_to_embassy)
				ON CONFLICT DO NOTHING`).Error; err != nil {
				return fmt.Errorf("bulk notifications: %w", err)
			}
			if err := owner.Exec(`ANALYZE consular_notifications`).Error; err != nil {
				return err
			}
		}
		logf("seeded in %s", time.Since(start).Round(time.Second))
	}
	var sizes struct{ Persons, Cases, Notifications int64 }
	if err := owner.Raw(`SELECT (SELECT count(*) FROM persons) AS persons, (SELECT count(*) FROM cases) AS cases,
		(SELECT count(*) FROM consular_notifications) AS notifications`).Scan(&sizes).Error; err != nil {
		return err
	}
	// The aggregates agree with a recount (the triggers saw the COPY).
	var drift int64
	if err := owner.Raw(`SELECT count(*) FROM (SELECT nationality, custody_status, count(*) AS n FROM persons GROUP BY 1, 2) r
		FULL JOIN (SELECT nationality, custody_status, sum(n) AS n FROM stats_person_counts GROUP BY 1, 2 HAVING sum(n) <> 0) s USING (nationality, custody_status)
		WHERE r.n IS DISTINCT FROM s.n`).Scan(&drift).Error; err != nil {
		return err
	}
	base := store.WithDB(ctx, app)
	fmt.Fprintf(stdout, "Database: %d persons, %d cases, %d consular notifications; aggregates differing from a recount: %d groups.\n\n",
		sizes.Persons, sizes.Cases, sizes.Notifications, drift)
	fmt.Fprintf(stdout, "| figure | principal | runs | p50 | p95 | max |\n|---|---|---|---|---|---|\n")
	for _, account := range []string{"moi-coordinator", "gdi-admin"} {
		pr, err := principal(ctx, owner, account)
		if err != nil {
			return err
		}
		pctx := access.WithPrincipal(base, pr)
		for _, f := range []struct {
			name string
			run  func() error
		}{
			{"overview", func() error { _, err := stats.GetOverview(pctx, 72*time.Hour); return err }},
			{"- of which persons by nationality", part(pctx, `SELECT count(*) FROM cb_stats_persons()`)},
			{"- of which cases by status and age", part(pctx, `SELECT count(*) FROM cb_stats_cases()`)},
			{"- of which notification delay", part(pctx, `SELECT count(*) FROM cb_stats_notifications(interval '72 hours')`)},
			{"timeseries (24 months)", func() error {
				_, err := stats.GetTimeseries(pctx, time.Now().AddDate(-2, 0, 0), time.Now())
				return err
			}},
		} {
			var ds []time.Duration
			for range *iterations {
				s := time.Now()
				if err := f.run(); err != nil {
					return fmt.Errorf("%s as %s: %w", f.name, account, err)
				}
				ds = append(ds, time.Since(s))
			}
			slices.Sort(ds)
			q := func(p float64) string {
				return fmt.Sprintf("%.1f ms", float64(ds[int(p*float64(len(ds)-1))].Microseconds())/1000)
			}
			fmt.Fprintf(stdout, "| %s | %s | %d | %s | %s | %s |\n", f.name, account, len(ds), q(0.5), q(0.95), q(1))
		}
	}
	return nil
}

// part times one of the figures' SQL functions alone.
func part(ctx context.Context, sql string) func() error {
	return func() error {
		return store.WithTx(ctx, func(ctx context.Context) error {
			var n int64
			return store.DB(ctx).Raw(sql).Scan(&n).Error
		})
	}
}

// principal is a bench principal, or "gdi-admin": an admin of the
// immigration department (who sees no case content, yet reads figures).
func principal(ctx context.Context, owner *gorm.DB, account string) (access.Principal, error) {
	if account != "gdi-admin" {
		return bench.Principal(ctx, owner, account)
	}
	var row struct {
		ID   uuid.UUID
		Code string
		Name string
	}
	if err := owner.WithContext(ctx).Raw(`SELECT id, code, name FROM agencies WHERE code = 'gdi'`).Scan(&row).Error; err != nil || row.ID == uuid.Nil {
		return access.Principal{}, fmt.Errorf("look up agency gdi: %v", err)
	}
	return access.Principal{UserID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(account)), Subject: account, Name: account,
		AgencyID: row.ID, AgencyCode: row.Code, AgencyName: row.Name, Kind: access.KindImmigrationPolice,
		Roles: []access.Role{access.RoleAdmin}}, nil
}
