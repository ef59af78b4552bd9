package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres says that PostgreSQL is backed up with its own tools.
var ErrBackupPostgres = errors.New("parley backup copies SQLite databases only: back PostgreSQL up with pg_dump --format=custom --file=parley.dump \"$PARLEY_DB\" (restore with pg_restore --clean --if-exists --no-owner --dbname=… parley.dump), see docs/operations.md")

// Backup writes a consistent copy of a SQLite database to path with VACUUM
// INTO: it reads one snapshot, so writers (a running server) go on meanwhile
// and the copy holds every transaction committed before it began, none
// after. The copy is compacted and has no WAL of its own.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup %s exists already: name a new file (a backup never overwrites)", path)
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
