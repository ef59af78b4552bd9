package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parley/parley/cmd/parley/internal/imports"
	"github.com/parley/parley/schema"
)

// exportCommand runs `parley export -site news [-o FILE]`.
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export -site news [-o FILE] [-db …]", stderr,
		"Writes the site, its articles, bans, reactions and every comment with its votes, reports and history as newline-delimited JSON; parley import -format parley reads it back.")
	site := fs.String("site", "", "the site's slug")
	outPath := fs.String("o", "", "write to this file instead of standard output")
	dsn, create := dbFlags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *site == "" {
		fs.Usage()
		return errUsage
	}
	store, err := openExisting(ctx, *dsn, *create)
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := store.Site(ctx, *site)
	if errors.Is(err, schema.ErrNotFound) {
		return fmt.Errorf("no site %q", *site)
	}
	if err != nil {
		return err
	}
	out := stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	if err := imports.Export(ctx, store, s, out, stderr); err != nil {
		return err
	}
	if f, ok := out.(*os.File); ok && *outPath != "" {
		return f.Sync()
	}
	return nil
}
