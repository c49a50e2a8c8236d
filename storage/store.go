package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors callers act on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// queryer is what repositories need: a database or a transaction.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// Store is an open database. Its repositories run on the database itself,
// or inside one transaction for a Store passed to InTx's function.
type Store struct {
	db      *sqlx.DB
	q       queryer
	dialect Dialect
	// keepAudit is how long the clean-up keeps audit events; 0: the default.
	keepAudit time.Duration
	// stmts keeps the queries prepared; nil runs them unprepared (behind a
	// pooler).
	stmts *statements
	// gate queues SQLite's writers (writegate.go); off on PostgreSQL.
	gate writeGate
	inTx bool // q is a transaction
}

// Option changes how Open connects.
type Option func(*options)

type options struct{ unprepared bool }

// Unprepared connects to PostgreSQL through a connection pooler in
// transaction mode (PgBouncer before 1.21), which hands each transaction,
// and each statement outside one, whichever server connection is free: no
// statement is kept prepared (it would be unknown on the next connection),
// and a query with parameters goes in one round trip (lib/pq's
// binary_parameters), so that its parse and its execution cannot land on
// different connections. Without it, each query is prepared once per
// connection and kept, so PostgreSQL parses and plans it once rather than
// at every call. SQLite ignores it: its statements are always kept, which
// spares it parsing each query again (a sixth of the token step's CPU).
func Unprepared() Option { return func(o *options) { o.unprepared = true } }

// SetAuditRetention sets how long the clean-up keeps audit events (0 or
// less: DefaultAuditRetention).
func (s *Store) SetAuditRetention(d time.Duration) { s.keepAudit = d }

func (s *Store) auditRetention() time.Duration {
	if s.keepAudit <= 0 {
		return DefaultAuditRetention
	}
	return s.keepAudit
}

// Open connects to "sqlite:PATH" or a "postgres://…" URL and checks that
// the database answers. It does not migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dialect, driver, source, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if dialect == Postgres && o.unprepared {
		u, _ := url.Parse(source)
		q := u.Query()
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
		source = u.String()
	}
	if dialect == SQLite {
		if err := createPrivate(strings.TrimPrefix(dsn, "sqlite:")); err != nil {
			return nil, err
		}
	}
	db, err := sqlx.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time is all SQLite offers; a small pool keeps
		// readers concurrent while busy_timeout queues writers.
		db.SetMaxOpenConns(8)
		// Keep them all open: a reopened connection runs every pragma again.
		db.SetMaxIdleConns(8)
	} else {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	st := &Store{db: db, q: db, dialect: dialect}
	if dialect == SQLite || !o.unprepared {
		st.stmts = &statements{db: db, m: map[string]*sqlx.Stmt{}, pending: map[string]bool{}}
		st.q = st.stmts.onPool(db)
	}
	if dialect == SQLite {
		st.gate = newWriteGate()
		st.q = gated{queryer: st.q, gate: st.gate}
	}
	return st, nil
}

func parseDSN(dsn string) (d Dialect, driver, source string, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", "", fmt.Errorf("database %q: expected sqlite:PATH", dsn)
		}
		if dir := filepath.Dir(path); dir != "." {
			if _, err := os.Stat(dir); err != nil {
				return "", "", "", fmt.Errorf("database %q: directory %s does not exist", dsn, dir)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		return SQLite, "sqlite", "file:" + path + "?" + q.Encode(), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil || u.Host == "" {
			return "", "", "", errors.New("database: malformed postgres:// URL")
		}
		return Postgres, "postgres", dsn, nil
	default:
		return "", "", "", errors.New("database: expected sqlite:PATH or postgres://…")
	}
}

// createPrivate creates a new SQLite database file readable and writable
// by its owner only; SQLite gives its -wal and -shm files the same mode.
// An existing file is left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return f.Close()
}

// Dialect reports which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connection pool.
func (s *Store) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB exposes the pool for the migrator and health checks.
func (s *Store) DB() *sql.DB { return s.db.DB }

// InTx runs fn with a Store whose repositories all use one transaction,
// committed when fn returns nil and rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) (err error) {
	if s.inTx {
		return fn(s)
	}
	if !s.gate.off() { // every SQLite transaction is a write (_txlock=immediate)
		s.gate.enter()
		defer s.gate.leave()
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	var q queryer = tx
	if s.stmts != nil {
		q = s.stmts.inTx(tx)
	}
	if err = fn(&Store{db: s.db, q: q, dialect: s.dialect, keepAudit: s.keepAudit, stmts: s.stmts, inTx: true}); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// unprepared is where a query runs without being kept prepared: in a
// transaction, the transaction itself.
func (s *Store) unprepared() queryer {
	if p, ok := s.q.(*prepared); ok {
		return p.queryer
	}
	return s.q
}

// mapErr turns driver errors callers act on into the package's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return ErrConflict
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ErrConflict
		}
	}
	return err
}

// wrap adds context to an error unless it is one of the sentinels.
func wrap(err error, what string) error {
	err = mapErr(err)
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// now is the time stored for a change: UTC, at the microsecond precision
// PostgreSQL keeps, so a value read back equals the value written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// expectOne turns an UPDATE or DELETE that touched no row into ErrNotFound.
func expectOne(res sql.Result, err error, what string) error {
	if err != nil {
		return wrap(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(err, what)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
