package handlers_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// threadIDs lists the ids a reader (token may be "") sees under an article.
func (e *env) threadIDs(article, token string) []int64 {
	e.t.Helper()
	var h []string
	if token != "" {
		h = []string{"X-Reader-Token", token}
	}
	r := e.do("GET", "/api/v1/sites/news/articles/"+article+"/comments", nil, h...)
	if r.Status != 200 {
		e.t.Fatalf("thread: %d %s", r.Status, r.Body)
	}
	var ids []int64
	for _, c := range r.JSON["comments"].([]any) {
		ids = append(ids, num(c.(map[string]any)["id"]))
	}
	return ids
}

func (m *modClient) ban(commentID int64, kind string, extra map[string]any) response {
	m.e.t.Helper()
	body := map[string]any{"comment_id": commentID, "kind": kind, "reason": "troll"}
	for k, v := range extra {
		body[k] = v
	}
	return m.do("POST", "/api/v1/mod/bans", body)
}

func TestBans(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, func(c *envConfig) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		})
		e.relaxPosting()
		m := e.moderator("ed@news.example", schema.RoleModerator)
		from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }

		// By email: the author's next comment, from anywhere, is spam, and
		// the public is told it waits like any other.
		first, _ := e.comment(post{Body: "first by troll", Email: "Troll@Example.org", Headers: from("10.0.0.1")})
		r := m.ban(first, "email", nil)
		if r.Status != 201 {
			t.Fatalf("email ban: %d %s", r.Status, r.Body)
		}
		ban := r.JSON["ban"].(map[string]any)
		if ban["kind"] != "email" || ban["site"] != "news" || ban["shadow"] != false || ban["active"] != true || num(ban["comment_id"]) != first {
			t.Fatalf("ban %v", ban)
		}
		emailBan := num(ban["id"])
		id, status := e.comment(post{Body: "second by troll", Email: "troll@example.org ", Headers: from("10.0.0.2")})
		if status != "pending" || e.status(id) != "spam" {
			t.Fatalf("comment under an email ban: public %s, stored %s", status, e.status(id))
		}
		if _, status := e.comment(post{Body: "someone else", Email: "kind@example.org", Headers: from("10.0.0.2")}); status != "approved" {
			t.Fatalf("another author is %s", status)
		}

		// By IP.
		byIP, _ := e.comment(post{Body: "from a bad address", Headers: from("10.6.6.6")})
		if r := m.ban(byIP, "ip", nil); r.Status != 201 {
			t.Fatalf("ip ban: %d %s", r.Status, r.Body)
		}
		if id, _ := e.comment(post{Body: "again from there", Headers: from("10.6.6.6")}); e.status(id) != "spam" {
			t.Fatalf("comment under an ip ban is %s", e.status(id))
		}
		// An identity the comment lacks cannot be banned.
		if r := m.ban(byIP, "email", nil); r.Status != 422 || r.field("kind") == "" {
			t.Fatalf("ban of a missing email: %d %s", r.Status, r.Body)
		}
		if r := m.ban(byIP, "reader", nil); r.Status != 422 || r.field("kind") == "" {
			t.Fatalf("ban of a missing reader: %d %s", r.Status, r.Body)
		}

		// By reader, shadowed: the author sees their comments as published,
		// nobody else sees them. (Under eu_dsa, the default, the author
		// must have left an email for the statement of reasons.)
		shadowed := e.readerToken()
		seen, _ := e.comment(post{Article: "s", Body: "an early comment", Reader: shadowed, Email: "shadowed@example.com", Headers: from("10.0.0.3")})
		if r := m.ban(seen, "reader", map[string]any{"shadow": true}); r.Status != 201 {
			t.Fatalf("shadow ban: %d %s", r.Status, r.Body)
		}
		hidden, status := e.comment(post{Article: "s", Body: "shouting into the void", Reader: shadowed, Headers: from("10.0.0.4")})
		if status != "approved" || e.status(hidden) != "spam" {
			t.Fatalf("shadow-banned comment: public %s, stored %s", status, e.status(hidden))
		}
		if ids := e.threadIDs("s", shadowed); !slices.Equal(ids, []int64{seen, hidden}) {
			t.Fatalf("the author sees %v, want %v", ids, []int64{seen, hidden})
		}
		if ids := e.threadIDs("s", e.readerToken()); !slices.Equal(ids, []int64{seen}) {
			t.Fatalf("another reader sees %v", ids)
		}
		if ids := e.threadIDs("s", ""); !slices.Equal(ids, []int64{seen}) {
			t.Fatalf("an anonymous reader sees %v", ids)
		}

		// reject_pending rejects the identity's pending comments on the site.
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "pre" })
		spammer := e.readerToken()
		var pending []int64
		for i := 0; i < 3; i++ {
			id, _ := e.comment(post{Body: fmt.Sprintf("buy pills %d", i), Reader: spammer, Headers: from("10.0.0.5")})
			pending = append(pending, id)
		}
		bystander, _ := e.comment(post{Body: "an innocent question", Reader: e.readerToken(), Headers: from("10.0.0.6")})
		r = m.ban(pending[0], "reader", map[string]any{"reject_pending": true})
		if r.Status != 201 {
			t.Fatalf("ban with reject_pending: %d %s", r.Status, r.Body)
		}
		var rejected []int64
		for _, x := range r.JSON["rejected"].([]any) {
			rejected = append(rejected, num(x))
		}
		if !slices.Equal(rejected, pending) {
			t.Fatalf("rejected %v, want %v", rejected, pending)
		}
		for _, id := range pending {
			if e.status(id) != "rejected" {
				t.Fatalf("comment %d is %s", id, e.status(id))
			}
		}
		if e.status(bystander) != "pending" {
			t.Fatalf("a bystander's comment is %s", e.status(bystander))
		}
		audit := m.must(200, "GET", "/api/v1/mod/audit?limit=4", nil).JSON["items"].([]any)
		if a := audit[0].(map[string]any); a["action"] != "comment.reject" || a["detail"] == "" {
			t.Fatalf("reject_pending not audited: %v", audit)
		}
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "post" })

		// Expiry is honoured.
		temp, _ := e.comment(post{Body: "a passing mood", Email: "moody@example.org", Headers: from("10.0.0.7")})
		r = m.ban(temp, "email", map[string]any{"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		if r.Status != 201 || r.JSON["ban"].(map[string]any)["expires_at"] == nil {
			t.Fatalf("temporary ban: %d %s", r.Status, r.Body)
		}
		if id, _ := e.comment(post{Body: "still moody", Email: "moody@example.org", Headers: from("10.0.0.7")}); e.status(id) != "spam" {
			t.Fatalf("during the ban: %s", e.status(id))
		}
		clk := e.clock()
		clk.advance(2 * time.Hour)
		if id, _ := e.comment(post{Body: "calm again", Email: "moody@example.org", Headers: from("10.0.0.7")}); e.status(id) != "approved" {
			t.Fatalf("after the ban expired: %s", e.status(id))
		}
		clk.advance(-2 * time.Hour)

		// Listing and lifting.
		r = m.must(200, "GET", "/api/v1/mod/bans?site=news", nil)
		if bans := r.JSON["bans"].([]any); len(bans) != 5 || bans[0].(map[string]any)["kind"] != "email" {
			t.Fatalf("bans %s", r.Body)
		}
		m.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/bans/%d", emailBan), nil)
		m.must(404, "DELETE", fmt.Sprintf("/api/v1/mod/bans/%d", emailBan), nil)
		if _, status := e.comment(post{Body: "reformed", Email: "troll@example.org", Headers: from("10.0.0.8")}); status != "approved" {
			t.Fatalf("after unban: %s", status)
		}

		for name, body := range map[string]map[string]any{
			"unknown kind":   {"comment_id": first, "kind": "face", "reason": "x"},
			"no reason":      {"comment_id": first, "kind": "email", "reason": " "},
			"past expiry":    {"comment_id": first, "kind": "email", "reason": "x", "expires_at": "2001-01-01T00:00:00Z"},
			"bad expiry":     {"comment_id": first, "kind": "email", "reason": "x", "expires_at": "tomorrow"},
			"no comment":     {"comment_id": 987654, "kind": "email", "reason": "x"},
			"missing fields": {},
		} {
			if r := m.do("POST", "/api/v1/mod/bans", body); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
	})
}
