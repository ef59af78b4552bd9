package handlers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// twoInstances starts two servers, each with its own store (its own
// connection pool) on one PostgreSQL schema, each reading the server secret
// from the database as `parley serve` does.
func twoInstances(t *testing.T) (a, b *env) {
	t.Helper()
	dsn := schematest.DSN(t, schema.Postgres)
	start := func() *env {
		store, err := schema.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		secret, err := store.Secret(t.Context(), "server")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(handlers.New(store, handlers.Config{Secret: secret, CaptchaTest: true, Limits: noLimits()}))
		t.Cleanup(srv.Close)
		return &env{t: t, store: store, srv: srv}
	}
	a, b = start(), start()
	st := schema.DefaultSettings()
	st.Moderation.MaxPerMinute = -1 // every comment here comes from one address
	site, err := a.store.CreateSite(t.Context(), "news", st, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.site, b.site = site, site
	return a, b
}

// comment posts on e with the given captcha, wherever it was issued.
func comment(e *env, id, solution string) response {
	return e.do("POST", "/api/v1/sites/news/articles/multi/comments", map[string]any{
		"author": "Ann", "body": "posted with a captcha from elsewhere " + randomWord(), "captcha_id": id, "captcha_solution": solution})
}

func TestSeveralInstances(t *testing.T) {
	a, b := twoInstances(t)

	t.Run("captcha issued by one, solved on the other, once", func(t *testing.T) {
		id, sol := a.captcha()
		if r := comment(b, id, sol); r.Status != 201 {
			t.Fatalf("solved on the other instance: %d %s", r.Status, r.Body)
		}
		for _, e := range []*env{a, b} {
			if r := comment(e, id, sol); r.Status != 403 || r.errCode() != "captcha_invalid" {
				t.Fatalf("second use: %d %s", r.Status, r.Body)
			}
		}
		// Raced on both instances at once: exactly one wins.
		for range 10 {
			id, sol := b.captcha()
			statuses := make(chan int, 2)
			for _, e := range []*env{a, b} {
				go func() { statuses <- comment(e, id, sol).Status }()
			}
			x, y := <-statuses, <-statuses
			if x+y != 201+403 {
				t.Fatalf("one captcha raced on two instances: %d and %d", x, y)
			}
		}
	})

	t.Run("tokens work on either", func(t *testing.T) {
		tok := a.readerToken()
		path := "/api/v1/sites/news/articles/shared/reactions"
		if r := b.do("PUT", path+"/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok); r.Status != 200 {
			t.Fatalf("a token from one instance on the other: %d %s", r.Status, r.Body)
		}
		if r := a.do("GET", path, nil, "X-Reader-Token", tok); r.JSON["mine"] != "like" {
			t.Fatalf("the vote seen from the first instance: %s", r.Body)
		}
		id, sol := a.captcha()
		created := comment(a, id, sol)
		edit := created.JSON["edit_token"].(string)
		r := b.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", commentID(created)), map[string]string{"body": "edited elsewhere"}, "Authorization", "Bearer "+edit)
		if r.Status != 200 {
			t.Fatalf("an edit token from one instance on the other: %d %s", r.Status, r.Body)
		}
	})

	t.Run("votes through both are exact", func(t *testing.T) {
		path := "/api/v1/sites/news/articles/split/reactions"
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				// Each reader's requests alternate between the instances.
				first, second := a, b
				if i%2 == 1 {
					first, second = b, a
				}
				tok := first.readerToken()
				for j, reaction := range []string{"dislike", "like", "dislike"} {
					e := first
					if j%2 == 1 {
						e = second
					}
					if i%5 == 0 && j == 2 {
						if r := e.send("DELETE", path+"/mine", "", "X-Reader-Token", tok); r.Status != 200 {
							t.Errorf("retract: %d %s", r.Status, r.Body)
						}
						continue
					}
					body := fmt.Sprintf(`{"reaction":%q}`, reaction)
					if r := e.send("PUT", path+"/mine", body, "X-Reader-Token", tok); r.Status != 200 {
						t.Errorf("vote: %d %s", r.Status, r.Body)
					}
				}
			}()
		}
		wg.Wait()
		// 40 readers retracted after liking; 160 ended on dislike. The
		// database is exact at once; each instance's cached counts show the
		// other's votes within the documented second.
		id, err := a.store.ArticleID(t.Context(), a.site.ID, "split")
		if err != nil {
			t.Fatal(err)
		}
		if c, err := a.store.RecountReactions(t.Context(), id); err != nil || c["dislike"] != 160 || c["like"] != 0 {
			t.Fatalf("recount %v %v, want dislike=160", c, err)
		}
		time.Sleep(1100 * time.Millisecond)
		for _, e := range []*env{a, b} {
			r := e.do("GET", path, nil)
			c := r.JSON["counts"].(map[string]any)
			if num(c["like"]) != 0 || num(c["dislike"]) != 160 || num(r.JSON["total"]) != 160 {
				t.Fatalf("counts %v, want dislike=160", c)
			}
		}
	})

	t.Run("site settings reach the other instance within seconds", func(t *testing.T) {
		st := a.site.Settings
		st.CommentsOpen = false
		if err := a.store.UpdateSiteSettings(t.Context(), a.site.ID, st, nil); err != nil {
			t.Fatal(err)
		}
		// The other instance caches sites for a second; allow it plenty.
		deadline := time.Now().Add(10 * time.Second)
		for {
			id, sol := b.captcha()
			r := comment(b, id, sol)
			if r.Status == 403 && r.errCode() == "comments_closed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still takes comments: %d %s", r.Status, r.Body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
