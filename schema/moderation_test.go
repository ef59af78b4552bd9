package schema_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

func newComment(t *testing.T, s *schema.Store, site *schema.Site, body, status string) *schema.Comment {
	t.Helper()
	ctx := context.Background()
	a, err := s.EnsureArticle(ctx, site.ID, "a")
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "x", Body: body, BodyKey: body, Status: status, EditTokenHash: "h",
		Reasons: `[{"rule":"mode","detail":"pre-moderation","verdict":"hold"}]`}
	if err := s.CreateComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func words(body string) []string { return strings.Fields(body) }

// Concurrent decisions on one comment that name the status they expect:
// exactly one wins, on either engine.
func TestDecideRace(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s, "news")
		c := newComment(t, s, site, "contested words", schema.StatusPending)
		statuses := []string{schema.StatusApproved, schema.StatusRejected, schema.StatusSpam}
		var wins, conflicts int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Go(func() {
				st := statuses[i%3]
				label := schema.LabelSpam
				if st == schema.StatusApproved {
					label = schema.LabelHam
				}
				_, err := s.Decide(context.Background(), schema.Decision{
					CommentID: c.ID, Expected: schema.StatusPending, Status: st, Learn: label, Features: words,
					Audit: schema.By(nil, "racer").For("comment.x", "", 0),
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, schema.ErrConflict):
					conflicts++
				default:
					t.Errorf("decide: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != 11 {
			t.Fatalf("%d wins, %d conflicts", wins, conflicts)
		}
		_, totals, _ := s.ClassifierCounts(context.Background(), site.ID, nil)
		if totals.Spam+totals.Ham != 1 {
			t.Fatalf("the classifier learned %+v from one decision", totals)
		}
		log, _, _ := s.AuditLog(context.Background(), schema.AuditQuery{})
		if len(log) != 1 {
			t.Fatalf("%d audit entries for one decision", len(log))
		}
	})
}

// What the classifier learned from a decision is unlearned when a later
// decision reverses it, and never learned twice.
func TestDecideRelearns(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		c := newComment(t, s, site, "cheap pills here", schema.StatusPending)
		decide := func(status, label string) {
			t.Helper()
			if _, err := s.Decide(ctx, schema.Decision{CommentID: c.ID, Status: status, Learn: label, Features: words}); err != nil {
				t.Fatal(err)
			}
		}
		check := func(spam, ham int64, rejected ...int64) {
			t.Helper()
			want := schema.TokenCount{Spam: spam, Ham: ham}
			if len(rejected) > 0 {
				want.Rejected = rejected[0]
			}
			counts, totals, err := s.ClassifierCounts(ctx, site.ID, []string{"pills"})
			if err != nil || totals != want || counts["pills"] != want {
				t.Fatalf("totals %+v, pills %+v, want %+v (%v)", totals, counts["pills"], want, err)
			}
		}
		decide(schema.StatusSpam, schema.LabelSpam)
		check(1, 0)
		decide(schema.StatusSpam, schema.LabelSpam) // same label: nothing new
		check(1, 0)
		decide(schema.StatusApproved, schema.LabelHam) // reversal
		check(0, 1)
		// A rejection teaches the reject model, not the spam model.
		decide(schema.StatusRejected, schema.LabelReject)
		check(0, 0, 1)
		decide(schema.StatusSpam, schema.LabelSpam)
		check(1, 0)
		if err := s.Learn(ctx, site.ID, []string{"pills"}, "maybe", 1); err == nil {
			t.Fatal("learning an unknown label succeeded")
		}
		// An edit forgets the label of the old text: the next decision is
		// learned afresh and unlearns nothing.
		got, _ := s.Comment(ctx, c.ID)
		if _, err := s.EditComment(ctx, c.ID, got.Version, "a thoughtful remark", "k2", schema.StatusPending, "[]", nil); err != nil {
			t.Fatal(err)
		}
		decide(schema.StatusApproved, schema.LabelHam)
		counts, totals, _ := s.ClassifierCounts(ctx, site.ID, []string{"pills", "thoughtful"})
		if totals != (schema.TokenCount{Spam: 1, Ham: 1}) || counts["pills"] != (schema.TokenCount{Spam: 1}) || counts["thoughtful"] != (schema.TokenCount{Ham: 1}) {
			t.Fatalf("after the edit: totals %+v, counts %+v", totals, counts)
		}
	})
}

// The queue counters always equal what the queues hold, whatever mix of
// decisions, reports, edits and deletions happened.
func TestQueueCountersStayExact(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		r := rand.New(rand.NewPCG(1, 2))
		statuses := []string{schema.StatusPending, schema.StatusApproved, schema.StatusRejected, schema.StatusSpam}
		var ids []int64
		for i := 0; i < 40; i++ {
			ids = append(ids, newComment(t, s, site, fmt.Sprint("c", i), statuses[r.IntN(4)]).ID)
		}
		for i := 0; i < 300; i++ {
			id := ids[r.IntN(len(ids))]
			var err error
			switch r.IntN(5) {
			case 0, 1:
				_, err = s.Decide(ctx, schema.Decision{CommentID: id, Status: statuses[r.IntN(4)]})
			case 2:
				_, _, err = s.ReportComment(ctx, id, fmt.Sprint("reader", r.IntN(6)), "spam", "", 2, nil)
			case 3:
				var c *schema.Comment
				if c, err = s.Comment(ctx, id); err == nil {
					_, err = s.EditComment(ctx, id, c.Version, "edited", "k", statuses[r.IntN(4)], "[]", nil)
				}
			case 4:
				if r.IntN(10) == 0 {
					err = s.DeleteComment(ctx, id)
				}
			}
			if err != nil && !errors.Is(err, schema.ErrConflict) {
				t.Fatal(err)
			}
		}
		checkQueueCounts(t, s, site)
	})
}

// checkQueueCounts compares a site's queue counters with the queues'
// contents, and checks that each comment is in the queue of its status.
func checkQueueCounts(t *testing.T, s *schema.Store, site *schema.Site) {
	t.Helper()
	ctx := context.Background()
	counts, err := s.QueueCounts(ctx, []int64{site.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range schema.CountedQueues {
		rows, _, err := s.QueuePage(ctx, schema.QueueQuery{Queue: q, SiteIDs: []int64{site.ID}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if counts[q] != int64(len(rows)) {
			t.Fatalf("site %s, %s: counter %d, queue holds %d", site.Slug, q, counts[q], len(rows))
		}
		for _, c := range rows {
			if want := c.Status; q == schema.QueueReported && (want != schema.StatusApproved || c.ReportedMS == nil) || q != schema.QueueReported && want != q {
				t.Fatalf("comment %+v in queue %s", c, q)
			}
		}
	}
}

// Posts and reports from many requests at once share batches (and, on
// PostgreSQL, overlapping lanes) whose article and queue counters are
// folded per batch: after the burst every counter equals a recount.
func TestFoldedCountersStayExactUnderConcurrentPosts(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		sites := []*schema.Site{newSite(t, s, "news"), newSite(t, s, "sport")}
		statuses := []string{schema.StatusPending, schema.StatusApproved, schema.StatusApproved, schema.StatusRejected, schema.StatusSpam}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		var mu sync.Mutex
		var posted []*schema.Comment
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 7))
				for i := 0; i < 25; i++ {
					site := sites[r.IntN(len(sites))]
					status := statuses[r.IntN(len(statuses))]
					c := &schema.Comment{SiteID: site.ID, Author: "x", Body: fmt.Sprint("c", g, i), BodyKey: fmt.Sprint("c", g, i),
						Status: status, EditTokenHash: "h", Reasons: "[]"}
					if err := s.PostComment(ctx, c, schema.PostOptions{ArticleKey: fmt.Sprint("a", r.IntN(3))}); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					posted = append(posted, c)
					target := posted[r.IntN(len(posted))]
					mu.Unlock()
					if _, _, err := s.ReportComment(ctx, target.ID, fmt.Sprint("reader", g), "spam", "", 2, nil); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, site := range sites {
			stored, counted, err := s.ApprovedCounts(ctx, site.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) == 0 || fmt.Sprint(stored) != fmt.Sprint(counted) {
				t.Fatalf("site %s: approved counters %v, recount %v", site.Slug, stored, counted)
			}
			checkQueueCounts(t, s, site)
		}
	})
}

// Deliveries are claimed once: concurrent workers never get the same one
// while its lease runs, and a lapsed lease makes it due again.
func TestClaimDeliveries(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		var urls []string
		for i := 0; i < 40; i++ {
			urls = append(urls, fmt.Sprintf("https://hooks.example/%d", i))
		}
		if err := s.EnqueueWebhook(ctx, site.ID, "comment.held", `{}`, urls); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var claimed []int64
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Go(func() {
				for {
					ds, err := s.ClaimDeliveries(ctx, 3, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						claimed = append(claimed, d.ID)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(claimed)
		if len(claimed) != 40 || len(slices.Compact(claimed)) != 40 {
			t.Fatalf("claimed %d deliveries (%d distinct), want 40 once each", len(claimed), len(slices.Compact(claimed)))
		}
		later := time.Now().Add(2 * time.Minute)
		s.SetClock(func() time.Time { return later })
		ds, err := s.ClaimDeliveries(ctx, 100, time.Minute)
		if err != nil || len(ds) != 40 || ds[0].Attempts != 2 {
			t.Fatalf("after the lease: %d deliveries, %v", len(ds), err)
		}
		if err := s.DeliveryDone(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeliveryFailed(ctx, ds[1].ID, "nope", time.Time{}); err != nil {
			t.Fatal(err)
		}
		later = later.Add(2 * time.Minute)
		if ds, _ := s.ClaimDeliveries(ctx, 100, time.Minute); len(ds) != 38 {
			t.Fatalf("done and given-up deliveries claimed again: %d", len(ds))
		}
	})
}

// A one-time link is spent with its twin, exactly once, and only before it
// expires.
func TestActionLinkPair(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		c := newComment(t, s, site, "held", schema.StatusPending)
		exp := time.Now().Add(time.Hour).UnixMilli()
		if err := s.CreateActionLinks(ctx,
			schema.ActionLink{TokenHash: "ha", CommentID: c.ID, Action: "approve", Pair: "p", ExpiresMS: exp},
			schema.ActionLink{TokenHash: "hr", CommentID: c.ID, Action: "reject", Pair: "p", ExpiresMS: exp},
		); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, h := range []string{"ha", "hr"} {
			wg.Go(func() {
				_, errs[i] = s.Decide(ctx, schema.Decision{CommentID: c.ID, Expected: schema.StatusPending, Status: schema.StatusApproved, Link: h})
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), schema.ErrNotFound) {
			t.Fatalf("two clicks: %v", errs)
		}
		for _, h := range []string{"ha", "hr"} {
			if l, err := s.ActionLink(ctx, h); err != nil || l.Usable(time.Now()) {
				t.Fatalf("link %s after use: %+v %v", h, l, err)
			}
		}
		// Expired links do not work.
		c2 := newComment(t, s, site, "held too", schema.StatusPending)
		s.CreateActionLinks(ctx, schema.ActionLink{TokenHash: "old", CommentID: c2.ID, Action: "approve", Pair: "q", ExpiresMS: time.Now().Add(-time.Second).UnixMilli()})
		if _, err := s.Decide(ctx, schema.Decision{CommentID: c2.ID, Status: schema.StatusApproved, Link: "old"}); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		m := &schema.Moderator{Email: "ed@news.example", PasswordHash: "x", Role: schema.RoleModerator}
		if err := s.CreateModerator(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		sess := &schema.Session{IDHash: "h1", ModeratorID: m.ID, CSRFToken: "csrf"}
		if err := s.CreateSession(ctx, sess, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, who, err := s.SessionModerator(ctx, "h1")
		if err != nil || who.ID != m.ID || got.CSRFToken != "csrf" || got.CreatedMS == 0 {
			t.Fatalf("session %+v %+v %v", got, who, err)
		}
		later := time.Now().Add(2 * time.Hour)
		s.SetClock(func() time.Time { return later })
		if _, _, err := s.SessionModerator(ctx, "h1"); !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
	})
}

// A model's confident reason raises a comment's priority, so that
// sort=priority puts first what the reject model is surest of.
func TestPriorityWeighsModels(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, err := s.EnsureArticle(ctx, site.ID, "a")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			reasons string
			want    int64
		}{
			{`[{"rule":"mode","detail":"pre-moderation","verdict":"hold"}]`, 1},
			{`[{"rule":"mode","detail":"pre-moderation","verdict":"hold"},{"rule":"reject_model","detail":"reject model: 0.97 likely rejected","verdict":"allow","probability":0.97}]`, 2 + 4},
			{`[{"rule":"reject_model","detail":"reject model: 0.55 likely rejected","verdict":"allow","probability":0.55}]`, 1},
			{`[{"rule":"classifier","detail":"classifier: 1.00 spam","verdict":"spam","probability":1}]`, 1 + 5},
		} {
			c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "x", Body: "b", BodyKey: tt.reasons, Status: schema.StatusPending, EditTokenHash: "h", Reasons: tt.reasons}
			if err := s.CreateComment(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := s.Comment(ctx, c.ID)
			if err != nil || got.Priority != tt.want {
				t.Errorf("priority of %s = %d (%v), want %d", tt.reasons, got.Priority, err, tt.want)
			}
		}
	})
}

// Posts that share a batch (inserted by one statement on PostgreSQL) each
// get their own id: every comment read back by the id its caller got is
// that caller's, its captcha was claimed once, and a reply marks its
// parent.
func TestPostsInOneBatchKeepTheirOwnIDs(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		parent := &schema.Comment{SiteID: site.ID, Author: "p", Body: "parent", BodyKey: "parent", Status: schema.StatusApproved, EditTokenHash: "parent", Reasons: "[]"}
		if err := s.PostComment(ctx, parent, schema.PostOptions{ArticleKey: "story"}); err != nil {
			t.Fatal(err)
		}
		const posts = 120
		for i := range posts {
			if _, err := s.CreateCaptcha(ctx, fmt.Sprint("post-captcha-", i), []byte{byte(i % 10)}); err != nil {
				t.Fatal(err)
			}
		}
		before := s.WriterStats()
		comments := make([]*schema.Comment, posts)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range posts {
			c := &schema.Comment{SiteID: site.ID, ArticleID: parent.ArticleID, Author: fmt.Sprint("author ", i),
				Body: fmt.Sprint("body ", i), BodyKey: fmt.Sprint("body ", i), Status: schema.StatusApproved,
				EditTokenHash: fmt.Sprint("token ", i), Reasons: "[]"}
			if i%3 == 0 {
				c.ParentID = &parent.ID
			}
			comments[i] = c
			wg.Go(func() {
				<-start
				err := s.PostComment(ctx, c, schema.PostOptions{CaptchaID: fmt.Sprint("post-captcha-", i),
					Check: func(d []byte) bool { return len(d) == 1 && int(d[0]) == i%10 }, Contact: fmt.Sprint(i, "@example.com")})
				if err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		after := s.WriterStats()
		if after.Batches-before.Batches >= after.Writes-before.Writes {
			t.Fatal("no two posts shared a batch: the test proves nothing")
		}
		ids := map[int64]bool{}
		for i, c := range comments {
			if ids[c.ID] {
				t.Fatalf("id %d given twice", c.ID)
			}
			ids[c.ID] = true
			got, err := s.Comment(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != c.Body || got.EditTokenHash != c.EditTokenHash || got.Author != c.Author {
				t.Fatalf("post %d got the id of %q by %q", i, got.Body, got.Author)
			}
		}
		if p, _ := s.Comment(ctx, parent.ID); !p.HasReplies {
			t.Fatal("the parent was not marked as replied to")
		}
		if _, err := s.ConsumeCaptcha(ctx, "post-captcha-0"); !errors.Is(err, schema.ErrCaptchaUnknown) {
			t.Fatalf("a captcha used by a post came back: %v", err)
		}
	})
}
