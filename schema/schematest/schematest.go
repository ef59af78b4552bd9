// Package schematest opens real databases for tests: SQLite in a temporary
// directory and PostgreSQL in a fresh schema of the server named by
// PARLEY_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
// Without CI=true a missing PostgreSQL skips its half; with CI=true it fails.
package schematest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// DefaultPostgres is the server tried when PARLEY_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engines are the dialects every store test runs on.
var Engines = []schema.Dialect{schema.SQLite, schema.Postgres}

// ForEachDB runs fn as a subtest once per engine, each with a new, empty,
// migrated store.
func ForEachDB(t *testing.T, fn func(t *testing.T, s *schema.Store)) {
	t.Helper()
	for _, d := range Engines {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a new migrated store on the engine, closed when t ends.
func Open(tb testing.TB, d schema.Dialect) *schema.Store {
	tb.Helper()
	dsn := DSN(tb, d)
	s, err := schema.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open %s store: %v", d, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// DSN returns the -db value of a new, empty database on the engine: a file
// in a temporary directory, or a fresh PostgreSQL schema dropped when tb ends.
func DSN(tb testing.TB, d schema.Dialect) string {
	tb.Helper()
	if d == schema.SQLite {
		return filepath.Join(tb.TempDir(), "parley.db")
	}
	base := PostgresURL(tb)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		tb.Fatalf("postgres: create schema: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + name + ` CASCADE`)
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns the test server's URL, skipping the test when it is
// unreachable outside CI and failing it in CI.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("PARLEY_TEST_POSTGRES")
	if u == "" {
		u = DefaultPostgres
	}
	db, err := sql.Open("pgx", u)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL at %s is required in CI: %v", u, err)
		}
		tb.Skipf("PostgreSQL at %s unreachable (set PARLEY_TEST_POSTGRES): %v", u, err)
	}
	return u
}
