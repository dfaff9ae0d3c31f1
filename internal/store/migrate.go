package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for goose
	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/migrations"
)

// Migrate applies migrations as the database owner at ownerURL. target < 0
// means every migration; 0 means roll everything back; otherwise it moves up
// or down to that version. It returns the version reached.
func Migrate(ctx context.Context, ownerURL string, target int64) (int64, error) {
	db, err := sql.Open("pgx", ownerURL)
	if err != nil {
		return 0, fmt.Errorf("migrate: open: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return 0, fmt.Errorf("migrate: connect to database: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	switch {
	case target < 0:
		_, err = p.Up(ctx)
	case target < current:
		_, err = p.DownTo(ctx, target)
	case target > current:
		_, err = p.UpTo(ctx, target)
	}
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	latest, err := LatestVersion()
	if err != nil {
		return 0, err
	}
	if v == latest {
		if err := ApplyAccess(ctx, db); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// AccessFiles lists the access definitions (migrations/access/*.sql) in the
// order they are applied.
func AccessFiles() ([]string, error) {
	entries, err := fs.ReadDir(migrations.Access, "access")
	if err != nil {
		return nil, fmt.Errorf("list access definitions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, "access/"+e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// ApplyAccess applies every access definition, in order, in one
// transaction: the current text of each access function, policy and view.
// The files are idempotent, so this runs on every migrate that reaches the
// latest schema version.
func ApplyAccess(ctx context.Context, db *sql.DB) error {
	names, err := AccessFiles()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("access definitions: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	for _, name := range names {
		body, err := fs.ReadFile(migrations.Access, name)
		if err != nil {
			return fmt.Errorf("access definitions: read %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("access definitions: %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("access definitions: commit: %w", err)
	}
	return nil
}

// LatestVersion is the highest migration version embedded in the binary.
func LatestVersion() (int64, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: bad version: %w", e.Name(), err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// ErrSchemaBehind means the database has not had every migration the binary
// knows.
var ErrSchemaBehind = errors.New("database schema is behind the binary")

// CheckSchema reports whether the database at db has every migration this
// binary embeds. It runs as the application role.
func CheckSchema(ctx context.Context, db *gorm.DB) error {
	want, err := LatestVersion()
	if err != nil {
		return err
	}
	var have int64
	err = db.WithContext(ctx).Raw(`SELECT COALESCE(max(version_id), 0) FROM goose_db_version`).Scan(&have).Error
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have < want {
		return fmt.Errorf("%w: at %d, want %d", ErrSchemaBehind, have, want)
	}
	return nil
}
