package schema_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// A backup is a database the store opens as it is, with what was
// committed; PostgreSQL is refused with the tool to use instead.
func TestBackup(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		st := schema.DefaultSettings()
		st.Origins = []string{"https://news.example"}
		if _, err := s.CreateSite(ctx, "news", st, nil); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "backup.db")
		err := s.Backup(ctx, path)
		if s.Dialect() == schema.Postgres {
			if !errors.Is(err, schema.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("postgres backup: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Backup(ctx, path); err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("second backup to the same file: %v", err)
		}
		copy, err := schema.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer copy.Close()
		if site, err := copy.Site(ctx, "news"); err != nil || site.Settings.Origins[0] != "https://news.example" {
			t.Fatalf("the backup's site: %+v %v", site, err)
		}
	})
}
