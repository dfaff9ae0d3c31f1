package demo

import (
	"testing"

	"github.com/casebridge/casebridge/internal/testenv"
)

// TestImportsAndFigures: the Tuol Kork raid's import report is there (the
// committed spreadsheet of its 225 detainees and the refused draft with
// three bad rows), and the oversight aggregates show the seeds' situation:
// persons by nationality and custody equal a recount, and the November
// deportations appear by route (airport and land checkpoints).
func TestImportsAndFigures(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	if _, err := Load(ctx, db.OwnerURL); err != nil {
		t.Fatal(err)
	}
	owner := ownerConn(t, db.OwnerURL)
	var committed, created, invalid, bad int
	if err := owner.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE i.status = 'committed'),
			COALESCE(sum(jsonb_array_length(i.result->'created')) FILTER (WHERE i.status = 'committed'), 0),
			count(*) FILTER (WHERE i.status = 'invalid'),
			COALESCE(sum(jsonb_array_length(i.errors)) FILTER (WHERE i.status = 'invalid'), 0)
		FROM imports i JOIN cases c ON c.id = i.case_id WHERE c.reference = $1`, RefTuolKork).
		Scan(&committed, &created, &invalid, &bad); err != nil {
		t.Fatal(err)
	}
	if committed != 1 || created != 225 || invalid != 1 || bad != 3 {
		t.Fatalf("Tuol Kork imports: %d committed creating %d, %d invalid with %d bad rows", committed, created, invalid, bad)
	}
	var drift int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM (SELECT nationality, custody_status, count(*) AS n FROM persons GROUP BY 1, 2) r
		FULL JOIN (SELECT nationality, custody_status, sum(n) AS n FROM stats_person_counts GROUP BY 1, 2 HAVING sum(n) <> 0) s USING (nationality, custody_status)
		WHERE r.n IS DISTINCT FROM s.n`).Scan(&drift); err != nil || drift != 0 {
		t.Fatalf("persons figures differ from a recount in %d groups (%v)", drift, err)
	}
	rows, err := owner.Query(ctx, `SELECT s.key, s.n, (SELECT count(*) FROM persons p WHERE p.deported_at IS NOT NULL
			AND date_trunc('month', p.deported_at AT TIME ZONE 'UTC')::date = s.month AND cb_stats_route(p.deported_via) = s.key)
		FROM (SELECT key, month, sum(n) AS n FROM stats_person_months WHERE metric = 'deportation' AND month = '2026-11-01'
		      GROUP BY 1, 2) s`)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]int64{}
	for rows.Next() {
		var key string
		var n, recount int64
		if err := rows.Scan(&key, &n, &recount); err != nil {
			t.Fatal(err)
		}
		if n != recount {
			t.Errorf("November deportations via %s: %d, recount %d", key, n, recount)
		}
		routes[key] = n
	}
	if routes["airport"] == 0 || routes["land_checkpoint"] == 0 {
		t.Errorf("November deportations by route: %v, want both airport and land checkpoint", routes)
	}
	t.Logf("November 2026 deportations by route: %v", routes)
}
