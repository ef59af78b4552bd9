package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
)

// reportCommand runs `parley report -site news -from … -to …`: the site's
// transparency report under the EU Digital Services Act (Art. 15 and 24),
// the same as GET /api/v1/mod/sites/{site}/transparency.
func reportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report -site news -from 2026-01-01 -to 2026-06-30 [-format json|csv] [-db …]", stderr,
		"Prints the site's transparency report for the days from..to (UTC, both included): notices by category and outcome, "+
			"time to decision, own-initiative actions by rule and by the classifier, appeals and their outcomes, suspensions.")
	slug := fs.String("site", "", "the site's slug")
	from := fs.String("from", "", "first day of the period, YYYY-MM-DD")
	to := fs.String("to", "", "last day of the period, YYYY-MM-DD")
	format := fs.String("format", "json", "json or csv")
	dsn, create := dbFlags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case *slug == "":
		return missing(fs, "site")
	case *from == "":
		return missing(fs, "from")
	case *to == "":
		return missing(fs, "to")
	case *format != "json" && *format != "csv":
		return fmt.Errorf("-format must be json or csv, not %q", *format)
	}
	start, end, err := dsa.Period(*from, *to)
	if err != nil {
		return fmt.Errorf("-%v", err)
	}
	store, err := openExisting(ctx, *dsn, *create)
	if err != nil {
		return err
	}
	defer store.Close()
	site, err := store.Site(ctx, *slug)
	if errors.Is(err, schema.ErrNotFound) {
		return fmt.Errorf("no site %q: parley site add creates one", *slug)
	}
	if err != nil {
		return err
	}
	facts, err := store.Transparency(ctx, site.ID, start, end)
	if err != nil {
		return err
	}
	rep := dsa.MakeReport(site.Slug, start, end, facts)
	if *format == "csv" {
		return rep.WriteCSV(stdout)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
