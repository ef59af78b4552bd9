package handlers_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/parley/parley/schema"
)

// TestCachedPagesRace reads comment pages (filling the page cache and the
// thread versions) while comments are stored, decided and voted on, then
// checks that every cached page equals what the database says.
func TestCachedPagesRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		const articles = 8
		var writers, readers sync.WaitGroup
		done := make(chan struct{})
		for w := 0; w < 4; w++ {
			writers.Go(func() {
				for i := 0; i < 30; i++ {
					article := fmt.Sprintf("race-%d", rand.IntN(articles))
					status := schema.StatusApproved
					if i%3 == 0 {
						status = schema.StatusPending
					}
					c := e.storeComment(article, fmt.Sprintf("w%d-%d", w, i), status)
					if status == schema.StatusPending && i%2 == 0 {
						if _, err := e.store.Decide(t.Context(), schema.Decision{CommentID: c.ID, Status: schema.StatusApproved}); err != nil {
							t.Error(err)
						}
					}
					if _, err := e.store.VoteComment(t.Context(), c.ID, fmt.Sprintf("voter%d", i), 1); err != nil {
						t.Error(err)
					}
				}
			})
		}
		for r := 0; r < 4; r++ {
			readers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					e.do("GET", fmt.Sprintf("/api/v1/sites/news/articles/race-%d/comments?limit=200", rand.IntN(articles)), nil)
				}
			})
		}
		writers.Wait()
		close(done)
		readers.Wait()
		for a := 0; a < articles; a++ {
			key := fmt.Sprintf("race-%d", a)
			id, err := e.store.ArticleID(t.Context(), e.site.ID, key)
			if err != nil {
				continue // nobody wrote there
			}
			rows, _, err := e.store.Thread(t.Context(), id, schema.SortOldest, nil, 200)
			if err != nil {
				t.Fatal(err)
			}
			page := comments(list(e, key, "?limit=200"))
			if len(page) != len(rows) {
				t.Fatalf("%s: cached page has %d comments, the database %d", key, len(page), len(rows))
			}
			for i := range rows {
				if num(page[i]["id"]) != rows[i].ID || num(page[i]["score"]) != rows[i].Score {
					t.Fatalf("%s comment %d: cached %v, database id %d score %d", key, i, page[i], rows[i].ID, rows[i].Score)
				}
			}
		}
	})
}
