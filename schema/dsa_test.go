package schema_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/parley/parley/schema"
)

// Sites created before 0019 keep running as they did (eu_dsa off) when the
// migration runs; sites created after start with it on.
func TestExistingSitesStartWithoutEUDSA(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, err := schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		site, err := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !site.Settings.EUDSA {
			t.Fatal("a new site has eu_dsa off")
		}
		s.Close()
		// Run 0019 again, as it ran over the sites of an upgraded
		// database.
		driver, source := "sqlite", dsn
		if d == schema.Postgres {
			driver = "pgx"
		}
		db, err := sql.Open(driver, source)
		if err != nil {
			t.Fatal(err)
		}
		script, err := os.ReadFile(filepath.Join("migrations", string(d), "0019_dsa_existing_sites.sql"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(script)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err = schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		site, err = s.Site(ctx, "news")
		if err != nil {
			t.Fatal(err)
		}
		if site.Settings.EUDSA || len(site.Settings.TermsGrounds) == 0 || site.Settings.Language != "en" ||
			site.Settings.Reactions[0] != "like" {
			t.Fatalf("settings after 0019: %+v", site.Settings)
		}
	})
}
