package main

import (
	"context"
	"io"
	"os"

	"github.com/parley/parley/cmd/parley/internal/imports"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// newImporter gives the admin API the format readers: an upload is a file,
// checked to its end before anything is written, so that a malformed one
// leaves nothing half-written.
func newImporter(store *schema.Store, secret string, batch int) handlers.Importer {
	return handlers.Importer{
		Formats: imports.Formats,
		Import: func(ctx context.Context, site *schema.Site, f *os.File, req handlers.ImportRequest, progress func(handlers.ImportProgress)) (any, error) {
			opt := imports.Options{Format: req.Format, Secret: secret, DryRun: req.DryRun, Rewrite: req.Rewrite, Batch: batch, Check: true,
				OnProgress: func(phase string, read, written int) {
					progress(handlers.ImportProgress{Phase: phase, Read: read, Written: written})
				}}
			rep, err := imports.Run(ctx, store, site, f, opt)
			if err != nil {
				return nil, err
			}
			progress(handlers.ImportProgress{Phase: "done", Read: rep.Read, Written: rep.Written})
			return rep, nil
		},
		Export: func(ctx context.Context, site *schema.Site, w io.Writer) error {
			return imports.Export(ctx, store, site, w, nil)
		},
	}
}
