package handlers_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley/parley/schema"
)

func TestReactionsContract(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		tok := e.readerToken()
		path := "/api/v1/sites/news/articles/a-1/reactions"

		r := e.do("GET", path, nil)
		if r.Status != 200 || r.JSON["mine"] != nil || num(r.JSON["total"]) != 0 {
			t.Fatalf("unknown article: %d %s", r.Status, r.Body)
		}
		counts := r.JSON["counts"].(map[string]any)
		if len(counts) != 2 || num(counts["like"]) != 0 || num(counts["dislike"]) != 0 {
			t.Fatalf("zero counts: %s", r.Body)
		}

		for i := 0; i < 2; i++ { // idempotent
			r = e.do("PUT", path+"/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
			if r.Status != 200 || r.JSON["mine"] != "like" || num(r.JSON["total"]) != 1 || r.JSON["site"] != "news" || r.JSON["article"] != "a-1" {
				t.Fatalf("like #%d: %d %s", i, r.Status, r.Body)
			}
		}
		r = e.do("PUT", path+"/mine", map[string]string{"reaction": "dislike"}, "X-Reader-Token", tok)
		c := r.JSON["counts"].(map[string]any)
		if num(c["like"]) != 0 || num(c["dislike"]) != 1 || r.JSON["mine"] != "dislike" {
			t.Fatalf("change: %s", r.Body)
		}
		r = e.do("GET", path, nil, "X-Reader-Token", tok)
		if r.JSON["mine"] != "dislike" {
			t.Fatalf("mine after change: %s", r.Body)
		}
		r = e.do("GET", path, nil)
		if r.JSON["mine"] != nil || num(r.JSON["total"]) != 1 {
			t.Fatalf("anonymous read: %s", r.Body)
		}
		r = e.do("DELETE", path+"/mine", nil, "X-Reader-Token", tok)
		if r.Status != 200 || r.JSON["mine"] != nil || num(r.JSON["total"]) != 0 {
			t.Fatalf("retract: %s", r.Body)
		}

		e.do("PUT", "/api/v1/sites/news/articles/b/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
		r = e.do("GET", "/api/v1/sites/news/reactions?article=a-1&article=b&article=never", nil)
		arts := r.JSON["articles"].(map[string]any)
		if r.Status != 200 || len(arts) != 3 || num(arts["b"].(map[string]any)["total"]) != 1 || num(arts["never"].(map[string]any)["total"]) != 0 {
			t.Fatalf("bulk: %s", r.Body)
		}
	})
}

// Bad input gets a clear 4xx in the error shape and writes nothing.
func TestReactionsBadInput(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	tok := e.readerToken()
	// This reader's id under another reader's signature: well formed, and
	// never the right signature (changing the last characters would be,
	// once in 4,096 tokens, when they are the ones written over).
	id, _, _ := strings.Cut(tok, ".")
	_, sig, _ := strings.Cut(e.readerToken(), ".")
	forged := id + "." + sig
	mine := "/api/v1/sites/news/articles/a/reactions/mine"
	long := strings.Repeat("k", 201)
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code, field        string
	}{
		{"malformed JSON", "PUT", mine, `{"reaction":`, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"not an object", "PUT", mine, `["like"]`, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"unknown field", "PUT", mine, `{"reaction":"like","x":1}`, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"two objects", "PUT", mine, `{"reaction":"like"}{}`, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"empty body", "PUT", mine, ``, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"unknown reaction", "PUT", mine, map[string]string{"reaction": "love"}, []string{"X-Reader-Token", tok}, 422, "validation_failed", "reaction"},
		{"missing reaction", "PUT", mine, `{}`, []string{"X-Reader-Token", tok}, 422, "validation_failed", "reaction"},
		{"missing token", "PUT", mine, map[string]string{"reaction": "like"}, nil, 401, "unauthorized", ""},
		{"forged token", "PUT", mine, map[string]string{"reaction": "like"}, []string{"X-Reader-Token", forged}, 401, "unauthorized", ""},
		{"garbage token", "PUT", mine, map[string]string{"reaction": "like"}, []string{"X-Reader-Token", "hello"}, 401, "unauthorized", ""},
		{"forged token on read", "GET", "/api/v1/sites/news/articles/a/reactions", nil, []string{"X-Reader-Token", forged}, 401, "unauthorized", ""},
		{"long key", "PUT", "/api/v1/sites/news/articles/" + long + "/reactions/mine", map[string]string{"reaction": "like"}, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"ill-formed key", "PUT", "/api/v1/sites/news/articles/a%20b/reactions/mine", map[string]string{"reaction": "like"}, []string{"X-Reader-Token", tok}, 400, "bad_request", ""},
		{"unicode key", "GET", "/api/v1/sites/news/articles/%C3%A9/reactions", nil, nil, 400, "bad_request", ""},
		{"unknown site", "PUT", "/api/v1/sites/nope/articles/a/reactions/mine", map[string]string{"reaction": "like"}, []string{"X-Reader-Token", tok}, 404, "not_found", ""},
		{"unknown site read", "GET", "/api/v1/sites/nope/articles/a/reactions", nil, nil, 404, "not_found", ""},
		{"too large", "PUT", mine, `{"reaction":"` + strings.Repeat("x", 10000) + `"}`, []string{"X-Reader-Token", tok}, 413, "payload_too_large", ""},
		{"bulk none", "GET", "/api/v1/sites/news/reactions", nil, nil, 400, "bad_request", ""},
		{"bulk too many", "GET", "/api/v1/sites/news/reactions?" + strings.Repeat("article=a&", 101), nil, nil, 400, "bad_request", ""},
		{"bulk bad key", "GET", "/api/v1/sites/news/reactions?article=%3Cx%3E", nil, nil, 400, "bad_request", ""},
		{"unknown route", "GET", "/api/v1/nothing", nil, nil, 404, "not_found", ""},
		{"wrong method", "POST", "/api/v1/sites/news/articles/a/reactions", nil, nil, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.body, c.headers...)
			if r.Status != c.status || r.errCode() != c.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, c.status, c.code)
			}
			if c.field != "" && r.field(c.field) == "" {
				t.Fatalf("no message for field %s: %s", c.field, r.Body)
			}
		})
	}
	// Nothing was written by any of them.
	r := e.do("GET", "/api/v1/sites/news/articles/a/reactions", nil)
	if num(r.JSON["total"]) != 0 {
		t.Fatalf("bad input wrote a reaction: %s", r.Body)
	}
	if _, err := e.store.Article(t.Context(), e.site.ID, "a"); err == nil {
		t.Fatal("bad input created an article")
	}
}

func TestStrictArticles(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	st := e.site.Settings
	st.StrictArticles = true
	if err := e.store.UpdateSiteSettings(t.Context(), e.site.ID, st, nil); err != nil {
		t.Fatal(err)
	}
	tok := e.readerToken()
	r := e.do("PUT", "/api/v1/sites/news/articles/unregistered/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
	if r.Status != 404 {
		t.Fatalf("strict site accepted an unregistered article: %d %s", r.Status, r.Body)
	}
	if _, err := e.store.RegisterArticle(t.Context(), e.site.ID, "registered", "Title", "https://news.example/r"); err != nil {
		t.Fatal(err)
	}
	r = e.do("PUT", "/api/v1/sites/news/articles/registered/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
	if r.Status != 200 {
		t.Fatalf("registered article: %d %s", r.Status, r.Body)
	}
}

// 400 distinct readers vote concurrently over HTTP, each changing their
// mind once; the counts are exact.
func TestConcurrentVotesOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) { c.Limits = noLimits() })
		path := "/api/v1/sites/news/articles/viral/reactions"
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := 0; i < 400; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				tok := e.readerToken()
				first, then := "like", "dislike"
				if i%4 == 0 {
					first, then = "dislike", "like"
				}
				for _, r := range []string{first, then} {
					if resp := e.do("PUT", path+"/mine", map[string]string{"reaction": r}, "X-Reader-Token", tok); resp.Status != 200 {
						t.Errorf("vote: %d %s", resp.Status, resp.Body)
					}
				}
			}(i)
		}
		wg.Wait()
		r := e.do("GET", path, nil)
		c := r.JSON["counts"].(map[string]any)
		if num(c["like"]) != 100 || num(c["dislike"]) != 300 || num(r.JSON["total"]) != 400 {
			t.Fatalf("counts %s, want like=100 dislike=300", fmt.Sprint(c))
		}
	})
}

func TestCORS(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	pre := func(origin, path string) response {
		return e.do("OPTIONS", path, nil, "Origin", origin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-reader-token, content-type")
	}
	r := pre("https://news.example", "/api/v1/sites/news/articles/a/reactions/mine")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://news.example" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "X-Reader-Token") {
		t.Fatalf("preflight from the site's origin: %d %v", r.Status, r.Header)
	}
	if r := pre("https://evil.example", "/api/v1/sites/news/articles/a/reactions/mine"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin allowed: %v", r.Header)
	}
	if r := pre("https://news.example", "/api/v1/readers"); r.Header.Get("Access-Control-Allow-Origin") != "https://news.example" {
		t.Fatalf("site-less route from a known origin: %v", r.Header)
	}
	r = e.do("GET", "/api/v1/sites/news/articles/a/reactions", nil, "Origin", "https://news.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://news.example" {
		t.Fatalf("simple request: %v", r.Header)
	}
}

func TestOperations(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do("GET", p, nil); r.Status != 200 {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	tok := e.readerToken()
	e.do("PUT", "/api/v1/sites/news/articles/a/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
	_, body := e.metrics()
	for _, want := range []string{
		`parley_http_requests_total{method="PUT",route="/api/v1/sites/{site}/articles/{article}/reactions/mine",status="200"} 1`,
		`parley_votes_total{reaction="like"} 1`,
		`parley_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
}
