// Package seed writes synthetic CaseBridge data at scale (`casebridge seed
// --scale N`) for benchmarks and the visibility-at-scale checks in bench/: N
// persons, N/5 cases with 1–10 persons each, a few hundred agencies (the
// national departments, a police office, counter-trafficking office and court
// per province, an embassy per country), shares, trafficking flags, custody
// and deportation data with realistic proportions.
//
// Rows go in with COPY (pgx CopyFrom), in one transaction, as the owner role
// (which Row-Level Security does not filter). The trigger that maintains
// persons.linked_cases and cases.possible_victim on every case_persons row
// would make the link COPY row-by-row again, so the generator computes both
// derived columns itself, writes them with the rows, disables that one
// trigger inside the transaction only (other sessions never see it disabled:
// ALTER TABLE is transactional) and, before committing, checks both columns
// against the links in bulk SQL over the whole database. Nothing else is
// dropped or disabled: constraints, foreign keys and indexes are maintained
// as rows arrive. VACUUM (ANALYZE) runs at the end, as autovacuum would on a
// live system, so plans and index-only scans see real statistics.
//
// The same seed gives the same data (a seeded PCG generator); a second run
// on the same database adds another N persons with fresh identifiers.
package seed

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Options tunes a run.
type Options struct {
	// Persons to create; cases are Persons/5 (at least 1).
	Persons int
	// Seed of the random generator (mixed with the number of persons
	// already in the database, so repeated runs never collide).
	Seed uint64
	// Now is the reference time for dates; zero means time.Now().
	Now time.Time
	// Vacuum runs VACUUM (ANALYZE) on the seeded tables after the commit
	// (else only ANALYZE).
	Vacuum bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
}

// Step is one timed phase of a run.
type Step struct {
	Name     string
	Rows     int
	Duration time.Duration
}

// Result counts what a run wrote and how long each phase took.
type Result struct {
	Agencies      int // agencies in the database after the run
	Persons       int
	Cases         int
	Links         int
	Shares        int
	StatusHistory int
	Steps         []Step
	Total         time.Duration
}

// String renders the result as the lines `casebridge seed` prints.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seeded %d persons, %d cases, %d case-person links, %d shares, %d status changes (%d agencies) in %s\n",
		r.Persons, r.Cases, r.Links, r.Shares, r.StatusHistory, r.Agencies, r.Total.Round(time.Millisecond))
	for _, s := range r.Steps {
		if s.Rows > 0 {
			fmt.Fprintf(&b, "  %-28s %9d rows  %10s  (%.0f rows/s)\n", s.Name, s.Rows, s.Duration.Round(time.Millisecond),
				float64(s.Rows)/s.Duration.Seconds())
		} else {
			fmt.Fprintf(&b, "  %-28s %9s       %10s\n", s.Name, "", s.Duration.Round(time.Millisecond))
		}
	}
	return b.String()
}

// Run seeds the database at ownerURL (which must be migrated) as described
// in the package comment.
func Run(ctx context.Context, ownerURL string, opt Options) (Result, error) {
	if opt.Persons < 1 {
		return Result{}, errors.New("seed: persons must be at least 1")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC().Truncate(time.Second)
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	start := time.Now()
	var res Result
	step := func(name string, rows int, since time.Time) {
		d := time.Since(since)
		res.Steps = append(res.Steps, Step{Name: name, Rows: rows, Duration: d})
		logf("%s: %d rows in %s", name, rows, d.Round(time.Millisecond))
	}

	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return res, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	// A big load: room to sort and build, and fewer, larger merges of the
	// GIN indexes' pending lists (session settings only; VACUUM at the end
	// flushes what is pending).
	if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '256MB'; SET work_mem = '256MB'; SET gin_pending_list_limit = '64MB'"); err != nil {
		return res, fmt.Errorf("seed: configure session: %w", err)
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck

	t := time.Now()
	dir, err := ensureAgencies(ctx, tx, ScaleAgencies())
	if err != nil {
		return res, err
	}
	res.Agencies = len(dir.all)
	var existing int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM persons").Scan(&existing); err != nil {
		return res, fmt.Errorf("seed: count persons: %w", err)
	}
	counters, err := loadCounters(ctx, tx)
	if err != nil {
		return res, err
	}
	step("agencies", len(dir.all), t)

	t = time.Now()
	w := newWorld(opt, uint64(existing), dir, counters) // #nosec G115 -- existing is a row count, never negative
	w.plan()
	step("generate plan", 0, t)

	// Facilities are a managed list: register the generator's before the
	// persons that name them.
	for i, name := range facilities {
		if _, err := tx.Exec(ctx, `INSERT INTO facilities (name, kind) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			name, facilityKinds[i]); err != nil {
			return res, fmt.Errorf("seed: facility %s: %w", name, err)
		}
	}

	copies := []struct {
		name  string
		table string
		cols  []string
		src   pgx.CopyFromSource
	}{
		{"copy persons", "persons", personColumns, w.personRows()},
		{"copy cases", "cases", caseColumns, w.caseRows()},
		{"copy case_persons", "case_persons", linkColumns, w.linkRows()},
		{"copy shares", "shares", shareColumns, w.shareRows()},
		{"copy case_status_history", "case_status_history", historyColumns, w.historyRows()},
	}
	for _, c := range copies {
		if c.table == "persons" {
			// Every facility the generator names was registered above; the
			// per-row check would only cost time.
			if _, err := tx.Exec(ctx, "ALTER TABLE persons DISABLE TRIGGER persons_facility_check"); err != nil {
				return res, fmt.Errorf("seed: disable facility check: %w", err)
			}
		}
		if c.table == "case_persons" {
			// See the package comment: derived columns are written with
			// the rows and checked below.
			if _, err := tx.Exec(ctx, "ALTER TABLE case_persons DISABLE TRIGGER case_persons_linked"); err != nil {
				return res, fmt.Errorf("seed: disable link trigger: %w", err)
			}
		}
		t = time.Now()
		n, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, c.src)
		if err != nil {
			return res, fmt.Errorf("seed: %s: %w", c.name, err)
		}
		step(c.name, int(n), t)
		if c.table == "persons" {
			if _, err := tx.Exec(ctx, "ALTER TABLE persons ENABLE TRIGGER persons_facility_check"); err != nil {
				return res, fmt.Errorf("seed: enable facility check: %w", err)
			}
		}
		if c.table == "case_persons" {
			if _, err := tx.Exec(ctx, "ALTER TABLE case_persons ENABLE TRIGGER case_persons_linked"); err != nil {
				return res, fmt.Errorf("seed: enable link trigger: %w", err)
			}
		}
	}
	res.Persons, res.Cases, res.Links = w.n, w.m, len(w.linkPerson)
	res.Shares, res.StatusHistory = len(w.shares), w.historyCount

	t = time.Now()
	if err := saveCounters(ctx, tx, w.counters); err != nil {
		return res, err
	}
	step("reference counters", len(w.counters), t)

	t = time.Now()
	if err := CheckDerived(ctx, tx); err != nil {
		return res, err
	}
	step("check derived columns", 0, t)

	t = time.Now()
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("seed: commit: %w", err)
	}
	step("commit", 0, t)

	t = time.Now()
	verb := "ANALYZE"
	if opt.Vacuum {
		verb = "VACUUM (ANALYZE)"
	}
	for _, table := range []string{"agencies", "persons", "cases", "case_persons", "shares", "case_status_history", "case_reference_counters"} {
		if _, err := conn.Exec(ctx, verb+" "+table); err != nil {
			return res, fmt.Errorf("seed: %s %s: %w", verb, table, err)
		}
	}
	step(strings.ToLower(verb), 0, t)
	res.Total = time.Since(start)
	return res, nil
}

// CheckDerived checks persons.linked_cases and cases.possible_victim against
// the links and flags of the whole database, in bulk.
func CheckDerived(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) error {
	var badPersons, badCases int64
	err := q.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM persons p
		          LEFT JOIN (SELECT person_id, count(*) AS n FROM case_persons GROUP BY person_id) l
		                 ON l.person_id = p.id
		         WHERE p.linked_cases <> COALESCE(l.n, 0)),
		       (SELECT count(*) FROM cases c
		          LEFT JOIN (SELECT DISTINCT cp.case_id FROM case_persons cp JOIN persons p ON p.id = cp.person_id
		                      WHERE p.trafficking_flag IN ('suspected', 'identified')) v ON v.case_id = c.id
		         WHERE c.possible_victim <> (v.case_id IS NOT NULL))`).Scan(&badPersons, &badCases)
	if err != nil {
		return fmt.Errorf("seed: check derived columns: %w", err)
	}
	if badPersons > 0 || badCases > 0 {
		return fmt.Errorf("seed: derived columns disagree with the links: %d persons.linked_cases, %d cases.possible_victim", badPersons, badCases)
	}
	return nil
}

// directory is the agencies of the database, by role in the generator.
type directory struct {
	all       []agencyRow
	byCode    map[string]int
	embassyOf map[string]int // country → agency index
}

type agencyRow struct {
	id      pgtype.UUID
	code    string
	kind    string
	country string
}

func ensureAgencies(ctx context.Context, tx pgx.Tx, want []Agency) (*directory, error) {
	batch := &pgx.Batch{}
	for _, a := range want {
		var country any
		if a.Country != "" {
			country = a.Country
		}
		batch.Queue(`INSERT INTO agencies (code, name, kind, country) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code) DO NOTHING`, a.Code, a.Name, a.Kind, country)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("seed: create agencies: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT id, code, kind, COALESCE(country, '') FROM agencies WHERE enabled ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("seed: list agencies: %w", err)
	}
	d := &directory{byCode: map[string]int{}, embassyOf: map[string]int{}}
	for rows.Next() {
		var a agencyRow
		if err := rows.Scan(&a.id, &a.code, &a.kind, &a.country); err != nil {
			return nil, fmt.Errorf("seed: list agencies: %w", err)
		}
		d.byCode[a.code] = len(d.all)
		if a.kind == "embassy" {
			if _, ok := d.embassyOf[a.country]; !ok || a.code == embassyCode(a.country) {
				d.embassyOf[a.country] = len(d.all)
			}
		}
		d.all = append(d.all, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: list agencies: %w", err)
	}
	for _, a := range want {
		if _, ok := d.byCode[a.Code]; !ok {
			return nil, fmt.Errorf("seed: agency %s exists but is disabled", a.Code)
		}
	}
	return d, nil
}

type counterKey struct {
	agency int
	year   int
}

func loadCounters(ctx context.Context, tx pgx.Tx) (map[pgtype.UUID]map[int]int64, error) {
	rows, err := tx.Query(ctx, "SELECT agency_id, year, last FROM case_reference_counters")
	if err != nil {
		return nil, fmt.Errorf("seed: read reference counters: %w", err)
	}
	out := map[pgtype.UUID]map[int]int64{}
	for rows.Next() {
		var id pgtype.UUID
		var year int
		var last int64
		if err := rows.Scan(&id, &year, &last); err != nil {
			return nil, fmt.Errorf("seed: read reference counters: %w", err)
		}
		if out[id] == nil {
			out[id] = map[int]int64{}
		}
		out[id][year] = last
	}
	return out, rows.Err()
}

func saveCounters(ctx context.Context, tx pgx.Tx, counters map[counterKey]*counter) error {
	batch := &pgx.Batch{}
	for k, c := range counters {
		batch.Queue(`INSERT INTO case_reference_counters (agency_id, year, last) VALUES ($1, $2, $3)
			ON CONFLICT (agency_id, year) DO UPDATE
			SET last = GREATEST(case_reference_counters.last, EXCLUDED.last)`, c.agency, k.year, c.last)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("seed: save reference counters: %w", err)
	}
	return nil
}

// NewUUID draws a random (version 4) UUID from r, so that ids are
// reproducible from the seed.
func NewUUID(r *rand.Rand) pgtype.UUID {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return pgtype.UUID{Bytes: b, Valid: true}
}
