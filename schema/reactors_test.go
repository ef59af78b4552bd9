package schema_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

func waitReady(t *testing.T, s *schema.Store) {
	t.Helper()
	for start := time.Now(); !s.ReactorsReady(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the filter of readers who reacted was never built")
		}
	}
}

// An article key never used is answered from memory, on its first read
// too; one created before the filter was built, here or in another
// process, is answered right.
func TestUsedArticlesFilter(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		server, other := open(t, dsn), open(t, dsn)
		site := newSite(t, server, "news")
		before, err := server.EnsureArticle(ctx, site.ID, "before")
		if err != nil {
			t.Fatal(err)
		}
		watch(t, server)
		for start := time.Now(); !server.UsedArticlesReady(); time.Sleep(time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatal("the filter of used articles was never built")
			}
		}
		lookups := server.ArticleLookups()
		if id, _, err := server.ArticleReactions(ctx, site.ID, "never", "r"); err != nil || id != 0 {
			t.Fatalf("an article never used: %d %v", id, err)
		}
		if _, err := server.ArticleID(ctx, site.ID, "never"); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("an article never used: %v", err)
		}
		if server.ArticleLookups() != lookups {
			t.Fatal("an article the filter never saw was looked up")
		}
		if id, _, _ := server.ArticleReactions(ctx, site.ID, "before", ""); id != before.ID {
			t.Fatalf("an article created before the filter was built: id %d, want %d", id, before.ID)
		}
		here, err := server.EnsureArticle(ctx, site.ID, "here")
		if err != nil {
			t.Fatal(err)
		}
		if id, _, _ := server.ArticleReactions(ctx, site.ID, "here", ""); id != here.ID {
			t.Fatalf("an article created here: id %d, want %d", id, here.ID)
		}
		// Read first, so that "never used" is what memory holds.
		server.ArticleReactions(ctx, site.ID, "elsewhere", "")
		there, err := other.EnsureArticle(ctx, site.ID, "elsewhere")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "an article created in another process", 5*time.Second, func() bool {
			id, err := server.ArticleID(ctx, site.ID, "elsewhere")
			return err == nil && id == there.ID
		})
	})
}

// A reader who never reacted is answered from memory; one who reacted, here
// or in another process, is answered right.
func TestReactorsFilter(t *testing.T) {
	forEachFile(t, func(t *testing.T, d schema.Dialect, dsn string) {
		ctx := context.Background()
		server, other := open(t, dsn), open(t, dsn)
		if _, err := server.CreateSite(ctx, "news", schema.DefaultSettings(), nil); err != nil {
			t.Fatal(err)
		}
		site, _ := server.Site(ctx, "news")
		art, _ := server.EnsureArticle(ctx, site.ID, "a")
		if _, err := server.SetReaction(ctx, art.ID, "before", "like"); err != nil {
			t.Fatal(err)
		}
		if err := server.Watch(ctx); err != nil {
			t.Fatal(err)
		}
		if d == schema.Postgres {
			if err := other.Watch(ctx); err != nil {
				t.Fatal(err)
			}
		}
		waitReady(t, server)
		misses := server.ReaderLookups()
		if mine, err := server.ReaderReaction(ctx, art.ID, "never-reacted"); err != nil || mine != "" {
			t.Fatalf("a reader who never reacted: %q %v", mine, err)
		}
		if server.ReaderLookups() != misses {
			t.Fatal("a reader the filter never saw was looked up")
		}
		if mine, _ := server.ReaderReaction(ctx, art.ID, "before"); mine != "like" {
			t.Fatalf("a reader who reacted before the filter was built: %q", mine)
		}
		server.SetReaction(ctx, art.ID, "here", "dislike")
		if mine, _ := server.ReaderReaction(ctx, art.ID, "here"); mine != "dislike" {
			t.Fatalf("a reader who reacted here: %q", mine)
		}
		if _, err := other.SetReaction(ctx, art.ID, "elsewhere", "like"); err != nil {
			t.Fatal(err)
		}
		for start := time.Now(); ; time.Sleep(time.Millisecond) {
			if mine, _ := server.ReaderReaction(ctx, art.ID, "elsewhere"); mine == "like" {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("a reaction from another process never showed")
			}
		}
	})
}
