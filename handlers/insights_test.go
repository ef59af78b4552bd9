package handlers_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// The Insights API over real traffic: readers' votes rank the articles by
// the Wilson lower bound (a few unanimous votes do not beat many), posts
// and decisions fill the desk and the rules' figures, every list comes as
// CSV too, the article card has a point per day, and bad input gets a
// clear 400, another site's article a 403.
func TestInsightsAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "pre" })
		m := e.moderator("ed@news.example", schema.RoleModerator)
		for _, a := range []struct{ key, title string }{{"few", "Few votes"}, {"many", "Many votes"}, {"hated", "Disliked"}} {
			if _, err := e.store.RegisterArticle(t.Context(), e.site.ID, a.key, a.title, "https://news.example/"+a.key); err != nil {
				t.Fatal(err)
			}
		}
		vote := func(article, reaction string, n int) {
			for i := 0; i < n; i++ {
				r := e.do("PUT", "/api/v1/sites/news/articles/"+article+"/reactions/mine", map[string]string{"reaction": reaction}, "X-Reader-Token", e.readerToken())
				if r.Status != 200 {
					t.Fatalf("vote: %d %s", r.Status, r.Body)
				}
			}
		}
		vote("few", "like", 3)   // 3 of 3: share 1, lower bound 0.44
		vote("many", "like", 18) // 18 of 20: share 0.9, lower bound 0.70
		vote("many", "dislike", 2)
		vote("hated", "dislike", 6)
		vote("hated", "like", 1)
		var held []int64
		for i := 0; i < 4; i++ {
			id, _ := e.comment(post{Article: "hated", Body: fmt.Sprintf("Comment %d on the disliked story", i), Email: "ann@example.org"})
			held = append(held, id)
		}
		e.comment(post{Article: "many", Body: "One comment here"})
		m.decide(held[0], "approve", "pending")
		m.decide(held[1], "reject", "pending")
		m.decide(held[2], "spam", "pending")

		r := m.must(200, "GET", "/api/v1/mod/insights?site=news", nil)
		keys := func(list string) []string {
			var out []string
			for _, it := range r.JSON[list].([]any) {
				out = append(out, it.(map[string]any)["key"].(string))
			}
			return out
		}
		if got := strings.Join(keys("liked"), ","); got != "many,few,hated" {
			t.Errorf("most liked %s, want many (18 of 20) before few (3 of 3)", got)
		}
		if got := keys("disliked"); got[0] != "hated" {
			t.Errorf("most disliked %v", got)
		}
		if got := strings.Join(keys("discussed"), ","); got != "hated,many" {
			t.Errorf("most discussed %s", got)
		}
		if r.JSON["ranking"] != "wilson_lower_bound_95" || r.JSON["positive"] != "like" || r.JSON["negative"] != "dislike" {
			t.Errorf("overview %v", r.JSON)
		}
		desk := r.JSON["desk"].(map[string]any)
		days := desk["days"].([]any)
		if len(days) != 7 {
			t.Fatalf("%d days in the default period", len(days))
		}
		today := days[6].(map[string]any)
		if num(today["held"]) != 5 || num(today["decided"]) != 3 || num(today["posted"]) != 5 || today["median_wait_seconds"] == nil {
			t.Errorf("today at the desk: %v", today)
		}
		if b := desk["backlog"].(map[string]any); num(b["pending"]) != 2 {
			t.Errorf("backlog %v", b)
		}
		if mods := desk["moderators"].([]any); len(mods) != 3 || mods[0].(map[string]any)["moderator"] != "ed@news.example" {
			t.Errorf("moderators %v", mods)
		}
		rules := r.JSON["rules"].([]any)
		if len(rules) != 1 {
			t.Fatalf("rules %v", rules)
		}
		mode := rules[0].(map[string]any)
		if mode["rule"] != "mode" || num(mode["held"]) != 5 || num(mode["approved"]) != 1 || num(mode["rejected"]) != 1 ||
			num(mode["spam"]) != 1 || mode["precision"].(float64) < 0.66 || mode["precision"].(float64) > 0.67 {
			t.Errorf("the mode rule: %v", mode)
		}

		// CSV, for spreadsheets.
		c := m.must(200, "GET", "/api/v1/mod/insights/articles?site=news&order=disliked&format=csv", nil)
		if ct := c.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %s", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(c.Body))).ReadAll()
		if err != nil || len(rows) != 4 || rows[0][0] != "id" || rows[1][2] != "hated" || rows[1][6] != "6" {
			t.Fatalf("csv %q %v", c.Body, err)
		}
		for _, path := range []string{"desk", "rules"} {
			c := m.must(200, "GET", "/api/v1/mod/insights/"+path+"?format=csv", nil)
			if rows, err := csv.NewReader(strings.NewReader(string(c.Body))).ReadAll(); err != nil || len(rows) < 2 {
				t.Errorf("%s csv %q %v", path, c.Body, err)
			}
		}
		m.must(200, "GET", "/api/v1/mod/insights/desk?site=news", nil)
		m.must(200, "GET", "/api/v1/mod/insights/rules?site=news&from=2026-01-01&to=2026-01-31", nil)

		// The article card, reached from a queue item's article id.
		q := m.must(200, "GET", "/api/v1/mod/queues/pending?site=news", nil)
		id := num(q.JSON["items"].([]any)[0].(map[string]any)["article"].(map[string]any)["id"])
		card := m.must(200, "GET", fmt.Sprintf("/api/v1/mod/insights/articles/%d", id), nil)
		if card.JSON["step"] != "day" || len(card.JSON["points"].([]any)) != 7 {
			t.Fatalf("card %v", card.JSON)
		}
		art := card.JSON["article"].(map[string]any)
		if art["key"] != "hated" || num(art["against"]) != 6 || num(art["comments"].(map[string]any)["posted"]) != 4 {
			t.Errorf("card article %v", art)
		}
		last := card.JSON["points"].([]any)[6].(map[string]any)
		if num(last["reactions"].(map[string]any)["dislike"].(map[string]any)["added"]) != 6 {
			t.Errorf("today's point %v", last)
		}
		hourly := m.must(200, "GET", fmt.Sprintf("/api/v1/mod/insights/articles/%d?format=csv&from=%s", id, days[5].(map[string]any)["date"]), nil)
		if rows, _ := csv.NewReader(strings.NewReader(string(hourly.Body))).ReadAll(); len(rows) != 49 || rows[0][1] != "dislike_added" {
			t.Errorf("hourly csv: %d rows, header %v", len(rows), rows[0])
		}

		// Bad input.
		for path, want := range map[string]int{
			"/api/v1/mod/insights?from=yesterday":                    400,
			"/api/v1/mod/insights?from=2026-02-01&to=2026-01-01":     400,
			"/api/v1/mod/insights?from=2024-01-01&to=2026-01-01":     400,
			"/api/v1/mod/insights?format=csv":                        400,
			"/api/v1/mod/insights?positive=like&negative=like":       400,
			"/api/v1/mod/insights/articles?order=loved":              400,
			"/api/v1/mod/insights/desk?format=xml":                   400,
			"/api/v1/mod/insights?site=nowhere":                      404,
			"/api/v1/mod/insights/articles/999999":                   404,
			"/api/v1/mod/insights/articles/1?from=2026-13-01":        400,
			"/api/v1/mod/insights?limit=0":                           400,
			"/api/v1/mod/insights/articles?limit=100000&order=liked": 400,
		} {
			if got := m.do("GET", path, nil); got.Status != want {
				t.Errorf("%s: %d %s, want %d", path, got.Status, got.Body, want)
			}
		}
		// A moderator of another site sees neither this site nor its cards.
		other, err := e.store.CreateSite(t.Context(), "sport", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		o := e.moderator("sport@news.example", schema.RoleModerator, other.ID)
		if got := o.do("GET", fmt.Sprintf("/api/v1/mod/insights/articles/%d", id), nil); got.Status != 403 {
			t.Errorf("another site's card: %d %s", got.Status, got.Body)
		}
		if got := o.do("GET", "/api/v1/mod/insights?site=news", nil); got.Status != 403 {
			t.Errorf("another site's insights: %d", got.Status)
		}
		if got := o.must(200, "GET", "/api/v1/mod/insights", nil); len(got.JSON["liked"].([]any)) != 0 {
			t.Errorf("a sport moderator sees news articles: %v", got.JSON["liked"])
		}
		if got := e.do("GET", "/api/v1/mod/insights", nil); got.Status != 401 {
			t.Errorf("without a session: %d", got.Status)
		}
	})
}
