package handlers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// Origins are stored as browsers send them, so that a site configured as
// "HTTPS://News.Example:443/" still gets CORS answers.
func TestSiteOriginsNormalised(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		r := admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{
			"origins": []string{"HTTPS://News.Example:443/", "https://news.example", "http://LOCALHOST:8080", "http://[::1]:80"},
		})
		got := []string{}
		for _, o := range r.JSON["origins"].([]any) {
			got = append(got, o.(string))
		}
		if want := []string{"https://news.example", "http://localhost:8080", "http://[::1]"}; !slices.Equal(got, want) {
			t.Fatalf("origins %v, want %v", got, want)
		}
		pre := e.do("OPTIONS", "/api/v1/sites/news/articles/a/reactions", nil,
			"Origin", "https://news.example", "Access-Control-Request-Method", "GET")
		if pre.Header.Get("Access-Control-Allow-Origin") != "https://news.example" {
			t.Fatalf("preflight from the normalised origin: %d %v", pre.Status, pre.Header)
		}

		for _, bad := range []string{"https://news.example:99999", "https://news.example:0", "https://news.example/path", "news.example", "https://news.example:"} {
			r := admin.do("PUT", "/api/v1/mod/sites/news", map[string]any{"origins": []string{bad}})
			if r.Status != 422 || !strings.Contains(r.field("origins"), "is not an origin") {
				t.Fatalf("origin %q: %d %s", bad, r.Status, r.Body)
			}
		}
		r = admin.must(201, "POST", "/api/v1/mod/sites", map[string]any{"slug": "other", "origins": []string{"HTTP://Other.Example/"}})
		if o := r.JSON["origins"].([]any); len(o) != 1 || o[0] != "http://other.example" {
			t.Fatalf("created with origins %v", o)
		}
	})
}

// /healthz tells what is running.
func TestHealthzBuildInfo(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.Build = handlers.BuildInfo{Version: "v1.2.3", Commit: "abc123", Go: "go1.26.8", Drivers: []string{"sqlite (modernc.org/sqlite v1.62.0)"}}
	})
	r := e.do("GET", "/healthz", nil)
	if r.Status != 200 || r.JSON["status"] != "ok" || r.JSON["version"] != "v1.2.3" || r.JSON["commit"] != "abc123" ||
		r.JSON["go"] != "go1.26.8" || len(r.JSON["drivers"].([]any)) != 1 {
		t.Fatalf("healthz: %d %s", r.Status, r.Body)
	}
}
