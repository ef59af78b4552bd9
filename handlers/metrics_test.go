package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// The public router has no /metrics: comments counted by status would show
// a spammer "spam" rising, and a shadow-banned author the same, while the
// API tells them "pending" or "approved". The operations endpoints that
// stay public say nothing about moderation.
func TestMetricsNotPublic(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) { c.MetricsToken = "scrape-me-please" })
	e.settings(func(st *schema.Settings) { st.Moderation.BannedWords = []string{"forbidden"} })
	_, status := e.comment(post{Body: "a forbidden word"})
	if status != "pending" {
		t.Fatalf("a rejected comment answered %q to its author", status)
	}
	for _, m := range []string{"GET", "POST"} {
		r := e.do(m, "/metrics", nil)
		if r.Status != 404 || strings.Contains(string(r.Body), "parley_") {
			t.Fatalf("%s /metrics on the public router: %d %s", m, r.Status, r.Body)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r := e.do("GET", p, nil)
		// A status word, what the binary was built from, and for /readyz
		// whether other processes' changes are followed: nothing about
		// comments or verdicts.
		if r.Status != 200 || r.JSON["status"] == nil || strings.Contains(strings.ToLower(string(r.Body)), "spam") ||
			strings.Contains(string(r.Body), "pending") || strings.Contains(string(r.Body), "comment") {
			t.Fatalf("%s: %d %s", p, r.Status, r.Body)
		}
	}

	// On its own handler, with the token.
	if code, body := e.metrics(); code != 401 || strings.Contains(body, "parley_") {
		t.Fatalf("metrics without the token: %d %s", code, body)
	}
	if code, _ := e.metrics("Authorization", "Bearer scrape-me-pleasf"); code != 401 {
		t.Fatalf("metrics with a wrong token: %d", code)
	}
	code, body := e.metrics("Authorization", "Bearer scrape-me-please")
	if code != 200 || !strings.Contains(body, `parley_comments_total{status="rejected"} 1`) {
		t.Fatalf("metrics with the token: %d %s", code, body)
	}
}

// Labels are bounded: invented methods count as "other", and routes are
// counted by their template, never by the path a client sent.
func TestMetricLabelsBounded(t *testing.T) {
	e := newEnv(t, schema.SQLite, relaxed)
	series := func() []string {
		t.Helper()
		code, body := e.metrics()
		if code != 200 {
			t.Fatalf("metrics: %d", code)
		}
		var out []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "parley_http_") {
				out = append(out, l[:strings.LastIndexByte(l, ' ')])
			}
		}
		return out
	}
	send := func(method, path string) {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// One of each kind first, so that every label set exists.
	send("FROB0", "/api/v1/sites/news/articles/a-0/reactions")
	send("GET", "/api/v1/sites/news/articles/a-0/reactions")
	send("GET", "/no/such/path/0")
	before := series()
	for i := 1; i <= 500; i++ {
		send(fmt.Sprintf("FROB%d", i), fmt.Sprintf("/api/v1/sites/news/articles/a-%d/reactions", i))
		send("GET", fmt.Sprintf("/api/v1/sites/news/articles/a-%d/reactions", i))
		send("GET", fmt.Sprintf("/no/such/path/%d", i))
	}
	after := series()
	if len(after) != len(before) {
		t.Fatalf("500 invented methods and paths grew the series from %d to %d:\n%s", len(before), len(after), strings.Join(after, "\n"))
	}
	all := strings.Join(after, "\n")
	if strings.Contains(all, "FROB") || strings.Contains(all, "a-1") || strings.Contains(all, "/no/such") {
		t.Fatalf("raw methods or paths in labels:\n%s", all)
	}
	if !regexp.MustCompile(`method="other",route="unmatched"`).MatchString(all) ||
		!strings.Contains(all, `method="GET",route="/api/v1/sites/{site}/articles/{article}/reactions"`) {
		t.Fatalf("labels:\n%s", all)
	}
}
