package handlers_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// lockedBuffer collects a server's log from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The counts and the comment pages are served without gorilla's router
// (see hotpath.go). They still get what every route gets: the request id,
// the security headers, CORS, the body limit, the rate limit of comment
// pages, a line in the log and a count in the metrics under the route's
// template; and they answer what gorilla's routes answer. (Their deadline
// is tested in TestDatabaseHangs.)
func TestHotRoutesMiddleware(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Limits = handlers.DefaultLimits()
		c.Limits.Reads = handlers.Rate{PerMinute: 1, Burst: 2}
	})
	tok := e.readerToken()
	if r := e.do("PUT", "/api/v1/sites/news/articles/hot/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok); r.Status != 200 {
		t.Fatalf("vote: %d %s", r.Status, r.Body)
	}
	counts := "/api/v1/sites/news/articles/hot/reactions"
	comments := "/api/v1/sites/news/articles/hot/comments"

	r := e.do("GET", counts, nil, "X-Reader-Token", tok, "Origin", "https://news.example", "X-Request-Id", "given-id-1")
	if r.Status != 200 || r.JSON["mine"] != "like" {
		t.Fatalf("counts: %d %s", r.Status, r.Body)
	}
	for k, want := range map[string]string{
		"X-Request-Id":                  "given-id-1",
		"Access-Control-Allow-Origin":   "https://news.example",
		"Access-Control-Expose-Headers": "Retry-After, X-Request-Id",
		"Vary":                          "Origin",
		"X-Content-Type-Options":        "nosniff",
		"Referrer-Policy":               "strict-origin-when-cross-origin",
		"Content-Type":                  "application/json; charset=utf-8",
		"Content-Length":                strconv.Itoa(len(r.Body)),
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("counts: %s = %q, want %q", k, got, want)
		}
	}
	r = e.do("GET", counts, nil, "Origin", "https://elsewhere.example")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("counts from another origin: %d %v", r.Status, r.Header)
	}

	// The body limit of the public routes: a declared body over 4 KiB.
	req, _ := http.NewRequest("GET", e.srv.URL+counts, strings.NewReader(strings.Repeat("x", 5000)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("counts with a 5,000-byte body: %d", resp.StatusCode)
	}

	// The comment pages' rate limit: a burst of two.
	for i := range 2 {
		if r := e.do("GET", comments, nil); r.Status != 200 {
			t.Fatalf("page %d: %d %s", i, r.Status, r.Body)
		}
	}
	r = e.do("GET", comments, nil)
	if r.Status != 429 || r.errCode() != "rate_limited" || r.Header.Get("Retry-After") == "" || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("third page in a burst of two: %d %v %s", r.Status, r.Header, r.Body)
	}

	_, m := e.metrics()
	for _, want := range []string{
		`parley_http_requests_total{method="GET",route="/api/v1/sites/{site}/articles/{article}/reactions",status="200"} 2`,
		`parley_http_requests_total{method="GET",route="/api/v1/sites/{site}/articles/{article}/reactions",status="413"} 1`,
		`parley_http_requests_total{method="GET",route="/api/v1/sites/{site}/articles/{article}/comments",status="200"} 2`,
		`parley_http_requests_total{method="GET",route="/api/v1/sites/{site}/articles/{article}/comments",status="429"} 1`,
		`parley_http_request_duration_seconds_count{route="/api/v1/sites/{site}/articles/{article}/comments"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	log := logs.String()
	for _, want := range []string{
		`request_id=given-id-1 method=GET route=/api/v1/sites/{site}/articles/{article}/reactions status=200`,
		`route=/api/v1/sites/{site}/articles/{article}/comments status=429`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}

	// The same answers as through gorilla's routes.
	router := handlers.Router(e.h)
	for _, c := range []struct{ path, token string }{
		{counts, tok}, {counts, ""}, {counts, e.readerToken()},
		{"/api/v1/sites/news/articles/never-used/reactions", tok},
		{"/api/v1/sites/nosuchsite/articles/x/reactions", ""},
		{"/api/v1/sites/news/articles/" + strings.Repeat("k", 201) + "/reactions", ""},
		{"/api/v1/sites/news/articles/hot/reactions", "forged.token"},
	} {
		hot := e.do("GET", c.path, nil, "X-Reader-Token", c.token)
		req := httptest.NewRequest("GET", c.path, nil)
		req.Header.Set("X-Reader-Token", c.token)
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if hot.Status != rec.Code || !bytes.Equal(hot.Body, rec.Body.Bytes()) {
			t.Errorf("GET %s: hot route %d %s, gorilla %d %s", c.path, hot.Status, hot.Body, rec.Code, rec.Body.Bytes())
		}
	}
}
