package schema_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// A migration that a database skipped (two lines of work each added one,
// and the database took the higher first) still applies on the next open.
func TestMigrateAppliesSkippedMigration(t *testing.T) {
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := schematest.DSN(t, d)
			s, err := schema.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := s.SchemaVersion(ctx)
			s.Close()

			driver := map[schema.Dialect]string{schema.SQLite: "sqlite", schema.Postgres: "pgx"}[d]
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`DROP TABLE insight_months`, `DROP TABLE insight_reaction_months`, `DROP TABLE insight_folded_months`,
				`DELETE FROM schema_migrations WHERE version = 25`,
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()

			s, err = schema.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s.Close()
			if got, _ := s.SchemaVersion(ctx); got != want {
				t.Fatalf("version %d after reopening, want %d", got, want)
			}
			db, _ = sql.Open(driver, dsn)
			defer db.Close()
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM insight_folded_months`).Scan(&n); err != nil {
				t.Fatalf("the skipped migration's table is missing: %v", err)
			}
		})
	}
}
