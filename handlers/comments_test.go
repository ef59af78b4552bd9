package handlers_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// captcha issues a captcha and returns its id and (test mode) solution.
func (e *env) captcha() (string, string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/captchas", nil)
	if r.Status != 201 {
		e.t.Fatalf("captcha: %d %s", r.Status, r.Body)
	}
	return r.JSON["id"].(string), r.JSON["test_solution"].(string)
}

// post writes a comment with a fresh, solved captcha.
func (e *env) post(article string, fields map[string]any, headers ...string) response {
	e.t.Helper()
	id, sol := e.captcha()
	// Bodies differ, or the repeated-text rule would file them as spam.
	body := map[string]any{"author": "Ann", "body": fmt.Sprintf("A fine article, comment %s.", id[:8]), "captcha_id": id, "captcha_solution": sol}
	for k, v := range fields {
		body[k] = v
	}
	return e.do("POST", "/api/v1/sites/news/articles/"+article+"/comments", body, headers...)
}

func commentID(r response) int64 {
	return num(r.JSON["comment"].(map[string]any)["id"])
}

func list(e *env, article, query string, headers ...string) response {
	e.t.Helper()
	r := e.do("GET", "/api/v1/sites/news/articles/"+article+"/comments"+query, nil, headers...)
	if r.Status != 200 {
		e.t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	return r
}

func comments(r response) []map[string]any {
	var out []map[string]any
	for _, c := range r.JSON["comments"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func TestPostAndRead(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		r := e.post("a1", map[string]any{"email": "Ann@Example.org"})
		if r.Status != 201 || r.JSON["edit_token"] == "" {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		c := r.JSON["comment"].(map[string]any)
		if c["status"] != "approved" || c["author"] != "Ann" || !strings.HasPrefix(c["body"].(string), "A fine article") || c["parent_id"] != nil {
			t.Fatalf("created comment: %s", r.Body)
		}
		if strings.Contains(string(r.Body), "Example.org") || strings.Contains(string(r.Body), "email") {
			t.Fatalf("the email leaked: %s", r.Body)
		}
		reply := e.post("a1", map[string]any{"parent_id": commentID(r), "body": "I agree."})
		if reply.Status != 201 || num(reply.JSON["comment"].(map[string]any)["parent_id"]) != commentID(r) {
			t.Fatalf("reply: %d %s", reply.Status, reply.Body)
		}
		l := list(e, "a1", "")
		if num(l.JSON["count"]) != 2 || len(comments(l)) != 2 || l.JSON["next_cursor"] != nil {
			t.Fatalf("list: %s", l.Body)
		}
		stored, err := e.store.Comment(t.Context(), commentID(r))
		if err != nil || stored.EmailHash == "" || strings.Contains(stored.EmailHash, "@") || stored.IPHash == "" || strings.Contains(stored.IPHash, "127.0.0.1") {
			t.Fatalf("stored identity: %+v %v", stored, err)
		}
		// Unknown articles have an empty thread.
		if l := list(e, "never-used", ""); num(l.JSON["count"]) != 0 || len(comments(l)) != 0 {
			t.Fatalf("empty thread: %s", l.Body)
		}
		feed := e.do("GET", "/api/v1/sites/news/articles/a1/comments.atom", nil)
		if feed.Status != 200 || !strings.Contains(string(feed.Body), "<feed xmlns=\"http://www.w3.org/2005/Atom\">") || strings.Count(string(feed.Body), "<entry>") != 2 {
			t.Fatalf("feed: %d %s", feed.Status, feed.Body)
		}
	})
}

// Many posts race with one captcha: exactly one is accepted.
func TestCaptchaRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) { c.Limits = noLimits() })
		id, sol := e.captcha()
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.do("POST", "/api/v1/sites/news/articles/race/comments", map[string]any{
					"author": "Racer", "body": fmt.Sprintf("attempt %d", i), "captcha_id": id, "captcha_solution": sol})
				switch {
				case r.Status == 201:
					ok.Add(1)
				case r.Status == 403 && r.errCode() == "captcha_invalid":
					refused.Add(1)
				default:
					t.Errorf("unexpected %d %s", r.Status, r.Body)
				}
			}(i)
		}
		wg.Wait()
		if ok.Load() != 1 || refused.Load() != 23 {
			t.Fatalf("%d accepted, %d refused; want 1 and 23", ok.Load(), refused.Load())
		}
		if l := list(e, "race", ""); num(l.JSON["count"]) != 1 {
			t.Fatalf("count %s", l.Body)
		}
	})
}

func TestCaptchaSingleUseAndExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		post := func(id, sol string) response {
			return e.do("POST", "/api/v1/sites/news/articles/c/comments", map[string]any{
				"author": "Ann", "body": "hello", "captcha_id": id, "captcha_solution": sol})
		}
		// A wrong answer uses the captcha up: the right one then fails.
		id, sol := e.captcha()
		wrong := "000000"
		if sol == wrong {
			wrong = "111111"
		}
		if r := post(id, wrong); r.Status != 403 || r.errCode() != "captcha_invalid" || r.field("captcha_solution") == "" {
			t.Fatalf("wrong answer: %d %s", r.Status, r.Body)
		}
		if r := post(id, sol); r.Status != 403 || r.errCode() != "captcha_invalid" {
			t.Fatalf("right answer after a wrong one: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/v1/captchas/"+id+"/image.png", nil); r.Status != 404 {
			t.Fatalf("image of a used captcha: %d", r.Status)
		}
		// A solved captcha cannot be used twice.
		id, sol = e.captcha()
		if r := post(id, sol); r.Status != 201 {
			t.Fatalf("first use: %d %s", r.Status, r.Body)
		}
		if r := post(id, sol); r.Status != 403 {
			t.Fatalf("second use: %d %s", r.Status, r.Body)
		}
		// Image and audio of a live captcha.
		id, sol = e.captcha()
		img := e.do("GET", "/api/v1/captchas/"+id+"/image.png", nil)
		if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(img.Body), "\x89PNG") {
			t.Fatalf("image: %d %v", img.Status, img.Header)
		}
		wav := e.do("GET", "/api/v1/captchas/"+id+"/audio.wav?lang=ru", nil)
		if wav.Status != 200 || !strings.HasPrefix(string(wav.Body), "RIFF") {
			t.Fatalf("audio: %d %v", wav.Status, wav.Header)
		}
		if r := e.do("GET", "/api/v1/captchas/"+id+"/audio.wav?lang=xx", nil); r.Status != 400 {
			t.Fatalf("unknown language: %d", r.Status)
		}
		// Ten minutes later it has expired, and the sweeper removes it.
		e.store.SetClock(func() time.Time { return time.Now().Add(11 * time.Minute) })
		if r := post(id, sol); r.Status != 403 || r.errCode() != "captcha_invalid" {
			t.Fatalf("expired captcha: %d %s", r.Status, r.Body)
		}
		id2, _ := e.captcha() // issued "now", in the future clock
		e.store.SetClock(func() time.Time { return time.Now().Add(30 * time.Minute) })
		if n, err := e.store.DeleteExpiredCaptchas(t.Context()); err != nil || n < 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if r := e.do("GET", "/api/v1/captchas/"+id2+"/image.png", nil); r.Status != 404 {
			t.Fatalf("swept captcha still served: %d", r.Status)
		}
	})
}

// Keyset pages neither lose nor repeat a comment while new ones arrive.
func TestPaginationWhileInserting(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		ctx := t.Context()
		a, _ := e.store.EnsureArticle(ctx, e.site.ID, "big")
		insert := func(n int) []int64 {
			var ids []int64
			for i := 0; i < n; i++ {
				c := &schema.Comment{SiteID: e.site.ID, ArticleID: a.ID, Author: "A", Body: fmt.Sprint("c", i),
					BodyKey: fmt.Sprint(i), Status: schema.StatusApproved, EditTokenHash: "x"}
				if err := e.store.CreateComment(ctx, c); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			return ids
		}
		before := insert(300)
		for _, sort := range []string{"oldest", "newest", "top"} {
			seen := map[int64]int{}
			cursor := ""
			pages := 0
			var added []int64
			for {
				q := "?sort=" + sort + "&limit=37"
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				r := list(e, "big", q)
				for _, c := range comments(r) {
					seen[num(c["id"])]++
				}
				pages++
				added = append(added, insert(3)...) // new comments between pages
				next, _ := r.JSON["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			for _, id := range before {
				if seen[id] != 1 {
					t.Fatalf("%s: comment %d seen %d times", sort, id, seen[id])
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Fatalf("%s: comment %d repeated", sort, id)
				}
			}
			if sort == "oldest" {
				for _, id := range added[:len(added)-3] {
					if seen[id] != 1 {
						t.Fatalf("oldest: a comment added during paging (%d) was lost", id)
					}
				}
			}
			if pages < 9 {
				t.Fatalf("%s: only %d pages", sort, pages)
			}
		}
		if r := e.do("GET", "/api/v1/sites/news/articles/big/comments?sort=newest&cursor=garbage!", nil); r.Status != 400 {
			t.Fatalf("bad cursor: %d", r.Status)
		}
		first := list(e, "big", "?sort=oldest&limit=5")
		if r := e.do("GET", "/api/v1/sites/news/articles/big/comments?sort=newest&cursor="+first.JSON["next_cursor"].(string), nil); r.Status != 400 {
			t.Fatalf("cursor of another sort: %d", r.Status)
		}
		for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?sort=best"} {
			if r := e.do("GET", "/api/v1/sites/news/articles/big/comments"+q, nil); r.Status != 400 || r.errCode() != "bad_request" {
				t.Fatalf("%s: %d", q, r.Status)
			}
		}
	})
}

func TestRepliesAndParents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		other := e.post("other", nil)
		r := e.post("a1", map[string]any{"parent_id": commentID(other)})
		if r.Status != 422 || r.field("parent_id") == "" {
			t.Fatalf("parent from another article: %d %s", r.Status, r.Body)
		}
		if r := e.post("a1", map[string]any{"parent_id": 999999}); r.Status != 422 {
			t.Fatalf("unknown parent: %d %s", r.Status, r.Body)
		}
		if l := list(e, "a1", ""); num(l.JSON["count"]) != 0 {
			t.Fatalf("refused replies were written: %s", l.Body)
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		mine := e.post("a1", map[string]any{"body": "first version"})
		theirs := e.post("a1", nil)
		tok := mine.JSON["edit_token"].(string)
		otherTok := theirs.JSON["edit_token"].(string)
		path := fmt.Sprintf("/api/v1/comments/%d", commentID(mine))

		if r := e.do("PATCH", path, map[string]string{"body": "hacked"}, "Authorization", "Bearer "+otherTok); r.Status != 403 {
			t.Fatalf("edit with another comment's token: %d %s", r.Status, r.Body)
		}
		if r := e.do("PATCH", path, map[string]string{"body": "hacked"}); r.Status != 401 {
			t.Fatalf("edit without token: %d", r.Status)
		}
		if r := e.do("DELETE", path, nil, "Authorization", "Bearer "+otherTok); r.Status != 403 {
			t.Fatalf("delete with another comment's token: %d", r.Status)
		}
		r := e.do("PATCH", path, map[string]string{"body": "second version"}, "Authorization", "Bearer "+tok)
		c, _ := r.JSON["comment"].(map[string]any)
		if r.Status != 200 || c["body"] != "second version" || c["edited_at"] == nil {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		if r := e.do("PATCH", path, map[string]string{"body": " "}, "Authorization", "Bearer "+tok); r.Status != 422 {
			t.Fatalf("empty edit: %d", r.Status)
		}
		// A reply keeps the deleted comment's place.
		e.post("a1", map[string]any{"parent_id": commentID(mine)})
		if r := e.do("DELETE", path, nil, "Authorization", "Bearer "+tok); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		l := list(e, "a1", "")
		cs := comments(l)
		if len(cs) != 3 || cs[0]["status"] != "deleted" || cs[0]["body"] != "" || cs[0]["author"] != "" || num(l.JSON["count"]) != 2 {
			t.Fatalf("after delete: %s", l.Body)
		}
		// Without replies, a deleted comment leaves the thread.
		if r := e.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", commentID(theirs)), nil, "Authorization", "Bearer "+otherTok); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		if l := list(e, "a1", ""); len(comments(l)) != 2 {
			t.Fatalf("deleted comment without replies still listed: %s", l.Body)
		}
		// After the edit window, no more changes.
		late := e.post("a1", nil)
		e.store.SetClock(func() time.Time { return time.Now().Add(16 * time.Minute) })
		r = e.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", commentID(late)), map[string]string{"body": "too late"}, "Authorization", "Bearer "+late.JSON["edit_token"].(string))
		if r.Status != 403 || r.errCode() != "edit_window_closed" {
			t.Fatalf("edit after the window: %d %s", r.Status, r.Body)
		}
	})
}

// Bodies come back exactly as written: markup as text, any Unicode.
func TestBodiesKeptExactly(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) { c.Limits = noLimits() })
		bodies := []string{
			`<script>alert("x")</script> & <b>bold</b> 'quotes'`,
			"e\u0301 a\u0308 \u0915\u094d\u0937 combining marks",
			"emoji 👍🏽 👨‍👩‍👧 🇺🇦",
			"right-to-left: שלום עולם, مرحبا بالعالم \u202eevil",
			"lines\nand\n\nparagraphs",
			"ｆｕｌｌｗｉｄｔｈ and \u00a0no-break space",
		}
		for i, b := range bodies {
			r := e.post("u", map[string]any{"body": b, "author": "名前 " + fmt.Sprint(i)})
			if r.Status != 201 {
				t.Fatalf("%q: %d %s", b, r.Status, r.Body)
			}
			if got := r.JSON["comment"].(map[string]any)["body"]; got != b {
				t.Fatalf("created body %q, want %q", got, b)
			}
		}
		l := list(e, "u", "?limit=200")
		for i, c := range comments(l) {
			if c["body"] != bodies[i] {
				t.Fatalf("read body %q, want %q", c["body"], bodies[i])
			}
		}
		if !strings.Contains(string(l.Body), `\u003cscript\u003e`) {
			t.Fatalf("markup is not escaped in JSON: %s", l.Body)
		}
	})
}

func TestCommentValidation(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) { c.Limits = noLimits() })
	cases := []struct {
		name   string
		raw    string
		fields map[string]any
		field  string
		status int
	}{
		{"invalid UTF-8", "{\"author\":\"Ann\",\"body\":\"bad \xff\xfe bytes\",\"captcha_id\":\"x\",\"captcha_solution\":\"1\"}", nil, "", 400},
		{"control character", "", map[string]any{"body": "bell \u0007 here"}, "body", 422},
		{"escape character", "", map[string]any{"body": "\u001b[31mred"}, "body", 422},
		{"carriage return", "", map[string]any{"body": "a\rb"}, "body", 422},
		{"C1 control", "", map[string]any{"body": "a\u0085b"}, "body", 422},
		{"empty body", "", map[string]any{"body": "   \n "}, "body", 422},
		{"body too long", "", map[string]any{"body": strings.Repeat("é", 5001)}, "body", 422},
		{"empty author", "", map[string]any{"author": ""}, "author", 422},
		{"newline in author", "", map[string]any{"author": "a\nb"}, "author", 422},
		{"author too long", "", map[string]any{"author": strings.Repeat("x", 81)}, "author", 422},
		{"bad email", "", map[string]any{"email": "not-an-email"}, "email", 422},
		{"missing captcha", "", map[string]any{"captcha_id": ""}, "captcha_id", 422},
		{"wrong types", `{"author":1,"body":"x","captcha_id":"x","captcha_solution":"1"}`, nil, "", 400},
		{"huge body", `{"body":"` + strings.Repeat("x", 40000) + `"}`, nil, "", 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.raw != "" {
				r = e.do("POST", "/api/v1/sites/news/articles/v/comments", []byte(c.raw))
			} else {
				r = e.post("v", c.fields)
			}
			if r.Status != c.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Body, c.status)
			}
			if c.field != "" && r.field(c.field) == "" {
				t.Fatalf("no message for %s: %s", c.field, r.Body)
			}
		})
	}
	if l := list(e, "v", ""); num(l.JSON["count"]) != 0 {
		t.Fatalf("refused comments were written: %s", l.Body)
	}
	// 5000 characters exactly, after trimming, are fine.
	if r := e.post("v", map[string]any{"body": "  " + strings.Repeat("ü", 5000) + "\n"}); r.Status != 201 {
		t.Fatalf("5000 characters: %d %s", r.Status, r.Body)
	}
}

func TestClosedComments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		st := e.site.Settings
		st.CommentsOpen = false
		e.store.UpdateSiteSettings(t.Context(), e.site.ID, st, nil)
		if r := e.post("a", nil); r.Status != 403 || r.errCode() != "comments_closed" {
			t.Fatalf("closed site: %d %s", r.Status, r.Body)
		}
		st.CommentsOpen = true
		e.store.UpdateSiteSettings(t.Context(), e.site.ID, st, nil)
		a, _ := e.store.EnsureArticle(t.Context(), e.site.ID, "closed")
		e.store.SetArticleOpen(t.Context(), a.ID, false)
		if r := e.post("closed", nil); r.Status != 403 || r.errCode() != "comments_closed" {
			t.Fatalf("closed article: %d %s", r.Status, r.Body)
		}
	})
}

func TestCommentVotesAndReports(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		a := e.post("v", map[string]any{"body": "first"})
		b := e.post("v", map[string]any{"body": "second"})
		r1, r2 := e.readerToken(), e.readerToken()
		vote := func(id int64, tok string, v any) response {
			if v == nil {
				return e.do("DELETE", fmt.Sprintf("/api/v1/comments/%d/vote", id), nil, "X-Reader-Token", tok)
			}
			return e.do("PUT", fmt.Sprintf("/api/v1/comments/%d/vote", id), map[string]any{"vote": v}, "X-Reader-Token", tok)
		}
		vote(commentID(b), r1, 1)
		vote(commentID(b), r1, 1) // one per reader
		r := vote(commentID(b), r2, 1)
		if num(r.JSON["score"]) != 2 || num(r.JSON["upvotes"]) != 2 || num(r.JSON["mine"]) != 1 {
			t.Fatalf("votes: %s", r.Body)
		}
		r = vote(commentID(b), r2, -1)
		if num(r.JSON["score"]) != 0 || num(r.JSON["downvotes"]) != 1 {
			t.Fatalf("changed vote: %s", r.Body)
		}
		r = vote(commentID(b), r2, nil)
		if num(r.JSON["score"]) != 1 || num(r.JSON["mine"]) != 0 {
			t.Fatalf("retracted vote: %s", r.Body)
		}
		if r := vote(commentID(a), r1, 2); r.Status != 422 {
			t.Fatalf("vote 2: %d", r.Status)
		}
		if r := vote(commentID(a), "", 1); r.Status != 401 {
			t.Fatalf("vote without token: %d", r.Status)
		}
		if r := vote(99999, r1, 1); r.Status != 404 {
			t.Fatalf("vote on unknown comment: %d", r.Status)
		}
		top := comments(list(e, "v", "?sort=top"))
		if num(top[0]["id"]) != commentID(b) || num(top[0]["score"]) != 1 {
			t.Fatalf("top order: %v", top)
		}

		report := func(tok string, body any) response {
			return e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", commentID(a)), body, "X-Reader-Token", tok)
		}
		if r := report(r1, map[string]string{"reason": "abuse", "note": "rude"}); r.Status != 202 {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		if r := report(r1, map[string]string{"reason": "spam"}); r.Status != 202 {
			t.Fatalf("repeat report: %d %s", r.Status, r.Body)
		}
		if r := report(r1, map[string]string{"reason": "boring"}); r.Status != 422 {
			t.Fatalf("unknown reason: %d", r.Status)
		}
		if r := report("", map[string]string{"reason": "spam"}); r.Status != 401 {
			t.Fatalf("report without token: %d", r.Status)
		}
		c, _ := e.store.Comment(t.Context(), commentID(a))
		if c.ReportCount != 1 {
			t.Fatalf("a repeated report was counted: %d", c.ReportCount)
		}
		reports, _ := e.store.OpenReports(t.Context(), []int64{c.ID})
		if len(reports[c.ID]) != 1 || reports[c.ID][0].Reason != "abuse" || reports[c.ID][0].Note != "rude" {
			t.Fatalf("stored reports: %+v", reports)
		}
		report(r2, map[string]string{"reason": "abuse"})
		report(e.readerToken(), map[string]string{"reason": "abuse"})
		c, _ = e.store.Comment(t.Context(), commentID(a))
		if c.ReportedMS == nil || c.Status != "approved" {
			t.Fatalf("three reports should put it in the reported queue and keep it published: %+v", c)
		}
	})
}

func TestPostingRateLimit(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	var last response
	for i := 0; i < 8; i++ {
		last = e.post("rl", map[string]any{"body": fmt.Sprint("comment ", i)})
		if last.Status == 429 {
			break
		}
	}
	if last.Status != 429 || last.errCode() != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("no limit after a burst: %d %s %v", last.Status, last.Body, last.Header)
	}
}
