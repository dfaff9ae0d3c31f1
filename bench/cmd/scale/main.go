// Command scale seeds a private PostgreSQL cluster with N persons (default
// 1,000,000) and N/5 cases, then explains and times the lists that
// Row-Level Security filters, as the server runs them. It prints a Markdown
// report (the source of docs/benchmarks.md, "Visibility at scale") and
// exits 1 when a list plan reads a large table sequentially.
//
//	go run ./bench/cmd/scale -persons 1000000 -data-dir bench/out/scale-1m
//
// The cluster is kept in -data-dir, so a second run reuses the data (it
// seeds only up to -persons).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/casebridge/casebridge/bench"
	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	persons := fs.Int("persons", 1_000_000, "persons to seed (cases: persons/5)")
	dataDir := fs.String("data-dir", "bench/out/scale", "directory of the private cluster (kept between runs)")
	iterations := fs.Int("n", 500, "timed runs per query")
	report := fs.String("report", "", "also write the Markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, "scale: "+f+"\n", a...) }
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

	var out strings.Builder
	var have int64
	if err := owner.Raw("SELECT count(*) FROM persons").Scan(&have).Error; err != nil {
		return err
	}
	if int(have) < *persons {
		logf("seeding %d persons (the database has %d)", *persons-int(have), have)
		res, err := seed.Run(ctx, ownerURL, seed.Options{Persons: *persons - int(have), Seed: 1, Vacuum: true, Log: logf})
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "### Seed\n\n```\n%s```\n\n", res.String())
	} else {
		logf("the database already holds %d persons; not seeding", have)
	}
	var sizes struct{ Persons, Cases, Links, Shares, Agencies int64 }
	if err := owner.Raw(`SELECT (SELECT count(*) FROM persons) AS persons, (SELECT count(*) FROM cases) AS cases,
		(SELECT count(*) FROM case_persons) AS links, (SELECT count(*) FROM shares) AS shares,
		(SELECT count(*) FROM agencies) AS agencies`).Scan(&sizes).Error; err != nil {
		return err
	}
	var pgVersion string
	_ = owner.Raw("SHOW server_version").Scan(&pgVersion).Error
	fmt.Fprintf(&out, "Database: PostgreSQL %s; %d persons, %d cases, %d case–person links, %d shares, %d agencies.\n\n",
		pgVersion, sizes.Persons, sizes.Cases, sizes.Links, sizes.Shares, sizes.Agencies)

	principals := map[string]access.Principal{}
	for _, p := range bench.Principals {
		pr, err := bench.Principal(ctx, owner, p.Account)
		if err != nil {
			return err
		}
		principals[p.Account] = pr
	}
	country := principals["emb-cn-liaison"].Country
	cur, err := bench.FindCursors(ctx, owner, country)
	if err != nil {
		return err
	}
	queries := bench.Queries(cur)

	fmt.Fprintf(&out, "### Plans (EXPLAIN (ANALYZE, BUFFERS), as casebridge_app with the principal set)\n\n")
	fmt.Fprintf(&out, "| list | principal | scans | execution |\n|---|---|---|---|\n")
	var failed []string
	var texts strings.Builder
	for _, q := range queries {
		plan, err := bench.Explain(ctx, app, principals[q.Account], q, bench.Options{})
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "| %s | %s | %s | %.2f ms |\n", q.Name, q.Account, strings.Join(dedupe(plan.Nodes), "; "), plan.Time)
		fmt.Fprintf(&texts, "-- %s (%s)\n%s\n\n", q.Name, q.Account, plan.Text)
		if len(plan.SeqScans) > 0 {
			failed = append(failed, fmt.Sprintf("%s: Seq Scan on %s", q.Name, strings.Join(plan.SeqScans, ", ")))
		}
	}
	fmt.Fprintf(&out, "\n")

	fmt.Fprintf(&out, "### Latency of one page (up to %d runs each, client wall time of the whole transaction)\n\n", *iterations)
	fmt.Fprintf(&out, "| list | runs | p50 | p99 | rows | p50 / anchor A | p50 / anchor B |\n|---|---|---|---|---|---|---|\n")
	var pk bench.Query
	for _, q := range queries {
		if q.Anchor {
			pk = q
		}
	}
	gdi := principals["gdi-officer"]
	anchorB, err := bench.Measure(ctx, app, gdi, pk, *iterations, false)
	if err != nil {
		return err
	}
	for _, q := range queries {
		if q.Anchor {
			continue
		}
		p := principals[q.Account]
		lat, err := bench.Measure(ctx, app, p, q, *iterations, false)
		if err != nil {
			return err
		}
		anchorA, err := bench.Measure(ctx, owner, p, q, *iterations, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "| %s | %d | %s | %s | %d | %.2f (A: %s) | %.2f |\n", q.Name, lat.N, ms(lat.P50), ms(lat.P99), lat.Rows,
			ratio(lat.P50, anchorA.P50), ms(anchorA.P50), ratio(lat.P50, anchorB.P50))
	}
	fmt.Fprintf(&out, "\nAnchor A: the same statement with the same principal settings, run as the owner role, which Row-Level Security does not filter: "+
		"the ratio is what the policies cost (the access functions the statement calls still run). "+
		"Anchor B: one person by primary key in a principal's transaction (p50 %s, p99 %s): the fixed cost of a request's transaction.\n\n",
		ms(anchorB.P50), ms(anchorB.P99))
	fmt.Fprintf(&out, "### EXPLAIN output\n\n```\n%s```\n", texts.String())

	fmt.Fprint(stdout, out.String())
	if *report != "" {
		if err := os.WriteFile(*report, []byte(out.String()), 0o644); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("sequential scans of large tables:\n  %s", strings.Join(failed, "\n  "))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
