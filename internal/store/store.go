// Package store holds all of Custodia's SQL: one file per entity, the
// embedded migrations, and the small dialect shim that lets one set of
// queries run on SQLite (the embedded default) and PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The dialects Custodia supports.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Errors callers test with errors.Is.
var (
	// ErrNotFound reports that the requested row does not exist (or is out of the caller's scope).
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a unique constraint would be violated.
	ErrConflict = errors.New("already exists")
	// ErrSchemaTooNew reports that the database was migrated by a newer binary.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
)

// Options says which database to open.
type Options struct {
	// DatabaseURL is a postgres:// URL; empty means SQLite in DataDir.
	DatabaseURL string
	// DataDir holds custodia.db when DatabaseURL is empty.
	DataDir string
	// SQLitePath overrides the SQLite file path (tests, backups).
	SQLitePath string
	// NoMigrate opens without applying migrations (the version check still runs).
	NoMigrate bool
}

// Store is the handle on the database. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	// write is the connection pool for transactions; on SQLite it has one connection.
	write *sql.DB
	// read serves plain queries; on PostgreSQL it is the same pool as write.
	read *sql.DB
	path string // SQLite file path, empty on PostgreSQL
	// auditStmts caches the prepared statements of Tx.Audit (audit.go).
	auditStmts auditStmts
}

// Open opens (and, unless opts.NoMigrate, migrates) the database.
func Open(ctx context.Context, opts Options) (*Store, error) {
	var s *Store
	var err error
	if opts.DatabaseURL != "" {
		s, err = openPostgres(ctx, opts.DatabaseURL)
	} else {
		path := opts.SQLitePath
		if path == "" {
			if opts.DataDir == "" {
				return nil, errors.New("open store: no data directory and no database URL")
			}
			if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("open store: create data dir %q: %w", opts.DataDir, err)
			}
			path = filepath.Join(opts.DataDir, "custodia.db")
		}
		s, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !opts.NoMigrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
		// Prepare the audit statements now, while no transaction holds
		// SQLite's single writer connection.
		s.prepareAuditStmts()
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", RedactURL(dsn), err)
	}
	return &Store{dialect: Postgres, write: db, read: db}, nil
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	// busy_timeout first, then WAL and foreign keys, as the style guide asks.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	// Create the file owner-only before SQLite does (it would use 0644); the
	// WAL and shared-memory files inherit the database file's permissions.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	} else {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &Store{dialect: SQLite, write: w, read: r, path: path}, nil
}

// Close closes the database pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		if e := s.read.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Dialect reports which database is behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLitePath is the database file on SQLite, empty on PostgreSQL.
func (s *Store) SQLitePath() string { return s.path }

// DB returns the write pool, for the rare caller that needs database/sql directly
// (backups, benchmarks). Queries written with ? must go through Rebind.
func (s *Store) DB() *sql.DB { return s.write }

// Ping checks that the database answers (used by /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return err
	}
	return s.write.PingContext(ctx)
}

// Rebind rewrites a query written with ? placeholders into the dialect's form
// ($1, $2, … on PostgreSQL). A ? inside a single-quoted literal is left alone.
func (s *Store) Rebind(query string) string { return rebind(s.dialect, query) }

func rebind(d Dialect, query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a statement outside an explicit transaction.
func (s *Store) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.write.ExecContext(ctx, s.Rebind(query), args...)
}

// Query runs a read query on the read pool.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.read.QueryContext(ctx, s.Rebind(query), args...)
}

// QueryRow runs a single-row read query on the read pool.
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.Rebind(query), args...)
}

// Tx is a write transaction. Its methods take queries written with ?.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	after   []func()
	store   *Store // for prepared statements (Tx.Audit)
}

// Dialect reports the transaction's dialect.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, rebind(tx.dialect, query), args...)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, rebind(tx.dialect, query), args...)
}

// QueryRow runs a single-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, rebind(tx.dialect, query), args...)
}

// InsertID runs an INSERT … RETURNING id and returns the new id.
func (tx *Tx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, query, args...).Scan(&id)
	return id, mapErr(err)
}

// AfterCommit registers f to run once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// InTx runs fn in one write transaction: committed if fn returns nil, rolled
// back otherwise. On SQLite the transaction is BEGIN IMMEDIATE on the single
// writer connection, so writers never deadlock on lock upgrades.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: sqlTx, dialect: s.dialect, store: s}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// mapErr turns driver errors into the store's sentinel errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") {
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return err
}

// MapErr is mapErr for the domain store files: sql.ErrNoRows becomes
// ErrNotFound and unique violations become ErrConflict (both wrapped).
func MapErr(err error) error { return mapErr(err) }

// RedactURL hides the password in a database URL so it can be logged.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable database URL)"
	}
	return u.Redacted()
}
