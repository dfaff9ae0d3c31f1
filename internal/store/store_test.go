package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	db := testenv.EmptyDatabase(t)
	ctx := context.Background()
	latest, err := store.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		target, want int64
	}{{-1, latest}, {0, 0}, {-1, latest}} {
		got, err := store.Migrate(ctx, db.OwnerURL, step.target)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != step.want {
			t.Fatalf("step %d: at version %d, want %d", i, got, step.want)
		}
	}
	app := testenv.Open(t, db.AppURL)
	if err := store.CheckSchema(ctx, app); err != nil {
		t.Fatalf("schema after up/down/up: %v", err)
	}
}

func TestCheckSchemaNoticesMissingMigrations(t *testing.T) {
	t.Parallel()
	db := testenv.EmptyDatabase(t)
	ctx := context.Background()
	if _, err := store.Migrate(ctx, db.OwnerURL, 1); err != nil {
		t.Fatal(err)
	}
	latest, _ := store.LatestVersion()
	err := store.CheckSchema(ctx, testenv.Open(t, db.AppURL))
	if latest > 1 && !errors.Is(err, store.ErrSchemaBehind) {
		t.Fatalf("CheckSchema at version 1 of %d: %v, want ErrSchemaBehind", latest, err)
	}
}

// The application role is the one RLS applies to: it must not be able to
// create objects, turn RLS off, or assume a role that bypasses it.
func TestApplicationRoleIsUnprivileged(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := testenv.Context(t, db)
	denied := []struct{ name, sql string }{
		{"create table", "CREATE TABLE evil (id int)"},
		{"create temp table", "CREATE TEMP TABLE evil (id int)"},
		{"create function", "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"},
		{"disable rls", "ALTER TABLE agencies DISABLE ROW LEVEL SECURITY"},
		{"drop policy", "DROP POLICY agencies_read ON agencies"},
		{"turn off row security", "SET row_security = off; SELECT count(*) FROM agencies"},
		{"become owner", "SET ROLE casebridge_owner"},
		{"become superuser", "SET ROLE postgres"},
		{"create schema", "CREATE SCHEMA evil"},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			err := store.WithTx(ctx, func(ctx context.Context) error {
				return store.DB(ctx).Exec(tc.sql).Error
			})
			if err == nil {
				t.Fatalf("%s: succeeded as the application role", tc.sql)
			}
		})
	}
	var bypass, super bool
	if err := db.Raw("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user").Row().Scan(&bypass, &super); err != nil {
		t.Fatal(err)
	}
	if bypass || super {
		t.Fatalf("application role: bypassrls=%v superuser=%v", bypass, super)
	}
}

// Agencies may be read by anyone but written only by an admin principal;
// the database decides, not Go.
func TestAgencyWritesNeedAdmin(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	base := testenv.Context(t, db)
	insert := func(ctx context.Context, code string) error {
		return store.WithTx(ctx, func(ctx context.Context) error {
			return store.DB(ctx).Exec(`INSERT INTO agencies (code, name, kind) VALUES (?, 'X', 'court')`, code).Error
		})
	}
	cases := []struct {
		name  string
		p     *access.Principal
		allow bool
	}{
		{"no principal", nil, false},
		{"officer", &access.Principal{AgencyID: uuid.New(), AgencyCode: "gdi", Kind: access.KindImmigrationPolice, Roles: []access.Role{access.RoleOfficer}}, false},
		{"admin", &access.Principal{AgencyID: uuid.New(), AgencyCode: "moi", Kind: access.KindInteriorMinistry, Roles: []access.Role{access.RoleAdmin}}, true},
	}
	for i, tc := range cases {
		ctx := base
		if tc.p != nil {
			ctx = access.WithPrincipal(base, *tc.p)
		}
		err := insert(ctx, "court-"+string(rune('a'+i)))
		if (err == nil) != tc.allow {
			t.Errorf("%s: insert agency err=%v, want allowed=%v", tc.name, err, tc.allow)
		}
	}
	var n int64
	if err := store.WithTx(base, func(ctx context.Context) error {
		return store.DB(ctx).Raw("SELECT count(*) FROM agencies").Scan(&n).Error
	}); err != nil || n != 1 {
		t.Fatalf("agencies visible without principal: %d (err %v), want 1", n, err)
	}
}

// Principal settings are transaction-local: the next transaction on the same
// pooled connection starts with no principal.
func TestPrincipalDoesNotLeakAcrossTransactions(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1)
	base := testenv.Context(t, db)
	p := access.Principal{AgencyID: uuid.New(), AgencyCode: "gdi", Kind: access.KindImmigrationPolice, Roles: []access.Role{access.RoleOfficer}}
	var inside, after string
	_ = store.WithTx(access.WithPrincipal(base, p), func(ctx context.Context) error {
		return store.DB(ctx).Raw("SELECT COALESCE(cb_agency_id()::text, '')").Scan(&inside).Error
	})
	_ = store.WithTx(base, func(ctx context.Context) error {
		return store.DB(ctx).Raw("SELECT COALESCE(cb_agency_id()::text, '')").Scan(&after).Error
	})
	if inside != p.AgencyID.String() || after != "" {
		t.Fatalf("agency inside=%q after=%q, want %q then empty", inside, after, p.AgencyID)
	}
}
