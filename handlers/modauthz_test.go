package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley/parley/schema"
)

// storeComment writes a comment straight into the store: quicker than the
// public API where the test is not about posting.
func (e *env) storeComment(article, body, status string) *schema.Comment {
	e.t.Helper()
	ctx := context.Background()
	a, err := e.store.EnsureArticle(ctx, e.site.ID, article)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &schema.Comment{
		SiteID: e.site.ID, ArticleID: a.ID, Author: "Reader", Body: body, BodyKey: body, Status: status,
		ReaderID: "reader-" + body, EmailHash: "email-" + body, IPHash: "ip-" + body, EditTokenHash: "x",
	}
	if err := e.store.CreateComment(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// Every moderator and admin route, called by every kind of caller: nobody,
// a session without its CSRF token, a moderator, a moderator of another
// site, an admin, and an admin's API token.
func TestModeratorAuthorization(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		ctx := context.Background()
		other, err := e.store.CreateSite(ctx, "other", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		callers := []struct {
			name   string
			c      *modClient
			admin  bool // may use admin routes
			scoped bool // moderates "other" only
			csrf   bool // sends the CSRF token (or needs none)
			token  bool
		}{
			{name: "nobody", c: &modClient{e: e}},
			{name: "session without CSRF token", c: &modClient{e: e, id: admin.id, cookie: admin.cookie}, admin: true},
			{name: "moderator", c: e.moderator("mod@news.example", schema.RoleModerator), csrf: true},
			{name: "moderator of another site", c: e.moderator("scoped@news.example", schema.RoleModerator, other.ID), scoped: true, csrf: true},
			{name: "admin", c: admin, admin: true, csrf: true},
			{name: "admin's API token", c: admin.withToken(), admin: true, csrf: true, token: true},
		}
		n := 0
		unique := func() int { n++; return n }
		pending := func() int64 { return e.storeComment("a", fmt.Sprintf("comment %d", unique()), schema.StatusPending).ID }
		ban := func() int64 {
			c := e.storeComment("a", fmt.Sprintf("banned %d", unique()), schema.StatusApproved)
			b := &schema.Ban{SiteID: e.site.ID, Kind: "reader", Value: c.ReaderID, Reason: "test"}
			if _, err := e.store.CreateBan(ctx, b, false, nil, nil); err != nil {
				t.Fatal(err)
			}
			return b.ID
		}
		target := func() int64 {
			return e.addModerator(fmt.Sprintf("t%d@news.example", unique()), schema.RoleModerator).ID
		}
		ownToken := func(id int64) int64 {
			if id == 0 {
				id = admin.id
			}
			tk := &schema.APIToken{ModeratorID: id, Name: "x"}
			if err := e.store.CreateAPIToken(ctx, tk, fmt.Sprint("hash", unique()), nil); err != nil {
				t.Fatal(err)
			}
			return tk.ID
		}
		cases := []struct {
			method string
			path   func(c *modClient) string
			body   func() any
			ok     int  // the status for a permitted caller
			admin  bool // admins only
			scoped int  // the status for a moderator of another site, when not ok
			token  int  // the status for an API token, when not ok
		}{
			{method: "GET", path: fixed("/api/v1/mod/session"), ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/tokens"), ok: 200},
			{method: "POST", path: fixed("/api/v1/mod/tokens"), body: value(map[string]string{"name": "t"}), ok: 201},
			{method: "DELETE", path: func(c *modClient) string { return fmt.Sprintf("/api/v1/mod/tokens/%d", ownToken(c.id)) }, ok: 204},
			{method: "GET", path: fixed("/api/v1/mod/sites"), ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/queues"), ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/queues?site=news"), ok: 200, scoped: 403},
			{method: "GET", path: fixed("/api/v1/mod/queues/pending"), ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/queues/reported?site=news"), ok: 200, scoped: 403},
			{method: "POST", path: func(*modClient) string { return fmt.Sprintf("/api/v1/mod/comments/%d/decision", pending()) },
				body: value(map[string]string{"action": "approve"}), ok: 200, scoped: 404},
			{method: "POST", path: fixed("/api/v1/mod/decisions"), body: func() any { return map[string]any{"ids": []int64{pending()}, "action": "reject"} }, ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/bans?site=news"), ok: 200, scoped: 403},
			{method: "GET", path: fixed("/api/v1/mod/bans"), ok: 200},
			{method: "POST", path: fixed("/api/v1/mod/bans"), body: func() any {
				return map[string]any{"comment_id": pending(), "kind": "reader", "reason": "spammer"}
			}, ok: 201, scoped: 422},
			{method: "DELETE", path: func(*modClient) string { return fmt.Sprintf("/api/v1/mod/bans/%d", ban()) }, ok: 204, scoped: 404},
			{method: "GET", path: fixed("/api/v1/mod/audit"), ok: 200},
			{method: "GET", path: fixed("/api/v1/mod/audit?site=news"), ok: 200, scoped: 403},
			{method: "POST", path: fixed("/api/v1/mod/sites"), body: func() any { return map[string]any{"slug": fmt.Sprintf("site-%d", unique())} }, ok: 201, admin: true},
			{method: "GET", path: fixed("/api/v1/mod/sites/news"), ok: 200, admin: true},
			{method: "PUT", path: fixed("/api/v1/mod/sites/news"), body: value(map[string]any{"comments_open": true}), ok: 200, admin: true},
			{method: "GET", path: fixed("/api/v1/mod/moderators"), ok: 200, admin: true},
			{method: "POST", path: fixed("/api/v1/mod/moderators"), body: func() any {
				return map[string]any{"email": fmt.Sprintf("new%d@news.example", unique()), "password": testPassword, "role": "moderator"}
			}, ok: 201, admin: true},
			{method: "PUT", path: func(*modClient) string { return fmt.Sprintf("/api/v1/mod/moderators/%d", target()) },
				body: value(map[string]any{"sites": []string{"news"}}), ok: 200, admin: true},
			{method: "DELETE", path: func(*modClient) string { return fmt.Sprintf("/api/v1/mod/moderators/%d", target()) }, ok: 204, admin: true},
			{method: "GET", path: func(*modClient) string { return fmt.Sprintf("/api/v1/mod/moderators/%d/tokens", target()) }, ok: 200, admin: true},
			{method: "DELETE", path: func(*modClient) string {
				id := target()
				return fmt.Sprintf("/api/v1/mod/moderators/%d/tokens/%d", id, ownToken(id))
			}, ok: 204, admin: true},
			// Last: it ends the sessions.
			{method: "DELETE", path: fixed("/api/v1/mod/session"), ok: 204, token: 400},
		}
		for _, tc := range cases {
			for _, who := range callers {
				var body any
				if tc.body != nil {
					body = tc.body()
				}
				path := tc.path(who.c)
				want := tc.ok
				switch {
				case who.c.cookie == "" && who.c.token == "":
					want = 401
				case !who.csrf && tc.method != "GET":
					want = 403
				case tc.admin && !who.admin:
					want = 403
				case who.scoped && tc.scoped != 0:
					want = tc.scoped
				case who.token && tc.token != 0:
					want = tc.token
				}
				if r := who.c.do(tc.method, path, body); r.Status != want {
					t.Errorf("%s %s as %s: %d %s, want %d", tc.method, path, who.name, r.Status, r.Body, want)
				}
			}
		}
	})
}

func fixed(path string) func(*modClient) string { return func(*modClient) string { return path } }

func value(v any) func() any { return func() any { return v } }
