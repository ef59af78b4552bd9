package handlers_test

import (
	"encoding/xml"
	"fmt"
	"testing"

	"github.com/parley/parley/schema"
)

type feedDoc struct {
	Title   string `xml:"title"`
	Entries []struct {
		ID    string `xml:"id"`
		Title string `xml:"title"`
		Link  struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

func readFeed(t *testing.T, e *env, path string) feedDoc {
	t.Helper()
	r := e.do("GET", path, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%s: %d %s", path, r.Status, r.Body)
	}
	var f feedDoc
	if err := xml.Unmarshal(r.Body, &f); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, r.Body)
	}
	return f
}

// Feed entries lead to the comment on the article's page (the widget
// scrolls to #parley-comment-ID); the site feed gathers every article.
func TestFeeds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		if _, err := e.store.RegisterArticle(t.Context(), e.site.ID, "night-buses", "Night buses return", "https://news.example/night-buses"); err != nil {
			t.Fatal(err)
		}
		a1, _ := e.comment(post{Article: "night-buses", Author: "Ann", Body: "Finally, a way home."})
		b1, _ := e.comment(post{Article: "unregistered", Author: "Bob", Body: "No title known here."})
		a2, _ := e.comment(post{Article: "night-buses", Author: "Cy", Body: "Every twenty minutes?"})

		f := readFeed(t, e, "/api/v1/sites/news/articles/night-buses/comments.atom")
		if f.Title != "Comments on Night buses return" || len(f.Entries) != 2 {
			t.Fatalf("article feed: %+v", f)
		}
		if got, want := f.Entries[0].Link.Href, fmt.Sprintf("https://news.example/night-buses#parley-comment-%d", a2); got != want {
			t.Fatalf("entry link %q, want %q", got, want)
		}

		f = readFeed(t, e, "/api/v1/sites/news/comments.atom")
		if f.Title != "Newest comments on news" || len(f.Entries) != 3 {
			t.Fatalf("site feed: %+v", f)
		}
		want := []struct {
			id          int64
			title, link string
		}{
			{a2, "Cy on Night buses return: Every twenty minutes?", fmt.Sprintf("https://news.example/night-buses#parley-comment-%d", a2)},
			{b1, "Bob on unregistered: No title known here.", ""},
			{a1, "Ann on Night buses return: Finally, a way home.", fmt.Sprintf("https://news.example/night-buses#parley-comment-%d", a1)},
		}
		for i, w := range want {
			got := f.Entries[i]
			if got.ID != fmt.Sprintf("urn:parley:comment:%d", w.id) || got.Title != w.title || got.Link.Href != w.link {
				t.Fatalf("site feed entry %d: %+v, want %+v", i, got, w)
			}
		}
		// Held comments stay out of the feed.
		e.settings(func(s *schema.Settings) { s.Moderation.Mode = "pre" })
		e.comment(post{Article: "night-buses", Author: "Dee", Body: "Held for review."})
		if f := readFeed(t, e, "/api/v1/sites/news/comments.atom"); len(f.Entries) != 3 {
			t.Fatalf("a held comment is in the feed: %+v", f)
		}
		if r := e.do("GET", "/api/v1/sites/nope/comments.atom", nil); r.Status != 404 || r.errCode() != "not_found" {
			t.Fatalf("unknown site: %d %s", r.Status, r.Body)
		}
	})
}
