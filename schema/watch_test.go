package schema_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// eventually polls cond until it holds, and fails after within. Caches
// that follow other processes never expire while the watch is up
// (CacheTTL 0), so any convergence proves the change was heard.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not seen after %v", what, within)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

func watch(t *testing.T, s *schema.Store) {
	t.Helper()
	if err := s.Watch(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "watch up", 10*time.Second, func() bool { return s.WatchStatus().Up })
	if s.CacheTTL() != 0 {
		t.Fatalf("caches still expire after %v while watching", s.CacheTTL())
	}
}

// TestInstancesConverge runs two instances on one PostgreSQL: what one
// commits reaches the other's caches as it commits, for every cached kind.
func TestInstancesConverge(t *testing.T) {
	dsn := schematest.DSN(t, schema.Postgres)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	watch(t, a)
	watch(t, b)
	site := newSite(t, a, "news")
	art, err := a.EnsureArticle(ctx, site.ID, "story")
	if err != nil {
		t.Fatal(err)
	}
	converge := func(what string, cond func() bool) {
		t.Helper()
		t.Logf("%s seen by the other instance after %v", what, eventually(t, what, 5*time.Second, cond))
	}

	// An article created on a: b had cached that it did not exist.
	if _, err := b.ArticleID(ctx, site.ID, "later"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("unknown article: %v", err)
	}
	a.EnsureArticle(ctx, site.ID, "later")
	converge("new article", func() bool { _, err := b.ArticleID(ctx, site.ID, "later"); return err == nil })

	// A vote: counts and the reader's own reaction.
	b.ReactionCounts(ctx, art.ID)
	b.ReaderReaction(ctx, art.ID, "r1")
	if _, err := a.SetReaction(ctx, art.ID, "r1", "like"); err != nil {
		t.Fatal(err)
	}
	converge("vote", func() bool {
		c, _ := b.ReactionCounts(ctx, art.ID)
		mine, _ := b.ReaderReaction(ctx, art.ID, "r1")
		return c["like"] == 1 && mine == "like"
	})

	// A settings change.
	b.Site(ctx, "news")
	st := site.Settings
	st.Reactions = []string{"love"}
	if err := a.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
		t.Fatal(err)
	}
	converge("settings", func() bool { s, _ := b.Site(ctx, "news"); return s.Settings.HasReaction("love") })

	// A ban.
	who := schema.Author{ReaderID: "troll"}
	b.ActiveBan(ctx, site.ID, who)
	if _, err := a.CreateBan(ctx, &schema.Ban{SiteID: site.ID, Kind: "reader", Value: "troll"}, false, nil, nil); err != nil {
		t.Fatal(err)
	}
	converge("ban", func() bool { ban, _ := b.ActiveBan(ctx, site.ID, who); return ban != nil })

	// A decision changes the thread, and a shadowed reader's standing.
	c := &schema.Comment{SiteID: site.ID, ArticleID: art.ID, ReaderID: "quiet", Author: "x", Body: "b", BodyKey: "b",
		Status: schema.StatusPending, Shadow: true, EditTokenHash: "h", EmailHash: "e1"}
	if err := a.CreateComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	converge("shadowed comment", func() bool { ok, _ := b.HasShadowComments(ctx, site.ID, "quiet"); return ok })
	v := b.ThreadVersion(art.ID)
	if _, err := a.Decide(ctx, schema.Decision{CommentID: c.ID, Status: schema.StatusRejected}); err != nil {
		t.Fatal(err)
	}
	converge("decision", func() bool {
		ok, _ := b.HasShadowComments(ctx, site.ID, "quiet")
		return b.ThreadVersion(art.ID) != v && !ok
	})

	// An erasure.
	v = b.ThreadVersion(art.ID)
	if _, err := a.ForgetEmailHash(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	converge("erasure", func() bool { return b.ThreadVersion(art.ID) != v })

	// Past a heartbeat of silence the listener checked its connection and
	// still hears.
	time.Sleep(6 * time.Second)
	if !b.WatchStatus().Up {
		t.Fatal("the listener went down over a quiet period")
	}
	if _, err := a.SetReaction(ctx, art.ID, "r2", "dislike"); err != nil {
		t.Fatal(err)
	}
	converge("vote after a quiet period", func() bool { c, _ := b.ReactionCounts(ctx, art.ID); return c["dislike"] == 1 })
}

// TestOneServerPerSQLiteFile: a second serving store on the same file is
// refused, with a message that says what to do.
func TestOneServerPerSQLiteFile(t *testing.T) {
	dsn := schematest.DSN(t, schema.SQLite)
	first, second := open(t, dsn), open(t, dsn)
	watch(t, first)
	err := second.Watch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "already served") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("second server on one file: %v", err)
	}
	first.Close()
	if err := second.Watch(context.Background()); err != nil {
		t.Fatalf("after the first server stopped: %v", err)
	}
}

// TestCommandLineChangesReachServer: on SQLite, what another process
// commits (the command line: reader forget, site settings, new articles)
// reaches the serving store's caches within a second.
func TestCommandLineChangesReachServer(t *testing.T) {
	dsn := schematest.DSN(t, schema.SQLite)
	ctx := context.Background()
	server, cli := open(t, dsn), open(t, dsn)
	watch(t, server)
	site := newSite(t, cli, "news")
	art, err := server.EnsureArticle(ctx, site.ID, "story")
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.Comment{SiteID: site.ID, ArticleID: art.ID, Author: "Ann", Body: "hello", BodyKey: "b",
		Status: schema.StatusApproved, EditTokenHash: "h", EmailHash: "ann"}
	if err := server.CreateComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	within := time.Second
	v := server.ThreadVersion(art.ID)
	if n, err := cli.ForgetEmailHash(ctx, "ann"); err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	t.Logf("erasure seen after %v", eventually(t, "erasure", within, func() bool { return server.ThreadVersion(art.ID) != v }))

	got, _ := server.Site(ctx, "news")
	st := got.Settings
	st.CommentsOpen = false
	if err := cli.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "settings", within, func() bool { s, _ := server.Site(ctx, "news"); return !s.Settings.CommentsOpen })

	if _, err := server.ArticleID(ctx, site.ID, "imported"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := cli.EnsureArticle(ctx, site.ID, "imported"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new article", within, func() bool { _, err := server.ArticleID(ctx, site.ID, "imported"); return err == nil })

	if _, err := server.Site(ctx, "later"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatal(err)
	}
	newSite(t, cli, "later")
	eventually(t, "new site", within, func() bool { _, err := server.Site(ctx, "later"); return err == nil })

}

// TestListenerReconnects: when the listening connection dies, caches fall
// back on their one-second expiry, and once it is back they are cleared and
// trusted again.
func TestListenerReconnects(t *testing.T) {
	dsn := schematest.DSN(t, schema.Postgres)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	watch(t, a)
	watch(t, b)
	site := newSite(t, a, "news")
	art, _ := a.EnsureArticle(ctx, site.ID, "story")
	b.ReactionCounts(ctx, art.ID)

	admin := open(t, dsn)
	var killed int
	err := admin.KillListeners(ctx, &killed)
	if err != nil || killed != 2 {
		t.Fatalf("terminated %d listeners: %v", killed, err)
	}
	eventually(t, "listener down", 5*time.Second, func() bool { return !b.WatchStatus().Up })
	if b.CacheTTL() == 0 {
		t.Fatal("caches trusted forever while the listener is down")
	}
	// A change made while b is deaf still shows, by the expiry.
	if _, err := a.SetReaction(ctx, art.ID, "r1", "like"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "vote while deaf", 10*time.Second, func() bool { c, _ := b.ReactionCounts(ctx, art.ID); return c["like"] == 1 })
	eventually(t, "listener back", 10*time.Second, func() bool { return b.WatchStatus().Up })
	if b.CacheTTL() != 0 {
		t.Fatalf("caches still expire after %v once the listener is back", b.CacheTTL())
	}
	b.ReactionCounts(ctx, art.ID)
	if _, err := a.SetReaction(ctx, art.ID, "r2", "like"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "vote after reconnecting", 5*time.Second, func() bool { c, _ := b.ReactionCounts(ctx, art.ID); return c["like"] == 2 })
}

// TestSilentInstanceClearsCaches: a serving instance publishes after its
// commits, so one that dies in between leaves a change nobody announced.
// Instances say they are alive; when one falls silent without a goodbye
// the others clear their caches, and the change shows.
func TestSilentInstanceClearsCaches(t *testing.T) {
	dsn := schematest.DSN(t, schema.Postgres)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	watch(t, b)
	newSite(t, a, "news")

	// The ghost serves, commits a change and dies before announcing it.
	if err := a.Announce(ctx, "ghost", "+\n"); err != nil {
		t.Fatal(err)
	}
	// (Heard after the site's creation, announced before it.)
	eventually(t, "ghost heard", 5*time.Second, func() bool { return b.Peers() == 1 })
	before, err := b.Site(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitUnannounced(ctx, `UPDATE sites SET updated_at = updated_at + 1000 WHERE slug = ?`, "news"); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.Site(ctx, "news"); !s.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("the site was not cached: the test proves nothing")
	}
	took := eventually(t, "unannounced change", 10*time.Second, func() bool {
		s, _ := b.Site(ctx, "news")
		return !s.UpdatedAt.Equal(before.UpdatedAt)
	})
	t.Logf("an unannounced change of a silent instance seen after %v", took)
	if got := b.WatchStatus().Silenced; got != 1 {
		t.Fatalf("silenced %d instances, want 1", got)
	}

	// A real instance that stops says goodbye: nothing is cleared for it.
	c := open(t, dsn)
	watch(t, c)
	eventually(t, "instance heard", 5*time.Second, func() bool { return b.Peers() == 1 })
	art, err := c.EnsureArticle(ctx, before.ID, "story")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "new article", 5*time.Second, func() bool { _, err := b.ArticleID(ctx, before.ID, "story"); return err == nil })
	if counts, _ := b.ReactionCounts(ctx, art.ID); counts["like"] != 0 {
		t.Fatalf("counts %v before the vote", counts)
	}
	if _, err := c.SetReaction(ctx, art.ID, "r1", "like"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	eventually(t, "goodbye heard", 5*time.Second, func() bool { return b.Peers() == 0 })
	time.Sleep(schema.SilentAfter + 2*time.Second)
	if got := b.WatchStatus().Silenced; got != 1 {
		t.Fatalf("silenced %d instances after a goodbye, want still 1", got)
	}
	// What c committed last reached b before its goodbye.
	if counts, _ := b.ReactionCounts(ctx, art.ID); counts["like"] != 1 {
		t.Fatalf("counts %v after the other instance stopped", counts)
	}
}

// TestPublisherReconnects: when the connection an instance publishes on
// dies, what it commits still reaches the others, as soon as it is back
// or, while it is down, inside the transactions.
func TestPublisherReconnects(t *testing.T) {
	dsn := schematest.DSN(t, schema.Postgres)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	watch(t, a)
	watch(t, b)
	eventually(t, "publishing", 5*time.Second, func() bool { return a.WatchStatus().Publishing && b.WatchStatus().Publishing })
	site := newSite(t, a, "news")
	art, _ := a.EnsureArticle(ctx, site.ID, "story")
	eventually(t, "article", 5*time.Second, func() bool { _, err := b.ArticleID(ctx, site.ID, "story"); return err == nil })
	b.ReactionCounts(ctx, art.ID)

	admin := open(t, dsn)
	var killed int
	if err := admin.KillPublishers(ctx, &killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d publishers: %v", killed, err)
	}
	for i, reader := range []string{"r1", "r2", "r3"} {
		if _, err := a.SetReaction(ctx, art.ID, reader, "like"); err != nil {
			t.Fatal(err)
		}
		want := int64(i + 1)
		eventually(t, "vote while the publisher reconnects", 5*time.Second, func() bool { c, _ := b.ReactionCounts(ctx, art.ID); return c["like"] == want })
	}
	eventually(t, "publishing again", 10*time.Second, func() bool { return a.WatchStatus().Publishing })
	if _, err := a.SetReaction(ctx, art.ID, "r4", "like"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "vote after reconnecting", 5*time.Second, func() bool { c, _ := b.ReactionCounts(ctx, art.ID); return c["like"] == 4 })
	if b.CacheTTL() != 0 {
		t.Fatalf("b's caches expire after %v: the votes were seen by expiry, not heard", b.CacheTTL())
	}
}

// TestTwoInstancesReactionsStayExact: two instances write the same
// readers' reactions at once (first reactions racing each other, changes,
// retractions), each batch in one statement; the counters equal a recount.
func TestTwoInstancesReactionsStayExact(t *testing.T) {
	dsn := schematest.DSN(t, schema.Postgres)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	site := newSite(t, a, "news")
	art, err := a.EnsureArticle(ctx, site.ID, "viral")
	if err != nil {
		t.Fatal(err)
	}
	stores := []*schema.Store{a, b}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 48)
	for i := range 300 {
		for step, reaction := range []string{"like", "dislike", "", "like"} {
			if step == 3 && i%2 == 0 {
				continue // half end retracted
			}
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if _, err := stores[(i+step)%2].SetReaction(ctx, art.ID, fmt.Sprint("reader-", i), reaction); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	counted, err := a.RecountReactions(ctx, art.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := open(t, dsn).ReactionCounts(ctx, art.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"like", "dislike"} {
		if stored[r] != counted[r] {
			t.Fatalf("%s: stored %d, counted %d", r, stored[r], counted[r])
		}
	}
	t.Logf("counts %v, equal to a recount", stored)
}
