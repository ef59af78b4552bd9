// Package imports reads other comment systems' exports (Disqus, WordPress,
// Remark42, Commento, Isso) and Parley's own, turns each record into a
// neutral comment and writes them through the store in batches, with a
// report of what it did. The formats are neither HTTP nor SQL: the store
// does the writes, the command line and the admin API run it.
package imports

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// Formats are the -format values.
var Formats = []string{"disqus", "wordpress", "remark42", "commento", "isso", "parley"}

// Comment is one comment as a format reader found it, before hashing and
// URL normalisation.
type Comment struct {
	SourceID string
	ParentID string // "" for top level
	URL      string // the article's address as the source holds it
	Title    string
	Author   string
	Email    string
	IP       string
	Body     string // plain text or Markdown source, never HTML
	Status   string // a schema status
	Created  time.Time
	Edited   *time.Time
	Up, Down int64
	Score    int64
	// Skip, when set, is why the record is not imported (a pingback).
	Skip string
	// Parley is a comment of a Parley export, already in Parley's terms.
	Parley *schema.ImportComment
}

// Options configure one import.
type Options struct {
	Format string
	// Secret is the server secret, so that emails and IPs are hashed as
	// Parley hashes its own.
	Secret string
	DryRun bool
	// Rewrite maps URL prefixes to others before normalisation (an old
	// domain to the new one).
	Rewrite [][2]string
	// Progress, when set, receives a line a second with the count and,
	// when Size is known, the time left.
	Progress io.Writer
	Size     int64
	// Batch is the number of comments a transaction writes.
	Batch int
	// Now is the clock for progress lines; time.Now when nil.
	Now func() time.Time
	// Check, when the input is a file (an io.ReadSeeker), reads it once
	// to its end without writing before the import proper, so that a file
	// that turns out malformed halfway leaves nothing half-written.
	Check bool
	// Bulk drops the comments' secondary indexes for the load when the
	// database holds no comments yet and builds them at the end (see
	// schema.Import.BulkLoad): for a first import, server stopped.
	Bulk bool
	// OnProgress, when set, is told the phase ("checking" or "writing"),
	// the records read and the comments written so far, after each batch.
	OnProgress func(phase string, read, written int)
}

// Skipped is a record left out, and why.
type Skipped struct {
	SourceID string `json:"source_id"`
	Reason   string `json:"reason"`
}

// Merged is an article found under several URLs.
type Merged struct {
	Key  string   `json:"key"`
	URLs []string `json:"urls"`
}

// Repaired is a comment whose parent was changed.
type Repaired struct {
	SourceID string `json:"source_id"`
	ParentID string `json:"parent_id"`
	Reason   string `json:"reason"`
}

// Report is what an import did (or, in a dry run, would do).
type Report struct {
	Format   string         `json:"format"`
	Site     string         `json:"site"`
	DryRun   bool           `json:"dry_run"`
	Read     int            `json:"read"`
	Articles int            `json:"articles"`
	Comments map[string]int `json:"comments"` // by status, the ones read and kept
	Written  int            `json:"written"`
	// Already counts comments imported before from the same source, or
	// repeated in the file: left alone.
	Already int `json:"already_imported"`
	// SkippedCount counts every record left out; Skipped lists the first
	// thousand, so that a report stays small whatever the file.
	SkippedCount int        `json:"skipped_count"`
	Skipped      []Skipped  `json:"skipped"`
	Merged       []Merged   `json:"merged_articles"`
	Repaired     []Repaired `json:"repaired_parents"`
	Seconds      float64    `json:"seconds"`
}

// maxListed bounds each list of a report; counts stay exact.
const maxListed = 1000

func (r *Report) skip(id, reason string) {
	r.SkippedCount++
	if len(r.Skipped) < maxListed {
		r.Skipped = append(r.Skipped, Skipped{id, reason})
	}
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	verb := "imported"
	if r.DryRun {
		verb = "would import (dry run, nothing written)"
	}
	fmt.Fprintf(w, "%s %s into site %s: %d records read, %d articles\n", r.Format, verb, r.Site, r.Read, r.Articles)
	var st []string
	for k := range r.Comments {
		st = append(st, k)
	}
	sort.Strings(st)
	for _, k := range st {
		fmt.Fprintf(w, "  %-9s %d\n", k, r.Comments[k])
	}
	if !r.DryRun {
		fmt.Fprintf(w, "written: %d, already imported: %d\n", r.Written, r.Already)
	}
	fmt.Fprintf(w, "skipped: %d\n", r.SkippedCount)
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  %s: %s\n", s.SourceID, s.Reason)
	}
	if n := r.SkippedCount - len(r.Skipped); n > 0 {
		fmt.Fprintf(w, "  … and %d more\n", n)
	}
	fmt.Fprintf(w, "merged articles: %d\n", len(r.Merged))
	for _, m := range r.Merged {
		fmt.Fprintf(w, "  %s: %s\n", m.Key, strings.Join(m.URLs, ", "))
	}
	fmt.Fprintf(w, "repaired parents: %d\n", len(r.Repaired))
	for _, p := range r.Repaired {
		fmt.Fprintf(w, "  %s (parent %s): %s\n", p.SourceID, p.ParentID, p.Reason)
	}
	fmt.Fprintf(w, "took %.1fs\n", r.Seconds)
}

// Open undoes gzip when the stream starts with its magic number.
func Open(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// counter counts the bytes read, for progress (read by the writer's
// goroutine).
type counter struct {
	r io.Reader
	n atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Run reads the export in from start to end and imports it into the site.
// Reading and writing overlap: one goroutine parses and hashes the next
// batch while another writes the last, with a few batches in memory at
// most.
func Run(ctx context.Context, store *schema.Store, site *schema.Site, in io.Reader, opt Options) (_ *Report, runErr error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	rep := &Report{Format: opt.Format, Site: site.Slug, DryRun: opt.DryRun, Comments: map[string]int{}}
	if opt.Batch <= 0 {
		opt.Batch = 5000
	}
	if _, ok := readers[opt.Format]; !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %s", opt.Format, strings.Join(Formats, ", "))
	}
	if opt.Check {
		rs, ok := in.(io.ReadSeeker)
		if !ok {
			return nil, errors.New("a checked import reads a file, not a stream")
		}
		if err := Check(ctx, rs, opt.Format, func(n int) {
			if opt.OnProgress != nil {
				opt.OnProgress("checking", n, 0)
			}
		}); err != nil {
			return nil, err
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	cnt := &counter{r: in}
	plain, err := Open(cnt)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	read := readers[opt.Format]
	h := &restorer{store: store, site: site, dryRun: opt.DryRun}
	// Created at the first batch: a Parley export names its site in its
	// header, which may create it.
	var im *schema.Import
	defer func() {
		// A bulk import that failed builds the dropped indexes here; if that
		// fails too the caller must know (the next start builds them).
		if im != nil {
			if err := im.Close(); err != nil {
				runErr = errors.Join(runErr, fmt.Errorf("build the comments' indexes again: %w", err))
			}
		}
	}()
	// Articles by key, with the URLs seen for each, to report merges;
	// bounded by the number of articles, not comments.
	urls := map[string]map[string]bool{}
	// In a dry run nothing is written, so parents are checked in memory.
	var dry *dryParents
	if opt.DryRun {
		dry = newDryParents()
	}

	// The writer goroutine owns rep.Written and rep.Already until it is done.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		nread   atomic.Int64
		werr    error
		queue   = make(chan []schema.ImportComment, 1)
		free    = make(chan []schema.ImportComment, 2)
		written = make(chan struct{})
	)
	for range 2 {
		free <- make([]schema.ImportComment, 0, opt.Batch)
	}
	lastProgress := now()
	go func() {
		defer close(written)
		for b := range queue {
			if werr == nil && !opt.DryRun {
				res, err := im.Write(wctx, b)
				if err != nil {
					werr = err
					stop()
				}
				rep.Written += res.Written
				rep.Already += len(res.Already)
			}
			clear(b)
			select {
			case free <- b[:0]:
			default: // enough spares
			}
			if werr != nil {
				continue
			}
			if opt.OnProgress != nil {
				opt.OnProgress("writing", int(nread.Load()), rep.Written)
			}
			if opt.Progress != nil && now().Sub(lastProgress) >= time.Second {
				lastProgress = now()
				progress(opt.Progress, int(nread.Load()), rep.Written, cnt.n.Load(), opt.Size, now().Sub(start))
			}
		}
	}()
	batch := make([]schema.ImportComment, 0, opt.Batch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if im == nil && !opt.DryRun {
			im = store.NewImport(h.site.ID, opt.Format)
			if opt.Bulk {
				im.BulkLoad()
			}
		}
		queue <- batch
		select {
		case batch = <-free:
		default:
			batch = make([]schema.ImportComment, 0, opt.Batch)
		}
		return wctx.Err()
	}
	err = read(plain, h, func(c *Comment) error {
		rep.Read++
		nread.Store(int64(rep.Read))
		if c.SourceID == "" {
			rep.skip(fmt.Sprintf("record %d", rep.Read), "no id")
			return nil
		}
		if c.Skip != "" {
			rep.skip(c.SourceID, c.Skip)
			return nil
		}
		ic, err := convert(c, opt)
		if err != nil {
			rep.skip(c.SourceID, err.Error())
			return nil
		}
		seen := urls[ic.Article.Key]
		if seen == nil {
			seen = map[string]bool{}
			urls[ic.Article.Key] = seen
		}
		if len(seen) < 20 && c.URL != "" {
			seen[c.URL] = true
		}
		rep.Comments[ic.Status]++
		if dry != nil {
			dry.add(ic.SourceID, ic.ParentSourceID, ic.Article.Key)
		}
		batch = append(batch, ic)
		if len(batch) >= opt.Batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	close(queue)
	<-written
	if werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, err
	}
	rep.Articles = len(urls)
	for k, set := range urls {
		if len(set) > 1 {
			var us []string
			for u := range set {
				us = append(us, u)
			}
			sort.Strings(us)
			rep.Merged = append(rep.Merged, Merged{Key: k, URLs: us})
		}
	}
	sort.Slice(rep.Merged, func(i, j int) bool { return rep.Merged[i].Key < rep.Merged[j].Key })
	if opt.DryRun {
		rep.Repaired = dry.check()
	} else if im != nil {
		if opt.Progress != nil {
			// Finish may build the indexes an import into an empty database
			// dropped: a minute at a million comments, with nothing to count.
			fmt.Fprintf(opt.Progress, "%d comments written in %s; building indexes and linking parents\n",
				rep.Written, now().Sub(start).Round(time.Second))
		}
		res, err := im.Finish(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range res.Dangling {
			rep.Repaired = append(rep.Repaired, Repaired{d.SourceID, d.ParentSourceID, "parent not found in the import (or under another article): made top level"})
		}
		for _, id := range res.Cycles {
			rep.Repaired = append(rep.Repaired, Repaired{id, "", "parent chain loops back to this comment: made top level"})
		}
	}
	rep.Seconds = now().Sub(start).Seconds()
	if opt.Progress != nil {
		progress(opt.Progress, rep.Read, rep.Written, cnt.n.Load(), opt.Size, now().Sub(start))
	}
	return rep, nil
}

// Check reads an export to its end without writing anything and returns
// the first error that would stop its import; tell, when set, is told the
// count of records read every thousand records.
func Check(ctx context.Context, in io.Reader, format string, tell func(read int)) error {
	read, ok := readers[format]
	if !ok {
		return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	plain, err := Open(in)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	n := 0
	err = read(plain, &restorer{dryRun: true}, func(*Comment) error {
		n++
		if n%1000 == 0 {
			if tell != nil {
				tell(n)
			}
			return ctx.Err()
		}
		return nil
	})
	if err == nil && tell != nil {
		tell(n)
	}
	return err
}

func progress(w io.Writer, read, written int, done, size int64, took time.Duration) {
	rate := float64(read) / max(took.Seconds(), 0.001)
	line := fmt.Sprintf("%d comments read, %d written, %.0f/s", read, written, rate)
	if size > 0 && done > 0 {
		left := time.Duration(float64(took) * float64(size-done) / float64(done))
		line += fmt.Sprintf(", %.0f%%, about %s left", 100*float64(done)/float64(size), left.Round(time.Second))
	}
	fmt.Fprintln(w, line)
}

// convert hashes, normalises and fills what Parley needs.
func convert(c *Comment, opt Options) (schema.ImportComment, error) {
	if c.Parley != nil {
		ic := *c.Parley
		ic.SourceID, ic.ParentSourceID = c.SourceID, c.ParentID
		return ic, nil
	}
	switch c.Status {
	case schema.StatusApproved, schema.StatusPending, schema.StatusSpam, schema.StatusDeleted, schema.StatusRejected:
	default:
		return schema.ImportComment{}, fmt.Errorf("unknown status %q", c.Status)
	}
	if c.Created.IsZero() {
		return schema.ImportComment{}, errors.New("no creation time")
	}
	u := c.URL
	for _, rw := range opt.Rewrite {
		if strings.HasPrefix(u, rw[0]) {
			u = rw[1] + u[len(rw[0]):]
			break
		}
	}
	if strings.TrimSpace(u) == "" {
		return schema.ImportComment{}, errors.New("no article URL")
	}
	norm := NormalizeURL(u)
	author := strings.TrimSpace(c.Author)
	if author == "" && c.Status != schema.StatusDeleted {
		author = "Anonymous"
	}
	ic := schema.ImportComment{
		SourceID: c.SourceID, ParentSourceID: c.ParentID,
		Article: schema.ImportArticle{Key: ArticleKey(norm), Title: clip(strings.TrimSpace(c.Title), 500), URL: u},
		Author:  author, Body: c.Body, BodyKey: moderation.BodyKey(c.Body), Status: c.Status,
		Upvotes: c.Up, Downvotes: c.Down, Score: c.Score, CreatedMS: c.Created.UTC().UnixMilli(),
	}
	if c.Up == 0 && c.Down == 0 && c.Score != 0 {
		// Only a net score is known (Commento, Remark42): counted as up or
		// down votes so that the shown totals add up.
		if c.Score > 0 {
			ic.Upvotes = c.Score
		} else {
			ic.Downvotes = -c.Score
		}
	}
	if ic.Score == 0 {
		ic.Score = ic.Upvotes - ic.Downvotes
	}
	if c.Edited != nil {
		ic.EditedMS = new(c.Edited.UTC().UnixMilli())
	}
	if e := strings.TrimSpace(c.Email); e != "" {
		ic.EmailHash = moderation.EmailHash(opt.Secret, e)
	}
	if ip := strings.TrimSpace(c.IP); ip != "" {
		ic.IPHash = moderation.IPHash(opt.Secret, ip)
	}
	return ic, nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// dryParents checks parents in memory for a dry run.
type dryParents struct {
	article map[string]string // source id -> article key
	parent  map[string]string
	seq     map[string]int // position in the file
	order   []string
}

func newDryParents() *dryParents {
	return &dryParents{article: map[string]string{}, parent: map[string]string{}, seq: map[string]int{}}
}

func (d *dryParents) add(id, parent, article string) {
	if _, dup := d.article[id]; dup {
		return
	}
	d.article[id] = article
	d.seq[id] = len(d.seq)
	if parent != "" {
		d.parent[id] = parent
		d.order = append(d.order, id)
	}
}

func (d *dryParents) check() []Repaired {
	var out []Repaired
	for _, id := range d.order {
		p := d.parent[id]
		if a, ok := d.article[p]; !ok || a != d.article[id] {
			out = append(out, Repaired{id, p, "parent not found in the import (or under another article): made top level"})
			delete(d.parent, id)
		}
	}
	done := map[string]bool{}
	for _, start := range d.order {
		var path []string
		on := map[string]bool{}
		id := start
		for !done[id] {
			if on[id] {
				// As the import does: the loop's latest comment (in file
				// order, the order of its ids) becomes top level.
				loop := path[slices.Index(path, id):]
				cut := slices.MaxFunc(loop, func(a, b string) int { return d.seq[a] - d.seq[b] })
				out = append(out, Repaired{cut, d.parent[cut], "parent chain loops back to this comment: made top level"})
				break
			}
			on[id] = true
			path = append(path, id)
			p, ok := d.parent[id]
			if !ok {
				break
			}
			id = p
		}
		for _, n := range path {
			done[n] = true
		}
	}
	return out
}
