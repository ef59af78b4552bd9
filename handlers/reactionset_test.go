package handlers_test

import (
	"encoding/json"
	"testing"

	"github.com/parley/parley/schema"
)

// A site's own reaction set: validated in the settings (1 to 8 names of
// a-z, 0-9, _ and -; labels and icons optional), answered to the widget in
// the site's order with labels and icons, and usable at once.
func TestReactionSet(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		admin := e.moderator("admin@news.example", schema.RoleAdmin)

		// Old sites answer the two defaults, with their built-in icons.
		r := e.do("GET", "/api/v1/sites/news/articles/a/reactions", nil)
		if got := reactionSetOf(t, r); got != `[{"icon":"like","label":"","name":"like"},{"icon":"dislike","label":"","name":"dislike"}]` {
			t.Fatalf("default set: %s", got)
		}

		for _, bad := range []map[string]any{
			{"reactions": []string{}},
			{"reactions": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}},
			{"reactions": []string{"Love"}},
			{"reactions": []string{"so sad"}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"hate": map[string]string{"icon": "😠"}}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"love": map[string]string{"icon": "love"}}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"love": map[string]string{"icon": "<b>"}}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"love": map[string]string{"label": "a\u0000b"}}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"love": map[string]string{"label": " Love"}}},
			{"reactions": []string{"love"}, "reaction_styles": map[string]any{"love": map[string]string{"label": "This label is far longer than forty characters"}}},
		} {
			r := admin.do("PUT", "/api/v1/mod/sites/news", bad)
			if r.Status != 422 || (r.field("reactions") == "" && r.field("reaction_styles") == "") {
				t.Fatalf("%v: %d %s", bad, r.Status, r.Body)
			}
		}

		admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{
			"reactions": []string{"love", "laugh", "thumbs-up", "wow"},
			"reaction_styles": map[string]any{
				"love":      map[string]string{"label": "Love", "icon": "❤️"},
				"laugh":     map[string]string{"icon": "😂"},
				"thumbs-up": map[string]string{"label": "Agree", "icon": "👍🏽"},
			},
		})
		tok := e.readerToken()
		r = e.do("PUT", "/api/v1/sites/news/articles/a/reactions/mine", map[string]string{"reaction": "thumbs-up"}, "X-Reader-Token", tok)
		if r.Status != 200 || r.JSON["mine"] != "thumbs-up" {
			t.Fatalf("react with a new name: %d %s", r.Status, r.Body)
		}
		want := `[{"icon":"❤️","label":"Love","name":"love"},{"icon":"😂","label":"","name":"laugh"},{"icon":"👍🏽","label":"Agree","name":"thumbs-up"},{"icon":"wow","label":"","name":"wow"}]`
		if got := reactionSetOf(t, r); got != want {
			t.Fatalf("set: %s", got)
		}
		r = e.do("GET", "/api/v1/sites/news/reactions?article=a", nil)
		if got := reactionSetOf(t, r); got != want {
			t.Fatalf("bulk set: %s", got)
		}
		if r := e.do("PUT", "/api/v1/sites/news/articles/a/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok); r.Status != 422 {
			t.Fatalf("a reaction no longer offered: %d %s", r.Status, r.Body)
		}

		// Dropping a reaction drops its style; styles sent replace the old.
		admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"reactions": []string{"laugh", "thumbs-up"}})
		site, _ := e.store.Site(t.Context(), "news")
		fresh, _ := e.store.SiteByID(t.Context(), site.ID)
		if len(fresh.Settings.ReactionStyles) != 2 || fresh.Settings.ReactionStyles["love"].Icon != "" {
			t.Fatalf("styles after dropping love: %+v", fresh.Settings.ReactionStyles)
		}
		r = admin.must(200, "PUT", "/api/v1/mod/sites/news", map[string]any{"reaction_styles": map[string]any{"laugh": map[string]string{"label": "Funny"}}})
		styles, _ := json.Marshal(r.JSON["reaction_styles"])
		if string(styles) != `{"laugh":{"label":"Funny"}}` {
			t.Fatalf("replaced styles: %s", styles)
		}
	})
}

func reactionSetOf(t *testing.T, r response) string {
	t.Helper()
	b, err := json.Marshal(r.JSON["reactions"])
	if err != nil || r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	return string(b)
}
