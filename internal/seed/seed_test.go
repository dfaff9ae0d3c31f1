package seed_test

import (
	"context"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestSeed(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	res, err := seed.Run(ctx, db.OwnerURL, seed.Options{Persons: 5000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Persons != 5000 || res.Cases != 1000 || res.Links < 3500 || res.Links > 5000 || res.Shares < 200 || res.Agencies < 200 {
		t.Fatalf("result: %+v", res)
	}
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	one := func(sql string) float64 {
		t.Helper()
		var f float64
		if err := conn.QueryRow(ctx, sql).Scan(&f); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
		return f
	}
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"persons", one("SELECT count(*) FROM persons"), 5000, 5000},
		{"cases", one("SELECT count(*) FROM cases"), 1000, 1000},
		{"persons per case", one("SELECT max(n) FROM (SELECT count(*) AS n FROM case_persons GROUP BY case_id) x"), 1, 10},
		{"cases without persons", one("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_persons cp WHERE cp.case_id = c.id)"), 0, 0},
		{"share of Chinese nationals", one("SELECT avg((nationality = 'CN')::int) FROM persons"), 0.50, 0.60},
		{"share of Vietnamese nationals", one("SELECT avg((nationality = 'VN')::int) FROM persons"), 0.12, 0.18},
		{"share flagged suspected or identified", one("SELECT avg((trafficking_flag IN ('suspected', 'identified'))::int) FROM persons"), 0.04, 0.07},
		{"share without a valid passport", one("SELECT avg((passport_status <> 'valid')::int) FROM persons"), 0.5, 0.7},
		{"cases with a possible victim", one("SELECT count(*) FROM cases WHERE possible_victim"), 50, 400},
		{"cases before a court", one("SELECT count(*) FROM cases WHERE status = 'before_court' AND court_agency_id IS NOT NULL"), 20, 300},
		{"deported without a three-year ban", one(`SELECT count(*) FROM persons WHERE custody_status = 'deported'
			AND entry_ban_until <> (deported_at AT TIME ZONE 'UTC')::date + interval '3 years'`), 0, 0},
		{"flagged deported without NCCT's decision", one(`SELECT count(*) FROM persons WHERE custody_status = 'deported'
			AND trafficking_flag IN ('suspected', 'identified') AND NOT ct_proceedings_cleared`), 0, 0},
		{"flagged before a court without NCCT's decision", one(`SELECT count(*) FROM cases c JOIN case_persons cp ON cp.case_id = c.id
			JOIN persons p ON p.id = cp.person_id WHERE c.status IN ('before_court', 'adjudicated')
			AND p.trafficking_flag IN ('suspected', 'identified') AND NOT p.ct_proceedings_cleared`), 0, 0},
		{"active shares", one("SELECT count(*) FROM shares WHERE revoked_at IS NULL AND expires_at > now()"), 100, 250},
		{"expired shares", one("SELECT count(*) FROM shares WHERE revoked_at IS NULL AND expires_at <= now()"), 20, 80},
		{"revoked shares", one("SELECT count(*) FROM shares WHERE revoked_at IS NOT NULL"), 5, 50},
		{"references beyond their counter", one(`SELECT count(*) FROM cases c JOIN case_reference_counters r
			ON r.agency_id = c.owner_agency_id AND r.year = extract(year FROM c.created_at AT TIME ZONE 'UTC')
			WHERE right(c.reference, 6)::int > r.last`), 0, 0},
		{"status history rows", one("SELECT count(*) FROM case_status_history"), 2000, 5000},
		{"statistics gathered", one("SELECT reltuples FROM pg_class WHERE relname = 'persons'"), 4000, 6000},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max || math.IsNaN(c.got) {
			t.Errorf("%s: %v, want %v..%v", c.what, c.got, c.min, c.max)
		}
	}
	if err := seed.CheckDerived(ctx, conn); err != nil {
		t.Fatal(err)
	}

	// A second run adds as many again, with fresh identifiers and
	// references, and the link trigger is back on.
	if _, err := seed.Run(ctx, db.OwnerURL, seed.Options{Persons: 5000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if n := one("SELECT count(*) FROM persons"); n != 10000 {
		t.Fatalf("persons after two runs: %v", n)
	}
	var enabled string
	if err := conn.QueryRow(ctx, "SELECT tgenabled FROM pg_trigger WHERE tgname = 'case_persons_linked'").Scan(&enabled); err != nil || enabled != "O" {
		t.Fatalf("link trigger after seeding: %q (%v), want enabled (O)", enabled, err)
	}
	if err := seed.CheckDerived(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

// The same seed on an empty database gives the same data.
func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	var first [2]string
	for i := range 2 {
		db := testenv.NewDatabase(t)
		if _, err := seed.Run(t.Context(), db.OwnerURL, seed.Options{Persons: 300, Seed: 42}); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(t.Context(), db.OwnerURL)
		if err != nil {
			t.Fatal(err)
		}
		var digest string
		err = conn.QueryRow(t.Context(), `SELECT md5(string_agg(id::text || family_name || given_names || nationality || custody_status
			|| trafficking_flag || linked_cases, ',' ORDER BY id)) FROM persons`).Scan(&digest)
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		first[i] = digest
	}
	if first[0] != first[1] {
		t.Fatalf("two runs with the same seed differ: %s vs %s", first[0], first[1])
	}
}
