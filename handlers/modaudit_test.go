package handlers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// auditPages reads the whole audit log a page of limit at a time.
func auditPages(t *testing.T, m *modClient, query string, limit int) []map[string]any {
	t.Helper()
	var out []map[string]any
	path := fmt.Sprintf("/api/v1/mod/audit?limit=%d%s", limit, query)
	r := m.must(200, "GET", path, nil)
	for {
		for _, x := range r.JSON["items"].([]any) {
			out = append(out, x.(map[string]any))
		}
		next, _ := r.JSON["next_cursor"].(string)
		if next == "" {
			return out
		}
		r = m.must(200, "GET", path+"&cursor="+next, nil)
	}
}

// Every kind of change leaves an entry: who, what, which object, which
// site, before and after; newest first, in pages.
func TestAuditLog(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)
		c := e.storeComment("a", "audited comment", schema.StatusPending)

		admin.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", c.ID), map[string]any{"action": "reject", "reason": "rude"})
		r := admin.must(201, "POST", "/api/v1/mod/bans", map[string]any{"comment_id": c.ID, "kind": "email", "reason": "repeat offender"})
		banID := num(r.JSON["ban"].(map[string]any)["id"])
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/bans/%d", banID), nil)
		admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{
			"moderation": map[string]any{"mode": "pre"}, "webhooks": map[string]any{"secret": "a secret never to be logged"},
		})
		admin.must(201, "POST", "/api/v1/mod/sites", map[string]any{"slug": "sport"})
		r = admin.must(201, "POST", "/api/v1/mod/moderators", map[string]any{"email": "new@news.example", "password": testPassword, "role": "moderator"})
		newID := num(r.JSON["moderator"].(map[string]any)["id"])
		admin.must(200, "PUT", fmt.Sprintf("/api/v1/mod/moderators/%d", newID), map[string]any{"sites": []string{"news"}})
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/moderators/%d", newID), nil)
		r = admin.must(201, "POST", "/api/v1/mod/tokens", map[string]any{"name": "cron"})
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/tokens/%d", num(r.JSON["id"])), nil)

		entries := auditPages(t, admin, "", 3)
		var actions []string
		for _, a := range entries {
			actions = append(actions, a["action"].(string))
		}
		want := []string{"token.revoke", "token.create", "moderator.disable", "moderator.update", "moderator.create",
			"site.create", "site.update", "ban.delete", "ban.create", "comment.reject"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit actions %v, want %v", actions, want)
		}
		for i := 1; i < len(entries); i++ {
			if num(entries[i]["id"]) >= num(entries[i-1]["id"]) {
				t.Fatalf("not newest first: %v", entries)
			}
		}
		byAction := map[string]map[string]any{}
		for _, a := range entries {
			byAction[a["action"].(string)] = a
			if who := a["moderator"].(map[string]any); who["email"] != "admin@news.example" || num(who["id"]) != admin.id || a["at"] == "" {
				t.Fatalf("entry actor: %v", a)
			}
		}
		dec := byAction["comment.reject"]
		if obj := dec["object"].(map[string]any); obj["type"] != "comment" || num(obj["id"]) != c.ID ||
			dec["site"] != "news" || dec["before"] != "pending" || dec["after"] != "rejected" || dec["detail"] != "rude" {
			t.Fatalf("decision entry %v", dec)
		}
		if b := byAction["ban.create"]; b["after"] != "email ban" || b["detail"] != "repeat offender" || b["site"] != "news" {
			t.Fatalf("ban entry %v", b)
		}
		if b := byAction["ban.delete"]; b["before"] != "email ban" || b["after"] != "lifted" {
			t.Fatalf("unban entry %v", b)
		}
		st := byAction["site.update"]
		if !strings.Contains(st["before"].(string), `"mode":"post"`) || !strings.Contains(st["after"].(string), `"mode":"pre"`) ||
			strings.Contains(st["after"].(string), "never to be logged") || !strings.Contains(st["after"].(string), `"secret":"hmac:`) {
			t.Fatalf("settings entry %v", st)
		}
		if m := byAction["moderator.disable"]; !strings.Contains(m["after"].(string), "disabled") || m["site"] != nil {
			t.Fatalf("disable entry %v", m)
		}
		if tk := byAction["token.create"]; tk["detail"] != "cron" {
			t.Fatalf("token entry %v", tk)
		}

		// A moderator of one site sees that site's entries only.
		sport, _ := e.store.Site(t.Context(), "sport")
		news := e.moderator("n@news.example", schema.RoleModerator, e.site.ID)
		for _, a := range auditPages(t, news, "", 50) {
			if a["site"] != "news" {
				t.Fatalf("a news moderator sees %v", a)
			}
		}
		other := e.moderator("s@news.example", schema.RoleModerator, sport.ID)
		if got := auditPages(t, other, "", 50); len(got) != 1 || got[0]["action"] != "site.create" {
			t.Fatalf("a sport moderator sees %v", got)
		}
		other.must(403, "GET", "/api/v1/mod/audit?site=news", nil)
		if got := auditPages(t, admin, "&site=sport", 50); len(got) != 1 {
			t.Fatalf("admin filtered by site: %v", got)
		}
		admin.must(400, "GET", "/api/v1/mod/audit?cursor=xyz", nil)
	})
}
