package schema_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

func newSite(t *testing.T, s *schema.Store, slug string) *schema.Site {
	t.Helper()
	site, err := s.CreateSite(context.Background(), slug, schema.DefaultSettings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func TestMigrateIsIdempotent(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		v1, err := s.SchemaVersion(ctx)
		if err != nil || v1 < 3 {
			t.Fatalf("version %d, %v", v1, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		v2, _ := s.SchemaVersion(ctx)
		if v1 != v2 {
			t.Fatalf("second migrate moved version %d -> %d", v1, v2)
		}
	})
}

func TestSites(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		if _, err := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil); !errors.Is(err, schema.ErrConflict) {
			t.Fatalf("duplicate slug: %v", err)
		}
		got, err := s.Site(ctx, "news")
		if err != nil || got.ID != site.ID || !got.Settings.HasReaction("like") {
			t.Fatalf("site: %+v %v", got, err)
		}
		if _, err := s.Site(ctx, "nope"); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("missing site: %v", err)
		}
		st := got.Settings
		st.Reactions = []string{"love"}
		if err := s.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Site(ctx, "news")
		if got.Settings.HasReaction("like") || !got.Settings.HasReaction("love") {
			t.Fatalf("settings not updated: %+v", got.Settings)
		}
	})
}

func TestSecretIsStable(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		a, err := s.Secret(ctx, "server")
		if err != nil || len(a) != 64 {
			t.Fatalf("secret %q %v", a, err)
		}
		b, _ := s.Secret(ctx, "server")
		if a != b {
			t.Fatal("secret changed between calls")
		}
	})
}

func TestReactionLifecycle(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, err := s.EnsureArticle(ctx, site.ID, "a1")
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			reader, reaction string
			like, dislike    int64
		}{
			{"r1", "like", 1, 0},
			{"r1", "like", 1, 0}, // idempotent
			{"r2", "like", 2, 0},
			{"r1", "dislike", 1, 1}, // change
			{"r1", "", 1, 0},        // retract
			{"r1", "", 1, 0},        // retract again
			{"r3", "", 1, 0},        // retract what was never there
		}
		for i, st := range steps {
			got, err := s.SetReaction(ctx, a.ID, st.reader, st.reaction)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if got.Counts["like"] != st.like || got.Counts["dislike"] != st.dislike || got.Mine != st.reaction {
				t.Fatalf("step %d: got %+v, want like=%d dislike=%d mine=%q", i, got, st.like, st.dislike, st.reaction)
			}
		}
		mine, _ := s.ReaderReaction(ctx, a.ID, "r2")
		if mine != "like" {
			t.Fatalf("r2 reaction %q", mine)
		}
		bulk, err := s.SiteReactionCounts(ctx, site.ID, []string{"a1", "unknown"})
		if err != nil || bulk["a1"]["like"] != 1 || bulk["unknown"] != nil {
			t.Fatalf("bulk %v %v", bulk, err)
		}
	})
}

// 400 readers vote at once, each changing their mind once: the counters must
// equal what the reactions table implies.
func TestConcurrentReactionsStayExact(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, _ := s.EnsureArticle(ctx, site.ID, "viral")
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		sem := make(chan struct{}, 32)
		for i := 0; i < 400; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				reader := fmt.Sprintf("reader-%d", i)
				first, then := "like", "dislike"
				if i%3 == 0 {
					first, then = "dislike", "like"
				}
				if _, err := s.SetReaction(ctx, a.ID, reader, first); err != nil {
					errs <- err
					return
				}
				if _, err := s.SetReaction(ctx, a.ID, reader, then); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		c, err := s.ReactionCounts(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// i%3==0 ends on like: 134 of 400.
		if c["like"] != 134 || c["dislike"] != 266 {
			t.Fatalf("counts %v, want like=134 dislike=266", c)
		}
	})
}
