package schema_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// forEachFile runs fn once per engine with the -db value of a new database,
// for tests that open several stores on it.
func forEachFile(t *testing.T, fn func(t *testing.T, d schema.Dialect, dsn string)) {
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) { fn(t, d, schematest.DSN(t, d)) })
	}
}

func open(t *testing.T, dsn string) *schema.Store {
	t.Helper()
	s, err := schema.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func nonZero(c schema.Counts) string {
	var parts []string
	for _, r := range []string{"like", "dislike"} {
		if c[r] != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", r, c[r]))
		}
	}
	return strings.Join(parts, " ")
}

// TestCachedReactionsRace reads counts and readers' own reactions of new
// articles while votes change them, then compares every cached answer with
// the database: a read that missed and raced a vote must not leave the old
// value cached.
func TestCachedReactionsRace(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		site := newSite(t, s, "news")
		const articles, readers = 300, 12
		ids := make([]int64, articles)
		for i := range ids {
			a, err := s.EnsureArticle(ctx, site.ID, fmt.Sprintf("a%d", i))
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = a.ID
		}
		var voters, lookers sync.WaitGroup
		done := make(chan struct{})
		for w := 0; w < 6; w++ {
			voters.Go(func() {
				for i := 0; i < 250; i++ {
					id := ids[rand.IntN(articles)]
					reaction := []string{"like", "dislike", ""}[rand.IntN(3)]
					if _, err := s.SetReaction(ctx, id, fmt.Sprintf("r%d", rand.IntN(readers)), reaction); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for r := 0; r < 6; r++ {
			lookers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					id := ids[rand.IntN(articles)]
					if _, err := s.ReactionCounts(ctx, id); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.ReaderReaction(ctx, id, fmt.Sprintf("r%d", rand.IntN(readers))); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		voters.Wait()
		close(done)
		lookers.Wait()
		truth := open(t, dsn) // empty caches: what the database says
		for _, id := range ids {
			cached, _ := s.ReactionCounts(ctx, id)
			recount, err := truth.RecountReactions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if nonZero(cached) != nonZero(recount) {
				t.Errorf("article %d: cached counts %q, recount %q", id, nonZero(cached), nonZero(recount))
			}
			for r := 0; r < readers; r++ {
				reader := fmt.Sprintf("r%d", r)
				mine, _ := s.ReaderReaction(ctx, id, reader)
				want, _ := truth.ReaderReaction(ctx, id, reader)
				if mine != want {
					t.Errorf("article %d reader %s: cached %q, database %q", id, reader, mine, want)
				}
			}
		}
	})
}

// TestArticleReactionsRace reads articles by key, as the widget does, while
// they are created and voted on, here and by another process: the answers
// cached from one query (never used, no reactions, the reader's own
// reaction, counts filled before their article's id was known) must all
// end equal to the database's.
func TestArticleReactionsRace(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s, other := open(t, dsn), open(t, dsn)
		site := newSite(t, s, "news")
		watch(t, s)
		waitReady(t, s) // the filters answer "never" from memory too
		for start := time.Now(); !s.UsedArticlesReady(); time.Sleep(time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatal("the filter of used articles was never built")
			}
		}
		const keys, readers = 150, 10
		reader := func() string { return fmt.Sprintf("r%d", rand.IntN(readers)) }
		var writers, lookers sync.WaitGroup
		done := make(chan struct{})
		for w, st := range []*schema.Store{s, s, other} {
			writers.Go(func() {
				for i := w; i < keys; i += 3 {
					key := fmt.Sprintf("k%d", i)
					if i%5 == 0 {
						continue // never used
					}
					a, err := st.EnsureArticle(ctx, site.ID, key)
					if err != nil {
						t.Error(err)
						return
					}
					if i%5 == 1 {
						continue // nobody reacts
					}
					for v := 0; v < 4; v++ {
						if _, err := st.SetReaction(ctx, a.ID, reader(), []string{"like", "dislike", ""}[rand.IntN(3)]); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		for r := 0; r < 4; r++ {
			lookers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					who := reader()
					if rand.IntN(4) == 0 {
						who = ""
					}
					if _, _, err := s.ArticleReactions(ctx, site.ID, fmt.Sprintf("k%d", rand.IntN(keys)), who); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		writers.Wait()
		close(done)
		lookers.Wait()
		truth := open(t, dsn) // empty caches: what the database says
		type answer struct {
			id     int64
			counts string
			mine   string
		}
		read := func(st *schema.Store, key, who string) answer {
			id, res, err := st.ArticleReactions(ctx, site.ID, key, who)
			if err != nil {
				t.Fatal(err)
			}
			return answer{id, nonZero(res.Counts), res.Mine}
		}
		// The other process's changes arrive a moment after they commit;
		// an entry left stale would stay so.
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; i < keys; i++ {
			key := fmt.Sprintf("k%d", i)
			for r := -1; r < readers; r++ {
				who := ""
				if r >= 0 {
					who = fmt.Sprintf("r%d", r)
				}
				want := read(truth, key, who)
				got := read(s, key, who)
				for got != want && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
					got = read(s, key, who)
				}
				if got != want {
					t.Errorf("%s reader %q: cached %+v, database %+v", key, who, got, want)
				}
				if r == -1 && want.id != 0 {
					recount, err := truth.RecountReactions(ctx, want.id)
					if err != nil {
						t.Fatal(err)
					}
					if nonZero(recount) != want.counts {
						t.Errorf("%s: counts %q, recount %q", key, want.counts, nonZero(recount))
					}
				}
			}
		}
	})
}

// TestCachedArticlesSitesBansRace fills the caches of article ids (unknown
// ones too), sites, bans and shadow readers while they change, then checks
// each against a store with empty caches.
func TestCachedArticlesSitesBansRace(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		site := newSite(t, s, "news")
		const n = 200
		var writers, lookers sync.WaitGroup
		done := make(chan struct{})
		writers.Go(func() {
			for i := 0; i < n; i++ {
				if _, err := s.EnsureArticle(ctx, site.ID, fmt.Sprintf("k%d", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
		writers.Go(func() {
			st := site.Settings
			for i := 0; i < 40; i++ {
				st.EditWindowSeconds = i
				if err := s.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
		writers.Go(func() {
			for i := 0; i < 40; i++ {
				b := &schema.Ban{SiteID: site.ID, Kind: "reader", Value: fmt.Sprintf("banned%d", i)}
				if _, err := s.CreateBan(ctx, b, false, nil, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
		writers.Go(func() {
			a, err := s.EnsureArticle(ctx, site.ID, "shadowed")
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 40; i++ {
				c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, ReaderID: fmt.Sprintf("shadow%d", i), Author: "x", Body: "b",
					BodyKey: "b", Status: schema.StatusPending, Shadow: true, EditTokenHash: "h"}
				if err := s.CreateComment(ctx, c); err != nil {
					t.Error(err)
					return
				}
			}
		})
		for r := 0; r < 4; r++ {
			lookers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					i := rand.IntN(n)
					s.ArticleID(ctx, site.ID, fmt.Sprintf("k%d", i))
					s.Site(ctx, "news")
					s.ActiveBan(ctx, site.ID, schema.Author{ReaderID: fmt.Sprintf("banned%d", rand.IntN(40))})
					s.HasShadowComments(ctx, site.ID, fmt.Sprintf("shadow%d", rand.IntN(40)))
				}
			})
		}
		writers.Wait()
		close(done)
		lookers.Wait()
		for i := 0; i < n; i++ {
			if _, err := s.ArticleID(ctx, site.ID, fmt.Sprintf("k%d", i)); err != nil {
				t.Errorf("article k%d: %v", i, err)
			}
		}
		got, err := s.Site(ctx, "news")
		if err != nil || got.Settings.EditWindowSeconds != 39 {
			t.Errorf("cached site has edit window %d, want 39 (%v)", got.Settings.EditWindowSeconds, err)
		}
		for i := 0; i < 40; i++ {
			if b, err := s.ActiveBan(ctx, site.ID, schema.Author{ReaderID: fmt.Sprintf("banned%d", i)}); err != nil || b == nil {
				t.Errorf("ban of banned%d not seen: %v", i, err)
			}
			if ok, err := s.HasShadowComments(ctx, site.ID, fmt.Sprintf("shadow%d", i)); err != nil || !ok {
				t.Errorf("shadow comments of shadow%d not seen: %v", i, err)
			}
		}
	})
}

// TestCancelledWritesReplayNothing cancels a tenth of the votes at random
// moments: an op whose caller gave up before its batch is dropped, one
// already in a batch commits, and no other op is rolled back or replayed.
func TestCancelledWritesReplayNothing(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, err := s.EnsureArticle(ctx, site.ID, "a")
		if err != nil {
			t.Fatal(err)
		}
		before := s.WriterStats()
		var wg sync.WaitGroup
		var mu sync.Mutex
		acked := 0
		for i := 0; i < 1000; i++ {
			wg.Go(func() {
				vctx := ctx
				if i%10 == 0 {
					c, cancel := context.WithCancel(ctx)
					vctx = c
					if i%20 == 0 {
						cancel()
					} else {
						time.AfterFunc(time.Duration(rand.IntN(200))*time.Microsecond, cancel)
					}
				}
				_, err := s.SetReaction(vctx, a.ID, fmt.Sprintf("r%d", i), "like")
				if err == nil {
					mu.Lock()
					acked++
					mu.Unlock()
				} else if i%10 != 0 {
					t.Errorf("vote %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		st := s.WriterStats()
		if r := st.Replayed - before.Replayed; r != 0 {
			t.Errorf("%d ops replayed after cancellations", r)
		}
		if st.Dropped == before.Dropped {
			t.Error("no cancelled op was dropped: the test did not cancel any before its batch")
		}
		recount, _ := s.RecountReactions(ctx, a.ID)
		cached, _ := s.ReactionCounts(ctx, a.ID)
		if recount["like"] < int64(acked) || recount["like"] != cached["like"] {
			t.Errorf("acknowledged %d, recount %d, cached %d", acked, recount["like"], cached["like"])
		}
		t.Logf("acked %d of 1000, dropped %d, batches %d", acked, st.Dropped-before.Dropped, st.Batches-before.Batches)
	})
}

// A write that arrives while the store closes is refused, not a panic.
func TestWriteAfterClose(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s, "news")
		a, _ := s.EnsureArticle(context.Background(), site.ID, "a")
		s.Close()
		if _, err := s.SetReaction(context.Background(), a.ID, "r", "like"); !schema.IsUnavailable(err) {
			t.Fatalf("vote after close: %v", err)
		}
	})
}
