package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/cmd/parley/internal/imports"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

const apiTestSecret = "0123456789abcdef0123456789abcdef-api"

var apiPasswordHash = sync.OnceValue(func() string {
	h, err := moderation.HashPassword("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	return h
})

// importAPI is a server with the real importer over a test store.
type importAPI struct {
	t     *testing.T
	store *schema.Store
	base  string
	// lastCookie is the session cookie of the last login.
	lastCookie string
}

func newImportAPI(t *testing.T, store *schema.Store, maxBytes int64) *importAPI {
	srv := handlers.New(store, handlers.Config{Secret: apiTestSecret, Importer: newImporter(store, apiTestSecret, 7), ImportMaxBytes: maxBytes,
		Limits: handlers.Limits{}.Off()})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &importAPI{t: t, store: store, base: ts.URL}
}

// token creates an account and returns an API token for it.
func (a *importAPI) token(email, role string, sites ...int64) string {
	a.t.Helper()
	m := &schema.Moderator{Email: email, PasswordHash: apiPasswordHash(), Role: role, Sites: sites}
	if err := a.store.CreateModerator(context.Background(), m, nil); err != nil {
		a.t.Fatal(err)
	}
	st, body := a.do("POST", "/api/v1/mod/session", "", strings.NewReader(`{"email":"`+email+`","password":"correct horse battery staple"}`), "")
	if st != 200 {
		a.t.Fatalf("login: %d %s", st, body)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(body, &login)
	req, _ := http.NewRequest("POST", a.base+"/api/v1/mod/tokens", strings.NewReader(`{"name":"script"}`))
	req.Header.Set("X-CSRF-Token", login.CSRF)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", a.lastCookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		a.t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.Token
}

func (a *importAPI) do(method, path, token string, body io.Reader, contentType string) (int, []byte) {
	a.t.Helper()
	st, b, _ := a.doH(method, path, token, body, contentType)
	return st, b
}

func (a *importAPI) doH(method, path, token string, body io.Reader, contentType string) (int, []byte, http.Header) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			a.lastCookie = "parley_session=" + c.Value
		}
	}
	return resp.StatusCode, b, resp.Header
}

// job is the part of a job's JSON the tests read.
type job struct {
	ID      string          `json:"id"`
	State   string          `json:"state"`
	Phase   string          `json:"phase"`
	Read    int             `json:"read"`
	Written int             `json:"written"`
	Error   string          `json:"error"`
	Report  *imports.Report `json:"report"`
}

// upload posts a file and waits for its job to end.
func (a *importAPI) upload(token, site, query string, file []byte) job {
	a.t.Helper()
	st, b := a.do("POST", "/api/v1/mod/sites/"+site+"/imports?"+query, token, bytes.NewReader(file), "application/octet-stream")
	if st != http.StatusAccepted {
		a.t.Fatalf("import %s: %d %s", query, st, b)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil || j.ID == "" || j.State != "running" {
		a.t.Fatalf("job: %s (%v)", b, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for j.State == "running" {
		if time.Now().After(deadline) {
			a.t.Fatalf("job %s still running: %+v", j.ID, j)
		}
		time.Sleep(20 * time.Millisecond)
		st, b := a.do("GET", "/api/v1/mod/imports/"+j.ID, token, nil, "")
		if st != 200 {
			a.t.Fatalf("poll: %d %s", st, b)
		}
		j = job{}
		if err := json.Unmarshal(b, &j); err != nil {
			a.t.Fatal(err)
		}
	}
	return j
}

// count is an article page's comment count as readers see it.
func (a *importAPI) count(site, key string) int {
	a.t.Helper()
	st, b := a.do("GET", "/api/v1/sites/"+site+"/articles/"+key+"/comments", "", nil, "")
	if st != 200 {
		a.t.Fatalf("page %s: %d %s", key, st, b)
	}
	var page struct {
		Count    int   `json:"count"`
		Comments []any `json:"comments"`
	}
	json.Unmarshal(b, &page)
	return page.Count
}

func siteComments(t *testing.T, s *schema.Store, siteID int64) int {
	t.Helper()
	n := 0
	if err := s.ExportComments(context.Background(), siteID, func(*schema.ExportedComment) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func gz(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestImportAPI imports real exports through the admin API on both
// engines: refusals, a malformed file that writes nothing, an import in
// two steps whose comments the public pages (cached before) show at once,
// a dry run, the report, the audit entries, and the export read back.
func TestImportAPI(t *testing.T) {
	fx := filepath.Join("internal", "imports", "testdata", "remark42", "remark42-news-backup.gz")
	zipped, err := os.ReadFile(fx)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(plain), "\n"), "\n")
	if len(lines) != 26 {
		t.Fatalf("fixture has %d lines, want a header and 25 comments", len(lines))
	}
	// Article keys as the importer derives them, and the first article's.
	keyOf := func(line string) string {
		var c struct {
			Locator struct {
				URL string `json:"url"`
			} `json:"locator"`
		}
		json.Unmarshal([]byte(line), &c)
		return imports.ArticleKey(imports.NormalizeURL(c.Locator.URL))
	}
	first := keyOf(lines[1])
	var other string
	for _, l := range lines[1:] {
		if k := keyOf(l); k != first {
			other = k
			break
		}
	}
	// The first five comments are all under the first article.
	for _, l := range lines[1:6] {
		if keyOf(l) != first {
			t.Fatal("the fixture's first five comments are not under one article")
		}
	}
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site, err := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateSite(ctx, "copy", schema.DefaultSettings(), nil); err != nil {
			t.Fatal(err)
		}
		api := newImportAPI(t, s, 0)
		admin := api.token("admin@news.example", schema.RoleAdmin)
		mod := api.token("mod@news.example", schema.RoleModerator, site.ID)

		// Refusals.
		if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=remark42", mod, bytes.NewReader(zipped), "application/gzip"); st != 403 || !strings.Contains(string(b), `"forbidden"`) {
			t.Errorf("moderator import: %d %s", st, b)
		}
		if st, b := api.do("GET", "/api/v1/mod/sites/news/export", mod, nil, ""); st != 403 {
			t.Errorf("moderator export: %d %s", st, b)
		}
		if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=remark42", "", bytes.NewReader(zipped), "application/gzip"); st != 401 {
			t.Errorf("anonymous import: %d %s", st, b)
		}
		if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=livefyre", admin, bytes.NewReader(zipped), "application/gzip"); st != 422 || !strings.Contains(string(b), "remark42") {
			t.Errorf("unknown format: %d %s", st, b)
		}
		if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=remark42&rewrite=nothing", admin, bytes.NewReader(zipped), "application/gzip"); st != 422 {
			t.Errorf("bad rewrite: %d %s", st, b)
		}
		if st, b := api.do("POST", "/api/v1/mod/sites/nope/imports?format=remark42", admin, bytes.NewReader(zipped), "application/gzip"); st != 404 {
			t.Errorf("unknown site: %d %s", st, b)
		}
		if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=remark42", admin, bytes.NewReader(nil), "application/gzip"); st != 422 {
			t.Errorf("empty body: %d %s", st, b)
		}
		if st, b := api.do("GET", "/api/v1/mod/imports/0123", admin, nil, ""); st != 404 || !strings.Contains(string(b), "instance") {
			t.Errorf("unknown job: %d %s", st, b)
		}

		// Malformed past several batches: the job fails, nothing is written.
		bad := api.upload(admin, "news", "format=remark42", []byte(string(plain)+"{\"id\": broken\n"))
		if bad.State != "failed" || !strings.Contains(bad.Error, "remark42 line 27") || bad.Report != nil {
			t.Errorf("malformed file: %+v", bad)
		}
		if n := siteComments(t, s, site.ID); n != 0 {
			t.Errorf("malformed file wrote %d comments", n)
		}
		badJSON := api.upload(admin, "news", "format=commento", gz(t, []byte(`{"version":1,"comments":[{"commentHex":"a","url":"/x","markdown":"hi","parentHex":"root","state":"approved","creationDate":"2026-01-01T00:00:00Z"},`)))
		if badJSON.State != "failed" || !strings.Contains(badJSON.Error, "commento JSON") {
			t.Errorf("truncated commento file: %+v", badJSON)
		}

		// Pages read (and cached) before the import.
		if n := api.count("news", first); n != 0 {
			t.Fatalf("first article before: %d", n)
		}
		dry := api.upload(admin, "news", "format=remark42&dry_run=1", zipped)
		if dry.State != "done" || dry.Report == nil || !dry.Report.DryRun || dry.Report.Read != 25 || siteComments(t, s, site.ID) != 0 {
			t.Errorf("dry run: %+v", dry)
		}
		part := api.upload(admin, "news", "format=remark42", gz(t, []byte(strings.Join(lines[:6], ""))))
		if part.State != "done" || part.Written != 5 || part.Report.Written != 5 {
			t.Fatalf("first five: %+v", part)
		}
		before := api.count("news", first)
		if before == 0 {
			t.Errorf("the page of %s shows none of the imported comments", first)
		}
		if n := api.count("news", other); n != 0 {
			t.Fatalf("other article before: %d", n)
		}
		full := api.upload(admin, "news", "format=remark42", zipped)
		if full.State != "done" || full.Report == nil || full.Report.Written != 20 || full.Report.Already != 5 || full.Report.Format != "remark42" {
			t.Fatalf("full import: %+v %+v", full, full.Report)
		}
		if n := api.count("news", first); n <= before {
			t.Errorf("first article after the import: %d, was %d: a cached page was served", n, before)
		}
		if n := api.count("news", other); n == 0 {
			t.Errorf("other article after the import: a cached page was served")
		}

		// Export, then the export into another site.
		st, body, h := api.doH("GET", "/api/v1/mod/sites/news/export", admin, nil, "")
		if st != 200 || !strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="parley-news-`) || h.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("export: %d %v %.200s", st, h, body)
		}
		comments := 0
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"type":"comment"`) {
				comments++
			}
		}
		if comments != 25 {
			t.Errorf("export has %d comments", comments)
		}
		restored := api.upload(admin, "copy", "format=parley", body)
		if restored.State != "done" || restored.Report.Written != 25 {
			t.Errorf("restore: %+v", restored)
		}

		// The audit log names who imported and exported what.
		entries, _, err := s.AuditLog(ctx, schema.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			// The restored copy carries the news site's entries too.
			if (strings.HasPrefix(e.Action, "site.import") || e.Action == "site.export") && e.SiteID != nil && *e.SiteID == site.ID {
				got = append(got, fmt.Sprintf("%s %s %s", e.Action, e.After, e.Actor))
			}
		}
		want := []string{"site.export  admin@news.example", "site.import done admin@news.example",
			"site.import done admin@news.example", "site.import done admin@news.example", "site.import failed admin@news.example", "site.import failed admin@news.example"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestImportAPILimit refuses an upload over -import-max-bytes with 413,
// declared or not.
func TestImportAPILimit(t *testing.T) {
	s := schematest.Open(t, schema.SQLite)
	if _, err := s.CreateSite(context.Background(), "news", schema.DefaultSettings(), nil); err != nil {
		t.Fatal(err)
	}
	api := newImportAPI(t, s, 1000)
	admin := api.token("admin@news.example", schema.RoleAdmin)
	big := bytes.Repeat([]byte("x"), 5000)
	if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=disqus", admin, bytes.NewReader(big), "application/xml"); st != 413 {
		t.Errorf("declared length: %d %s", st, b)
	}
	// Chunked: the length is found out while reading.
	if st, b := api.do("POST", "/api/v1/mod/sites/news/imports?format=disqus", admin, io.MultiReader(bytes.NewReader(big)), "application/xml"); st != 413 || !strings.Contains(string(b), "import-max-bytes") {
		t.Errorf("chunked: %d %s", st, b)
	}
	// The failed upload does not block the next import.
	small := []byte(`<?xml version="1.0"?><disqus xmlns:dsq="http://disqus.com/disqus-internals"></disqus>`)
	if j := api.upload(admin, "news", "format=disqus", small); j.State != "done" {
		t.Errorf("after a refused upload: %+v", j)
	}
}
