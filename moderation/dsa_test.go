package moderation_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

var tokenInMail = regexp.MustCompile(`/appeal/#([A-Za-z0-9_-]+)`)

// The transparency report of a seeded half-year matches the numbers
// counted by hand below, on both engines; what happened before and after
// the period is left out.
func TestTransparencyReportMatchesHandCount(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		var now atomic.Int64
		at := func(day string, hour int) {
			d, err := time.Parse(time.DateOnly, day)
			if err != nil {
				t.Fatal(err)
			}
			now.Store(d.Add(time.Duration(hour) * time.Hour).UnixMilli())
		}
		s.SetClock(func() time.Time { return time.UnixMilli(now.Load()).UTC() })
		at("2025-12-01", 0)
		site, err := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		alice := &schema.Moderator{Email: "alice@news.example", PasswordHash: "x", Role: schema.RoleModerator}
		bob := &schema.Moderator{Email: "bob@news.example", PasswordHash: "x", Role: schema.RoleModerator}
		for _, m := range []*schema.Moderator{alice, bob} {
			if err := s.CreateModerator(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		a, err := s.EnsureArticle(ctx, site.ID, "a")
		if err != nil {
			t.Fatal(err)
		}
		q := moderation.NewQueue(s, nil)
		byAlice, byBob := moderation.Actor{Moderator: alice}, moderation.Actor{Moderator: bob}
		n := 0
		post := func(status, reasons, email string) *schema.Comment {
			t.Helper()
			n++
			c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "x", Body: "comment " + string(rune('a'+n)),
				EmailHash: email, Status: status, Reasons: reasons, EditTokenHash: "h"}
			if err := s.PostComment(ctx, c, schema.PostOptions{Contact: email}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		file := func(c *schema.Comment, category, notifier string) int64 {
			t.Helper()
			nt, err := q.FileNotice(ctx, site, c, moderation.NoticeRequest{Category: category,
				Explanation: "this is illegal, here is why", Name: "N", Email: notifier, GoodFaith: true})
			if err != nil {
				t.Fatal(err)
			}
			return nt.ID
		}
		decideNotice := func(id int64, d moderation.NoticeDecision) {
			t.Helper()
			if _, err := q.DecideNotice(ctx, byAlice, id, d); err != nil {
				t.Fatal(err)
			}
		}
		const speech, scam, violence = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_VIOLENCE"
		approved := `[]`

		// Before the period: a notice, decided, and a ban.
		at("2025-12-31", 12)
		old := post(schema.StatusApproved, approved, "old@example.com")
		decideNotice(file(old, speech, "n@example.com"), moderation.NoticeDecision{Action: moderation.NoticeRemove})
		if _, _, err := q.Ban(ctx, byAlice, moderation.BanRequest{CommentID: old.ID, Kind: "email", Reason: "old"}); err != nil {
			t.Fatal(err)
		}

		// In the period.
		if err := s.AddTrustedFlagger(ctx, &schema.TrustedFlagger{SiteID: site.ID, Email: "t@ngo.example"}, schema.By(alice, "")); err != nil {
			t.Fatal(err)
		}
		at("2026-01-10", 0)
		c1 := post(schema.StatusApproved, approved, "c1@example.com")
		n1 := file(c1, speech, "t@ngo.example") // trusted
		at("2026-01-10", 2)
		decideNotice(n1, moderation.NoticeDecision{Action: moderation.NoticeRemove}) // 2 h; a statement to c1
		at("2026-01-11", 0)
		c2 := post(schema.StatusApproved, approved, "")
		n2 := file(c2, scam, "pest@example.com")
		at("2026-01-11", 10)
		decideNotice(n2, moderation.NoticeDecision{Action: moderation.NoticeDismiss, Unfounded: true}) // 10 h
		at("2026-02-01", 0)
		c3 := post(schema.StatusApproved, approved, "")
		n3 := file(c3, speech, "x@example.com")
		at("2026-02-02", 0)
		decideNotice(n3, moderation.NoticeDecision{Action: moderation.NoticeDismiss}) // 24 h
		at("2026-03-01", 0)
		file(post(schema.StatusApproved, approved, ""), violence, "y@example.com") // open

		// Automated decisions as comments are posted: 1 by a rule, 2 by
		// the classifier (one later approved by a moderator, so not an
		// automated decision any more), a held one that is no decision.
		post(schema.StatusRejected, `[{"rule":"banned_words","detail":"w","verdict":"reject"},{"rule":"classifier","detail":"0.99","verdict":"spam"}]`, "")
		post(schema.StatusSpam, `[{"rule":"classifier","detail":"0.98","verdict":"spam"}]`, "")
		post(schema.StatusSpam, `[{"rule":"classifier","detail":"0.99","verdict":"spam"},{"rule":"links","detail":"3","verdict":"hold"}]`, "")
		overturned := post(schema.StatusSpam, `[{"rule":"classifier","detail":"0.97","verdict":"spam"}]`, "")
		post(schema.StatusPending, `[{"rule":"mode","detail":"pre","verdict":"hold"}]`, "")
		if _, err := q.Decide(ctx, byAlice, overturned.ID, moderation.Request{Action: moderation.ActApprove}); err != nil {
			t.Fatal(err)
		}

		// Moderators' own initiative: a reject (statement), a spam
		// without an email (none), a ban (statement).
		at("2026-03-10", 0)
		c5 := post(schema.StatusApproved, approved, "c5@example.com")
		c7 := post(schema.StatusApproved, approved, "")
		if _, err := q.Decide(ctx, byAlice, c5.ID, moderation.Request{Action: moderation.ActReject}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Decide(ctx, byAlice, c7.ID, moderation.Request{Action: moderation.ActSpam}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := q.Ban(ctx, byAlice, moderation.BanRequest{CommentID: c5.ID, Kind: "email", Reason: "repeat"}); err != nil {
			t.Fatal(err)
		}
		// A suspension lifted later still counts: it was imposed.
		c8 := post(schema.StatusApproved, approved, "c8@example.com")
		lifted, _, err := q.Ban(ctx, byAlice, moderation.BanRequest{CommentID: c8.ID, Kind: "email", Reason: "mistaken"})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Unban(ctx, byAlice, lifted.ID); err != nil {
			t.Fatal(err)
		}

		// Appeals: c5's reject reversed by Bob in 5 h, c1's removal
		// upheld by Bob in 1 h.
		tokens := map[string]string{}
		mails, err := s.QueuedMail(ctx, site.ID, dsa.KindStatement)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if strings.Contains(m.Text, "removed") {
				tokens[m.To] = tokenInMail.FindStringSubmatch(m.Text)[1]
			}
		}
		at("2026-04-01", 0)
		ap1, err := q.FileAppeal(ctx, tokens["c5@example.com"], "it was a quotation")
		if err != nil {
			t.Fatal(err)
		}
		at("2026-04-01", 5)
		if _, err := q.DecideAppeal(ctx, byAlice, ap1.ID, moderation.AppealReverse, ""); err == nil {
			t.Fatal("Alice decided the appeal against her own decision")
		}
		if _, err := q.DecideAppeal(ctx, byBob, ap1.ID, moderation.AppealReverse, "quotation"); err != nil {
			t.Fatal(err)
		}
		at("2026-04-02", 0)
		ap2, err := q.FileAppeal(ctx, tokens["c1@example.com"], "it was not illegal")
		if err != nil {
			t.Fatal(err)
		}
		at("2026-04-02", 1)
		if _, err := q.DecideAppeal(ctx, byBob, ap2.ID, moderation.AppealUphold, ""); err != nil {
			t.Fatal(err)
		}

		// After the period.
		at("2026-07-01", 0)
		late := post(schema.StatusApproved, approved, "late@example.com")
		file(late, violence, "z@example.com")
		if _, _, err := q.Ban(ctx, byAlice, moderation.BanRequest{CommentID: late.ID, Kind: "email", Reason: "late"}); err != nil {
			t.Fatal(err)
		}

		from, to, err := dsa.Period("2026-01-01", "2026-06-30")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := q.Transparency(ctx, site, from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := dsa.Report{Site: "news", From: from, To: to,
			Notices: dsa.NoticeStats{Total: 4, Trusted: 1, Unfounded: 1, Decided: 3, MedianHours: 10, P90Hours: 24,
				ByCategory: map[string]map[string]int{
					speech:   {"actioned": 1, "dismissed": 1},
					scam:     {"dismissed": 1},
					violence: {"open": 1},
				}},
			OwnInitiative: dsa.OwnInitiative{Automated: 3, ByRule: map[string]int{"banned_words": 1, "classifier": 2}, ByClassifier: 2,
				Moderators: 4, ModeratorsByAct: map[string]int64{"comment.reject": 1, "comment.spam": 1, "ban.create": 2}},
			Statements:  4, // c1 on notice, c5's reject, c5's ban, c8's ban
			Appeals:     dsa.AppealStats{Total: 2, ByOutcome: map[string]int{"reversed": 1, "upheld": 1}, MedianHours: 1},
			Suspensions: dsa.Suspensions{Total: 2, ByKind: map[string]int{"email": 2}},
		}
		if got, exp := show(rep), show(&want); got != exp {
			t.Errorf("report:\n got %s\nwant %s", got, exp)
		}
		var csv bytes.Buffer
		if err := rep.WriteCSV(&csv); err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{
			"notices,STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH,actioned,1",
			"notices,median_hours_to_decision,,10",
			"notices,p90_hours_to_decision,,24",
			"own_initiative,automated_by_rule,classifier,2",
			"appeals,by_outcome,reversed,1",
			"suspensions,by_kind,email,2",
		} {
			if !strings.Contains(csv.String(), line+"\n") {
				t.Errorf("CSV lacks %q:\n%s", line, csv.String())
			}
		}
	})
}

func show(r *dsa.Report) string {
	var b bytes.Buffer
	r.WriteCSV(&b)
	return b.String()
}

func TestPercentileIsNearestRank(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{nil, 50, 0},
		{[]float64{7}, 90, 7},
		{[]float64{24, 2, 10}, 50, 10},
		{[]float64{24, 2, 10}, 90, 24},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
		{[]float64{5, 1}, 50, 1},
	} {
		if got := dsa.Percentile(c.xs, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
}
