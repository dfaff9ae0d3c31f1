package cases_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// rows runs a plain query as the principal of ctx and returns its rows.
func rows(t *testing.T, ctx context.Context, sql string) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(sql).Scan(&out).Error
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func str(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case [16]byte:
		return uuid.UUID(x).String()
	}
	return fmt.Sprint(v)
}

func column(rs []map[string]any, cols ...string) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = str(r[c])
		}
		out = append(out, strings.Join(parts, "/"))
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	if s == nil {
		s = []string{}
	}
	sort.Strings(s)
	return s
}

func personByID(w *authztest.World, id string) *authztest.Person {
	for _, x := range w.Persons {
		if x.ID.String() == id {
			return x
		}
	}
	panic("no person " + id)
}

// TestDatabaseRefusesToLeak connects as the application role, sets each
// principal of the world and reads every protected table with a plain
// SELECT *: exactly the rows ACCESS.md allows come back, without the API.
// It also holds the RLS policy on cases, cb_case_access and
// cb_person_access to the model for every principal and object.
func TestDatabaseRefusesToLeak(t *testing.T) {
	t.Parallel()
	checkWorld(t, authztest.New())
}

// TestRandomWorldsAgreeWithTheModel builds worlds of random situations
// (authztest.Random) and holds the database to the independent model of
// ACCESS.md in each, as TestDatabaseRefusesToLeak does for the fixed world.
// `make test` uses a fixed seed; CASEBRIDGE_AUTHZ_SEED=random draws a fresh
// one, and a failure logs the seed to replay it.
func TestRandomWorldsAgreeWithTheModel(t *testing.T) {
	t.Parallel()
	seed := authztest.Seed(t)
	for i := range uint64(4) {
		t.Run(fmt.Sprintf("world-%d", seed+i), func(t *testing.T) {
			t.Parallel()
			checkWorld(t, authztest.Random(seed+i))
		})
	}
}

// checkWorld writes w into a fresh database and compares what each
// principal sees with the model, table by table and function by function.
func checkWorld(t *testing.T, w *authztest.World) {
	d := testenv.NewDatabase(t)
	app, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	w.Insert(t, owner)
	base := testenv.Context(t, app)

	// Without a principal a transaction sees nothing at all.
	for _, table := range []string{"cases", "persons", "case_persons", "shares", "case_status_history",
		"case_reference_counters", "consular_nationals", "idempotency_keys"} {
		if n := len(rows(t, base, "SELECT * FROM "+table)); n != 0 {
			t.Errorf("no principal: SELECT * FROM %s returned %d rows", table, n)
		}
	}

	consularColumns := []string{"date_of_birth", "deported_at", "deported_via", "detained_at", "entry_ban_until",
		"facility", "family_name", "given_names", "id", "nationality", "passport_number", "sex", "custody_status"}
	sort.Strings(consularColumns)
	checks := 0
	check := func(p *authztest.Principal, what string, got, want []string) {
		t.Helper()
		checks++
		if !slices.Equal(sorted(got), sorted(want)) {
			t.Errorf("%s: %s\n got  %v\n want %v", p.Name, what, got, want)
		}
	}
	for _, p := range w.Principals {
		ctx := access.WithPrincipal(base, p.Access())

		var wantCases, wantPersons, wantConsular, wantLinks, wantShares, wantHistory, wantCounters, wantKeys,
			wantSummaries, wantDocs []string
		for _, c := range w.Cases {
			if !w.Sees(p, c) {
				continue
			}
			wantCases = append(wantCases, c.ID.String())
			for _, x := range w.CasePersons(p, c) {
				wantLinks = append(wantLinks, c.ID.String()+"/"+x.ID.String())
			}
			if c.Status != "open" {
				wantHistory = append(wantHistory, c.ID.String())
			}
		}
		for _, x := range w.Persons {
			if w.PersonFull(p, x) {
				wantPersons = append(wantPersons, x.ID.String())
			}
			if w.ConsularMatch(p, x) {
				wantConsular = append(wantConsular, x.ID.String())
			}
			if w.PersonFull(p, x) || w.PersonSummary(p, x) {
				wantSummaries = append(wantSummaries, x.ID.String())
			}
		}
		for _, s := range w.Shares {
			if w.ShareVisible(p, s) {
				wantShares = append(wantShares, s.ID.String())
			}
		}
		for _, doc := range w.Documents {
			if w.DocumentReadable(p, doc) {
				wantDocs = append(wantDocs, doc.ID.String())
			}
		}
		if slices.Contains(w.Counters, p.Agency) {
			wantCounters = []string{p.Agency.ID.String()}
		}
		if slices.Contains(w.IdemOwners, p) {
			wantKeys = []string{p.Agency.ID.String() + "/" + p.UserID.String()}
		}

		check(p, "SELECT * FROM cases", column(rows(t, ctx, "SELECT * FROM cases"), "id"), wantCases)
		check(p, "SELECT * FROM persons", column(rows(t, ctx, "SELECT * FROM persons"), "id"), wantPersons)
		check(p, "SELECT * FROM case_persons", column(rows(t, ctx, "SELECT * FROM case_persons"), "case_id", "person_id"), wantLinks)
		check(p, "SELECT * FROM shares", column(rows(t, ctx, "SELECT * FROM shares"), "id"), wantShares)
		check(p, "SELECT * FROM documents", column(rows(t, ctx, "SELECT * FROM documents"), "id"), wantDocs)
		for _, c := range w.Cases {
			var listed []string
			err := store.WithTx(ctx, func(ctx context.Context) error {
				return store.DB(ctx).Raw(`SELECT id::text FROM documents WHERE case_id = ? AND cb_document_listed(person_id)`,
					c.ID).Scan(&listed).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, doc := range w.Documents {
				if doc.Case == c && w.DocumentListed(p, doc) {
					want = append(want, doc.ID.String())
				}
			}
			check(p, "document list of "+c.Name, listed, want)
		}
		check(p, "SELECT * FROM case_status_history", column(rows(t, ctx, "SELECT * FROM case_status_history"), "case_id"), wantHistory)
		check(p, "SELECT * FROM case_reference_counters", column(rows(t, ctx, "SELECT * FROM case_reference_counters"), "agency_id"), wantCounters)
		check(p, "SELECT * FROM idempotency_keys", column(rows(t, ctx, "SELECT * FROM idempotency_keys"), "agency_id", "user_id"), wantKeys)

		summaries := rows(t, ctx, "SELECT * FROM person_summaries")
		check(p, "SELECT * FROM person_summaries", column(summaries, "id"), wantSummaries)
		for _, r := range summaries {
			cols := make([]string, 0, len(r))
			for k := range r {
				cols = append(cols, k)
			}
			check(p, "person_summaries columns", cols,
				[]string{"custody_status", "family_name", "given_names", "id", "nationality", "sex"})
		}

		// Every count over a case's persons counts only what p may see
		// (ACCESS.md: counts follow the records), and the case's person
		// list through cb_case_person_list holds the same persons.
		for _, c := range w.Cases {
			var n int64
			var listed []string
			err := store.WithTx(ctx, func(ctx context.Context) error {
				if err := store.DB(ctx).Raw(`SELECT count(*) FROM case_persons WHERE case_id = ?`, c.ID).Scan(&n).Error; err != nil {
					return err
				}
				return store.DB(ctx).Raw(`SELECT person_id FROM cb_case_person_list(?)`, c.ID).Scan(&listed).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, x := range w.CasePersons(p, c) {
				want = append(want, x.ID.String())
			}
			check(p, "count of case "+c.Name+"'s persons", []string{fmt.Sprint(n)}, []string{fmt.Sprint(len(want))})
			check(p, "cb_case_person_list("+c.Name+")", listed, want)
		}

		nationals := rows(t, ctx, "SELECT * FROM consular_nationals")
		check(p, "SELECT * FROM consular_nationals", column(nationals, "id"), wantConsular)
		for _, r := range nationals {
			cols := make([]string, 0, len(r))
			for k := range r {
				cols = append(cols, k)
			}
			check(p, "consular_nationals columns", cols, consularColumns)
			x := personByID(w, str(r["id"]))
			check(p, "consular facility of "+x.Name, []string{str(r["facility"])}, []string{w.ConsularFacility(x)})
		}

		// Charges: only cases linking the person as detainee or suspect,
		// and only for persons in the consular view.
		for _, x := range w.Persons {
			var kinds []string
			err := store.WithTx(ctx, func(ctx context.Context) error {
				return store.DB(ctx).Raw(`SELECT status FROM cb_consular_charges(?)`, x.ID).Scan(&kinds).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range w.Charges(p, x) {
				want = append(want, c.Status)
			}
			check(p, "charges of "+x.Name, kinds, want)
		}

		// The policy on cases, cb_case_access and the model agree on every
		// case; cb_person_access and the model on every person.
		for _, c := range w.Cases {
			want := w.CaseAccess(p, c)
			var visible bool
			var acc []struct {
				Level   string
				Ceiling *int
			}
			err := store.WithTx(ctx, func(ctx context.Context) error {
				if err := store.DB(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?)`, c.ID).Scan(&visible).Error; err != nil {
					return err
				}
				return store.DB(ctx).Raw(`SELECT level, ceiling FROM cb_case_access(?)`, c.ID).Scan(&acc).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			checks++
			if visible != (len(acc) == 1) {
				t.Errorf("%s on case %s: the RLS policy says visible=%v, cb_case_access returned %d rows", p.Name, c.Name, visible, len(acc))
			}
			got := authztest.Grant{Ceiling: -1}
			if len(acc) == 1 {
				got.Level = acc[0].Level
				if acc[0].Ceiling != nil {
					got.Ceiling = *acc[0].Ceiling
				}
			}
			if got != want {
				t.Errorf("%s on case %s: cb_case_access = %+v, ACCESS.md says %+v", p.Name, c.Name, got, want)
			}
		}
		for _, x := range w.Persons {
			var got *string
			err := store.WithTx(ctx, func(ctx context.Context) error {
				return store.DB(ctx).Raw(`SELECT cb_person_access(?)`, x.ID).Scan(&got).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			checks++
			g := ""
			if got != nil {
				g = *got
			}
			if want := w.Projection(p, x); g != want {
				t.Errorf("%s on person %s: cb_person_access = %q, ACCESS.md says %q", p.Name, x.Name, g, want)
			}
		}
	}
	t.Logf("database-level checks: %d (%d principals)", checks, len(w.Principals))
	fmt.Printf("database-level checks: %d\n", checks)
}

// TestDatabaseGuardsWrites: the writes an application could attempt with
// plain SQL, past the service, are refused by the database itself.
func TestDatabaseGuardsWrites(t *testing.T) {
	t.Parallel()
	d := testenv.NewDatabase(t)
	app, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	w := authztest.New()
	w.Insert(t, owner)
	base := testenv.Context(t, app)
	as := func(name string) context.Context { return access.WithPrincipal(base, w.Principal(name).Access()) }
	exec := func(ctx context.Context, sql string, args ...any) (int64, error) {
		var n int64
		err := store.WithTx(ctx, func(ctx context.Context) error {
			res := store.DB(ctx).Exec(sql, args...)
			n = res.RowsAffected
			return res.Error
		})
		return n, err
	}
	owned, victim := w.Case("owned"), w.Case("victim")
	cases := []struct {
		name    string
		as      string
		sql     string
		args    []any
		code    string // expected SQLSTATE; "" means allowed
		touched int64
	}{
		{"officer cannot hide a case from counter-trafficking", "gdi-officer",
			`UPDATE cases SET possible_victim = false WHERE id = ?`, []any{victim.ID}, "42501", 0},
		{"officer cannot change the status", "gdi-officer",
			`UPDATE cases SET status = 'closed' WHERE id = ?`, []any{owned.ID}, pgerr.InsufficientPrivilege, 0},
		{"officer cannot refer to court", "gdi-officer",
			`UPDATE cases SET court_agency_id = ?, hearing_date = '2026-05-01' WHERE id = ?`,
			[]any{w.Agencies["court-pp"].ID, owned.ID}, pgerr.InsufficientPrivilege, 0},
		{"supervisor cannot refer to a non-court", "gdi-supervisor",
			`UPDATE cases SET status = 'investigation', court_agency_id = ? WHERE id = ?`,
			[]any{w.Agencies["ppm"].ID, owned.ID}, pgerr.CheckViolation, 0},
		{"supervisor cannot refer a case with a possible victim", "gdi-supervisor",
			`UPDATE cases SET status = 'before_court', court_agency_id = ?, hearing_date = '2026-05-01' WHERE id = ?`,
			[]any{w.Agencies["court-pp"].ID, victim.ID}, pgerr.NonPunishment, 0},
		{"officer edits the title", "gdi-officer",
			`UPDATE cases SET title = 'Renamed' WHERE id = ?`, []any{owned.ID}, "", 1},
		{"other agency's officer changes nothing", "ppm-officer",
			`UPDATE cases SET title = 'Renamed' WHERE id = ?`, []any{owned.ID}, "", 0},
		{"officer cannot insert an adjudicated case", "gdi-officer",
			`INSERT INTO cases (reference, owner_agency_id, title, kind, status) VALUES ('X-1', ?, 't', 'smuggling', 'adjudicated')`,
			[]any{w.Agencies["gdi"].ID}, "42501", 0},
		{"officer cannot insert a cleared victim", "gdi-officer",
			`INSERT INTO persons (family_name, nationality, trafficking_flag, created_by_agency_id) VALUES ('X', 'CN', 'identified', ?)`,
			[]any{w.Agencies["gdi"].ID}, pgerr.InsufficientPrivilege, 0},
		{"officer cannot insert ct_proceedings_cleared", "gdi-officer",
			`INSERT INTO persons (family_name, nationality, ct_proceedings_cleared, created_by_agency_id) VALUES ('X', 'CN', true, ?)`,
			[]any{w.Agencies["gdi"].ID}, "42501", 0},
		{"officer cannot link another agency's person", "gdi-officer",
			`INSERT INTO case_persons (case_id, person_id) VALUES (?, ?)`,
			[]any{owned.ID, w.Person("scratch-ppm").ID}, "42501", 0},
		{"officer links an own unlinked person", "gdi-officer",
			`INSERT INTO case_persons (case_id, person_id) VALUES (?, ?)`,
			[]any{owned.ID, w.Person("scratch-gdi").ID}, "", 1},
		{"owner officer cannot clear a victim's proceedings", "gdi-officer",
			`UPDATE persons SET ct_proceedings_cleared = true WHERE id = ?`, []any{w.Person("cn-victim").ID},
			pgerr.InsufficientPrivilege, 0},
		{"no deportation of a possible victim", "gdi-officer",
			`UPDATE persons SET custody_status = 'deported', deported_at = now() WHERE id = ?`,
			[]any{w.Person("cn-victim").ID}, pgerr.NonPunishment, 0},
		{"counter-trafficking cannot clear the proceedings without a recorded decision", "ncct-officer",
			`UPDATE persons SET ct_proceedings_cleared = true WHERE id = ?`, []any{w.Person("cn-victim").ID}, pgerr.NonPunishment, 0},
		{"counter-trafficking cannot clear a possible victim without a recorded decision", "ncct-officer",
			`UPDATE persons SET trafficking_flag = 'cleared' WHERE id = ?`, []any{w.Person("cn-victim").ID}, pgerr.NonPunishment, 0},
		{"the owner cannot record counter-trafficking's decision", "gdi-officer",
			`INSERT INTO screening_decisions (person_id, decision, reason, flag_before) VALUES (?, 'no_objection_to_proceedings', 'r', 'suspected')`,
			[]any{w.Person("cn-victim").ID}, "42501", 0},
		{"counter-trafficking records its decision", "ncct-officer",
			`INSERT INTO screening_decisions (person_id, decision, reason, flag_before) VALUES (?, 'no_objection_to_proceedings', 'interviewed', 'suspected')`,
			[]any{w.Person("cn-victim").ID}, "", 1},
		{"embassy cannot read screening notes through a join", "emb-cn-liaison",
			`UPDATE persons SET facility = facility WHERE screening_notes <> ''`, nil, "", 0},
	}
	for _, c := range cases {
		n, err := exec(as(c.as), c.sql, c.args...)
		got := store.PgCode(err)
		if err != nil && got == "" {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.code {
			t.Errorf("%s: SQLSTATE %q (%v), want %q", c.name, got, err, c.code)
		}
		if err == nil && n != c.touched {
			t.Errorf("%s: %d rows changed, want %d", c.name, n, c.touched)
		}
	}
	// The possible-victim flag still stands.
	var pv bool
	if err := owner.Raw(`SELECT possible_victim FROM cases WHERE id = ?`, victim.ID).Scan(&pv).Error; err != nil || !pv {
		t.Fatalf("possible_victim of the victim case = %v (%v), want true", pv, err)
	}
}
