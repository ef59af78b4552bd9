package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// naughtyStrings is the Big List of Naughty Strings (testdata/blns.json,
// MIT, see testdata/blns.LICENSE) and a few of our own that JSON cannot
// carry: NUL and invalid UTF-8, sent raw in paths, queries and headers.
func naughtyStrings(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile("testdata/blns.json")
	if err != nil {
		tb.Fatal(err)
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		tb.Fatal(err)
	}
	return append(list, "\x00", "news\x00", "a\x00b", "\xff\xfe", "\xc0\xaf", "news/../news", "%00", "..", ".",
		"like\x00", "Ann+tag@Example.ORG ", "'; DROP TABLE comments;--@x.org", "ünïcødé@例え.テスト", "a@b@c", "1e400", "-0", "9223372036854775808", strings.Repeat("a", 201), strings.Repeat("é", 5001))
}

// validHeaderValue tells whether net/http would pass v on as a header
// value at all: strings it refuses never reach a handler.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// hostile sends requests straight to the handler (no network, so that
// thousands stay fast) and fails the test on any 5xx or an error answer
// outside the contract's shape.
type hostile struct {
	t      *testing.T
	h      http.Handler
	e      *env
	secret string

	mu       sync.Mutex
	accepted map[string]int    // strings taken, by input
	notes    map[string]string // report notes taken, by reader id
}

// took counts a string the server accepted for an input.
func (x *hostile) took(input string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.accepted == nil {
		x.accepted = map[string]int{}
	}
	x.accepted[input]++
}

func (x *hostile) send(method, target string, body []byte, headers ...string) *httptest.ResponseRecorder {
	x.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	x.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		x.t.Errorf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
	} else if rec.Code >= 400 {
		var shape struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &shape); err != nil || shape.Error.Code == "" || shape.Error.Message == "" {
			x.t.Errorf("%s %s: %d outside the error shape: %s", method, target, rec.Code, rec.Body)
		}
	}
	return rec
}

func (x *hostile) sendJSON(method, target string, v any, headers ...string) (*httptest.ResponseRecorder, map[string]any) {
	x.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		x.t.Fatal(err)
	}
	rec := x.send(method, target, b, headers...)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec, out
}

// worker holds what one goroutine of the test owns: a reader, a captcha
// it reuses until something uses it up, and a comment of its own to edit.
type worker struct {
	*hostile
	token           string
	captcha, answer string
	own             int64
	ownToken        string
}

func (w *worker) newReader() string {
	rec, out := w.sendJSON("POST", "/api/v1/readers", nil)
	if rec.Code != 201 {
		w.t.Fatalf("reader: %d %s", rec.Code, rec.Body)
	}
	return out["token"].(string)
}

// post writes a comment on article with the given fields over valid
// defaults. A refusal before the captcha check (400, 413, 422) leaves the
// captcha for the next attempt.
func (w *worker) post(site, article string, fields map[string]any) (*httptest.ResponseRecorder, map[string]any) {
	if w.captcha == "" {
		rec, out := w.sendJSON("POST", "/api/v1/captchas", nil)
		if rec.Code != 201 {
			w.t.Fatalf("captcha: %d %s", rec.Code, rec.Body)
		}
		w.captcha, w.answer = out["id"].(string), out["test_solution"].(string)
	}
	body := map[string]any{"author": "Ann", "body": "a perfectly ordinary comment " + randomWord(), "captcha_id": w.captcha, "captcha_solution": w.answer}
	for k, v := range fields {
		body[k] = v
	}
	rec, out := w.sendJSON("POST", "/api/v1/sites/"+url.PathEscape(site)+"/articles/"+url.PathEscape(article)+"/comments", body)
	if c := rec.Code; c != 400 && c != 404 && c != 413 && c != 422 && c != 301 {
		w.captcha = ""
	}
	return rec, out
}

var wordMu sync.Mutex
var wordN int

func randomWord() string {
	wordMu.Lock()
	defer wordMu.Unlock()
	wordN++
	return "number " + strconv.Itoa(wordN)
}

// accepted checks that a comment the server took (201 or 200) holds the
// text byte for byte, after the documented trimming, in its answer and in
// the database.
func (w *worker) accepted(what string, out map[string]any, field, sent string) {
	w.t.Helper()
	w.took(what)
	c, _ := out["comment"].(map[string]any)
	want := strings.TrimSpace(sent)
	if c[field] != want {
		w.t.Errorf("%s: answered %s %q, want %q", what, field, c[field], want)
		return
	}
	stored, err := w.e.store.Comment(w.t.Context(), num(c["id"]))
	if err != nil {
		w.t.Fatal(err)
	}
	got := stored.Body
	if field == "author" {
		got = stored.Author
	}
	if got != want {
		w.t.Errorf("%s: stored %s %q, want %q", what, field, got, want)
	}
}

// Every naughty string through every public input: nothing answers 5xx or
// panics, and what is accepted comes back exactly as sent.
func TestNaughtyStrings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) {
			c.Limits = noLimits()
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
		})
		// Every request comes from one address: no posting-rate holds, so
		// that accepted comments are published and can be listed.
		st := e.site.Settings
		st.Moderation.MaxPerMinute = -1
		if err := e.store.UpdateSiteSettings(t.Context(), e.site.ID, st, nil); err != nil {
			t.Fatal(err)
		}
		x := &hostile{t: t, h: e.srv.Config.Handler, e: e, secret: testSecret, notes: map[string]string{}}
		setup := &worker{hostile: x}
		rec, out := setup.post("news", "target", map[string]any{"body": "the comment everyone reports"})
		if rec.Code != 201 {
			t.Fatalf("setup: %d %s", rec.Code, rec.Body)
		}
		target := num(out["comment"].(map[string]any)["id"])

		strs := naughtyStrings(t)
		if raceEnabled && d == schema.SQLite {
			// Instrumented, the pure-Go SQLite is ten times slower: take a
			// spread of a quarter of the list. PostgreSQL, and any run
			// without -race, takes all of it.
			var some []string
			for i := 0; i < len(strs); i += 4 {
				some = append(some, strs[i])
			}
			strs = some
		}
		work := make(chan string)
		var wg sync.WaitGroup
		for range 4 {
			w := &worker{hostile: x}
			w.token = w.newReader()
			rec, out := w.post("news", "own", map[string]any{"body": "mine to edit"})
			if rec.Code != 201 {
				t.Fatalf("own comment: %d %s", rec.Code, rec.Body)
			}
			w.own, w.ownToken = num(out["comment"].(map[string]any)["id"]), out["edit_token"].(string)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s := range work {
					w.try(s, target)
				}
			}()
		}
		for _, s := range strs {
			work <- s
		}
		close(work)
		wg.Wait()

		// Every report note taken is stored as sent, after trimming.
		reports, err := e.store.OpenReports(t.Context(), []int64{target})
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]string{}
		for _, r := range reports[target] {
			stored[r.ReaderID] = r.Note
		}
		for reader, note := range x.notes {
			if got, ok := stored[reader]; !ok || got != note {
				t.Errorf("report note %q stored as %q (%v)", note, got, ok)
			}
		}
		t.Logf("of %d strings, accepted: %v", len(strs), x.accepted)
	})
}

// try sends one naughty string through every input.
func (w *worker) try(s string, target int64) {
	t := w.t
	p, q := url.PathEscape(s), url.QueryEscape(s)
	auth := []string{"X-Reader-Token", w.token}
	like := []byte(`{"reaction":"like"}`)
	jsonOK := utf8.ValidString(s)

	// Article keys in paths: accepted keys come back as sent.
	for _, path := range []string{"/reactions", "/comments", "/comments.atom"} {
		w.send("GET", "/api/v1/sites/news/articles/"+p+path, nil)
	}
	if rec := w.send("PUT", "/api/v1/sites/news/articles/"+p+"/reactions/mine", like, auth...); rec.Code == 200 {
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		if out["article"] != s {
			t.Errorf("article key %q came back as %q", s, out["article"])
		}
	}
	if rec, out := w.post("news", s, nil); rec.Code == 201 && out["comment"].(map[string]any)["status"] == "approved" {
		l := w.send("GET", "/api/v1/sites/news/articles/"+p+"/comments?limit=200", nil)
		w.took("article key")
		if !strings.Contains(l.Body.String(), fmt.Sprintf(`"id":%d,`, num(out["comment"].(map[string]any)["id"]))) {
			t.Errorf("comment on article %q not listed: %s", s, l.Body)
		}
	}

	// Site slugs in paths.
	w.send("GET", "/api/v1/sites/"+p+"/reactions?article=a", nil)
	w.send("GET", "/api/v1/sites/"+p+"/articles/a/comments", nil)
	w.send("PUT", "/api/v1/sites/"+p+"/articles/a/reactions/mine", like, auth...)
	w.send("GET", "/api/v1/sites/"+p+"/articles/a/reactions", nil, "Origin", "https://news.example")
	w.post(s, "a", nil)

	// Query parameters.
	for _, k := range []string{"cursor", "sort", "limit"} {
		w.send("GET", "/api/v1/sites/news/articles/target/comments?"+k+"="+q, nil)
	}
	if rec := w.send("GET", "/api/v1/sites/news/reactions?article="+q, nil); rec.Code == 200 {
		var out struct{ Articles map[string]any }
		json.Unmarshal(rec.Body.Bytes(), &out)
		if _, ok := out.Articles[s]; !ok || len(out.Articles) != 1 {
			t.Errorf("bulk counts for %q: %s", s, rec.Body)
		}
	}
	w.send("GET", "/api/v1/captchas/"+p+"/image.png", nil)
	w.send("GET", "/api/v1/captchas/"+p+"/audio.wav", nil)
	if w.captcha != "" {
		w.send("GET", "/api/v1/captchas/"+w.captcha+"/audio.wav?lang="+q, nil)
	}

	// Raw request bodies on every route that reads one.
	raw := []byte(s)
	w.send("PUT", "/api/v1/sites/news/articles/a/reactions/mine", raw, auth...)
	w.send("POST", "/api/v1/sites/news/articles/a/comments", raw)
	w.send("PUT", fmt.Sprintf("/api/v1/comments/%d/vote", target), raw, auth...)
	w.send("POST", fmt.Sprintf("/api/v1/comments/%d/reports", target), raw, auth...)
	w.send("PATCH", fmt.Sprintf("/api/v1/comments/%d", w.own), raw, "Authorization", "Bearer "+w.ownToken)

	if jsonOK {
		w.fields(s, target, auth)
	}

	// Headers, where net/http would let them through.
	if validHeaderValue(s) {
		w.send("GET", "/api/v1/sites/news/articles/a/reactions", nil, "X-Reader-Token", s)
		w.send("PUT", fmt.Sprintf("/api/v1/comments/%d/vote", target), []byte(`{"vote":1}`), "X-Reader-Token", s)
		for _, a := range []string{"Bearer " + s, s} {
			rec := w.send("PATCH", fmt.Sprintf("/api/v1/comments/%d", w.own), []byte(`{"body":"edited"}`), "Authorization", a)
			if rec.Code < 400 {
				t.Errorf("Authorization %q edited a comment: %d", a, rec.Code)
			}
			if rec := w.send("DELETE", fmt.Sprintf("/api/v1/comments/%d", w.own), nil, "Authorization", a); rec.Code < 400 {
				t.Errorf("Authorization %q deleted a comment: %d", a, rec.Code)
			}
		}
		w.send("POST", "/api/v1/readers", nil, "Origin", s)
		w.send("GET", "/api/v1/sites/news/articles/a/reactions", nil, "Origin", s)
		w.send("OPTIONS", "/api/v1/sites/news/articles/a/reactions/mine", nil, "Origin", s, "Access-Control-Request-Method", "PUT")
		w.send("POST", "/api/v1/readers", nil, "X-Forwarded-For", s)
		rec := w.send("GET", "/healthz", nil, "X-Request-Id", s)
		if id := rec.Header().Get("X-Request-Id"); id == "" || !validHeaderValue(id) {
			t.Errorf("X-Request-Id %q answered with %q", s, id)
		}
	}
}

// fields puts s in every JSON field of every body.
func (w *worker) fields(s string, target int64, auth []string) {
	t := w.t
	if rec, out := w.post("news", "fields", map[string]any{"body": s}); rec.Code == 201 {
		w.accepted("body", out, "body", s)
	}
	if rec, out := w.post("news", "fields", map[string]any{"author": s}); rec.Code == 201 {
		w.accepted("author", out, "author", s)
	}
	if rec, out := w.post("news", "fields", map[string]any{"email": s}); rec.Code == 201 {
		c, _ := w.e.store.Comment(t.Context(), num(out["comment"].(map[string]any)["id"]))
		if strings.TrimSpace(s) != "" {
			w.took("email")
		}
		if want := moderation.EmailHash(w.secret, s); c.EmailHash != want || (c.EmailHash == "") != (strings.TrimSpace(s) == "") {
			t.Errorf("email %q stored as hash %q, want %q", s, c.EmailHash, want)
		}
	}
	if rec, _ := w.post("news", "fields", map[string]any{"captcha_solution": s}); rec.Code == 201 {
		t.Errorf("captcha solution %q accepted", s)
	}
	if rec, _ := w.post("news", "fields", map[string]any{"captcha_id": s}); rec.Code == 201 {
		t.Errorf("captcha id %q accepted", s)
	}
	w.post("news", "fields", map[string]any{"parent_id": s})

	// An edit of the worker's own comment.
	if rec, out := w.sendJSON("PATCH", fmt.Sprintf("/api/v1/comments/%d", w.own), map[string]any{"body": s}, "Authorization", "Bearer "+w.ownToken); rec.Code == 200 {
		w.accepted("edited body", out, "body", s)
	}

	// A report by a new reader, so that its note is stored.
	reader := w.newReader()
	rec, _ := w.sendJSON("POST", fmt.Sprintf("/api/v1/comments/%d/reports", target), map[string]any{"reason": "other", "note": s}, "X-Reader-Token", reader)
	if rec.Code == 202 {
		w.took("report note")
		id, _, _ := strings.Cut(reader, ".")
		w.mu.Lock()
		w.notes[id] = strings.TrimSpace(s)
		w.mu.Unlock()
	}
	w.sendJSON("POST", fmt.Sprintf("/api/v1/comments/%d/reports", target), map[string]any{"reason": s}, auth...)
	if rec, out := w.sendJSON("PUT", "/api/v1/sites/news/articles/r/reactions/mine", map[string]any{"reaction": s}, auth...); rec.Code == 200 && out["mine"] != s {
		t.Errorf("reaction %q answered as %v", s, out["mine"])
	}
	w.sendJSON("PUT", fmt.Sprintf("/api/v1/comments/%d/vote", target), map[string]any{"vote": s}, auth...)
}
