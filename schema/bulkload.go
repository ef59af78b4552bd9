package schema

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// bulkTables are the tables whose secondary indexes an import into an
// empty comments table drops for the load and builds again at the end:
// SQLite and PostgreSQL build an index from the finished table in one
// sorted pass, far cheaper than keeping seventeen B-trees up to date row
// by row. Primary keys and unique indexes stay: the import's "nothing
// twice" rests on imported_comments' primary key.
var bulkTables = []string{"comments", "imported_comments"}

// deferredIndex is a dropped index and the statement that makes it again.
type deferredIndex struct {
	Name       string `db:"name"`
	Table      string `db:"table_name"`
	Definition string `db:"definition"`
}

// secondaryIndexes lists a table's indexes that enforce nothing.
func (s *Store) secondaryIndexes(ctx context.Context, tx *sqlx.Tx, table string) ([]deferredIndex, error) {
	var out []deferredIndex
	var err error
	if s.dialect == Postgres {
		err = tx.SelectContext(ctx, &out, `SELECT i.relname AS name, $1::text AS table_name, pg_get_indexdef(i.oid) AS definition
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = $1::text::regclass AND NOT x.indisunique AND NOT x.indisprimary
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
			ORDER BY i.relname`, table)
	} else {
		// Indexes SQLite makes for constraints have no SQL; LIKE ignores case.
		err = tx.SelectContext(ctx, &out, `SELECT name, tbl_name AS table_name, sql AS definition FROM sqlite_master
			WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
			ORDER BY name`, table)
	}
	if err != nil {
		return nil, fmt.Errorf("list the indexes of %s: %w", table, err)
	}
	return out, nil
}

// deferIndexes drops the secondary indexes of bulkTables when the comments
// table is empty and no other import has dropped them already, recording
// each in deferred_indexes in the same transaction: a crash at any point
// leaves either the indexes or the record of them. It reports whether it
// dropped them; the caller then owes a restoreIndexes.
func (s *Store) deferIndexes(ctx context.Context) (bool, error) {
	dropped := false
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		dropped = false
		var busy bool
		if err := tx.GetContext(ctx, &busy, `SELECT EXISTS (SELECT 1 FROM comments) OR EXISTS (SELECT 1 FROM deferred_indexes)`); err != nil {
			return fmt.Errorf("check for a bulk load: %w", err)
		}
		if busy {
			return nil
		}
		for _, t := range bulkTables {
			idx, err := s.secondaryIndexes(ctx, tx, t)
			if err != nil {
				return err
			}
			for _, ix := range idx {
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deferred_indexes (name, table_name, definition) VALUES (?, ?, ?)`),
					ix.Name, ix.Table, ix.Definition); err != nil {
					return fmt.Errorf("record index %s: %w", ix.Name, err)
				}
				if _, err := tx.ExecContext(ctx, `DROP INDEX `+quoteIdent(ix.Name)); err != nil {
					return fmt.Errorf("drop index %s: %w", ix.Name, err)
				}
				dropped = true
			}
		}
		return nil
	})
	return dropped, err
}

// RestoreIndexes builds every index a bulk import dropped and has not
// built again, in one transaction. Open calls it, so an import that
// crashed leaves a database whose indexes come back at the next start;
// while a bulk import is running, another process that opens the database
// builds them early, holding the writer while it does (which is why a bulk
// load is for a database no server is serving yet).
func (s *Store) RestoreIndexes(ctx context.Context) (int, error) {
	if s.dialect == SQLite {
		// SQLite sorts each index's keys in runs of the cache's size and
		// merges them from temporary files; with the store's temp_store
		// (MEMORY) those files were process memory: a million comments took
		// the import to 230 MB. The writer has one connection, so the
		// pragma is its own.
		if _, err := s.wdb.ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil {
			return 0, err
		}
		defer s.wdb.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = MEMORY`)
	}
	n := 0
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		n = 0
		q := `SELECT name, table_name, definition FROM deferred_indexes ORDER BY name`
		if s.dialect == Postgres {
			// Two processes restoring at once take turns; the second finds
			// the rows gone.
			q += ` FOR UPDATE`
			// Sorting in memory on the server: the default 64 MB spills a
			// million-row index to disk.
			if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
				return err
			}
		}
		var idx []deferredIndex
		if err := tx.SelectContext(ctx, &idx, q); err != nil {
			return fmt.Errorf("read deferred indexes: %w", err)
		}
		for _, ix := range idx {
			if err := ix.check(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, ifNotExists(ix.Definition)); err != nil {
				return fmt.Errorf("build index %s: %w", ix.Name, err)
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM deferred_indexes WHERE name = ?`), ix.Name); err != nil {
				return err
			}
		}
		n = len(idx)
		if n > 0 && s.dialect == Postgres {
			// The planner still holds the statistics of the empty tables.
			for _, t := range bulkTables {
				if _, err := tx.ExecContext(ctx, `ANALYZE `+quoteIdent(t)); err != nil {
					return fmt.Errorf("analyze %s: %w", t, err)
				}
			}
		}
		return nil
	})
	return n, err
}

// indexDefinition is the one statement a deferred index may be: a plain
// CREATE INDEX of a bulk table, as pg_get_indexdef and sqlite_master write
// them, with no second statement after it.
var indexDefinition = regexp.MustCompile(`(?is)^\s*CREATE\s+INDEX\s+(IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?\s+ON\s+("?\w+"?\.)?"?(\w+)"?\s*(USING\s+btree\s*)?\(`)

// check refuses a recorded index that is not one of the bulk tables'
// indexes: the definitions are run as they are stored, so a row written
// into deferred_indexes by anything but deferIndexes must not become SQL
// that a start of parley runs.
func (ix deferredIndex) check() error {
	m := indexDefinition.FindStringSubmatch(ix.Definition)
	if m == nil || !strings.EqualFold(m[2], ix.Name) || !slices.Contains(bulkTables, strings.ToLower(m[4])) ||
		!strings.EqualFold(m[4], ix.Table) || strings.ContainsAny(ix.Definition, ";") || strings.Contains(ix.Definition, "--") ||
		strings.Contains(ix.Definition, "/*") {
		return fmt.Errorf("deferred_indexes holds %q, which is not an index of %s: delete that row and create the index by hand", ix.Name, strings.Join(bulkTables, " or "))
	}
	return nil
}

// ifNotExists turns "CREATE INDEX name …" into "CREATE INDEX IF NOT EXISTS
// name …", so that an index another process built already is left alone.
func ifNotExists(def string) string {
	const head = "CREATE INDEX "
	if len(def) > len(head) && strings.EqualFold(def[:len(head)], head) &&
		!strings.HasPrefix(strings.ToUpper(strings.TrimSpace(def[len(head):])), "IF NOT EXISTS") {
		return head + "IF NOT EXISTS " + def[len(head):]
	}
	return def
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
