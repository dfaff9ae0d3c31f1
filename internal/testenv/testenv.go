// Package testenv gives tests the real things: a private PostgreSQL cluster
// per test process (or the server named by CASEBRIDGE_TEST_DATABASE_URL), a
// database migrated once as a template, and a fresh clone of it per test, so
// tests are isolated and safe under t.Parallel().
//
// A package that uses it declares
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// so the cluster is stopped when its tests end.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/migrations"
)

// testPassword is the password of both roles when the tests share an
// existing server (CASEBRIDGE_TEST_DATABASE_URL); a private cluster has
// random ones.
const testPassword = "casebridge-test"

var (
	mainCalled atomic.Bool
	once       sync.Once
	srv        *server
	srvErr     error
	cleanupsMu sync.Mutex
	cleanups   []func()
	counter    atomic.Int64
)

// server is where the test databases live.
type server struct {
	superURL string // superuser (or CREATEDB owner) URL, database "postgres"
	ownerURL func(db string) string
	appURL   func(db string) string
	template string
}

// Main runs the package's tests and then stops what testenv started.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	cleanupsMu.Lock()
	fns := cleanups
	cleanupsMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	os.Exit(code)
}

// OnExit registers fn to run after the package's tests (used by other
// shared fixtures, such as the S3 server).
func OnExit(fn func()) {
	cleanupsMu.Lock()
	defer cleanupsMu.Unlock()
	cleanups = append(cleanups, fn)
}

func get(t testing.TB) *server {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testenv: declare func TestMain(m *testing.M) { testenv.Main(m) } in this package")
	}
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		t.Fatalf("testenv: %v", srvErr)
	}
	return srv
}

func start() (*server, error) {
	ctx := context.Background()
	s := &server{}
	if raw := os.Getenv("CASEBRIDGE_TEST_DATABASE_URL"); raw != "" {
		base, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("CASEBRIDGE_TEST_DATABASE_URL: %w", err)
		}
		s.superURL = raw
		withUser := func(role string) func(string) string {
			return func(db string) string {
				u := *base
				u.User = url.UserPassword(role, testPassword)
				u.Path = "/" + db
				return u.String()
			}
		}
		s.ownerURL, s.appURL = withUser(devpg.OwnerRole), withUser(devpg.AppRole)
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("connect to CASEBRIDGE_TEST_DATABASE_URL: %w", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7201)"); err != nil {
			return nil, err
		}
		defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7201)") //nolint:errcheck
		for _, stmt := range devpg.BootstrapSQL(testPassword, testPassword) {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				return nil, fmt.Errorf("bootstrap roles: %w", err)
			}
		}
	} else {
		dir, err := os.MkdirTemp("", "casebridge-test-pg-")
		if err != nil {
			return nil, err
		}
		c, err := devpg.Start(ctx, dir, devpg.Options{Database: "casebridge", Ephemeral: true})
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		OnExit(func() { c.Stop(); _ = os.RemoveAll(dir) })
		s.superURL = c.SuperuserURL("postgres")
		s.ownerURL, s.appURL = c.OwnerURL, c.AppURL
	}
	if err := s.makeTemplate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// makeTemplate creates and migrates the template database, once per
// migration set (its name carries their hash), even when several test
// processes share one server.
func (s *server) makeTemplate(ctx context.Context) error {
	s.template = "cb_template_" + migrationsHash()
	conn, err := pgx.Connect(ctx, s.superURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7202)"); err != nil {
		return err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7202)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", s.template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := s.template + "_building"
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building+" OWNER "+devpg.OwnerRole); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	if _, err := store.Migrate(ctx, s.ownerURL(building), -1); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// Rename only when complete, so a crash never leaves a half-migrated template.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+s.template); err != nil {
		return fmt.Errorf("rename template: %w", err)
	}
	return nil
}

func migrationsHash() string {
	h := sha256.New()
	for _, fsys := range []fs.FS{migrations.FS, migrations.Access} {
		_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, _ := fs.ReadFile(fsys, path)
			fmt.Fprintf(h, "%s\x00%d\x00", path, len(data))
			h.Write(data)
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Database is one fresh test database.
type Database struct {
	Name     string
	AppURL   string // as casebridge_app, the role the server uses
	OwnerURL string // as casebridge_owner, for tamper tests and migrations
}

// NewDatabase creates a fresh, fully migrated database for t and drops it
// when t ends.
func NewDatabase(t testing.TB) Database {
	t.Helper()
	s := get(t)
	return s.create(t, s.template)
}

// EmptyDatabase creates a database with no migrations applied, for the
// migration tests.
func EmptyDatabase(t testing.TB) Database {
	t.Helper()
	s := get(t)
	return s.create(t, "template0")
}

func (s *server) create(t testing.TB, template string) Database {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("cb_t%d_%d_%s", os.Getpid(), counter.Add(1), sanitize(t.Name()))
	conn, err := pgx.Connect(ctx, s.superURL)
	if err != nil {
		t.Fatalf("testenv: connect: %v", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE "+pgx.Identifier{template}.Sanitize()+" OWNER "+devpg.OwnerRole)
	if err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	// Database ACLs are not copied from the template: repeat the
	// foundation migration's revoke of temporary tables.
	if template != "template0" {
		if _, err := conn.Exec(ctx, "REVOKE TEMPORARY ON DATABASE "+pgx.Identifier{name}.Sanitize()+" FROM PUBLIC"); err != nil {
			t.Fatalf("testenv: revoke temporary: %v", err)
		}
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, s.superURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return Database{Name: name, AppURL: s.appURL(name), OwnerURL: s.ownerURL(name)}
}

func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 30 {
			break
		}
	}
	return b.String()
}

// DB returns a GORM handle on a fresh migrated database, connected as the
// application role, closed when t ends.
func DB(t testing.TB) *gorm.DB {
	t.Helper()
	return Open(t, NewDatabase(t).AppURL)
}

// Open connects to url and closes the pool when t ends.
func Open(t testing.TB, url string) *gorm.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	return db
}

// Context returns a context carrying db (see store.WithDB), cancelled when
// t ends.
func Context(t testing.TB, db *gorm.DB) context.Context {
	t.Helper()
	return store.WithDB(t.Context(), db)
}
