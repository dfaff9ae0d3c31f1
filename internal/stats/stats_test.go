package stats_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/stats"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestFiguresMatchHandCounts builds the authorization world plus a few
// persons with known dates, changes some of them, and checks every figure
// against counts made by hand from the same data.
func TestFiguresMatchHandCounts(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	app, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	w := authztest.New()
	w.Insert(t, owner)
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := owner.Exec(sql, args...).Error; err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	gdi := w.Agencies["gdi"].ID
	add := func(nat, custody string, detained, deported *time.Time, via string) {
		exec(`INSERT INTO persons (family_name, nationality, custody_status, detained_at, deported_at, deported_via, created_by_agency_id)
			VALUES ('Extra', ?, ?, ?, ?, ?, ?)`, nat, custody, detained, deported, via, gdi)
	}
	at := func(y int, m time.Month, d int) *time.Time { t := time.Date(y, m, d, 8, 0, 0, 0, time.UTC); return &t }
	add("CN", "detained", at(2026, 9, 10), nil, "")
	add("CN", "detained", at(2026, 9, 28), nil, "")
	add("VN", "detained", at(2026, 10, 2), nil, "")
	add("CN", "deported", at(2026, 10, 1), at(2026, 11, 5), "Phnom Penh International Airport")
	add("VN", "deported", at(2026, 10, 3), at(2026, 11, 20), "Bavet international border checkpoint")
	// Changes after insertion: the triggers move the counts.
	exec(`UPDATE persons SET custody_status = 'released' WHERE id = ?`, w.Person("vn-detained").ID)
	exec(`UPDATE persons SET trafficking_flag = 'suspected' WHERE id = ?`, w.Person("scratch-gdi").ID)
	exec(`UPDATE persons SET trafficking_flag = 'none' WHERE id = ?`, w.Person("scratch-gdi").ID)     // stays counted: it happened
	exec(`UPDATE persons SET trafficking_flag = 'identified' WHERE id = ?`, w.Person("cn-victim").ID) // already counted
	exec(`INSERT INTO cases (reference, owner_agency_id, title, kind, status, created_at)
		VALUES ('old-1', ?, 'Old case', 'illegal_work', 'closed', now() - interval '100 days')`, gdi)

	// By hand: the world's persons (after the changes) and the extras.
	persons := map[string]int64{}
	for _, p := range w.Persons {
		custody := p.Custody
		if p.Name == "vn-detained" {
			custody = "released"
		}
		persons[p.Nationality+"/"+custody]++
	}
	persons["CN/detained"] += 2
	persons["VN/detained"]++
	persons["CN/deported"]++
	persons["VN/deported"]++
	cases := map[string]int64{}
	for _, c := range w.Cases {
		cases[c.Status+"/under_30_days"]++
	}
	cases["closed/90_to_364_days"]++
	now := stats.MonthStart(time.Now()).Format("2006-01")
	detentions := map[string]int64{"2026-09": 2, "2026-10": 3}
	deportations := map[string]int64{"2025-11/other": 1, "2026-11/airport": 1, "2026-11/land_checkpoint": 1}
	// cn-victim, cn-victim-consents, cn-ncct flagged at creation; scratch-gdi flagged now.
	victims := map[string]int64{now: 4}

	base := testenv.Context(t, app)
	ctx := access.WithPrincipal(base, w.Principal("moi-coordinator").Access())
	o, err := stats.GetOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, p := range o.Persons {
		got[p.Nationality+"/"+p.CustodyStatus] = p.Count
	}
	check(t, "persons by nationality and custody", got, persons)
	got = map[string]int64{}
	for _, c := range o.Cases {
		got[c.Status+"/"+c.AgeBucket] = c.Count
	}
	check(t, "cases by status and age", got, cases)

	ts, err := stats.GetTimeseries(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	series := func(ps []stats.Point, withKey bool) map[string]int64 {
		m := map[string]int64{}
		for _, p := range ps {
			k := p.Month.Format("2006-01")
			if withKey {
				k += "/" + p.Key
			}
			m[k] = p.Count
		}
		return m
	}
	check(t, "detentions per month", series(ts.Detentions, false), detentions)
	check(t, "deportations per month and route", series(ts.Deportations, true), deportations)
	check(t, "possible victims per month", series(ts.Victims, false), victims)

	// A narrower window leaves the earlier months out.
	ts, err = stats.GetTimeseries(ctx, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(ts.Detentions) != 1 || ts.Detentions[0].Count != 3 || len(ts.Deportations) != 0 {
		t.Fatalf("October only: %v %+v", err, ts)
	}

	// The aggregates equal a full recount (the triggers lost nothing).
	var drift int64
	if err := owner.Raw(`SELECT count(*) FROM (
			SELECT nationality, custody_status, count(*) AS n FROM persons GROUP BY 1, 2) r
		FULL JOIN (SELECT * FROM stats_person_counts WHERE n > 0) s USING (nationality, custody_status)
		WHERE r.n IS DISTINCT FROM s.n`).Scan(&drift).Error; err != nil || drift != 0 {
		t.Fatalf("aggregates differ from a recount in %d groups (%v)", drift, err)
	}
}

func check(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if fmt.Sprint(sortedMap(got)) != fmt.Sprint(sortedMap(want)) {
		t.Errorf("%s:\n got %v\nwant %v", name, sortedMap(got), sortedMap(want))
	}
}

func sortedMap(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

// TestWhoReadsFigures: coordinators and admins; everyone else 403 (the
// routes exist for every signed-in principal; the figures are refused with
// the missing permission stats.read). The application role cannot read the
// aggregate tables directly, nor call the functions for another principal.
func TestWhoReadsFigures(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	app, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	w := authztest.New()
	w.Insert(t, owner)
	base := testenv.Context(t, app)
	for _, p := range w.Principals {
		ctx := access.WithPrincipal(base, p.Access())
		_, err := stats.GetOverview(ctx)
		_, err2 := stats.GetTimeseries(ctx, time.Now().AddDate(-1, 0, 0), time.Now())
		allowed := p.Has(access.RoleAdmin) || p.Agency.Kind == access.KindInteriorMinistry && p.Has(access.RoleCoordinator)
		for _, e := range []error{err, err2} {
			switch {
			case allowed && e != nil:
				t.Errorf("%s: %v", p.Name, e)
			case !allowed && !errors.Is(e, apperr.ErrForbidden):
				t.Errorf("%s: %v, want 403", p.Name, e)
			}
		}
	}
	// Straight to the tables or the functions, as an embassy: refused.
	ctx := access.WithPrincipal(base, w.Principal("emb-cn-liaison").Access())
	for _, q := range []string{`SELECT count(*) FROM stats_person_counts`, `SELECT count(*) FROM stats_person_months`,
		`SELECT count(*) FROM cb_stats_persons()`, `SELECT count(*) FROM cb_stats_cases()`} {
		err := store.WithTx(ctx, func(ctx context.Context) error {
			var n int64
			return store.DB(ctx).Raw(q).Scan(&n).Error
		})
		if err == nil {
			t.Errorf("%s: allowed to an embassy", q)
		}
	}
	var denied int64
	if err := owner.Raw(`SELECT count(*) FROM audit_events WHERE action LIKE 'stats.%' AND outcome = 'denied'`).Scan(&denied).Error; err != nil || denied == 0 {
		t.Errorf("refusals audited: %d (%v)", denied, err)
	}
	_ = uuid.Nil
}
