package main

// Browser tests of the EU Digital Services Act features: a reader's notice
// of illegal content through the widget, the notices and appeals queues of
// the dashboard, and the appeal page a statement of reasons links to.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// postWithEmail posts a comment on the demo article with an email, as the
// widget does, and returns its id.
func postWithEmail(t *testing.T, base, author, email, text string) int64 {
	t.Helper()
	status, captcha := call(t, "POST", base+"/api/v1/captchas", "")
	if status != 201 {
		t.Fatalf("captcha: %d %v", status, captcha)
	}
	b, _ := json.Marshal(map[string]any{"author": author, "email": email, "body": text,
		"captcha_id": captcha["id"], "captcha_solution": captcha["test_solution"]})
	status, out := call(t, "POST", base+"/api/v1/sites/demo/articles/"+article+"/comments", string(b),
		"X-Reader-Token", newReader(t, base), "Content-Type", "application/json")
	if status != 201 {
		t.Fatalf("comment: %d %v", status, out)
	}
	return int64(out["comment"].(map[string]any)["id"].(float64))
}

// demoStore opens the database the server runs on, for checks.
func demoStore(t *testing.T, dsn string) (*schema.Store, *schema.Site) {
	t.Helper()
	s, err := schema.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	site, err := s.Site(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return s, site
}

func queued(t *testing.T, s *schema.Store, site *schema.Site, kind string) []schema.Mail {
	t.Helper()
	ms, err := s.QueuedMail(context.Background(), site.ID, kind)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// loginDashboard signs in to the dashboard in a new tab.
func loginDashboard(t *testing.T, bctx context.Context, base, email, password string) *tab {
	t.Helper()
	tb := newTab(t, bctx)
	tb.open(base + "/mod/")
	tb.typeInto(`document.querySelector('#login-email')`, email)
	tb.typeInto(`document.querySelector('#login-password')`, password)
	tb.click(`document.querySelector('#login-submit')`)
	tb.wait("the dashboard", `!document.querySelector('#dashboard').hidden`)
	return tb
}

var appealLinkRe = regexp.MustCompile(`(/appeal/#[A-Za-z0-9_-]+)`)

func TestBrowserDSA(t *testing.T) {
	bctx := startBrowser(t)

	t.Run("IllegalContentForm", func(t *testing.T) {
		base, dsn := startDemo(t)
		id := postWithEmail(t, base, "Gus", "gus@example.com", "Everyone from that village is a criminal and should be driven out.")
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		sel := fmt.Sprintf(`Q('.parley-comment[data-id="%d"] .parley-illegal')`, id)
		tb.click(sel)
		tb.wait("the categories", `QA('.parley-illegal-category option').length > 10`)
		// The ordinary report stays a separate form.
		tb.wait("no report form open", `!Q('.parley-report-form')`)
		tb.eval(nil, `(() => { const s = Q('.parley-illegal-category'); s.value = 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH'; return true; })()`)
		tb.typeInto(`Q('.parley-illegal-form textarea[name=explanation]')`, "Incitement to hatred against the people of a village.")
		tb.typeInto(`Q('.parley-illegal-form input[name=name]')`, "Nora")
		tb.typeInto(`Q('.parley-illegal-form input[name=email]')`, "nora@example.com")
		// Without the good-faith statement the server says what is missing.
		tb.click(`Q('.parley-illegal-submit')`)
		tb.wait("the good-faith error", `text(Q('.parley-illegal-form .parley-error')).includes('good_faith')`)
		tb.click(`Q('.parley-illegal-form input[name=good_faith]')`)
		tb.click(`Q('.parley-illegal-submit')`)
		tb.wait("the confirmation", `text(Q('.parley-illegal-sent')) === 'Notice received. A confirmation was sent to your email.'`)

		s, site := demoStore(t, dsn)
		ns, err := s.Notices(context.Background(), schema.ListQuery{SiteIDs: []int64{site.ID}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].CommentID != id || ns[0].NotifierEmail != "nora@example.com" || ns[0].Category != "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH" {
			t.Fatalf("notices: %+v", ns)
		}
		if ms := queued(t, s, site, "dsa_notice_receipt"); len(ms) != 1 || ms[0].To != "nora@example.com" {
			t.Fatalf("receipts: %+v", ms)
		}
	})

	t.Run("NoticesAndAppealsQueues", func(t *testing.T) {
		base, dsn := startDemo(t)
		const password = "correct horse battery staple"
		for _, email := range []string{"ed@news.example", "flo@news.example"} {
			if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
				t.Fatalf("moderator add: %v %s", err, out)
			}
		}
		id := postWithEmail(t, base, "Gus", "gus@example.com", "A comment someone finds illegal.")
		other := postWithEmail(t, base, "Ivy", "ivy@example.com", "A comment nobody should mind.")
		for _, c := range []struct {
			id    int64
			email string
		}{{other, "early@example.com"}, {id, "nora@example.com"}} {
			b, _ := json.Marshal(map[string]any{"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
				"explanation": "This is illegal, and here is why.", "name": "N", "email": c.email, "good_faith": true})
			if status, out := call(t, "POST", fmt.Sprintf("%s/api/v1/comments/%d/notices", base, c.id), string(b),
				"X-Reader-Token", newReader(t, base), "Content-Type", "application/json"); status != 201 {
				t.Fatalf("notice: %d %v", status, out)
			}
		}

		ed := loginDashboard(t, bctx, base, "ed@news.example", password)
		ed.click(`document.querySelector('.view-tab[data-view=notices]')`)
		ed.wait("both notices, oldest first", `document.querySelectorAll('#notices-table tbody tr').length === 2 && `+
			`document.querySelector('#notices-table tbody tr').textContent.includes('A comment nobody should mind.')`)
		// Nora is made a trusted flagger: her later notice goes first.
		ed.eval(nil, `(() => { const s = document.querySelector('#site-filter'); s.value = 'demo'; s.dispatchEvent(new Event('change')); return true; })()`)
		ed.wait("the trusted flaggers form", `!document.querySelector('#dsa-site').hidden`)
		ed.typeInto(`document.querySelector('#flagger-email')`, "nora@example.com")
		ed.click(`document.querySelector('#flagger-form button[type=submit]')`)
		ed.wait("the flagger listed", `document.querySelector('#flaggers-list').textContent.includes('nora@example.com')`)

		// The flag counts for notices from now on; a new one from Nora
		// goes before the older untrusted one.
		b, _ := json.Marshal(map[string]any{"category": "STATEMENT_CATEGORY_VIOLENCE", "explanation": "A threat of violence, plainly.",
			"name": "Nora", "email": "nora@example.com", "good_faith": true})
		third := postWithEmail(t, base, "Hal", "hal@example.com", "A threatening comment.")
		if status, out := call(t, "POST", fmt.Sprintf("%s/api/v1/comments/%d/notices", base, third), string(b),
			"X-Reader-Token", newReader(t, base), "Content-Type", "application/json"); status != 201 {
			t.Fatalf("notice: %d %v", status, out)
		}
		ed.click(`document.querySelector('.view-tab[data-view=audit]')`)
		ed.click(`document.querySelector('.view-tab[data-view=notices]')`)
		ed.wait("the trusted notice first", `document.querySelectorAll('#notices-table tbody tr').length === 3 && `+
			`document.querySelector('#notices-table tbody tr').textContent.includes('trusted flagger') && `+
			`document.querySelector('#notices-table tbody tr').textContent.includes('A threatening comment.')`)
		row := `[...document.querySelectorAll('#notices-table tbody tr')].find(r => r.textContent.includes('A comment someone finds illegal.'))`
		ed.click(row + `.querySelector('.notice-remove')`)
		ed.wait("the notice gone from the queue", `document.querySelectorAll('#notices-table tbody tr').length === 2`)

		s, site := demoStore(t, dsn)
		c, err := s.Comment(context.Background(), id)
		if err != nil || c.Status != schema.StatusRejected {
			t.Fatalf("comment after removal: %+v %v", c, err)
		}
		if ms := queued(t, s, site, "dsa_notice_decision"); len(ms) != 1 || ms[0].To != "nora@example.com" {
			t.Fatalf("decisions: %+v", ms)
		}
		sts := queued(t, s, site, "dsa_statement")
		if len(sts) != 1 || sts[0].To != "gus@example.com" {
			t.Fatalf("statements: %+v", sts)
		}
		link := appealLinkRe.FindString(sts[0].Text)
		if link == "" {
			t.Fatalf("no appeal link in %s", sts[0].Text)
		}

		// The author appeals on the page the statement links to.
		author := newTab(t, bctx)
		author.open(base + link)
		author.wait("the statement", `!document.querySelector('#form').hidden && document.querySelector('#decision').textContent.includes('removed')`)
		author.typeInto(`document.querySelector('#explanation')`, "It was a quotation from the article, not my opinion.")
		author.click(`document.querySelector('#form button[type=submit]')`)
		author.wait("the receipt", `document.querySelector('#status').textContent.includes('Your appeal was received')`)
		if ms := queued(t, s, site, "dsa_appeal_receipt"); len(ms) != 1 || ms[0].To != "gus@example.com" {
			t.Fatalf("appeal receipts: %+v", ms)
		}

		// Ed removed it, so Ed may not decide; Flo reverses it.
		ed.click(`document.querySelector('.view-tab[data-view=appeals]')`)
		ed.wait("the appeal", `document.querySelectorAll('#appeals-table tbody tr').length === 1 && `+
			`document.querySelector('#appeals-table tbody tr').textContent.includes('It was a quotation')`)
		ed.click(`document.querySelector('#appeals-table .appeal-reverse')`)
		ed.wait("the refusal", `document.querySelector('#toasts').textContent.includes('another moderator must decide')`)

		flo := loginDashboard(t, bctx, base, "flo@news.example", password)
		flo.click(`document.querySelector('.view-tab[data-view=appeals]')`)
		flo.click(`document.querySelector('#appeals-table .appeal-reverse')`)
		flo.wait("the appeals queue empty", `!document.querySelector('#appeals-empty').hidden`)
		if c, err := s.Comment(context.Background(), id); err != nil || c.Status != schema.StatusApproved {
			t.Fatalf("comment after the reversal: %+v %v", c, err)
		}
		if ms := queued(t, s, site, "dsa_appeal_decision"); len(ms) != 1 || ms[0].To != "gus@example.com" {
			t.Fatalf("appeal outcomes: %+v", ms)
		}
	})

	t.Run("RejectDialogOffersGrounds", func(t *testing.T) {
		base, dsn := startDemo(t)
		const password = "correct horse battery staple"
		if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", "ed@news.example", "-role", "admin", "-db", dsn); err != nil {
			t.Fatalf("moderator add: %v %s", err, out)
		}
		changed := setModeration(t, dsn, "pre")
		time.Sleep(time.Until(changed.Add(siteSettingsBound)))
		id := postWithEmail(t, base, "Gus", "gus@example.com", "You are all idiots, every one of you.")
		s, site := demoStore(t, dsn)
		ground := site.Settings.TermsGrounds[1]

		ed := loginDashboard(t, bctx, base, "ed@news.example", password)
		card := fmt.Sprintf(`document.querySelector('.card[data-id="%d"]')`, id)
		ed.wait("the held comment's card", `!!`+card)
		ed.click(card + `.querySelector('[data-action=reject]')`)
		ed.wait("the grounds in the reject dialog", `document.querySelector('#reject-dialog').open && !document.querySelector('#reject-ground-row').hidden && `+
			`document.querySelectorAll('#reject-ground option').length === `+fmt.Sprint(len(site.Settings.TermsGrounds)))
		ed.eval(nil, `(() => { document.querySelector('#reject-ground').value = `+jsStr(ground)+`; return true; })()`)
		ed.click(`document.querySelector('#reject-confirm')`)
		ed.wait("the card gone", `!`+card)
		sts := queued(t, s, site, "dsa_statement")
		if len(sts) != 1 || sts[0].To != "gus@example.com" || !regexp.MustCompile(regexp.QuoteMeta("Ground: "+ground)).MatchString(sts[0].Text) {
			t.Fatalf("statements: %+v", sts)
		}
	})
}
