package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
	"github.com/casebridge/casebridge/migrations"
)

// catalog is every definition the access files own, as PostgreSQL reports
// it: functions, policies, views and triggers of schema public.
type catalog map[string]string

func readCatalog(t *testing.T, url string) catalog {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := catalog{}
	for _, q := range []string{
		`SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
		        pg_get_functiondef(p.oid) || ' acl=' || COALESCE(p.proacl::text, '')
		   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE n.nspname = 'public' AND p.prokind = 'f'`,
		`SELECT 'policy ' || tablename || '.' || policyname,
		        concat_ws(' | ', permissive, roles::text, cmd, qual, with_check)
		   FROM pg_policies WHERE schemaname = 'public'`,
		`SELECT 'view ' || c.relname, pg_get_viewdef(c.oid) || ' ' || COALESCE(c.reloptions::text, '')
		   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE n.nspname = 'public' AND c.relkind = 'v'`,
		`SELECT 'trigger ' || tgrelid::regclass || '.' || tgname, pg_get_triggerdef(oid) || ' ' || tgenabled::text
		   FROM pg_trigger WHERE NOT tgisinternal`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			c[k] = v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return c
}

func diffCatalogs(a, b catalog) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "only in the first: "+k)
		} else if v != w {
			out = append(out, "differs: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "only in the second: "+k)
		}
	}
	slices.Sort(out)
	return out
}

// Applying the access files again changes nothing, and a database migrated
// up, all the way down and up again ends with the same definitions as a
// fresh one.
func TestAccessDefinitionsAreIdempotentAndRebuildable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fresh := testenv.EmptyDatabase(t)
	if _, err := store.Migrate(ctx, fresh.OwnerURL, -1); err != nil {
		t.Fatal(err)
	}
	first := readCatalog(t, fresh.OwnerURL)
	if len(first) < 50 {
		t.Fatalf("catalog has %d definitions; the query reads nothing?", len(first))
	}
	db, err := sql.Open("pgx", fresh.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.ApplyAccess(ctx, db); err != nil {
		t.Fatal(err)
	}
	if d := diffCatalogs(first, readCatalog(t, fresh.OwnerURL)); len(d) > 0 {
		t.Errorf("applying the access files twice changed the catalog:\n%s", strings.Join(d, "\n"))
	}

	rebuilt := testenv.EmptyDatabase(t)
	for _, target := range []int64{-1, 0, -1} {
		if _, err := store.Migrate(ctx, rebuilt.OwnerURL, target); err != nil {
			t.Fatal(err)
		}
	}
	if d := diffCatalogs(first, readCatalog(t, rebuilt.OwnerURL)); len(d) > 0 {
		t.Errorf("fresh and up/down/up databases differ:\n%s", strings.Join(d, "\n"))
	}
}

// schemaFunctions are the cb_ functions that numbered migrations define
// because tables need them when they are created (column defaults, index
// expressions) or because they are storage or sign-in plumbing, not access
// rules: the principal's settings, the name search, blob bookkeeping and
// sign-in.
var schemaFunctions = []string{"cb_setting", "cb_user_id", "cb_agency_id", "cb_agency_kind", "cb_country",
	"cb_roles", "cb_has_role", "cb_sign_in_user", "cb_person_names", "cb_blob_lock_key", "cb_record_blob",
	"cb_blob_referenced", "cb_unreferenced_blobs", "cb_recorded_blobs"}

var (
	defFunction = regexp.MustCompile(`(?i)CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([a-z_0-9]+)\s*\(`)
	defPolicy   = regexp.MustCompile(`(?i)CREATE\s+POLICY\s+([a-z_0-9]+)\s+ON\s+([a-z_0-9]+)`)
	defView     = regexp.MustCompile(`(?i)CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+([a-z_0-9]+)`)
	defTrigger  = regexp.MustCompile(`(?i)CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+([a-z_0-9]+)\s+[^;]*?\s+ON\s+([a-z_0-9]+)`)
)

// definitions lists "kind name" for every function, policy, view and
// trigger that text creates.
func definitions(text string) []string {
	var out []string
	for _, m := range defFunction.FindAllStringSubmatch(text, -1) {
		out = append(out, "function "+strings.ToLower(m[1]))
	}
	for _, m := range defPolicy.FindAllStringSubmatch(text, -1) {
		out = append(out, "policy "+strings.ToLower(m[2]+"."+m[1]))
	}
	for _, m := range defView.FindAllStringSubmatch(text, -1) {
		out = append(out, "view "+strings.ToLower(m[1]))
	}
	for _, m := range defTrigger.FindAllStringSubmatch(text, -1) {
		out = append(out, "trigger "+strings.ToLower(m[2]+"."+m[1]))
	}
	return out
}

// Every access function, policy and view of the migrated database is
// defined by exactly one access file, and no numbered migration defines
// one: the rule for X is found by its name in migrations/access/.
func TestEveryAccessDefinitionLivesInOneAccessFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testenv.EmptyDatabase(t)
	if _, err := store.Migrate(ctx, d.OwnerURL, -1); err != nil {
		t.Fatal(err)
	}
	where := map[string][]string{} // definition -> access files
	files, err := store.AccessFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := fs.ReadFile(migrations.Access, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range definitions(string(body)) {
			if !slices.Contains(where[def], f) {
				where[def] = append(where[def], f)
			}
		}
	}
	for def, fs := range where {
		if len(fs) > 1 {
			t.Errorf("%s is defined in %d access files: %v", def, len(fs), fs)
		}
	}
	numbered, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range numbered {
		body, _ := fs.ReadFile(migrations.FS, e.Name())
		up := string(body)
		if i := strings.Index(up, "-- +goose Down"); i >= 0 {
			up = up[:i]
		}
		for _, def := range definitions(up) {
			name := strings.TrimPrefix(def, "function ")
			if strings.HasPrefix(def, "function ") && slices.Contains(schemaFunctions, name) {
				continue
			}
			if strings.HasPrefix(def, "function ") && !strings.HasPrefix(name, "cb_") {
				continue // e.g. the audit log's append-only triggers' functions, River's
			}
			if strings.HasPrefix(def, "trigger audit_") || strings.HasPrefix(def, "trigger river_") {
				continue // the audit log's append-only triggers and River's queue triggers are schema
			}
			t.Errorf("%s defines %s: access definitions belong in migrations/access/", e.Name(), def)
		}
	}
	cat := readCatalog(t, d.OwnerURL)
	for k := range cat {
		kind, name, _ := strings.Cut(k, " ")
		if kind == "function" {
			name, _, _ = strings.Cut(name, "(")
			if !strings.HasPrefix(name, "cb_") || slices.Contains(schemaFunctions, name) {
				continue
			}
		}
		if kind == "trigger" && strings.HasPrefix(name, "audit_") {
			continue
		}
		if len(where[kind+" "+name]) != 1 {
			t.Errorf("%s is in the database but defined by %d access files", k, len(where[kind+" "+name]))
		}
	}
}
