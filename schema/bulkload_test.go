package schema_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// indexesOf lists the indexes of the bulk-loaded tables, by name, through
// a connection of its own.
func indexesOf(t *testing.T, d schema.Dialect, dsn string) map[string]string {
	t.Helper()
	driver, q := "sqlite", `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('comments', 'imported_comments')`
	if d == schema.Postgres {
		driver, q = "pgx", `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('comments', 'imported_comments')`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		out[name] = def
	}
	return out
}

func bulkBatch(from, to int) []schema.ImportComment {
	var out []schema.ImportComment
	for i := from; i < to; i++ {
		c := schema.ImportComment{SourceID: fmt.Sprintf("c%d", i), Article: schema.ImportArticle{Key: fmt.Sprintf("a%d", i/10)},
			ReaderID: "r", Author: "Ann", Body: fmt.Sprintf("comment %d", i), BodyKey: fmt.Sprintf("k%d", i),
			Status: schema.StatusApproved, CreatedMS: int64(1_700_000_000_000 + i)}
		if i%10 > 0 {
			c.ParentSourceID = fmt.Sprintf("c%d", i-1)
		}
		out = append(out, c)
	}
	return out
}

// TestImportDefersIndexes: an import into an empty comments table drops
// the secondary indexes for the load and builds the same ones at the end;
// an import that dies before the end leaves a database that works, whose
// indexes come back when it is next opened, and running the import again
// writes nothing twice. An import into a table that holds comments keeps
// its indexes.
func TestImportDefersIndexes(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, err := schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()
		site := newSite(t, s, "news")
		before := indexesOf(t, d, dsn)
		if len(before) < 12 {
			t.Fatalf("only %d indexes before the import: %v", len(before), slices.Sorted(maps.Keys(before)))
		}

		im := s.NewImport(site.ID, "remark42")
		im.BulkLoad()
		if _, err := im.Write(ctx, bulkBatch(0, 30)); err != nil {
			t.Fatal(err)
		}
		during := indexesOf(t, d, dsn)
		if len(during) >= len(before) {
			t.Fatalf("indexes during the load: %d, before: %d", len(during), len(before))
		}
		for _, k := range slices.Sorted(maps.Keys(during)) {
			if before[k] != during[k] {
				t.Errorf("index %s changed during the load: %q", k, during[k])
			}
		}
		// The crash: the store goes away with the import unfinished. The
		// database still answers (the thread reads without the indexes).
		s.Close()
		s, err = schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := indexesOf(t, d, dsn); !maps.Equal(got, before) {
			t.Fatalf("indexes after reopening: %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(before)))
		}
		// The retry finds the 30 written and writes the rest, keeping the
		// indexes (the table is not empty).
		im = s.NewImport(site.ID, "remark42")
		im.BulkLoad()
		res, err := im.Write(ctx, bulkBatch(0, 50))
		if err != nil {
			t.Fatal(err)
		}
		if res.Written != 20 || len(res.Already) != 30 {
			t.Fatalf("retry wrote %d, found %d already", res.Written, len(res.Already))
		}
		if got := indexesOf(t, d, dsn); !maps.Equal(got, before) {
			t.Fatalf("indexes dropped for an import into a table with comments: %v", slices.Sorted(maps.Keys(got)))
		}
		if _, err := im.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		im.Close()
		c, err := s.Comment(ctx, mustImported(t, s, site.ID, "c49"))
		if err != nil {
			t.Fatal(err)
		}
		if p := mustImported(t, s, site.ID, "c48"); c.ParentID == nil || *c.ParentID != p {
			t.Fatalf("c49's parent: %v, want %d", c.ParentID, p)
		}
		page, _, err := s.Thread(ctx, c.ArticleID, "oldest", nil, 50)
		if err != nil || len(page) != 10 {
			t.Fatalf("thread: %d comments, %v", len(page), err)
		}

		// A finished bulk import builds the same indexes, and a failed one
		// builds them when it is closed.
		for _, finish := range []bool{true, false} {
			dsn := schematest.DSN(t, d)
			s, err := schema.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			before := indexesOf(t, d, dsn)
			im := s.NewImport(newSite(t, s, "news").ID, "disqus")
			im.BulkLoad()
			if _, err := im.Write(ctx, bulkBatch(0, 20)); err != nil {
				t.Fatal(err)
			}
			if len(indexesOf(t, d, dsn)) >= len(before) {
				t.Fatal("an import into an empty table kept its indexes")
			}
			if finish {
				if _, err := im.Finish(ctx); err != nil {
					t.Fatal(err)
				}
				if got := indexesOf(t, d, dsn); !maps.Equal(got, before) {
					t.Fatalf("indexes after Finish: %v", slices.Sorted(maps.Keys(got)))
				}
			}
			if err := im.Close(); err != nil {
				t.Fatal(err)
			}
			if got := indexesOf(t, d, dsn); !maps.Equal(got, before) {
				t.Fatalf("indexes after Close (finished %v): %v", finish, slices.Sorted(maps.Keys(got)))
			}
		}
	})
}

// A bulk load knows which source ids it wrote (the tables were empty when
// it began) and looks up only those again: repeats across batches and
// within one are still found and reported, parents written in an earlier
// batch are linked as their replies are written and later ones by Finish,
// the rows written with SQLite's foreign-key checks off hold no dangling
// reference, and running the import again writes nothing.
func TestBulkLoadKeepsReferences(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, err := schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		site := newSite(t, s, "news")
		reply := func(id, parent, article string) schema.ImportComment {
			return schema.ImportComment{SourceID: id, ParentSourceID: parent, Article: schema.ImportArticle{Key: article},
				Author: "Bo", Body: id, BodyKey: id, Status: schema.StatusApproved, CreatedMS: 1_800_000_000_000}
		}
		// c0…c29, then a reply whose parent comes in the next batch.
		first := append(bulkBatch(0, 30), reply("f1", "f2", "a1"))
		// c20…c29 again, c30…c39, c35 twice, a reply to c5 (first batch)
		// and the parent of f1.
		second := append(bulkBatch(20, 40), bulkBatch(35, 36)[0], reply("x1", "c5", "a0"), reply("f2", "", "a1"))
		write := func(im *schema.Import, batch []schema.ImportComment, written, already int) {
			t.Helper()
			res, err := im.Write(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if res.Written != written || len(res.Already) != already {
				t.Fatalf("written %d, already %d (%v); want %d and %d", res.Written, len(res.Already), res.Already, written, already)
			}
		}
		im := s.NewImport(site.ID, "remark42")
		im.BulkLoad()
		defer im.Close()
		write(im, first, 31, 0)
		write(im, second, 12, 11)
		res, err := im.Finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Resolved != 1 || len(res.Dangling) != 0 || len(res.Cycles) != 0 {
			t.Fatalf("finish: %+v", res)
		}
		for child, parent := range map[string]string{"x1": "c5", "f1": "f2", "c29": "c28", "c31": "c30", "c21": "c20"} {
			c, err := s.Comment(ctx, mustImported(t, s, site.ID, child))
			if err != nil {
				t.Fatal(err)
			}
			if p := mustImported(t, s, site.ID, parent); c.ParentID == nil || *c.ParentID != p {
				t.Errorf("%s's parent: %v, want %s (%d)", child, c.ParentID, parent, p)
			}
		}
		if c, err := s.Comment(ctx, mustImported(t, s, site.ID, "c30")); err != nil || c.ParentID != nil {
			t.Errorf("c30 (top level): %+v, %v", c, err)
		}
		driver := map[schema.Dialect]string{schema.SQLite: "sqlite", schema.Postgres: "pgx"}[d]
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var comments, mapped int
		if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM comments), (SELECT COUNT(*) FROM imported_comments)`).Scan(&comments, &mapped); err != nil {
			t.Fatal(err)
		}
		if comments != 43 || mapped != 43 {
			t.Fatalf("%d comments, %d imported_comments rows; want 43", comments, mapped)
		}
		if d == schema.SQLite {
			rows, err := db.Query(`PRAGMA foreign_key_check`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var table, parent string
				var rowid, fk sql.NullInt64
				if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
					t.Fatal(err)
				}
				t.Errorf("dangling reference: %s row %v to %s", table, rowid.Int64, parent)
			}
			rows.Close()
		}
		again := s.NewImport(site.ID, "remark42")
		again.BulkLoad()
		defer again.Close()
		write(again, first, 0, 31)
		write(again, second, 0, 23)
	})
}

// An import that did not ask for a bulk load keeps the indexes, even into
// an empty database: a server may be serving it.
func TestImportKeepsIndexesUnlessBulk(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, err := schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		before := indexesOf(t, d, dsn)
		im := s.NewImport(newSite(t, s, "news").ID, "disqus")
		defer im.Close()
		if _, err := im.Write(ctx, bulkBatch(0, 20)); err != nil {
			t.Fatal(err)
		}
		if got := indexesOf(t, d, dsn); !maps.Equal(got, before) {
			t.Fatalf("indexes during an import that did not ask for a bulk load: %v", slices.Sorted(maps.Keys(got)))
		}
	})
}

// A row written into deferred_indexes by anything but an import is not run
// as SQL at the next start: the start fails and says which row to remove.
func TestDeferredIndexRowIsNotRunAsSQL(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, err := schema.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		driver := map[schema.Dialect]string{schema.SQLite: "sqlite", schema.Postgres: "pgx"}[d]
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, def := range []string{
			`CREATE INDEX evil ON comments (id); CREATE TABLE pwned (x INT)`,
			`CREATE INDEX evil ON sites (id)`,
			`CREATE TABLE pwned (x INT)`,
			`CREATE INDEX other ON comments (id)`,
		} {
			if _, err := db.Exec(`DELETE FROM deferred_indexes`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(map[schema.Dialect]string{schema.SQLite: `INSERT INTO deferred_indexes (name, table_name, definition) VALUES (?, ?, ?)`,
				schema.Postgres: `INSERT INTO deferred_indexes (name, table_name, definition) VALUES ($1, $2, $3)`}[d], "evil", "comments", def); err != nil {
				t.Fatal(err)
			}
			s, err := schema.Open(ctx, dsn)
			if err == nil {
				s.Close()
				t.Fatalf("%q: the store opened", def)
			}
			if !strings.Contains(err.Error(), "deferred_indexes") {
				t.Errorf("%q: %v", def, err)
			}
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM pwned`).Scan(&n); err == nil {
				t.Fatalf("%q was run", def)
			}
		}
	})
}

func mustImported(t *testing.T, s *schema.Store, site int64, id string) int64 {
	t.Helper()
	c, err := s.ImportedID(context.Background(), site, "remark42", id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
