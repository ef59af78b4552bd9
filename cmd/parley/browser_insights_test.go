package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley/parley/schema"
)

// seedInsights gives the demo site a week of readers and moderators:
// reactions to five stories day by day, comments the policy held, and
// decisions on most of them, written through the store at past times.
func seedInsights(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	s, err := schema.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	site, err := s.Site(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	stories := []struct {
		key, title  string
		like, hate  int
		comments    int
		firstDayAgo int
	}{
		{"night-buses-approved", "Night buses approved for fourteen routes", 9, 2, 5, 6},
		{"harbour-bridge-repairs", "Harbour bridge closes for six weeks of repairs", 3, 11, 7, 5},
		{"tool-library-opens", "A tool library opens in the old fire station", 6, 0, 2, 4},
		{"council-budget-vote", "Council budget: the libraries keep their hours", 14, 9, 9, 3},
		{"school-meals-price", "School meals cost 40 cents more from April", 2, 12, 6, 2},
	}
	now := time.Now()
	reader := 0
	var held []*schema.Comment
	for _, st := range stories {
		a, err := s.RegisterArticle(ctx, site.ID, st.key, st.title, "https://news.example/"+st.key)
		if err != nil {
			t.Fatal(err)
		}
		for d := st.firstDayAgo; d >= 0; d-- {
			at := now.Add(-time.Duration(d)*24*time.Hour - time.Hour)
			s.SetClock(func() time.Time { return at })
			// Most votes in a story's first days.
			scale := st.firstDayAgo - d + 1
			for i := 0; i < (st.like+st.hate)/scale+1; i++ {
				reader++
				r := "like"
				if i%(st.like+st.hate+1) >= st.like {
					r = "dislike"
				}
				if _, err := s.SetReaction(ctx, a.ID, fmt.Sprintf("reader-%d", reader), r); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < st.comments/scale; i++ {
				status, reasons := schema.StatusApproved, "[]"
				switch i % 3 {
				case 1:
					status, reasons = schema.StatusPending, `[{"rule":"suspect_words","detail":"suspect word: idiot","verdict":"hold"}]`
				case 2:
					status, reasons = schema.StatusPending, `[{"rule":"links","detail":"3 links","verdict":"hold"}]`
				}
				body := fmt.Sprintf("Comment %d on %s", i, st.key)
				c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: "Reader", Body: body, BodyKey: body, Status: status, Reasons: reasons, EditTokenHash: "h"}
				if err := s.CreateComment(ctx, c); err != nil {
					t.Fatal(err)
				}
				if status == schema.StatusPending {
					held = append(held, c)
				}
			}
		}
	}
	for i, c := range held {
		if i%4 == 3 {
			continue // still waiting
		}
		at := time.UnixMilli(c.CreatedMS).Add(time.Duration(20+i*13) * time.Minute)
		s.SetClock(func() time.Time { return at })
		to := []string{schema.StatusApproved, schema.StatusRejected, schema.StatusSpam}[i%3]
		action := []string{"comment.approve", "comment.reject", "comment.spam"}[i%3]
		if _, err := s.Decide(ctx, schema.Decision{CommentID: c.ID, Status: to, Audit: schema.By(nil, schema.ActorCLI).For(action, "", 0)}); err != nil {
			t.Fatal(err)
		}
	}
	// The server summed the week's days when it started, before this
	// history was written into their hours.
	s.SetClock(time.Now)
	if err := s.RefoldInsights(ctx, now.AddDate(0, 0, -8), now, 400*24*time.Hour); err != nil {
		t.Fatal(err)
	}
}

// chartsAccessible is true when every chart on the page is a focusable
// figure whose SVG has a role, a non-empty <title> it is labelled by, and
// a table with a row per bar group; and no SVG of the view lacks a title.
const chartsAccessible = `(() => {
	const figs = [...document.querySelectorAll('#insights-view figure.chart')].filter(f => f.offsetParent !== null);
	if (!figs.length) return false;
	const svgs = [...document.querySelectorAll('#insights-view svg')].filter(s => s.closest('figure').offsetParent !== null);
	return svgs.every(s => s.querySelector(':scope > title') && s.querySelector(':scope > title').textContent.trim() !== '') &&
		figs.every(f => {
			const svg = f.querySelector('svg'), title = svg && svg.querySelector(':scope > title');
			const table = f.querySelector('table');
			return svg && title && svg.getAttribute('role') === 'img' && svg.getAttribute('aria-labelledby') === title.id &&
				f.tabIndex === 0 && f.getAttribute('aria-labelledby') && document.getElementById(f.getAttribute('aria-labelledby')) &&
				table && table.querySelectorAll('tbody tr').length > 0 && table.querySelectorAll('thead th').length >= 2;
		});
})()`

// The Insights page in Chromium: the rankings, the desk and the rules with
// every chart titled and backed by a table, reachable from the keyboard; an
// article's card one click from a ranking and from a comment in the queue;
// the page in French.
func TestBrowserInsights(t *testing.T) {
	bctx := startBrowser(t)
	base, dsn := startDemo(t)
	const email, password = "ed@news.example", "correct horse battery staple"
	if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
		t.Fatalf("moderator add: %v %s", err, out)
	}
	seedInsights(t, dsn)

	tb := newTab(t, bctx)
	tb.do(chromedp.EmulateViewport(1280, 900))
	tb.open(base + "/mod/")
	tb.typeInto(`document.querySelector('#login-email')`, email)
	tb.typeInto(`document.querySelector('#login-password')`, password)
	tb.click(`document.querySelector('#login-submit')`)
	tb.wait("the pending queue", `document.querySelector('.card')`)
	// The tab is reached and opened from the keyboard.
	tb.eval(nil, `document.querySelector('.view-tab[data-view=insights]').focus(), true`)
	tb.do(chromedp.KeyEvent("\r"))
	tb.wait("the rankings", `location.hash === '#/insights' && document.querySelectorAll('#insights-liked tbody tr').length === 5 && `+
		`document.querySelectorAll('#insights-discussed tbody tr').length === 5 && document.querySelector('#insights-rules figure')`)
	if got := evalJS[string](tb, `document.querySelector('#insights-liked tbody tr a').textContent`); got != "Night buses approved for fourteen routes" {
		t.Errorf("most liked first: %q", got)
	}
	if got := evalJS[string](tb, `document.querySelector('#insights-disliked tbody tr a').textContent`); got != "School meals cost 40 cents more from April" && got != "Harbour bridge closes for six weeks of repairs" {
		t.Errorf("most disliked first: %q", got)
	}
	if !evalJS[bool](tb, `document.querySelector('.insights-note').textContent.includes('Wilson')`) {
		t.Error("the page does not say how it ranks")
	}
	tb.wait("every chart titled, with a table, focusable", chartsAccessible)
	if n := evalJS[int](tb, `document.querySelectorAll('#insights-overview figure.chart').length`); n != 3 {
		t.Errorf("%d charts on the overview, want 3", n)
	}
	if os.Getenv("PARLEY_SCREENSHOTS") != "" {
		tb.eval(nil, `window.scrollTo(0, 0), true`)
		tb.screenshot(filepath.Join("..", "..", "docs", "insights.png"), "", 0)
	}
	// Charts take the keyboard focus in document order.
	tb.eval(nil, `document.querySelector('#insights-desk figure').focus(), true`)
	if !evalJS[bool](tb, `document.activeElement === document.querySelector('#insights-desk figure')`) {
		t.Error("a chart cannot take the focus")
	}

	// One click from a ranking to the article's card (scrolled back up,
	// where the sticky top bar covers nothing of the rankings).
	tb.eval(nil, `(document.activeElement.blur(), window.scrollTo(0, 0), true)`)
	tb.click(`document.querySelector('#insights-disliked tbody tr a')`)
	tb.wait("the article's card", `!document.querySelector('#insights-article').hidden && document.querySelector('#insights-overview').hidden && `+
		`document.querySelectorAll('#insight-article-charts figure.chart').length === 2 && document.querySelector('#insight-article-title').textContent !== 'Article'`)
	tb.wait("the card's charts titled, with tables", chartsAccessible)

	// One click from a held comment in the queue to its article's card.
	tb.open(base + "/mod/#/pending")
	tb.wait("a held comment", `document.querySelector('.card .insight-link')`)
	key := evalJS[string](tb, `document.querySelector('.card .article-key').textContent`)
	tb.click(`document.querySelector('.card .insight-link')`)
	tb.wait("the card of the comment's article", `!document.querySelector('#insights-article').hidden && document.querySelectorAll('#insight-article-charts figure.chart').length === 2`)
	if title := evalJS[string](tb, `document.querySelector('#insight-article-title').textContent`); title == "" || key == "" {
		t.Errorf("card %q for %q", title, key)
	}

	// In French.
	fr := newTab(t, bctx)
	fr.open(base + "/mod/")
	fr.eval(nil, `(localStorage.setItem('parley-mod:lang', 'fr'), true)`)
	fr.do(chromedp.Reload())
	fr.typeInto(`document.querySelector('#login-email')`, email)
	fr.typeInto(`document.querySelector('#login-password')`, password)
	fr.click(`document.querySelector('#login-submit')`)
	fr.wait("the queue", `document.querySelector('.card')`)
	fr.click(`document.querySelector('.view-tab[data-view=insights]')`)
	fr.wait("the French Insights", `document.querySelector('.view-tab[data-view=insights]').textContent.trim() === 'Statistiques' && `+
		`document.querySelector('#liked-title').textContent === 'Les plus aimés' && document.querySelector('#insights-desk figcaption') && `+
		`document.querySelector('#insights-desk figcaption').textContent === 'Retenus et décidés par jour' && `+
		`document.querySelector('#insights-desk svg > title').textContent.startsWith('Retenus et décidés par jour')`)
	fr.wait("the French charts titled, with tables", chartsAccessible)
}
