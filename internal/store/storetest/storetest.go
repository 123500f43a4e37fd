// Package storetest opens real databases for tests: a fresh SQLite file and a
// fresh PostgreSQL database (created on 127.0.0.1:5432 and dropped afterwards).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/store"
)

// PostgresAdminURL is the server tests create their databases on; override
// with CUSTODIA_TEST_POSTGRES.
func PostgresAdminURL() string {
	if u := os.Getenv("CUSTODIA_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// SQLite opens a migrated store on a new SQLite file in a temporary directory.
func SQLite(tb testing.TB) *store.Store {
	tb.Helper()
	dir := tb.TempDir()
	s, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL creates a new empty PostgreSQL database and returns its URL; the
// database is dropped when the test ends. Without a reachable server the test
// is skipped, except under CI=true where it fails.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin, err := sql.Open("pgx", PostgresAdminURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true but is unreachable at %s: %v", store.RedactURL(PostgresAdminURL()), err)
		}
		tb.Skipf("PostgreSQL unreachable (%v); set CI=true to make this a failure", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "custodia_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// Postgres opens a migrated store on a new PostgreSQL database.
func Postgres(tb testing.TB) *store.Store {
	tb.Helper()
	url := PostgresURL(tb)
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
	if err != nil {
		tb.Fatalf("open postgres store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Each runs fn as two subtests, "sqlite" and "postgres", each on a fresh store.
// This is how the one store test suite runs against both databases.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
