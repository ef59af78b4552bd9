package schema_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

type hourKey struct {
	article  int64
	hour     int64
	reaction string
}

// After a mixed load over four hours — concurrent votes, changes and
// retractions, posts with every verdict, reports and decisions — every
// rollup equals a recount: reactions added and retracted per hour against
// what the load did, the net against the reactions table, comments posted
// per hour and the statuses entered against the comments and the audit
// log, decisions and the rules' figures against the decisions made.
func TestInsightRollupsMatchRecount(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		var arts []*schema.Article
		for i := 0; i < 3; i++ {
			a, err := s.EnsureArticle(ctx, site.ID, fmt.Sprintf("story-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			arts = append(arts, a)
		}
		t0 := time.Date(2026, 2, 28, 22, 15, 0, 0, time.UTC) // the load crosses midnight and a month's end
		var clock sync.Mutex
		now := t0
		s.SetClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })

		want := map[hourKey][2]int64{}
		var wantMu sync.Mutex
		mine := map[string]string{} // reader/article -> reaction
		var posted []*schema.Comment
		reports := map[int64]int64{}
		decisions, waited, held := 0, 0, 0
		heldRules := map[string]int64{}
		ruleDecided := map[string][3]int64{}
		reasons := []string{
			`[{"rule":"mode","detail":"pre-moderation","verdict":"hold"}]`,
			`[{"rule":"links","detail":"3 links","verdict":"hold"},{"rule":"classifier","detail":"0.97","verdict":"spam"}]`,
			`[{"rule":"banned_words","detail":"x","verdict":"reject"}]`,
		}
		for h := 0; h < 4; h++ {
			clock.Lock()
			now = t0.Add(time.Duration(h) * time.Hour)
			hour := schema.HourOf(now.UnixMilli())
			clock.Unlock()
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(h), uint64(g)))
					local := map[hourKey][2]int64{}
					for i := 0; i < 40; i++ {
						reader := fmt.Sprintf("r-%d-%d", g, rng.IntN(6))
						a := arts[rng.IntN(len(arts))]
						r := []string{"like", "dislike", ""}[rng.IntN(3)]
						k := fmt.Sprint(reader, "/", a.ID)
						wantMu.Lock()
						old := mine[k]
						mine[k] = r
						wantMu.Unlock()
						if _, err := s.SetReaction(ctx, a.ID, reader, r); err != nil {
							t.Error(err)
							return
						}
						if old == r {
							continue
						}
						if old != "" {
							v := local[hourKey{a.ID, hour, old}]
							v[1]++
							local[hourKey{a.ID, hour, old}] = v
						}
						if r != "" {
							v := local[hourKey{a.ID, hour, r}]
							v[0]++
							local[hourKey{a.ID, hour, r}] = v
						}
					}
					wantMu.Lock()
					for k, v := range local {
						w := want[k]
						want[k] = [2]int64{w[0] + v[0], w[1] + v[1]}
					}
					wantMu.Unlock()
				})
			}
			var postMu sync.Mutex
			for i := 0; i < 12; i++ {
				wg.Go(func() {
					status := []string{schema.StatusApproved, schema.StatusPending, schema.StatusSpam, schema.StatusRejected}[i%4]
					c := &schema.Comment{SiteID: site.ID, ArticleID: arts[i%3].ID, Author: "x", Body: fmt.Sprintf("c %d %d", h, i),
						BodyKey: fmt.Sprintf("c %d %d", h, i), Status: status, EditTokenHash: "h", Reasons: "[]"}
					if status != schema.StatusApproved {
						c.Reasons = reasons[i%3]
					}
					if err := s.CreateComment(ctx, c); err != nil {
						t.Error(err)
						return
					}
					postMu.Lock()
					posted = append(posted, c)
					postMu.Unlock()
				})
			}
			wg.Wait()
			for _, c := range posted {
				if c.CreatedMS < hour || c.Status == schema.StatusApproved {
					continue
				}
				if c.Status == schema.StatusPending {
					held++
				}
				for _, r := range ruleNames(c.Reasons) {
					heldRules[r]++
				}
			}
			// Reports on the published comments, and decisions on about
			// half of the held ones.
			for i, c := range posted {
				if c.Status == schema.StatusApproved && i%2 == 0 {
					if ok, _, err := s.ReportComment(ctx, c.ID, fmt.Sprintf("rep-%d", h), "spam", "", 100, nil); err != nil {
						t.Fatal(err)
					} else if ok {
						reports[c.ArticleID]++
					}
				}
				if c.Status == schema.StatusApproved || c.CreatedMS < hour || i%2 == 1 {
					continue
				}
				to := []string{schema.StatusApproved, schema.StatusRejected, schema.StatusSpam}[(i/2+h)%3]
				if to == c.Status {
					to = schema.StatusApproved
				}
				d, err := s.Decide(ctx, schema.Decision{CommentID: c.ID, Status: to, Audit: schema.By(nil, "desk").For("comment."+to, "", 0)})
				if err != nil || !d.Changed {
					t.Fatalf("decide: %v %+v", err, d)
				}
				decisions++
				if c.Status == schema.StatusPending || c.Status == schema.StatusSpam {
					waited++
					for _, r := range ruleNames(c.Reasons) {
						v := ruleDecided[r]
						v[map[string]int{schema.StatusApproved: 0, schema.StatusRejected: 1, schema.StatusSpam: 2}[to]]++
						ruleDecided[r] = v
					}
				}
				c.Status = to
			}
		}

		from, to := schema.HourOf(t0.UnixMilli()), t0.Add(4*time.Hour).UnixMilli()
		hourSums := map[int64]schema.InsightPoint{}
		daySeries := map[int64][]schema.InsightPoint{} // read from the hours, before the days are folded
		for _, a := range arts {
			series, err := s.InsightSeries(ctx, a.ID, from, to, int64(time.Hour/time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			net := schema.Counts{}
			var sum schema.InsightPoint
			for _, p := range series {
				for _, r := range []string{"like", "dislike"} {
					w := want[hourKey{a.ID, p.At, r}]
					if p.Added[r] != w[0] || p.Retracted[r] != w[1] {
						t.Errorf("article %d hour %d %s: rolled up +%d -%d, the load did +%d -%d", a.ID, p.At, r, p.Added[r], p.Retracted[r], w[0], w[1])
					}
					net[r] += p.Added[r] - p.Retracted[r]
				}
				sum.Posted += p.Posted
				sum.Published += p.Published
				sum.Held += p.Held
				sum.Rejected += p.Rejected
				sum.Spam += p.Spam
				sum.Reports += p.Reports
			}
			hourSums[a.ID] = schema.InsightPoint{Added: net, Posted: sum.Posted, Published: sum.Published, Held: sum.Held,
				Rejected: sum.Rejected, Spam: sum.Spam, Reports: sum.Reports}
			// The day rollups are the hours summed.
			days, err := s.InsightSeries(ctx, a.ID, schema.DayOf(from), to, 24*int64(time.Hour/time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			daySeries[a.ID] = days
			var daySum schema.InsightPoint
			dayNet := schema.Counts{}
			for _, p := range days {
				daySum.Posted += p.Posted
				daySum.Published += p.Published
				daySum.Held += p.Held
				daySum.Rejected += p.Rejected
				daySum.Spam += p.Spam
				daySum.Reports += p.Reports
				for r, n := range p.Added {
					dayNet[r] += n - p.Retracted[r]
				}
			}
			if daySum.Posted != sum.Posted || daySum.Published != sum.Published || daySum.Held != sum.Held ||
				daySum.Rejected != sum.Rejected || daySum.Spam != sum.Spam || daySum.Reports != sum.Reports ||
				dayNet["like"] != net["like"] || dayNet["dislike"] != net["dislike"] {
				t.Errorf("article %d: days %+v %v, hours %+v %v", a.ID, daySum, dayNet, sum, net)
			}
			recount, err := s.RecountReactions(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []string{"like", "dislike"} {
				if net[r] != recount[r] {
					t.Errorf("article %d %s: rollups net %d, recount %d", a.ID, r, net[r], recount[r])
				}
			}
			postedByHour, entered, err := s.RecountInsights(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range series {
				if p.Posted != postedByHour[p.At] {
					t.Errorf("article %d hour %d: %d posted rolled up, %d recounted", a.ID, p.At, p.Posted, postedByHour[p.At])
				}
			}
			if sum.Published != entered[schema.StatusApproved] || sum.Held != entered[schema.StatusPending] ||
				sum.Rejected != entered[schema.StatusRejected] || sum.Spam != entered[schema.StatusSpam] {
				t.Errorf("article %d: rolled up %+v, recounted %v", a.ID, sum, entered)
			}
			if sum.Reports != reports[a.ID] {
				t.Errorf("article %d: %d reports rolled up, %d made", a.ID, sum.Reports, reports[a.ID])
			}
		}

		sc := schema.InsightScope{SiteIDs: []int64{site.ID}, From: from, To: to}
		days, mods, err := s.InsightDesk(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 2 {
			t.Fatalf("%d days, want 2 (the load crossed midnight)", len(days))
		}
		var gotDecisions, gotWaits, gotHeld int64
		for _, d := range days {
			for _, n := range d.Decisions {
				gotDecisions += n
			}
			for _, n := range d.Waits {
				gotWaits += n
			}
			gotHeld += d.Held
		}
		var modDecisions int64
		for _, m := range mods {
			modDecisions += m.Decisions
		}
		if gotHeld != int64(held) {
			t.Errorf("%d held by day, %d posted held", gotHeld, held)
		}
		if gotDecisions != int64(decisions) || modDecisions != int64(decisions) || gotWaits != int64(waited) {
			t.Errorf("decisions: %d by day, %d by moderator, %d waits; %d made, %d of held comments", gotDecisions, modDecisions, gotWaits, decisions, waited)
		}
		rules, err := s.InsightRules(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			d := ruleDecided[r.Rule]
			if r.Held != heldRules[r.Rule] || r.Approved != d[0] || r.Rejected != d[1] || r.Spam != d[2] {
				t.Errorf("rule %s: %+v, want held %d and decided %v", r.Rule, r, heldRules[r.Rule], d)
			}
		}
		if len(rules) != len(heldRules) {
			t.Errorf("%d rules rolled up, %d held", len(rules), len(heldRules))
		}

		// The months are their hours summed, and a year's read, which
		// takes February and March from them, gives the hours' figures.
		// February ended before the last hour of the load: it and the
		// empty months before it within the retention (from January
		// 2025) are folded; March is not over.
		// A day's series reads the same from its day rows once folded.
		sameDays := func(when string) {
			t.Helper()
			for _, a := range arts {
				got, err := s.InsightSeries(ctx, a.ID, schema.DayOf(from), to, 24*int64(time.Hour/time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, daySeries[a.ID]) {
					t.Errorf("article %d %s: days %+v, from the hours %+v", a.ID, when, got, daySeries[a.ID])
				}
			}
		}
		if n, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil || n != 14 {
			t.Fatalf("folded %d months (%v), want the 14 from January 2025 to February 2026", n, err)
		}
		checkMonths(t, s)
		sameDays("with 28 February folded")
		clock.Lock()
		now = time.Date(2026, 4, 1, 0, 4, 0, 0, time.UTC) // March's last writes may not have settled
		clock.Unlock()
		if n, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil || n != 0 {
			t.Fatalf("folded %d months (%v) before March settled", n, err)
		}
		clock.Lock()
		now = time.Date(2026, 4, 1, 0, 5, 0, 0, time.UTC)
		clock.Unlock()
		if n, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil || n != 1 {
			t.Fatalf("folded %d months (%v), want March", n, err)
		}
		if n, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil || n != 0 {
			t.Fatalf("folded %d months (%v) again", n, err)
		}
		checkMonths(t, s)
		sameDays("with both days folded")
		year := schema.InsightScope{SiteIDs: []int64{site.ID}, From: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
			To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).UnixMilli()}
		acts, err := s.InsightArticles(ctx, year)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			got, want := acts[a.ID], hourSums[a.ID]
			if got == nil {
				t.Errorf("article %d: missing from the year", a.ID)
				continue
			}
			if got.Posted != want.Posted || got.Published != want.Published || got.Held != want.Held || got.Rejected != want.Rejected ||
				got.Spam != want.Spam || got.Reports != want.Reports || got.Net("like") != want.Added["like"] || got.Net("dislike") != want.Added["dislike"] {
				t.Errorf("article %d: the year from its months %+v, the hours %+v", a.ID, *got, want)
			}
		}
	})
}

// checkMonths fails the test if a folded day or month differs from its
// hours.
func checkMonths(t *testing.T, s *schema.Store) {
	t.Helper()
	diffs, err := s.CheckInsightFolds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
}

func ruleNames(reasons string) []string {
	var out []string
	for _, r := range []string{"mode", "links", "classifier", "banned_words"} {
		if strings.Contains(reasons, `"rule":"`+r+`"`) {
			out = append(out, r)
		}
	}
	return out
}

// Rollups hold nobody's data: `reader forget` leaves them, before and
// after their month is folded, and the sweep removes what is older than
// the retention, whole days at a time, folding again the month it cuts
// into so that the month stays the sum of the hours left.
func TestInsightsSurviveForgetAndExpire(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "news")
		a, err := s.EnsureArticle(ctx, site.ID, "story")
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)
		now := t0
		s.SetClock(func() time.Time { return now })
		activity := func(reader, email string) {
			t.Helper()
			if _, err := s.SetReaction(ctx, a.ID, reader, "like"); err != nil {
				t.Fatal(err)
			}
			c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, ReaderID: reader, Author: reader, EmailHash: email,
				Body: "mine " + reader, BodyKey: "mine " + reader, Status: schema.StatusApproved, EditTokenHash: "h", Reasons: "[]"}
			if err := s.CreateComment(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		activity("reader-1", "ann-hash")
		now = t0.Add(10 * 24 * time.Hour) // January 20
		activity("reader-2", "bob-hash")
		if n, err := s.ForgetEmailHash(ctx, "ann-hash"); err != nil || n != 1 {
			t.Fatalf("forget: %d, %v", n, err)
		}
		from := schema.HourOf(t0.UnixMilli())
		to := from + int64(time.Hour/time.Millisecond)
		series, err := s.InsightSeries(ctx, a.ID, from, to, int64(time.Hour/time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 1 || series[0].Added["like"] != 1 || series[0].Posted != 1 || series[0].Published != 1 {
			t.Fatalf("after forget: %+v", series)
		}
		january := schema.InsightScope{SiteIDs: []int64{site.ID}, From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
			To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()}
		read := func(want int64) {
			t.Helper()
			acts, err := s.InsightArticles(ctx, january)
			if err != nil {
				t.Fatal(err)
			}
			got := acts[a.ID]
			if want == 0 && got != nil || want > 0 && (got == nil || got.Posted != want || got.Added["like"] != want) {
				t.Fatalf("January: %+v, want %d posted and liked", got, want)
			}
		}
		now = time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
		if n, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil || n == 0 {
			t.Fatalf("folded %d months (%v)", n, err)
		}
		checkMonths(t, s)
		read(2)
		if n, err := s.ForgetEmailHash(ctx, "bob-hash"); err != nil || n != 1 {
			t.Fatalf("forget: %d, %v", n, err)
		}
		checkMonths(t, s)
		read(2)

		// A retention that cuts January on the 15th: the 10th's hours and
		// days go (four rows), the month keeps the 20th.
		now = time.Date(2027, 2, 19, 10, 0, 0, 0, time.UTC) // 400 days after 15 January 2026, 10:00
		n, err := s.DeleteOldInsights(ctx, 400*24*time.Hour)
		if err != nil || n != 4 {
			t.Fatalf("deleted %d rows (%v), want the four (hours and days) of the 10th", n, err)
		}
		checkMonths(t, s)
		read(1)
		// A month later January is gone, month and all.
		now = now.AddDate(0, 1, 0)
		if _, err := s.DeleteOldInsights(ctx, 400*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		checkMonths(t, s)
		read(0)
	})
}

// The benchmark's history generator works on both engines and yields what
// the Insights page reads: every article active in the period, and every
// day of the desk.
func TestSeedInsightHistory(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "big")
		end := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
		if err := s.SeedInsightHistory(ctx, site.ID, 100, 30, 24, end); err != nil {
			t.Fatal(err)
		}
		sc := schema.InsightScope{SiteIDs: []int64{site.ID}, From: end.Add(-31 * 24 * time.Hour).UnixMilli(), To: end.UnixMilli()}
		acts, err := s.InsightArticles(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != 100 {
			t.Fatalf("%d articles with history, want 100", len(acts))
		}
		days, _, err := s.InsightDesk(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		var decided int64
		for _, d := range days {
			for _, n := range d.Decisions {
				decided += n
			}
		}
		if decided == 0 || len(days) != 32 {
			t.Fatalf("%d days, %d decisions", len(days), decided)
		}
	})
}

// What the rollups cost the store's hot writes, in process: votes that
// each change a reaction and new comments, from 32 goroutines so that the
// writer batches as under load, with the rollups on and off
// (go test -run '^$' -bench Rollups ./schema).
func BenchmarkRollups(b *testing.B) {
	for _, d := range schematest.Engines {
		for _, on := range []bool{true, false} {
			name := fmt.Sprintf("%s/rollups=%v", d, on)
			b.Run(name+"/vote", func(b *testing.B) {
				s := schematest.Open(b, d)
				s.SetRollups(on)
				site, err := s.CreateSite(context.Background(), "news", schema.DefaultSettings(), nil)
				if err != nil {
					b.Fatal(err)
				}
				a, err := s.EnsureArticle(context.Background(), site.ID, "hot")
				if err != nil {
					b.Fatal(err)
				}
				var n atomic.Int64
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						r := []string{"like", "dislike"}[i%2]
						if _, err := s.SetReaction(context.Background(), a.ID, fmt.Sprint("r", i%4000), r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run(name+"/post", func(b *testing.B) {
				s := schematest.Open(b, d)
				s.SetRollups(on)
				site, err := s.CreateSite(context.Background(), "news", schema.DefaultSettings(), nil)
				if err != nil {
					b.Fatal(err)
				}
				a, err := s.EnsureArticle(context.Background(), site.ID, "hot")
				if err != nil {
					b.Fatal(err)
				}
				var n atomic.Int64
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := fmt.Sprint("comment ", n.Add(1))
						c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "x", Body: body, BodyKey: body, Status: schema.StatusApproved, EditTokenHash: "h", Reasons: "[]"}
						if err := s.CreateComment(context.Background(), c); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// Ended days' sums are kept: reading a period twice gives the same
// figures (today's rows are added to a copy, never to the kept sums), and
// a retention sweep drops the sums of the days it deleted.
func TestInsightSettledDaysKept(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "kept")
		now := time.Now()
		if err := s.SeedInsightHistory(ctx, site.ID, 20, 10, 24, now); err != nil {
			t.Fatal(err)
		}
		sc := schema.InsightScope{SiteIDs: []int64{site.ID}, From: now.AddDate(0, 0, -12).UnixMilli(), To: now.Add(24 * time.Hour).UnixMilli()}
		total := func() (n int64) {
			acts, err := s.InsightArticles(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				n += a.Posted
				for _, v := range a.Added {
					n += v
				}
			}
			days, _, err := s.InsightDesk(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range days {
				n += d.Posted
				for _, v := range d.Decisions {
					n += v
				}
			}
			return n
		}
		first := total()
		if first == 0 {
			t.Fatal("no history read")
		}
		// A period that shares its days and months with the first gives
		// the same figures from what the first kept.
		if _, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		sc.From -= 3 * 24 * int64(time.Hour/time.Millisecond)
		if got := total(); got != first {
			t.Fatalf("a longer period over the same history: %d, want %d", got, first)
		}
		for range 3 {
			if got := total(); got != first {
				t.Fatalf("read again: %d, want %d", got, first)
			}
		}
		if _, err := s.DeleteOldInsights(ctx, 5*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := total(); got >= first {
			t.Fatalf("after a retention of 5 of 10 days: %d, want less than %d", got, first)
		}
	})
}

// No site at all reads nothing, and is not taken for every site (nor
// every site for none) by the sums kept of months and days.
func TestInsightNoSiteIsNotAllSites(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s, "some")
		end := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return end })
		if err := s.SeedInsightHistory(ctx, site.ID, 50, 60, 24, end); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		from := end.AddDate(0, 0, -59).UnixMilli()
		for _, sites := range [][]int64{{}, nil, {}} {
			acts, err := s.InsightArticles(ctx, schema.InsightScope{SiteIDs: sites, From: from, To: end.UnixMilli()})
			if err != nil {
				t.Fatal(err)
			}
			if sites == nil && len(acts) != 50 || sites != nil && len(acts) != 0 {
				t.Fatalf("sites %v: %d articles", sites, len(acts))
			}
		}
	})
}

// The folded days around a period's months are read in one range and kept
// per day: each day's sums are that day's own, whether read in that range
// or alone.
func TestInsightFoldedDaysReadTogether(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		var clock sync.Mutex
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
		at := func(t time.Time) { clock.Lock(); now = t; clock.Unlock() }
		site := newSite(t, s, "news")
		a, err := s.EnsureArticle(ctx, site.ID, "a")
		if err != nil {
			t.Fatal(err)
		}
		posts := map[int]int{10: 1, 12: 3, 15: 2} // day of March: comments posted
		for d, n := range posts {
			at(time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC))
			for i := 0; i < n; i++ {
				c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "x", Body: fmt.Sprint(d, i), BodyKey: fmt.Sprint(d, i),
					Status: schema.StatusApproved, EditTokenHash: "h", Reasons: "[]"}
				if err := s.CreateComment(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.SetReaction(ctx, a.ID, fmt.Sprint("reader", d), "like"); err != nil {
				t.Fatal(err)
			}
		}
		at(time.Date(2026, 3, 20, 1, 0, 0, 0, time.UTC))
		if _, err := s.FoldInsightMonths(ctx, 400*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		day := func(d int) int64 { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC).UnixMilli() }
		read := func(from, to int) *schema.ArticleActivity {
			t.Helper()
			acts, err := s.InsightArticles(ctx, schema.InsightScope{SiteIDs: []int64{site.ID}, From: day(from), To: day(to)})
			if err != nil {
				t.Fatal(err)
			}
			if acts[a.ID] == nil {
				return &schema.ArticleActivity{}
			}
			return acts[a.ID]
		}
		if got := read(9, 19); got.Posted != 6 || got.Net("like") != 3 {
			t.Fatalf("9 to 19 March: posted %d, likes %d; want 6 and 3", got.Posted, got.Net("like"))
		}
		for d := 9; d < 19; d++ {
			if got := read(d, d+1); got.Posted != int64(posts[d]) || got.Net("like") != int64(min(posts[d], 1)) {
				t.Errorf("%d March: posted %d, likes %d; want %d and %d", d, got.Posted, got.Net("like"), posts[d], min(posts[d], 1))
			}
		}
	})
}
