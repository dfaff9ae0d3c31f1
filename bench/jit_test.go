package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/bench"
	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/cases"
	"github.com/casebridge/casebridge/internal/persons"
	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// The case page and the person page do not JIT-compile their statements.
// The statements are captured from the services themselves (a tracer on
// the pool, as the server opens it), then explained in a transaction set
// up as the server's. The pool is opened with jit_above_cost = 0 and its
// siblings, so any statement PostgreSQL would JIT under the defaults is
// JIT-compiled here: without `jit = off` every one of them shows "JIT"
// (the test checks that too, so it can fail).
func TestCaseAndPersonReadsDoNotJIT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.NewDatabase(t)
	if _, err := seed.Run(ctx, db.OwnerURL, seed.Options{Persons: 500, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	owner := testenv.Open(t, db.OwnerURL)
	// Honest estimates: no set-returning access function keeps the default
	// of 1,000 rows, which priced every statement using one above
	// jit_above_cost. (The coordinators' statistics and the blob sweeper's
	// functions are reports, not filters: they are called once, never per
	// row, and are left out.)
	var defaults []string
	if err := owner.Raw(`SELECT proname FROM pg_proc WHERE proname LIKE 'cb\_%' AND proretset AND prorows = 1000
		AND proname NOT LIKE 'cb\_stats\_%' AND proname NOT IN ('cb_recorded_blobs', 'cb_unreferenced_blobs')
		ORDER BY 1`).Scan(&defaults).Error; err != nil {
		t.Fatal(err)
	}
	if len(defaults) > 0 {
		t.Errorf("set-returning access functions without a ROWS estimate: %v", defaults)
	}
	sep := "?"
	if strings.Contains(db.AppURL, "?") {
		sep = "&"
	}
	rec := &store.Recorder{}
	app, err := store.Open(ctx, db.AppURL+sep+"jit_above_cost=0&jit_inline_above_cost=0&jit_optimize_above_cost=0",
		store.Options{MaxOpenConns: 2, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(app) })

	p, err := bench.Principal(ctx, owner, "gdi-officer")
	if err != nil {
		t.Fatal(err)
	}
	var ids struct{ CaseID, PersonID uuid.UUID }
	if err := owner.Raw(`SELECT cp.case_id, cp.person_id FROM case_persons cp JOIN cases c ON c.id = cp.case_id
		JOIN agencies a ON a.id = c.owner_agency_id WHERE a.code = 'gdi' ORDER BY c.reference LIMIT 1`).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if ids.CaseID == uuid.Nil {
		t.Fatal("no gdi case with a person in the seed")
	}
	pctx := access.WithPrincipal(store.WithDB(ctx, app), p)

	capture := func(name string, read func() error) []store.Statement {
		rec.Start()
		err := read()
		stmts := rec.Stop()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var selects []store.Statement
		for _, s := range stmts {
			q := strings.TrimSpace(s.SQL)
			if strings.HasPrefix(q, "SELECT") && !strings.Contains(q, "set_config('role'") {
				selects = append(selects, s)
			}
		}
		if len(selects) == 0 {
			t.Fatalf("%s: no SELECT captured among %d statements", name, len(stmts))
		}
		return selects
	}
	reads := map[string][]store.Statement{
		"case by id": capture("case by id", func() error {
			_, err := cases.NewService(nil).Get(pctx, ids.CaseID)
			return err
		}),
		"person by id": capture("person by id", func() error {
			_, err := persons.NewService(nil, nil).Get(pctx, ids.PersonID)
			return err
		}),
	}
	for name, stmts := range reads {
		for _, s := range stmts {
			for _, jit := range []string{"", "on"} {
				used, err := explainUsesJIT(pctx, s, jit)
				if err != nil {
					t.Fatalf("%s: explain %s: %v", name, s.SQL, err)
				}
				switch {
				case jit == "" && used:
					t.Errorf("%s: the server's statement is JIT-compiled:\n%s", name, s.SQL)
				case jit == "on" && !used:
					t.Errorf("%s: with jit = on and jit_above_cost = 0 the statement is not JIT-compiled, so the check cannot fail:\n%s", name, s.SQL)
				}
			}
		}
	}
}

var errRollback = errors.New("rollback")

// explainUsesJIT explains s (with ANALYZE) in a server transaction, with
// SET LOCAL jit = jit first when jit is not empty, and reports whether the
// plan has a JIT section.
func explainUsesJIT(ctx context.Context, s store.Statement, jit string) (bool, error) {
	var used bool
	err := store.WithTx(ctx, func(ctx context.Context) error {
		db := store.DB(ctx)
		if jit != "" {
			if err := db.Exec("SET LOCAL jit = " + jit).Error; err != nil {
				return err
			}
		}
		var js string
		// The captured text has $n placeholders: past GORM, to the driver.
		if err := db.Statement.ConnPool.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+s.SQL, s.Args...).Scan(&js); err != nil {
			return err
		}
		var doc []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(js), &doc); err != nil {
			return err
		}
		_, used = doc[0]["JIT"]
		return errRollback
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return used, err
}
