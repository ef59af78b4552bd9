package schema_test

import (
	"context"
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
