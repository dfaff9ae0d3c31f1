// Package store owns the database connection: GORM on the pgx driver,
// transactions that carry the request's principal into PostgreSQL (where the
// Row-Level Security policies read it), and the embedded migrations.
//
// Every query starts from DB(ctx). Inside WithTx that is the open transaction;
// a chained *gorm.DB is never kept or reused, because GORM conditions leak
// between queries that share one.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/casebridge/casebridge/internal/access"
)

// AppRole is the unprivileged database role the server's transactions run
// as. It owns nothing, cannot create objects and cannot bypass RLS; the
// migrations grant it exactly what it may do.
const AppRole = "casebridge_app"

// Options tunes the connection pool.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnectTimeout  time.Duration
	// Tracer, when set, sees every statement (tests count round trips and
	// capture the server's SQL with it).
	Tracer pgx.QueryTracer
}

// connCounts are the connections a pool has opened, by pool: a connection
// lost (closed because a statement was interrupted) shows as one more
// opened than the pool ever holds at once.
var connCounts sync.Map // *sql.DB -> *atomic.Int64

// ConnectionsOpened reports how many database connections the pool behind
// db has opened since Open.
func ConnectionsOpened(db *gorm.DB) int64 {
	sqlDB, err := db.DB()
	if err != nil {
		return 0
	}
	if n, ok := connCounts.Load(sqlDB); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// cancelGrace is how long a statement whose context ended may take to stop
// after PostgreSQL was asked to cancel it, before its connection is cut.
const cancelGrace = 10 * time.Second

// Open connects to PostgreSQL at url and checks that it answers.
//
// Every connection runs with jit = off: the portal's statements are short
// OLTP reads and writes, for which compiling costs more than it saves (a
// case read spent ~96 of 143 ms compiling). The transaction setup sets it
// again (setPrincipal), so a pooler that drops startup parameters changes
// nothing.
//
// A statement whose context ends (the client went away) is cancelled the
// way psql does it, by a cancel request to the server, and its connection
// stays in the pool; the default (a read deadline) would close the
// connection.
func Open(ctx context.Context, url string, opt Options) (*gorm.DB, error) {
	pcfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if _, set := pcfg.RuntimeParams["jit"]; !set {
		pcfg.RuntimeParams["jit"] = "off"
	}
	pcfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: cancelGrace}
	}
	if opt.Tracer != nil {
		pcfg.Tracer = opt.Tracer
	}
	opened := new(atomic.Int64)
	sqlDB := stdlib.OpenDB(*pcfg, stdlib.OptionAfterConnect(func(context.Context, *pgx.Conn) error {
		opened.Add(1)
		return nil
	}))
	connCounts.Store(sqlDB, opened)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                                   logger.Discard,
		SkipDefaultTransaction:                   true,
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           false,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opt.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(opt.MaxOpenConns)
	}
	if opt.MaxIdleConns > 0 {
		sqlDB.SetMaxIdleConns(opt.MaxIdleConns)
	}
	if opt.ConnMaxLifetime > 0 {
		sqlDB.SetConnMaxLifetime(opt.ConnMaxLifetime)
	}
	timeout := opt.ConnectTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		_ = sqlDB.Close()
		connCounts.Delete(sqlDB)
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Close closes the pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	connCounts.Delete(sqlDB)
	return sqlDB.Close()
}

// PoolStats returns the database/sql statistics of the pool behind db.
func PoolStats(db *gorm.DB) sql.DBStats {
	sqlDB, err := db.DB()
	if err != nil {
		return sql.DBStats{}
	}
	return sqlDB.Stats()
}

type dbKey struct{}
type txKey struct{}

// WithDB returns a context that carries the base connection pool. The HTTP
// server and the CLI put it there once; services reach the database only
// through DB(ctx) and WithTx.
func WithDB(ctx context.Context, db *gorm.DB) context.Context {
	return context.WithValue(ctx, dbKey{}, db)
}

// DB returns the handle to start a query from: the open transaction when ctx
// is inside WithTx, else the pool. It panics when ctx carries neither, which
// is a wiring bug, not a runtime condition.
func DB(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	if db, ok := ctx.Value(dbKey{}).(*gorm.DB); ok {
		return db.WithContext(ctx)
	}
	panic("store: context carries no database")
}

// InTx reports whether ctx is inside WithTx.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// Detached returns ctx without its open transaction (if any): what runs on
// it commits on its own. For the audit record of a refusal, which must
// survive the rollback of the transaction that was refused.
func Detached(ctx context.Context) context.Context {
	if !InTx(ctx) {
		return ctx
	}
	return context.WithValue(ctx, txKey{}, nil)
}

// WithTx runs fn in a transaction. When ctx is already inside one, fn joins
// it. A new transaction first switches to AppRole and publishes the principal
// of ctx (or no principal at all) to the RLS policies through transaction-
// local settings, so everything fn reads or writes is filtered by the
// database for that principal.
//
// The statements run under ctx, but the transaction itself (BEGIN, COMMIT,
// ROLLBACK) does not end with it: when a client goes away mid-request, the
// statement under way is cancelled and the transaction rolls back on a
// connection that stays in working order. (database/sql would otherwise roll
// back with the dead context, which pgx answers by closing the connection.)
func WithTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTx(ctx) {
		return fn(ctx)
	}
	base, ok := ctx.Value(dbKey{}).(*gorm.DB)
	if !ok {
		panic("store: context carries no database")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	return base.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		if err := setPrincipal(tx, ctx); err != nil {
			return err
		}
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// setPrincipal switches the transaction to AppRole and publishes the
// principal, in one statement (one round trip): set_config('role', …, true)
// is SET LOCAL ROLE, with the same membership check. The settings are
// transaction-local (is_local = true), so they vanish at COMMIT/ROLLBACK and
// never leak to the next user of the pooled connection. jit is off for the
// transaction whatever the connection says (see Open).
func setPrincipal(tx *gorm.DB, ctx context.Context) error {
	p, _ := access.FromContext(ctx)
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	var user, agency string
	if p.UserID.String() != "00000000-0000-0000-0000-000000000000" {
		user = p.UserID.String()
	}
	if p.AgencyCode != "" {
		agency = p.AgencyID.String()
	}
	err := tx.Exec(`SELECT set_config('role', ?, true), set_config('jit', 'off', true),
		set_config('casebridge.user_id', ?, true),
		set_config('casebridge.agency_id', ?, true),
		set_config('casebridge.agency_kind', ?, true),
		set_config('casebridge.country', ?, true),
		set_config('casebridge.roles', ?, true)`,
		AppRole, user, agency, string(p.Kind), p.Country, strings.Join(roles, ",")).Error
	if err != nil {
		return fmt.Errorf("set principal: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a PostgreSQL unique violation,
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// PgCode returns the SQLSTATE of err, or "" when err is not from PostgreSQL.
func PgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// SQLTx returns the database/sql transaction under the GORM transaction in
// ctx, for libraries that take one (the job queue inserts its jobs in the
// request's transaction, so a job exists exactly when the change commits).
func SQLTx(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok || tx == nil {
		return nil, false
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	return sqlTx, ok
}
