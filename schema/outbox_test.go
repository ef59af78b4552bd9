package schema_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// Many readers voting up, down and retracting on a few comments at once:
// the comments' totals equal a recount of the votes table, on both engines.
func TestCommentVotesExact(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s, "news")
		ctx := context.Background()
		var ids []int64
		for i := 0; i < 3; i++ {
			ids = append(ids, newComment(t, s, site, fmt.Sprint("voted on ", i), schema.StatusApproved).ID)
		}
		before := s.WriterStats().Writes
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for r := 0; r < 40; r++ {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 7))
				reader := fmt.Sprint("reader-", r)
				for i := 0; i < 30; i++ {
					id := ids[rng.IntN(len(ids))]
					if _, err := s.VoteComment(ctx, id, reader, rng.IntN(3)-1); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// Every vote went through the group-commit writer.
		if n := s.WriterStats().Writes - before; n != 40*30 {
			t.Fatalf("the writer ran %d ops for %d votes", n, 40*30)
		}
		for _, id := range ids {
			stored, counted, err := s.RecountVotes(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Upvotes != counted.Upvotes || stored.Downvotes != counted.Downvotes || stored.Score != counted.Score {
				t.Fatalf("comment %d: stored %+v, recounted %+v", id, stored, counted)
			}
		}
		// Reports too.
		before = s.WriterStats().Writes
		if _, _, err := s.ReportComment(ctx, ids[0], "reader-1", "spam", "", 3, nil); err != nil {
			t.Fatal(err)
		}
		if n := s.WriterStats().Writes - before; n != 1 {
			t.Fatalf("the writer ran %d ops for a report", n)
		}
		if _, err := s.VoteComment(ctx, 999999, "reader-1", 1); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("vote on a missing comment: %v", err)
		}
	})
}

// The public vote refuses a comment that is not published, in its own
// transaction, while published ones batched with it are counted.
func TestVotePublishedComment(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s, "news")
		ctx := context.Background()
		held := newComment(t, s, site, "held words", schema.StatusPending)
		shown := newComment(t, s, site, "shown words", schema.StatusApproved)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for r := 0; r < 20; r++ {
			wg.Go(func() {
				if _, err := s.VotePublishedComment(ctx, held.ID, fmt.Sprint("reader-", r), 1); !errors.Is(err, schema.ErrNotFound) {
					errs <- fmt.Errorf("vote on a held comment: %v", err)
				}
			})
			wg.Go(func() {
				if got, err := s.VotePublishedComment(ctx, shown.ID, fmt.Sprint("reader-", r), 1); err != nil || got.Mine != 1 {
					errs <- fmt.Errorf("vote on a published comment: %+v, %v", got, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := s.VotePublishedComment(ctx, 999999, "reader-1", 1); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("vote on a missing comment: %v", err)
		}
		for id, want := range map[int64]int64{held.ID: 0, shown.ID: 20} {
			stored, counted, err := s.RecountVotes(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Upvotes != want || counted.Upvotes != want {
				t.Fatalf("comment %d: stored %+v, recounted %+v, want %d up", id, stored, counted, want)
			}
		}
		// The store's own vote (imports, tests) still takes any comment.
		if _, err := s.VoteComment(ctx, held.ID, "reader-1", 1); err != nil {
			t.Fatal(err)
		}
	})
}

// A decision's webhook events are written by the decision's transaction:
// when they cannot be, the decision does not happen either.
func TestDecisionAndEventsTogether(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s, "news")
		ctx := context.Background()
		c := newComment(t, s, site, "held words", schema.StatusPending)
		failing := func(context.Context, schema.Change) ([]schema.Announcement, error) {
			return nil, errors.New("outbox unavailable")
		}
		if _, err := s.Decide(ctx, schema.Decision{CommentID: c.ID, Status: schema.StatusApproved, Announce: failing}); err == nil {
			t.Fatal("a decision whose event failed was applied")
		}
		if got, _ := s.Comment(ctx, c.ID); got.Status != schema.StatusPending {
			t.Fatalf("comment is %s after a failed decision, want pending", got.Status)
		}
		announce := func(_ context.Context, ch schema.Change) ([]schema.Announcement, error) {
			return []schema.Announcement{{SiteID: site.ID, CommentID: ch.After.ID, Event: "comment.decided",
				Payload: ch.Before.Status + ">" + ch.After.Status + " " + ch.Article.Key, URLs: []string{"https://hooks.example/a"}}}, nil
		}
		if _, err := s.Decide(ctx, schema.Decision{CommentID: c.ID, Status: schema.StatusApproved, Announce: announce}); err != nil {
			t.Fatal(err)
		}
		if evs, err := s.Events(ctx, c.ID, "comment.decided"); err != nil || len(evs) != 1 || evs[0] != "pending>approved a" {
			t.Fatalf("events %q (%v)", evs, err)
		}
		// A new comment's events commit with it, or not at all.
		n := &schema.Comment{SiteID: site.ID, ArticleID: c.ArticleID, Author: "x", Body: "b", BodyKey: "b", Status: schema.StatusPending, EditTokenHash: "h"}
		if err := s.PostComment(ctx, n, schema.PostOptions{Announce: failing}); err == nil {
			t.Fatal("a comment whose event failed was stored")
		}
		counts, _ := s.QueueCounts(ctx, []int64{site.ID})
		if counts[schema.QueuePending] != 0 {
			t.Fatalf("pending queue counts %d after a failed post", counts[schema.QueuePending])
		}
	})
}
