package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// engineProbes are the strings PostgreSQL refuses in text and SQLite takes.
var engineProbes = []string{"\x00", "news\x00", "a\x00b", "\xff\xfe", "\xc0\xaf", "é\xff"}

// probe is one request with a probe string in one parameter.
type probe struct {
	name   string
	method string
	path   string // with {v} for the probe, path-escaped
	query  string // with {v} for the probe, query-escaped
	body   string // JSON with {v} for the probe as a JSON string
	as     string // "", "mod" or "admin"
}

// Every route's parameters — path variables, query parameters and JSON
// string fields — with NUL bytes and invalid UTF-8: no 5xx, and the same
// answer on PostgreSQL and SQLite.
func TestTextProbesAnswerAlikeOnBothEngines(t *testing.T) {
	const ids = "{comment}"
	probes := []probe{
		// Public.
		{name: "reactions site", method: "GET", path: "/api/v1/sites/{v}/articles/a/reactions"},
		{name: "reactions article", method: "GET", path: "/api/v1/sites/news/articles/{v}/reactions"},
		{name: "react site", method: "PUT", path: "/api/v1/sites/{v}/articles/a/reactions/mine", body: `{"reaction":"like"}`},
		{name: "react article", method: "PUT", path: "/api/v1/sites/news/articles/{v}/reactions/mine", body: `{"reaction":"like"}`},
		{name: "react reaction", method: "PUT", path: "/api/v1/sites/news/articles/a/reactions/mine", body: `{"reaction":{v}}`},
		{name: "unreact article", method: "DELETE", path: "/api/v1/sites/news/articles/{v}/reactions/mine"},
		{name: "bulk site", method: "GET", path: "/api/v1/sites/{v}/reactions", query: "article=a"},
		{name: "bulk article", method: "GET", path: "/api/v1/sites/news/reactions", query: "article={v}"},
		{name: "captcha image", method: "GET", path: "/api/v1/captchas/{v}/image.png"},
		{name: "captcha audio", method: "GET", path: "/api/v1/captchas/{v}/audio.wav"},
		{name: "captcha lang", method: "GET", path: "/api/v1/captchas/AAAAAAAAAAAAAAAAAAAA/audio.wav", query: "lang={v}"},
		{name: "comments site", method: "GET", path: "/api/v1/sites/{v}/articles/a/comments"},
		{name: "comments article", method: "GET", path: "/api/v1/sites/news/articles/{v}/comments"},
		{name: "comments sort", method: "GET", path: "/api/v1/sites/news/articles/a/comments", query: "sort={v}"},
		{name: "comments cursor", method: "GET", path: "/api/v1/sites/news/articles/a/comments", query: "cursor={v}"},
		{name: "comments limit", method: "GET", path: "/api/v1/sites/news/articles/a/comments", query: "limit={v}"},
		{name: "feed article", method: "GET", path: "/api/v1/sites/news/articles/{v}/comments.atom"},
		{name: "vote id", method: "PUT", path: "/api/v1/comments/{v}/vote", body: `{"vote":1}`},
		{name: "report reason", method: "POST", path: "/api/v1/comments/" + ids + "/reports", body: `{"reason":{v}}`},
		{name: "report note", method: "POST", path: "/api/v1/comments/" + ids + "/reports", body: `{"reason":"other","note":{v}}`},
		{name: "post site", method: "POST", path: "/api/v1/sites/{v}/articles/a/comments", body: `{"author":"Ann","body":"hi","captcha_id":"AAAAAAAAAAAAAAAAAAAA","captcha_solution":"1"}`},
		{name: "post author", method: "POST", path: "/api/v1/sites/news/articles/a/comments", body: `{"author":{v},"body":"hi","captcha_id":"AAAAAAAAAAAAAAAAAAAA","captcha_solution":"1"}`},
		{name: "post email", method: "POST", path: "/api/v1/sites/news/articles/a/comments", body: `{"author":"Ann","email":{v},"body":"hi","captcha_id":"AAAAAAAAAAAAAAAAAAAA","captcha_solution":"1"}`},
		{name: "post captcha id", method: "POST", path: "/api/v1/sites/news/articles/a/comments", body: `{"author":"Ann","body":"hi","captcha_id":{v},"captcha_solution":"1"}`},
		{name: "post solution", method: "POST", path: "/api/v1/sites/news/articles/a/comments", body: `{"author":"Ann","body":"hi","captcha_id":"AAAAAAAAAAAAAAAAAAAA","captcha_solution":{v}}`},
		{name: "edit id", method: "PATCH", path: "/api/v1/comments/{v}", body: `{"body":"x"}`},
		{name: "edit body", method: "PATCH", path: "/api/v1/comments/" + ids, body: `{"body":{v}}`},
		{name: "delete id", method: "DELETE", path: "/api/v1/comments/{v}"},
		{name: "notice id", method: "POST", path: "/api/v1/comments/{v}/notices", body: `{"category":"STATEMENT_CATEGORY_VIOLENCE","explanation":"a long enough text","name":"N","email":"n@example.com","good_faith":true}`},
		{name: "notice category", method: "POST", path: "/api/v1/comments/" + ids + "/notices", body: `{"category":{v},"explanation":"a long enough text","name":"N","email":"n@example.com","good_faith":true}`},
		{name: "notice explanation", method: "POST", path: "/api/v1/comments/" + ids + "/notices", body: `{"category":"STATEMENT_CATEGORY_VIOLENCE","explanation":{v},"name":"N","email":"n@example.com","good_faith":true}`},
		{name: "notice name", method: "POST", path: "/api/v1/comments/" + ids + "/notices", body: `{"category":"STATEMENT_CATEGORY_VIOLENCE","explanation":"a long enough text","name":{v},"email":"n@example.com","good_faith":true}`},
		{name: "notice email", method: "POST", path: "/api/v1/comments/" + ids + "/notices", body: `{"category":"STATEMENT_CATEGORY_VIOLENCE","explanation":"a long enough text","name":"N","email":{v},"good_faith":true}`},
		{name: "notice categories lang", method: "GET", path: "/api/v1/notice-categories", query: "lang={v}"},
		{name: "appeal GET token", method: "GET", path: "/api/v1/appeals/{v}"},
		{name: "appeal POST token", method: "POST", path: "/api/v1/appeals/{v}", body: `{"explanation":"a long enough text"}`},

		// Moderators.
		{name: "login email", method: "POST", path: "/api/v1/mod/session", body: `{"email":{v},"password":"correct horse battery staple"}`},
		{name: "login password", method: "POST", path: "/api/v1/mod/session", body: `{"email":"admin@news.example","password":{v}}`},
		{name: "act link GET", method: "GET", path: "/api/v1/mod/act/{v}"},
		{name: "act link POST", method: "POST", path: "/api/v1/mod/act/{v}"},
		{name: "token name", method: "POST", path: "/api/v1/mod/tokens", body: `{"name":{v}}`, as: "mod"},
		{name: "token id", method: "DELETE", path: "/api/v1/mod/tokens/{v}", as: "mod"},
		{name: "queues site", method: "GET", path: "/api/v1/mod/queues", query: "site={v}", as: "mod"},
		{name: "queue site", method: "GET", path: "/api/v1/mod/queues/pending", query: "site={v}", as: "mod"},
		{name: "queue cursor", method: "GET", path: "/api/v1/mod/queues/pending", query: "cursor={v}", as: "mod"},
		{name: "queue limit", method: "GET", path: "/api/v1/mod/queues/pending", query: "limit={v}", as: "mod"},
		{name: "queue name", method: "GET", path: "/api/v1/mod/queues/{v}", as: "mod"},
		{name: "decision id", method: "POST", path: "/api/v1/mod/comments/{v}/decision", body: `{"action":"approve"}`, as: "mod"},
		{name: "decision action", method: "POST", path: "/api/v1/mod/comments/" + ids + "/decision", body: `{"action":{v}}`, as: "mod"},
		{name: "decision reason", method: "POST", path: "/api/v1/mod/comments/" + ids + "/decision", body: `{"action":"reject","reason":{v}}`, as: "mod"},
		{name: "decision expected", method: "POST", path: "/api/v1/mod/comments/" + ids + "/decision", body: `{"action":"approve","expected_status":{v}}`, as: "mod"},
		{name: "decisions action", method: "POST", path: "/api/v1/mod/decisions", body: `{"ids":[` + ids + `],"action":{v}}`, as: "mod"},
		{name: "decisions reason", method: "POST", path: "/api/v1/mod/decisions", body: `{"ids":[` + ids + `],"action":"reject","reason":{v}}`, as: "mod"},
		{name: "bans site", method: "GET", path: "/api/v1/mod/bans", query: "site={v}", as: "mod"},
		{name: "ban kind", method: "POST", path: "/api/v1/mod/bans", body: `{"comment_id":` + ids + `,"kind":{v},"reason":"r"}`, as: "mod"},
		{name: "ban reason", method: "POST", path: "/api/v1/mod/bans", body: `{"comment_id":` + ids + `,"kind":"reader","reason":{v}}`, as: "mod"},
		{name: "ban expiry", method: "POST", path: "/api/v1/mod/bans", body: `{"comment_id":` + ids + `,"kind":"reader","reason":"r","expires_at":{v}}`, as: "mod"},
		{name: "unban id", method: "DELETE", path: "/api/v1/mod/bans/{v}", as: "mod"},
		{name: "audit site", method: "GET", path: "/api/v1/mod/audit", query: "site={v}", as: "mod"},
		{name: "audit cursor", method: "GET", path: "/api/v1/mod/audit", query: "cursor={v}", as: "mod"},
		{name: "decision ground", method: "POST", path: "/api/v1/mod/comments/" + ids + "/decision", body: `{"action":"reject","ground":{v}}`, as: "mod"},
		{name: "notices site", method: "GET", path: "/api/v1/mod/notices", query: "site={v}", as: "mod"},
		{name: "notices status", method: "GET", path: "/api/v1/mod/notices", query: "status={v}", as: "mod"},
		{name: "notice decision id", method: "POST", path: "/api/v1/mod/notices/{v}/decision", body: `{"action":"dismiss"}`, as: "mod"},
		{name: "notice decision action", method: "POST", path: "/api/v1/mod/notices/1/decision", body: `{"action":{v}}`, as: "mod"},
		{name: "notice decision reason", method: "POST", path: "/api/v1/mod/notices/1/decision", body: `{"action":"dismiss","reason":{v}}`, as: "mod"},
		{name: "appeals status", method: "GET", path: "/api/v1/mod/appeals", query: "status={v}", as: "mod"},
		{name: "appeal decision id", method: "POST", path: "/api/v1/mod/appeals/{v}/decision", body: `{"outcome":"uphold"}`, as: "mod"},
		{name: "appeal decision outcome", method: "POST", path: "/api/v1/mod/appeals/1/decision", body: `{"outcome":{v}}`, as: "mod"},
		{name: "flaggers site", method: "GET", path: "/api/v1/mod/sites/{v}/trusted-flaggers", as: "mod"},
		{name: "flagger email", method: "POST", path: "/api/v1/mod/sites/news/trusted-flaggers", body: `{"email":{v}}`, as: "mod"},
		{name: "flagger name", method: "POST", path: "/api/v1/mod/sites/news/trusted-flaggers", body: `{"email":"f@example.com","name":{v}}`, as: "mod"},
		{name: "flagger remove", method: "DELETE", path: "/api/v1/mod/sites/news/trusted-flaggers/{v}", as: "mod"},
		{name: "misuse site", method: "GET", path: "/api/v1/mod/sites/{v}/misuse", as: "mod"},
		{name: "transparency site", method: "GET", path: "/api/v1/mod/sites/{v}/transparency", query: "from=2026-01-01&to=2026-01-31", as: "mod"},
		{name: "transparency from", method: "GET", path: "/api/v1/mod/sites/news/transparency", query: "from={v}&to=2026-01-31", as: "mod"},

		// Admins.
		{name: "site get", method: "GET", path: "/api/v1/mod/sites/{v}", as: "admin"},
		{name: "site put", method: "PUT", path: "/api/v1/mod/sites/{v}", body: `{}`, as: "admin"},
		{name: "site put origin", method: "PUT", path: "/api/v1/mod/sites/news", body: `{"origins":[{v}]}`, as: "admin"},
		{name: "site put word", method: "PUT", path: "/api/v1/mod/sites/news", body: `{"moderation":{"banned_words":[{v}]}}`, as: "admin"},
		{name: "site put hook", method: "PUT", path: "/api/v1/mod/sites/news", body: `{"webhooks":{"urls":[{v}],"secret":"0123456789abcdefgh"}}`, as: "admin"},
		{name: "site create slug", method: "POST", path: "/api/v1/mod/sites", body: `{"slug":{v}}`, as: "admin"},
		{name: "moderator email", method: "POST", path: "/api/v1/mod/moderators", body: `{"email":{v},"password":"correct horse battery staple","role":"moderator"}`, as: "admin"},
		{name: "moderator site", method: "POST", path: "/api/v1/mod/moderators", body: `{"email":"x@news.example","password":"correct horse battery staple","role":"moderator","sites":[{v}]}`, as: "admin"},
		{name: "moderator role", method: "POST", path: "/api/v1/mod/moderators", body: `{"email":"y@news.example","password":"correct horse battery staple","role":{v}}`, as: "admin"},
		{name: "moderator id", method: "PUT", path: "/api/v1/mod/moderators/{v}", body: `{"role":"moderator"}`, as: "admin"},
		{name: "moderator update site", method: "PUT", path: "/api/v1/mod/moderators/{mod}", body: `{"sites":[{v}]}`, as: "admin"},
		{name: "moderator disable id", method: "DELETE", path: "/api/v1/mod/moderators/{v}", as: "admin"},
	}

	answers := map[schema.Dialect]map[string]int{}
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d, relaxed)
			admin := e.moderator("admin@news.example", schema.RoleAdmin)
			mod := e.moderator("mod@news.example", schema.RoleModerator)
			reader := e.readerToken()
			got := map[string]int{}
			answers[d] = got
			for _, p := range probes {
				for i, v := range engineProbes {
					// A fresh held comment for every probe, so that
					// decisions and bans act alike on both engines.
					c := e.storeComment("a", fmt.Sprintf("%s %d", p.name, i), schema.StatusPending)
					fill := func(s string, esc func(string) string) string {
						s = strings.ReplaceAll(s, "{comment}", fmt.Sprint(c.ID))
						s = strings.ReplaceAll(s, "{mod}", fmt.Sprint(mod.id))
						return strings.ReplaceAll(s, "{v}", esc(v))
					}
					target := fill(p.path, url.PathEscape)
					if p.query != "" {
						target += "?" + fill(p.query, url.QueryEscape)
					}
					// JSON carries NUL as \u0000; invalid UTF-8 goes raw,
					// as a client may send it.
					body := fill(p.body, func(s string) string {
						b, _ := json.Marshal(s)
						if strings.Contains(s, "\xff") || strings.Contains(s, "\xc0") {
							return `"` + s + `"`
						}
						return string(b)
					})
					req := httptest.NewRequest(p.method, target, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Reader-Token", reader)
					switch p.as {
					case "mod":
						req.Header.Set("Cookie", "parley_session="+mod.cookie)
						req.Header.Set("X-CSRF-Token", mod.csrf)
					case "admin":
						req.Header.Set("Cookie", "parley_session="+admin.cookie)
						req.Header.Set("X-CSRF-Token", admin.csrf)
					}
					rec := httptest.NewRecorder()
					e.srv.Config.Handler.ServeHTTP(rec, req)
					key := fmt.Sprintf("%s %q", p.name, v)
					got[key] = rec.Code
					if rec.Code >= 500 {
						t.Errorf("%s: %s %s %s: %d %s", key, p.method, target, body, rec.Code, rec.Body)
					}
				}
			}
		})
	}
	sq, pg := answers[schema.SQLite], answers[schema.Postgres]
	if sq == nil || pg == nil {
		return
	}
	var diffs []string
	for k, v := range sq {
		if pg[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: SQLite %d, PostgreSQL %d", k, v, pg[k]))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d answers differ between the engines:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}
