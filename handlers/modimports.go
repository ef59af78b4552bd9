package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/schema"
)

// ImportRequest is one import as an admin asked for it.
type ImportRequest struct {
	Format string
	DryRun bool
	// Rewrite maps URL prefixes to others (an old domain to the new one).
	Rewrite [][2]string
}

// ImportProgress is how far a job got: Phase is "checking" while the file
// is read once without writing, then "writing".
type ImportProgress struct {
	Phase   string
	Read    int
	Written int
}

// Importer runs the admin API's imports and exports. The format readers
// are not HTTP and live with the command line, which fills this in.
type Importer struct {
	// Formats are the format names Import accepts.
	Formats []string
	// Import reads the whole file and imports it into the site; it must
	// write nothing when the file turns out malformed (it is a file, so it
	// can be read twice). The report is shown as JSON.
	Import func(ctx context.Context, site *schema.Site, file *os.File, req ImportRequest, progress func(ImportProgress)) (report any, err error)
	// Export writes the site as Parley's newline-delimited JSON.
	Export func(ctx context.Context, site *schema.Site, w io.Writer) error
}

// DefaultImportMaxBytes caps an uploaded import file (compressed as sent).
const DefaultImportMaxBytes = 1 << 30

// maxImportJobs bounds the jobs an instance remembers; finished jobs are
// forgotten oldest first.
const maxImportJobs = 50

// importJob is one import running or run by this instance.
type importJob struct {
	ID       string     `json:"id"`
	Site     string     `json:"site"`
	Format   string     `json:"format"`
	DryRun   bool       `json:"dry_run"`
	Bytes    int64      `json:"bytes"`
	State    string     `json:"state"` // running, done, failed
	Phase    string     `json:"phase"`
	Read     int        `json:"read"`
	Written  int        `json:"written"`
	Error    string     `json:"error,omitempty"`
	Report   any        `json:"report,omitempty"`
	Started  time.Time  `json:"started_at"`
	Finished *time.Time `json:"finished_at"`
}

// importJobs are the jobs of this instance, kept in memory: a job is seen
// only on the instance that runs it.
type importJobs struct {
	mu      sync.Mutex
	jobs    map[string]*importJob
	order   []string
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
}

func newImportJobs() *importJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &importJobs{jobs: map[string]*importJob{}, ctx: ctx, cancel: cancel}
}

// stop cancels the running jobs and waits for them, before the store
// closes.
func (j *importJobs) stop() {
	j.cancel()
	j.running.Wait()
}

// add registers a running job, unless one runs already: imports share
// the database's one writer, and a second would only slow the first.
func (j *importJobs) add(job *importJob) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range j.order {
		if o := j.jobs[id]; o.State == "running" {
			return errConflict("import " + o.ID + " into site " + quote(o.Site) + " is running: wait for it (GET /api/v1/mod/imports/" + o.ID + ")")
		}
	}
	for len(j.order) >= maxImportJobs {
		delete(j.jobs, j.order[0])
		j.order = j.order[1:]
	}
	j.jobs[job.ID] = job
	j.order = append(j.order, job.ID)
	return nil
}

// view copies a job under the lock.
func (j *importJobs) view(id string) (importJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if !ok {
		return importJob{}, false
	}
	return *job, true
}

func (j *importJobs) update(job *importJob, fn func(*importJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn(job)
}

// startImport takes the uploaded file, answers 202 with the job, and
// imports in the background.
func (s *Server) startImport(w http.ResponseWriter, r *http.Request) error {
	imp := s.cfg.Importer
	if imp.Import == nil {
		return &apiError{Status: http.StatusNotImplemented, Code: "not_implemented", Message: "this server was built without importers"}
	}
	q := r.URL.Query()
	req := ImportRequest{Format: q.Get("format")}
	problems := map[string]string{}
	if !slices.Contains(imp.Formats, req.Format) {
		problems["format"] = "use one of " + strings.Join(imp.Formats, ", ")
	}
	switch q.Get("dry_run") {
	case "", "0", "false":
	case "1", "true":
		req.DryRun = true
	default:
		problems["dry_run"] = "use 1 or 0"
	}
	for _, rw := range q["rewrite"] {
		old, nw, ok := strings.Cut(rw, "=")
		if !ok || old == "" {
			problems["rewrite"] = "want old=new, such as http://old.example=https://new.example"
			break
		}
		req.Rewrite = append(req.Rewrite, [2]string{old, nw})
	}
	if len(problems) > 0 {
		return errValidation(problems)
	}
	site, err := s.freshSite(r)
	if err != nil {
		return err
	}
	job := &importJob{ID: newJobID(), Site: site.Slug, Format: req.Format, DryRun: req.DryRun, State: "running", Phase: "uploading", Started: s.store.Now().UTC()}
	if err := s.imports.add(job); err != nil {
		return err
	}
	fail := func(err error) error {
		now := s.store.Now().UTC()
		s.imports.update(job, func(j *importJob) { j.State, j.Error, j.Finished = "failed", "upload: "+err.Error(), &now })
		return err
	}
	// The file goes to disk as it arrives; an upload of a gigabyte outlasts
	// the server's read timeout, so the deadline is lifted for this route.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	f, err := os.CreateTemp("", "parley-upload-*")
	if err != nil {
		return fail(err)
	}
	n, err := io.Copy(f, r.Body)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(&apiError{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
				Message: fmt.Sprintf("the file is larger than this server's -import-max-bytes (%d bytes)", tooBig.Limit)})
		}
		return fail(errBadRequest("the upload broke off: %v", err))
	}
	if n == 0 {
		f.Close()
		os.Remove(f.Name())
		return fail(errValidation(map[string]string{"body": "the request body is the export file; it is empty"}))
	}
	s.imports.update(job, func(j *importJob) { j.Bytes, j.Phase = n, "checking" })
	audit := schema.By(moderator(r), "").For("site.import", "site", site.ID).OnSite(site.ID)
	// The answer shows the job as it starts: a small file may be done
	// before the answer is written, and its outcome is for importStatus.
	view, _ := s.imports.view(job.ID)
	s.imports.running.Add(1)
	go func() {
		defer s.imports.running.Done()
		defer os.Remove(f.Name())
		defer f.Close()
		s.runImport(site, f, req, job, audit)
	}()
	writeJSON(w, http.StatusAccepted, view)
	return nil
}

func (s *Server) runImport(site *schema.Site, f *os.File, req ImportRequest, job *importJob, audit schema.Audit) {
	ctx := s.imports.ctx
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.log.Error("import: rewind the upload", "err", err)
	}
	rep, err := s.cfg.Importer.Import(ctx, site, f, req, func(p ImportProgress) {
		s.imports.update(job, func(j *importJob) { j.Phase, j.Read, j.Written = p.Phase, p.Read, p.Written })
	})
	now := s.store.Now().UTC()
	s.imports.update(job, func(j *importJob) {
		j.Finished = &now
		if err != nil {
			j.State, j.Error = "failed", err.Error()
			return
		}
		j.State, j.Phase, j.Report = "done", "", rep
	})
	view, _ := s.imports.view(job.ID)
	detail, _ := json.Marshal(map[string]any{"job": view.ID, "format": view.Format, "dry_run": view.DryRun, "bytes": view.Bytes,
		"read": view.Read, "written": view.Written, "error": view.Error})
	audit.After, audit.Detail = view.State, string(detail)
	// The outcome is recorded even when the server is stopping.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.AddAudit(actx, &audit); err != nil {
		s.log.Error("import: audit entry", "err", err)
	}
	if err != nil {
		s.log.Warn("import failed", "job", view.ID, "site", view.Site, "format", view.Format, "err", err)
	} else {
		s.log.Info("import done", "job", view.ID, "site", view.Site, "format", view.Format, "written", view.Written, "dry_run", view.DryRun)
	}
}

// importStatus answers a job's progress and, once done, its report.
func (s *Server) importStatus(w http.ResponseWriter, r *http.Request) error {
	id := routeVar(r, "id")
	job, ok := s.imports.view(id)
	if !ok {
		return errNotFound("import " + quote(id) + " (jobs are kept in memory by the instance that runs them, until it restarts)")
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

// exportSite streams the site as newline-delimited JSON. A failure once
// the stream has started cuts the connection, so that a broken download
// never looks complete.
func (s *Server) exportSite(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Importer.Export == nil {
		return &apiError{Status: http.StatusNotImplemented, Code: "not_implemented", Message: "this server was built without the exporter"}
	}
	site, err := s.freshSite(r)
	if err != nil {
		return err
	}
	audit := schema.By(moderator(r), "").For("site.export", "site", site.ID).OnSite(site.ID)
	if err := s.store.AddAudit(r.Context(), &audit); err != nil {
		return err
	}
	// The export reads the whole site: it is bounded by the client staying
	// connected, not by the request timeout.
	ctx := untimed(r)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="parley-%s-%s.ndjson"`, site.Slug, s.store.Now().UTC().Format("20060102-150405")))
	w.Header().Set("Cache-Control", "no-store")
	cw := &countingWriter{w: w}
	if err := s.cfg.Importer.Export(ctx, site, cw); err != nil {
		if cw.n == 0 {
			return err
		}
		s.log.Warn("export broke off", "site", site.Slug, "bytes", cw.n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type untimedKey struct{}

// keepContext remembers the request's own context, before h gives it the
// request timeout, for the routes whose work is long by nature.
func keepContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), untimedKey{}, r.Context())))
	})
}

// untimed is the request's context without the request timeout: it ends
// when the client goes away.
func untimed(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(untimedKey{}).(context.Context); ok {
		return ctx
	}
	return r.Context()
}

func newJobID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
