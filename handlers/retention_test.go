package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// Server.Run clears IP hashes past the site's retention (90 days by
// default) as soon as it starts, and hourly after that.
func TestRunClearsOldIPHashes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		id := commentID(e.post("old", nil))
		if c, _ := e.store.Comment(t.Context(), id); c.IPHash == "" {
			t.Fatal("a new comment has no IP hash")
		}
		later := time.Now().Add(91 * 24 * time.Hour)
		e.store.SetClock(func() time.Time { return later })
		fresh := commentID(e.post("new", nil))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			e.h.Run(ctx)
			close(done)
		}()
		defer func() { cancel(); <-done }()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := e.store.Comment(t.Context(), id)
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
		if c, _ := e.store.Comment(t.Context(), fresh); c.IPHash == "" {
			t.Fatal("the IP hash of a new comment was cleared")
		}
	})
}
