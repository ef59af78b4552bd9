package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/parley/parley/schema"
)

// backup runs `parley backup -o FILE`.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup -o FILE [-db …]", stderr,
		"Writes a consistent copy of the SQLite database to FILE, also while the server runs.\n"+
			"Restore by stopping the server and putting FILE in the database's place (docs/operations.md).\n"+
			"PostgreSQL: use pg_dump, as the error says.")
	out := fs.String("o", "", "the backup file to write; it must not exist")
	dsn, create := dbFlags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if schema.DialectOf(*dsn) == schema.Postgres {
		return schema.ErrBackupPostgres
	}
	if *out == "" {
		return missing(fs, "o")
	}
	store, err := openExisting(ctx, *dsn, *create)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	if err := store.Backup(ctx, *out); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes) in %s\n", *out, fi.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}
