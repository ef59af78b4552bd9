package handlers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

func TestSiteSettings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)

		r := admin.must(200, "GET", "/api/v1/mod/sites/news", nil)
		for _, k := range []string{"slug", "origins", "reactions", "comments_open", "strict_articles", "edit_window_seconds", "moderation", "webhooks", "ip_retention_days"} {
			if _, ok := r.JSON[k]; !ok {
				t.Fatalf("settings lack %s: %s", k, r.Body)
			}
		}
		mod := r.JSON["moderation"].(map[string]any)
		for _, k := range []string{"mode", "first_time_approved", "banned_words", "suspect_words", "max_links", "report_threshold"} {
			if _, ok := mod[k]; !ok {
				t.Fatalf("moderation settings lack %s: %s", k, r.Body)
			}
		}

		// A partial PUT changes what it names and keeps the rest.
		r = admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{
			"moderation": map[string]any{"mode": "first_time", "suspect_words": []string{"idiot*"}},
			"origins":    []string{"https://news.example", "https://m.news.example"},
		})
		got, _ := e.store.Site(t.Context(), "news")
		st := got.Settings
		if st.Moderation.Mode != "first_time" || !slices.Equal(st.Moderation.SuspectWords, []string{"idiot*"}) ||
			st.Moderation.ReportThreshold != 3 || st.Moderation.MaxLinks != 2 || len(st.Origins) != 2 ||
			!slices.Equal(st.Reactions, []string{"like", "dislike"}) || !st.CommentsOpen {
			t.Fatalf("after partial PUT: %+v", st)
		}
		if r.JSON["slug"] != "news" || r.JSON["moderation"].(map[string]any)["mode"] != "first_time" {
			t.Fatalf("PUT answer: %s", r.Body)
		}
		// The CORS origins apply at once.
		pre := e.do("OPTIONS", "/api/v1/readers", nil, "Origin", "https://m.news.example", "Access-Control-Request-Method", "POST")
		if pre.Header.Get("Access-Control-Allow-Origin") != "https://m.news.example" {
			t.Fatalf("new origin not allowed at once: %v", pre.Header)
		}

		// Invalid settings: 422 with a message per field, nothing saved.
		r = admin.do("PUT", "/api/v1/mod/sites/news", map[string]any{
			"origins":    []string{"news.example"},
			"moderation": map[string]any{"mode": "anarchy", "report_threshold": 0, "banned_words": []string{"fo*o"}},
			"webhooks":   map[string]any{"urls": []string{"https://hooks.example/x"}},
		})
		if r.Status != 422 || r.errCode() != "validation_failed" {
			t.Fatalf("invalid settings: %d %s", r.Status, r.Body)
		}
		for _, f := range []string{"origins", "moderation.mode", "moderation.report_threshold", "moderation.banned_words", "webhooks.secret"} {
			if r.field(f) == "" {
				t.Errorf("no message for %s: %s", f, r.Body)
			}
		}
		if got, _ := e.store.SiteByID(t.Context(), e.site.ID); got.Settings.Moderation.Mode != "first_time" {
			t.Fatalf("invalid settings were saved: %+v", got.Settings)
		}
		for name, body := range map[string]any{
			"renamed":       map[string]any{"slug": "other"},
			"wrong type":    `{"moderation":{"max_links":"two"}}`,
			"unknown field": `{"colour":"red"}`,
		} {
			if r := admin.do("PUT", "/api/v1/mod/sites/news", body); r.Status != 400 && r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		admin.must(404, "PUT", "/api/v1/mod/sites/nope", map[string]any{})
		if r := admin.do("PUT", "/api/v1/mod/sites/news", `{"moderation":{"banned_words":["`+strings.Repeat("x", 2<<20)+`"]}}`); r.Status != 413 {
			t.Fatalf("huge settings: %d", r.Status)
		}

		// Creating a site.
		r = admin.must(201, "POST", "/api/v1/mod/sites", map[string]any{"slug": "sport", "origins": []string{"https://sport.example"}})
		if r.JSON["slug"] != "sport" || r.JSON["moderation"].(map[string]any)["mode"] != "post" {
			t.Fatalf("new site: %s", r.Body)
		}
		admin.must(409, "POST", "/api/v1/mod/sites", map[string]any{"slug": "sport"})
		if r := admin.do("POST", "/api/v1/mod/sites", map[string]any{"slug": "Not A Slug"}); r.Status != 422 || r.field("slug") == "" {
			t.Fatalf("bad slug: %d %s", r.Status, r.Body)
		}
		// Moderators see the sites they moderate, briefly.
		sport, _ := e.store.Site(t.Context(), "sport")
		m := e.moderator("m@news.example", schema.RoleModerator, sport.ID)
		r = m.must(200, "GET", "/api/v1/mod/sites", nil)
		if sites := r.JSON["sites"].([]any); len(sites) != 1 || sites[0].(map[string]any)["slug"] != "sport" {
			t.Fatalf("a moderator's sites: %s", r.Body)
		}
		if sites := admin.must(200, "GET", "/api/v1/mod/sites", nil).JSON["sites"].([]any); len(sites) != 2 {
			t.Fatalf("an admin's sites: %v", sites)
		}
	})
}

func TestModeratorAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		r := admin.must(201, "POST", "/api/v1/mod/moderators", map[string]any{
			"email": "Ann@News.example", "password": testPassword, "role": "moderator", "sites": []string{"news"},
		})
		ann := r.JSON["moderator"].(map[string]any)
		if ann["email"] != "ann@news.example" || !slices.Equal(ann["sites"].([]any), []any{"news"}) {
			t.Fatalf("created %s", r.Body)
		}
		annID := num(ann["id"])
		e.login("ann@news.example")
		admin.must(409, "POST", "/api/v1/mod/moderators", map[string]any{"email": "ann@news.example", "password": testPassword, "role": "moderator"})
		r = admin.do("POST", "/api/v1/mod/moderators", map[string]any{"email": "nope", "password": "short", "role": "boss", "sites": []string{"nowhere"}})
		for _, f := range []string{"email", "password", "role", "sites"} {
			if r.Status != 422 || r.field(f) == "" {
				t.Fatalf("invalid moderator, field %s: %d %s", f, r.Status, r.Body)
			}
		}
		r = admin.must(200, "GET", "/api/v1/mod/moderators", nil)
		if len(r.JSON["moderators"].([]any)) != 2 {
			t.Fatalf("moderators %s", r.Body)
		}
		r = admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", annID), map[string]any{"role": "admin", "sites": []string{}})
		if m := r.JSON["moderator"].(map[string]any); m["role"] != "admin" || len(m["sites"].([]any)) != 0 {
			t.Fatalf("updated %s", r.Body)
		}
		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", annID), map[string]any{"password": "a brand new secret"})
		if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ann@news.example", "password": testPassword}); r.Status != 401 {
			t.Fatalf("old password still works: %d", r.Status)
		}
		// Admins cannot lock themselves out.
		if r := admin.do("PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", admin.id), map[string]any{"role": "moderator"}); r.Status != 422 {
			t.Fatalf("self-demotion: %d %s", r.Status, r.Body)
		}
		if r := admin.do("DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d", admin.id), nil); r.Status != 422 {
			t.Fatalf("self-disable: %d %s", r.Status, r.Body)
		}
		// Disabling ends the account's sessions and login.
		bob := e.moderator("bob@news.example", schema.RoleModerator)
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d", bob.id), nil)
		bob.must(401, "GET", "/api/v1/mod/session", nil)
		if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "bob@news.example", "password": testPassword}); r.Status != 401 {
			t.Fatalf("disabled login: %d", r.Status)
		}
		admin.must(404, "DELETE", "/api/v1/mod/moderators/999999", nil)
		admin.must(404, "PUT", "/api/v1/mod/moderators/x", map[string]any{})
	})
}
