package schema_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

func addComment(t *testing.T, s *schema.Store, site *schema.Site, a *schema.Article, email, body string, parent int64) *schema.Comment {
	t.Helper()
	c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "author of " + body, EmailHash: email, IPHash: "ip-" + email,
		ReaderID: "reader-" + email, Body: body, BodyKey: body, Status: schema.StatusApproved, EditTokenHash: "x"}
	if parent != 0 {
		c.ParentID = new(parent)
	}
	if err := s.CreateComment(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExportAndForgetByEmail(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, _ := s.EnsureArticle(ctx, site.ID, "story")
		first := addComment(t, s, site, a, "ann", "first", 0)
		reply := addComment(t, s, site, a, "bob", "a reply", first.ID)
		second := addComment(t, s, site, a, "ann", "second", 0)
		if _, err := s.Decide(ctx, schema.Decision{CommentID: second.ID, Status: schema.StatusSpam}); err != nil {
			t.Fatal(err)
		}

		rows, err := s.CommentsByEmailHash(ctx, "ann")
		if err != nil || len(rows) != 2 || rows[0].ID != first.ID || rows[1].Status != schema.StatusSpam ||
			rows[0].SiteSlug != "news" || rows[0].ArticleKey != "story" || rows[0].Body != "first" {
			t.Fatalf("export: %+v %v", rows, err)
		}
		if rows, _ := s.CommentsByEmailHash(ctx, ""); len(rows) != 0 {
			t.Fatalf("the empty hash found %d comments", len(rows))
		}

		n, err := s.ForgetEmailHash(ctx, "ann")
		if err != nil || n != 2 {
			t.Fatalf("forget: %d %v", n, err)
		}
		for _, id := range []int64{first.ID, second.ID} {
			c, _ := s.Comment(ctx, id)
			if c.Status != schema.StatusDeleted || c.Author != "" || c.Body != "" || c.EmailHash != "" || c.IPHash != "" || c.ReaderID != "" || c.Reasons != "[]" {
				t.Fatalf("forgotten comment %+v", c)
			}
		}
		// The reply keeps its place under a deleted, still visible parent.
		c, _ := s.Comment(ctx, first.ID)
		r, _ := s.Comment(ctx, reply.ID)
		if !c.Visible || r.Body != "a reply" || r.Parent() != first.ID || r.EmailHash != "bob" {
			t.Fatalf("thread after forgetting: %+v %+v", c, r)
		}
		thread, _, _ := s.Thread(ctx, a.ID, schema.SortOldest, nil, 10)
		art, _ := s.Article(ctx, site.ID, "story")
		if len(thread) != 2 || art.ApprovedCount != 1 {
			t.Fatalf("thread of %d, approved count %d", len(thread), art.ApprovedCount)
		}
		if rows, _ := s.CommentsByEmailHash(ctx, "ann"); len(rows) != 0 {
			t.Fatalf("still found after forgetting: %+v", rows)
		}
		if n, err := s.ForgetEmailHash(ctx, "ann"); n != 0 || err != nil {
			t.Fatalf("forgetting twice: %d %v", n, err)
		}
	})
}

func TestIPRetention(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		start := time.Now()
		now := start
		s.SetClock(func() time.Time { return now })
		site := newSite(t, s, "news") // 90 days by default
		st := schema.DefaultSettings()
		st.IPRetentionDays = 0
		keep, err := s.CreateSite(ctx, "keep", st, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := s.EnsureArticle(ctx, site.ID, "story")
		k, _ := s.EnsureArticle(ctx, keep.ID, "story")
		old := addComment(t, s, site, a, "old", "old", 0)
		kept := addComment(t, s, keep, k, "kept", "kept", 0)

		now = start.Add(89 * 24 * time.Hour)
		recent := addComment(t, s, site, a, "recent", "recent", 0)
		if n, err := s.ClearExpiredIPHashes(ctx); n != 0 || err != nil {
			t.Fatalf("before 90 days: %d %v", n, err)
		}
		now = start.Add(91 * 24 * time.Hour)
		if n, err := s.ClearExpiredIPHashes(ctx); n != 1 || err != nil {
			t.Fatalf("after 90 days: %d %v", n, err)
		}
		for c, want := range map[int64]string{old.ID: "", recent.ID: "ip-recent", kept.ID: "ip-kept"} {
			got, _ := s.Comment(ctx, c)
			if got.IPHash != want {
				t.Fatalf("comment %s: IP hash %q, want %q", got.Body, got.IPHash, want)
			}
		}
	})
}
