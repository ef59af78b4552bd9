package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// edit changes a comment's body with its edit token.
func (e *env) edit(id int64, token, body string) response {
	e.t.Helper()
	return e.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]string{"body": body}, "Authorization", "Bearer "+token)
}

// posted posts a comment and returns its id and edit token.
func (e *env) posted(article, body string, headers ...string) (int64, string) {
	e.t.Helper()
	r := e.post(article, map[string]any{"body": body}, headers...)
	if r.Status != 201 {
		e.t.Fatalf("post %q: %d %s", body, r.Status, r.Body)
	}
	return commentID(r), r.JSON["edit_token"].(string)
}

// A post that fails validation writes nothing: not the article it names,
// not the comment, not the captcha's use.
func TestMalformedPostWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		id, sol := e.captcha()
		path := "/api/v1/sites/news/articles/never-seen/comments"
		for _, tc := range []struct {
			name string
			body any
			code string
		}{
			{"not JSON", `{"author": "Ann", "body": `, "bad_request"},
			{"empty body", map[string]any{"author": "Ann", "body": " ", "captcha_id": id, "captcha_solution": sol}, "validation_failed"},
			{"no author", map[string]any{"body": "hello", "captcha_id": id, "captcha_solution": sol}, "validation_failed"},
			{"bad parent", map[string]any{"author": "Ann", "body": "hello", "parent_id": -4, "captcha_id": id, "captcha_solution": sol}, "validation_failed"},
			{"missing parent", map[string]any{"author": "Ann", "body": "hello", "parent_id": 999, "captcha_id": id, "captcha_solution": sol}, "validation_failed"},
		} {
			r := e.do("POST", path, tc.body)
			if r.Status < 400 || r.Status > 499 || r.errCode() != tc.code {
				t.Fatalf("%s: %d %s, want %s", tc.name, r.Status, r.Body, tc.code)
			}
			if _, err := e.store.Article(context.Background(), e.site.ID, "never-seen"); !errors.Is(err, schema.ErrNotFound) {
				t.Fatalf("%s: the article was created (%v)", tc.name, err)
			}
		}
		// The captcha is still there to be used.
		r := e.do("POST", path, map[string]any{"author": "Ann", "body": "hello", "captcha_id": id, "captcha_solution": sol})
		if r.Status != 201 {
			t.Fatalf("valid post after the malformed ones: %d %s", r.Status, r.Body)
		}
		if _, err := e.store.Article(context.Background(), e.site.ID, "never-seen"); err != nil {
			t.Fatalf("the valid post did not create its article: %v", err)
		}
	})
}

// Editing a comment into a copy of another is spam, as posting the copy is.
func TestEditRepeatedText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.settings(func(st *schema.Settings) {
			st.Moderation.FirstTimeApproved = 0
			st.Moderation.MaxPerMinute = 1000
		})
		const copyText = "Visit our store for the best prices on watches today"
		e.posted("a1", copyText)
		if id, _ := e.posted("a1", copyText); e.status(id) != schema.StatusSpam {
			t.Fatalf("posted copy is %s, want spam", e.status(id))
		}
		id, tok := e.posted("a1", "An honest opinion about the article")
		if e.status(id) != schema.StatusApproved {
			t.Fatalf("honest comment is %s", e.status(id))
		}
		if r := e.edit(id, tok, copyText); r.Status != 200 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		if got := e.status(id); got != schema.StatusSpam {
			t.Fatalf("comment edited into a copy is %s, want spam", got)
		}
		// Its own earlier text does not count against an edit.
		own, ownTok := e.posted("a1", "A second thought worth sharing")
		if r := e.edit(own, ownTok, "A second thought worth sharing!"); r.Status != 200 || e.status(own) != schema.StatusApproved {
			t.Fatalf("edit of its own text: %d %s, status %s", r.Status, r.Body, e.status(own))
		}
	})
}

// A comment held for the posting rate stays held when edited, even once
// the minute has passed: an edit never lowers a held comment's status.
func TestEditKeepsHold(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.settings(func(st *schema.Settings) {
			st.Moderation.FirstTimeApproved = 0
			st.Moderation.MaxPerMinute = 1
		})
		clk := e.clock()
		e.posted("a1", "First comment of the minute")
		id, tok := e.posted("a1", "Second comment of the minute")
		if e.status(id) != schema.StatusPending {
			t.Fatalf("second comment in a minute is %s, want pending", e.status(id))
		}
		if r := e.edit(id, tok, "Second comment of the minute."); r.Status != 200 || e.status(id) != schema.StatusPending {
			t.Fatalf("one-character edit: %d %s, status %s", r.Status, r.Body, e.status(id))
		}
		clk.advance(2 * time.Minute)
		if r := e.edit(id, tok, "Second comment, much later"); r.Status != 200 || e.status(id) != schema.StatusPending {
			t.Fatalf("edit after the minute: %d %s, status %s", r.Status, r.Body, e.status(id))
		}
	})
}

// Edits and deletes are limited like posts: 429 with Retry-After.
func TestEditRateLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) {
			c.Limits = noLimits()
			c.Limits.Edits = handlers.Rate{PerMinute: 1, Burst: 3}
		})
		id, tok := e.posted("a1", "A comment to rewrite")
		for i := 0; i < 3; i++ {
			if r := e.edit(id, tok, fmt.Sprint("Rewritten, take ", i)); r.Status != 200 {
				t.Fatalf("edit %d: %d %s", i, r.Status, r.Body)
			}
		}
		limited(t, "fourth edit", e.edit(id, tok, "Rewritten once more"))
		limited(t, "delete after the edits", e.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", id), nil, "Authorization", "Bearer "+tok))
		// Another address of the same reader is limited too: by reader.
		e2 := newEnv(t, d, func(c *envConfig) {
			c.Limits = noLimits()
			c.Limits.Edits = handlers.Rate{PerMinute: 1, Burst: 2}
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		})
		reader := e2.readerToken()
		id, tok = e2.posted("a1", "A reader's comment", "X-Reader-Token", reader)
		for i := 0; i < 2; i++ {
			r := e2.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]string{"body": fmt.Sprint("take ", i)},
				"Authorization", "Bearer "+tok, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
			if r.Status != 200 {
				t.Fatalf("edit %d: %d %s", i, r.Status, r.Body)
			}
		}
		limited(t, "edit from a third address", e2.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]string{"body": "take 3"},
			"Authorization", "Bearer "+tok, "X-Forwarded-For", "203.0.113.9"))
	})
}

// However often a comment is held, it has at most one comment.held event
// waiting and one live pair of links.
func TestHeldEventsPerComment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, allowPrivateHooks)
		rc := newReceiver(t)
		rc.status = func(int) int { return 503 } // nothing is ever delivered
		e.settings(func(st *schema.Settings) {
			st.Webhooks = schema.Webhooks{URLs: []string{rc.srv.URL + "/hook"}, Secret: hookSecret}
			st.Moderation.FirstTimeApproved = 0
			st.Moderation.MaxPerMinute = 1000
			st.Moderation.SuspectWords = []string{"idiot"}
		})
		m := e.moderator("ed@news.example", schema.RoleModerator)
		ctx := context.Background()
		id, tok := e.posted("a1", "A calm remark")
		check := func(when string, events, links int) {
			t.Helper()
			if n, err := e.store.PendingEvents(ctx, id, "comment.held"); err != nil || n != events {
				t.Fatalf("%s: %d comment.held events waiting (%v), want %d", when, n, err, events)
			}
			if n, err := e.store.LiveLinks(ctx, id); err != nil || n != links {
				t.Fatalf("%s: %d live links (%v), want %d", when, n, err, links)
			}
		}
		for i := 0; i < 20; i++ {
			body := "A calm remark"
			if i%2 == 0 {
				body = "A calm remark, idiot"
			}
			if r := e.edit(id, tok, body+fmt.Sprint(" ", i)); r.Status != 200 {
				t.Fatalf("edit %d: %d %s", i, r.Status, r.Body)
			}
		}
		check("after 20 edits toggling a suspect word", 1, 2)
		// A moderator's decision spends the links; a new hold replaces the
		// event still waiting and issues a new pair.
		m.decide(id, "approve", "pending")
		check("after the decision", 1, 0)
		if r := e.edit(id, tok, "A calm remark, idiot again"); r.Status != 200 || e.status(id) != schema.StatusPending {
			t.Fatalf("edit back to held: %d %s", r.Status, r.Body)
		}
		check("held again", 1, 2)
	})
}

// IP bans and the posting-rate rule group addresses as the rate limits do:
// an IPv6 /64 is one client.
func TestIPv6Grouping(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, func(c *envConfig) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		})
		e.settings(func(st *schema.Settings) {
			st.Moderation.FirstTimeApproved = 0
			st.Moderation.MaxPerMinute = 1
		})
		m := e.moderator("ed@news.example", schema.RoleModerator)
		from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

		first, _ := e.posted("a1", "Hello from the first address", from("2001:db8::1")...)
		second, _ := e.posted("a1", "Hello from the second address", from("2001:db8::2")...)
		if e.status(second) != schema.StatusPending {
			t.Fatalf("second comment from the /64 in a minute is %s, want pending (posting rate)", e.status(second))
		}
		a, _ := e.store.Comment(context.Background(), first)
		b, _ := e.store.Comment(context.Background(), second)
		if a.IPHash == "" || a.IPHash != b.IPHash {
			t.Fatalf("ip hashes within one /64 differ: %q %q", a.IPHash, b.IPHash)
		}

		m.must(201, "POST", "/api/v1/mod/bans", map[string]any{"comment_id": first, "kind": "ip", "reason": "spammer"})
		e.settings(func(st *schema.Settings) { st.Moderation.MaxPerMinute = 1000 })
		third, _ := e.posted("a1", "Back with a new address", from("2001:db8::3")...)
		if e.status(third) != schema.StatusSpam {
			t.Fatalf("comment from the banned /64 is %s, want spam", e.status(third))
		}
		other, _ := e.posted("a1", "A neighbour in another /64", from("2001:db8:0:1::1")...)
		if e.status(other) != schema.StatusApproved {
			t.Fatalf("comment from another /64 is %s, want approved", e.status(other))
		}

		// A moderator bans an address they were given: its /64, hashed.
		r := m.must(201, "POST", "/api/v1/mod/bans", map[string]any{"site": "news", "ip": "2001:db8:0:2::5", "reason": "abuse report"})
		if v := r.JSON["ban"].(map[string]any)["value"]; v == "" || v == "2001:db8:0:2::5" {
			t.Fatalf("ban by address stored %v", v)
		}
		banned, _ := e.posted("a1", "From elsewhere in the banned network", from("2001:db8:0:2::9")...)
		if e.status(banned) != schema.StatusSpam {
			t.Fatalf("comment from a /64 banned by address is %s, want spam", e.status(banned))
		}
		for _, bad := range []map[string]any{
			{"site": "news", "ip": "not an address", "reason": "x"},
			{"site": "elsewhere", "ip": "203.0.113.7", "reason": "x"},
			{"site": "news", "ip": "203.0.113.7", "kind": "email", "reason": "x"},
		} {
			if r := m.do("POST", "/api/v1/mod/bans", bad); r.Status != 422 {
				t.Fatalf("ban %v: %d %s, want 422", bad, r.Status, r.Body)
			}
		}
	})
}

// A one-time link acts on the text it was sent with: once the author
// edits, it answers 409 and the comment stays held.
func TestLinkActsOnItsVersion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, allowPrivateHooks)
		rc := newReceiver(t)
		e.useWebhooks(rc.srv.URL + "/hook")
		id, tok := e.posted("a1", "An innocent comment")
		held := rc.waitFor(event("comment.held", id))
		approve := held.Payload["links"].(map[string]any)["approve"].(string)
		if r := e.edit(id, tok, "Something else entirely, with a link to spam"); r.Status != 200 || e.status(id) != schema.StatusPending {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		r := e.do("POST", approve[len(e.srv.URL):], nil)
		if r.Status != 409 || r.errCode() != "conflict" {
			t.Fatalf("old link after an edit: %d %s, want 409 conflict", r.Status, r.Body)
		}
		if e.status(id) != schema.StatusPending {
			t.Fatalf("old link approved the edited text: %s", e.status(id))
		}
	})
}
