package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parley/parley/cmd/parley/internal/imports"
	"github.com/parley/parley/schema"
)

// importCommand runs `parley import -site news -format F FILE`.
func importCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("import -site news -format "+strings.Join(imports.Formats, "|")+" [-dry-run] [-rewrite old=new …] FILE|-", stderr,
		"Imports another comment system's export (gzip is read as is; - reads standard input). Running it again writes nothing twice.")
	site := fs.String("site", "", "the site's slug (it must exist, except for -format parley, which creates it)")
	format := fs.String("format", "", "disqus, wordpress, remark42, commento, isso or parley")
	dsn, create := dbFlags(fs)
	dry := fs.Bool("dry-run", false, "read everything and report, write nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	batch := fs.Int("batch", 5000, "comments written per transaction")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file (for make bench-import)")
	bulk := fs.Bool("bulk", false, "into a database with no comments yet and no server running: drop the comments' indexes for the load and build them at the end (several times faster)")
	var rewrites listFlag
	fs.Var(&rewrites, "rewrite", "old=new: replace the URL prefix old by new before URLs are compared (repeatable)")
	// The file comes last; flags may not follow it.
	var file string
	if n := len(args); n > 0 && (!strings.HasPrefix(args[n-1], "-") || args[n-1] == "-") {
		file, args = args[n-1], args[:n-1]
	}
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *site == "" || *format == "" || file == "" {
		fs.Usage()
		return errUsage
	}
	if err := mustExist(*dsn, *create); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	opt := imports.Options{Format: *format, DryRun: *dry, Progress: stderr, Batch: *batch, Bulk: *bulk}
	for _, r := range rewrites {
		old, nw, ok := strings.Cut(r, "=")
		if !ok || old == "" {
			return fmt.Errorf("-rewrite %q: want old=new", r)
		}
		opt.Rewrite = append(opt.Rewrite, [2]string{old, nw})
	}
	var in io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			opt.Size = st.Size()
		}
		in = f
	}
	store, secret, err := openWithSecret(ctx, *dsn, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	opt.Secret = secret
	s, err := store.Site(ctx, *site)
	if errors.Is(err, schema.ErrNotFound) && *format == "parley" {
		s = &schema.Site{Slug: *site}
		err = nil
	}
	if errors.Is(err, schema.ErrNotFound) {
		return fmt.Errorf("no site %q: create it first with parley site add", *site)
	}
	if err != nil {
		return err
	}
	rep, err := imports.Run(ctx, store, s, in, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(stdout)
	return nil
}
