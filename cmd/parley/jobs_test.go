package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley/parley/cmd/parley/internal/jobs"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/moderation/webhooks"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// The serve command's jobs clear IP hashes past the site's retention (90
// days by default) as soon as they start, and hourly after that.
func TestServeJobsRetentionAtStart(t *testing.T) {
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			store := schematest.Open(t, d)
			ctx := t.Context()
			site, err := store.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := store.EnsureArticle(ctx, site.ID, "story")
			if err != nil {
				t.Fatal(err)
			}
			add := func(body string) int64 {
				c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "ann", EmailHash: "e", IPHash: "ip of " + body,
					ReaderID: "r", Body: body, BodyKey: body, Status: schema.StatusApproved, EditTokenHash: "x"}
				if err := store.CreateComment(ctx, c); err != nil {
					t.Fatal(err)
				}
				return c.ID
			}
			old := add("old")
			later := time.Now().Add(91 * 24 * time.Hour)
			store.SetClock(func() time.Time { return later })
			fresh := add("new")

			srv := handlers.New(store, handlers.Config{Secret: "s"})
			defer srv.Close()
			hooks := webhooks.New(store, webhooks.Config{})
			jctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				log := slog.New(slog.DiscardHandler)
				jobs.Run(jctx, log, serveJobs(store, srv, hooks, nil, 400*24*time.Hour, log))
			}()
			defer func() { cancel(); <-done }()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				c, err := store.Comment(ctx, old)
				if err != nil {
					t.Fatal(err)
				}
				if c.IPHash == "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the IP hash of a 91-day-old comment was kept")
				}
			}
			if c, _ := store.Comment(ctx, fresh); c.IPHash == "" {
				t.Fatal("the IP hash of a new comment was cleared")
			}
		})
	}
}
