package main

// End-to-end tests in headless Chromium: the real server (run() on port 0,
// a fresh SQLite database, -demo -captcha-test) and the real widget on the
// demo article, driven the way a reader drives it: mouse clicks, typed keys.
//
// Chromium is PARLEY_CHROMIUM, or "chromium" on the PATH; without it these
// tests skip, except with CI=true. PARLEY_SCREENSHOTS=1 also writes
// docs/demo.png (and docs/dashboard.png once the moderation API is in).

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

const (
	// actionTimeout bounds one browser action; waitTimeout one condition.
	// Both are generous: a 2-core machine running the whole suite is slow.
	actionTimeout = 45 * time.Second
	waitTimeout   = 30 * time.Second
	// siteSettingsBound is how long the server may keep a site's old
	// settings (README: "site settings within 1 s"), plus a margin.
	siteSettingsBound = 1200 * time.Millisecond
	article           = "night-buses-approved"
)

func TestBrowser(t *testing.T) {
	bctx := startBrowser(t)

	t.Run("LikeSurvivesReload", func(t *testing.T) {
		base, _ := startDemo(t)
		// Someone else liked the article already: the widget must show the
		// server's count, not a count of its own.
		react(t, base, newReader(t, base), article, "like")

		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the server's like count", `text(Q('[data-reaction=like] .parley-num')) === '1' && Q('[data-reaction=like]').getAttribute('aria-pressed') === 'false'`)
		tb.click(`Q('[data-reaction=like]')`)
		tb.wait("the like counted and pressed", `text(Q('[data-reaction=like] .parley-num')) === '2' && Q('[data-reaction=like]').getAttribute('aria-pressed') === 'true'`)
		eventually(t, "the server to count the like", func() bool {
			_, body := call(t, "GET", base+"/api/v1/sites/demo/articles/"+article+"/reactions", "")
			return num(body, "counts", "like") == 2
		})

		tb.do(chromedp.Reload())
		tb.wait("the like after a reload", `text(Q('[data-reaction=like] .parley-num')) === '2' && Q('[data-reaction=like]').getAttribute('aria-pressed') === 'true'`)
		tb.wait("the count badge in the story list", countBadge(article, "[data-reaction=like] .parley-n")+` === '2'`)
	})

	t.Run("ForgedReaderToken", func(t *testing.T) {
		// A token the server does not accept (another server's, or one from
		// before the database was reset) is replaced without the reader
		// noticing.
		base, _ := startDemo(t)
		react(t, base, newReader(t, base), article, "dislike")
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.eval(nil, `localStorage.setItem('parley:reader', 'forged.token'), true`)
		tb.do(chromedp.Reload())
		tb.wait("the counts despite the forged token", `text(Q('[data-reaction=dislike] .parley-num')) === '1' && text(Q('.parley-message')) === 'No comments yet. Be the first to comment.'`)
		tb.click(`Q('[data-reaction=like]')`)
		eventually(t, "the server to count the like", func() bool {
			_, body := call(t, "GET", base+"/api/v1/sites/demo/articles/"+article+"/reactions", "")
			return num(body, "counts", "like") == 1
		})
		tb.wait("a new token", `localStorage.getItem('parley:reader') !== 'forged.token' && !!localStorage.getItem('parley:reader')`)
		if n := evalJS[string](tb, `text(Q('[data-reaction=like] .parley-num'))`); n != "1" {
			t.Fatalf("like count %s", n)
		}
	})

	t.Run("PostComment", func(t *testing.T) {
		base, _ := startDemo(t)
		body := "The night buses are overdue. My sister walks home from the hospital at two."
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the empty thread", `text(Q('.parley-count')) === '0 comments' && text(Q('.parley-message')) === 'No comments yet. Be the first to comment.'`)
		tb.fillForm("Ann Reader", body)
		tb.click(`Q('.parley-submit')`)
		tb.wait("the published comment", `text(Q('.parley-form-message')) === 'Your comment was published.' && `+
			`QA('.parley-comment').some(li => text(li.querySelector('.parley-comment-body')) === `+jsStr(body)+
			` && text(li.querySelector('.parley-author')) === 'Ann Reader' && li.dataset.status === 'approved') && text(Q('.parley-count')) === '1 comment'`)

		// Another reader, in a browser of their own, sees it.
		other := newTab(t, bctx)
		other.open(base + "/demo/")
		other.wait("the comment for another reader", `text(Q('.parley-count')) === '1 comment' && `+
			`QA('.parley-comment-body').map(text).join('|') === `+jsStr(body))
	})

	t.Run("PreModeration", func(t *testing.T) {
		base, dsn := startDemo(t)
		changed := setModeration(t, dsn, "pre")
		body := "Will the N12 run on public holidays too?"
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the widget", `Q('.parley-form') && text(Q('.parley-count')) === '0 comments'`)
		tb.fillForm("Bo Reader", body)
		time.Sleep(time.Until(changed.Add(siteSettingsBound))) // the server's site cache, see siteSettingsBound
		tb.click(`Q('.parley-submit')`)
		held := `QA('.parley-comment').some(li => text(li.querySelector('.parley-comment-body')) === ` + jsStr(body) +
			` && li.dataset.status === 'pending' && text(li.querySelector('.parley-notice')) === 'Your comment is awaiting moderation.')`
		tb.wait("the comment awaiting moderation", `text(Q('.parley-form-message')) === 'Your comment is awaiting moderation.' && `+held+
			` && text(Q('.parley-count')) === '0 comments'`)

		status, list := call(t, "GET", base+"/api/v1/sites/demo/articles/"+article+"/comments", "")
		if status != 200 || num(list, "count") != 0 || len(list["comments"].([]any)) != 0 {
			t.Fatalf("the public list has the held comment: %d %v", status, list)
		}
		// Another reader does not see it...
		other := newTab(t, bctx)
		other.open(base + "/demo/")
		other.wait("the empty thread for another reader", `text(Q('.parley-count')) === '0 comments' && text(Q('.parley-message')) === 'No comments yet. Be the first to comment.'`)
		if n := evalJS[int](other, `QA('.parley-comment').length`); n != 0 {
			t.Fatalf("another reader sees %d comments", n)
		}
		// ...while its author still does after a reload, marked as waiting.
		tb.do(chromedp.Reload())
		tb.wait("the author's own held comment after a reload", held)
	})

	t.Run("MarkupIsText", func(t *testing.T) {
		base, _ := startDemo(t)
		const attack = `<img src=x onerror=alert(1)>`
		const author = `<script>alert(2)</script>Mallory`
		const seeded = `<svg onload="window.__xss=1"></svg><b>bold</b> & <i>italic</i>`
		postComment(t, base, newReader(t, base), article, author, seeded, 0)

		tb := newTab(t, bctx)
		// The demo's Content-Security-Policy would block inline handlers on
		// its own; a publisher's page may have none, so neither does this one.
		if _, err := chromedp.Call(tb.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
			t.Fatal(err)
		}
		tb.open(base + "/demo/")
		tb.wait("the seeded comment", `QA('.parley-comment').length === 1`)
		tb.fillForm("Eve", attack)
		tb.click(`Q('.parley-submit')`)
		tb.wait("the posted comment", `QA('.parley-comment').length === 2 && text(Q('.parley-form-message')) === 'Your comment was published.'`)

		check := func(when string) {
			t.Helper()
			var got struct {
				Bodies, Authors []string
				Elements        int
				XSS             bool
			}
			tb.eval(&got, `({
				bodies: QA('.parley-comment-body').map(b => b.textContent).sort(),
				authors: QA('.parley-author').map(a => a.textContent).sort(),
				elements: QA('.parley-comment-body *, .parley-author *').length + W.querySelectorAll('img:not(.parley-captcha-img), script, iframe, b, i').length + document.querySelectorAll('body img, body > svg').length,
				xss: typeof window.__xss !== 'undefined'
			})`)
			want := []string{attack, seeded}
			sort.Strings(want)
			wantAuthors := []string{author, "Eve"}
			sort.Strings(wantAuthors)
			if !reflect.DeepEqual(got.Bodies, want) || !reflect.DeepEqual(got.Authors, wantAuthors) || got.Elements != 0 || got.XSS {
				t.Fatalf("%s: markup was not shown as text: %+v", when, got)
			}
		}
		check("after posting")
		tb.do(chromedp.Reload())
		tb.wait("the thread after a reload", `QA('.parley-comment').length === 2`)
		// A broken image's onerror would have fired by the time the captcha
		// image, asked for after the thread, has loaded.
		tb.click(`Q('input[name=author]')`)
		tb.wait("the captcha image", `Q('.parley-captcha-img').complete && Q('.parley-captcha-img').naturalWidth > 0`)
		check("after a reload")
		if d := tb.dialogs(); len(d) != 0 {
			t.Fatalf("dialogs opened: %q", d)
		}
		// The dialog listener works: a real alert is seen (and dismissed).
		tb.eval(nil, `setTimeout(() => alert('probe'), 0), true`)
		eventually(t, "the probe dialog", func() bool { return reflect.DeepEqual(tb.dialogs(), []string{"probe"}) })
	})

	t.Run("WrongCaptcha", func(t *testing.T) {
		base, _ := startDemo(t)
		body := "Good news for the bakers at the harbour market."
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the widget", `Q('.parley-form') && text(Q('.parley-count')) === '0 comments'`)
		tb.typeInto(`Q('input[name=author]')`, "Cy Reader")
		tb.typeInto(`Q('textarea[name=body]')`, body)
		first := tb.captchaSolution()
		wrong := []byte(first)
		for i, c := range wrong {
			wrong[i] = '0' + (c-'0'+1)%10
		}
		oldID := evalJS[string](tb, `Q('.parley-captcha-img').dataset.captchaId`)
		tb.typeInto(`Q('input[name=captcha_solution]')`, string(wrong))
		tb.click(`Q('.parley-submit')`)
		tb.wait("the error at the captcha field", `(() => {
			const err = Q('.parley-error[data-field=captcha_solution]');
			const input = Q('input[name=captcha_solution]');
			return err && text(err) === 'The digits did not match. Please try this new one.' &&
				err.closest('.parley-field--captcha_solution') !== null && err.checkVisibility() &&
				input.getAttribute('aria-invalid') === 'true' && input.getAttribute('aria-describedby').split(' ').includes(err.id) &&
				W.activeElement === input && input.value === '' &&
				Q('.parley-captcha-img').dataset.captchaId && Q('.parley-captcha-img').dataset.captchaId !== `+jsStr(oldID)+`;
		})()`)
		if n := evalJS[int](tb, `QA('.parley-comment').length`); n != 0 {
			t.Fatalf("%d comments shown after a wrong captcha", n)
		}
		// The reader types the new digits and gets through; the error goes.
		tb.typeInto(`Q('input[name=captcha_solution]')`, tb.captchaSolution())
		tb.wait("the error gone while typing", `Q('.parley-error[data-field=captcha_solution]') === null`)
		tb.click(`Q('.parley-submit')`)
		tb.wait("the published comment", `text(Q('.parley-form-message')) === 'Your comment was published.' && QA('.parley-comment').length === 1`)
	})

	t.Run("PageCSSDoesNotReachWidget", func(t *testing.T) {
		base, _ := startDemo(t)
		postComment(t, base, newReader(t, base), article, "Dee", "A comment, so that the list has an item to style.", 0)
		styles := map[string]map[string]map[string]string{}
		for _, path := range []string{"/demo/", "/demo/hostile.html"} {
			tb := newTab(t, bctx)
			tb.open(base + path)
			tb.wait("the widget on "+path, `QA('.parley-comment').length === 1 && text(Q('[data-reaction=like] .parley-num')) === '0' && `+
				countBadge(article, ".parley-comment-count")+` === '1'`)
			got := map[string]map[string]string{}
			tb.eval(&got, styleProbe)
			for name, props := range got {
				if props["visible"] != "true" {
					t.Errorf("%s: %s is not visible: %v", path, name, props)
				}
			}
			styles[path] = got
		}
		a, b := styles["/demo/"], styles["/demo/hostile.html"]
		if len(a) != len(styleTargets) {
			t.Fatalf("probed %d of %d elements on /demo/: %v", len(a), len(styleTargets), a)
		}
		for name, props := range a {
			for prop, v := range props {
				if w := b[name][prop]; w != v {
					t.Errorf("%s %s: %q on /demo/, %q under hostile CSS", name, prop, v, w)
				}
			}
		}
		// The probe is not vacuous: the hostile styles do apply to the page.
		tb := newTab(t, bctx)
		tb.open(base + "/demo/hostile.html")
		if got := evalJS[string](tb, `getComputedStyle(document.querySelector('.kicker')).fontFamily`); got != "cursive" {
			t.Errorf("the hostile page's own text has font-family %q", got)
		}
	})

	t.Run("ThreadWithReplies", func(t *testing.T) {
		base, dsn := startDemo(t)
		ids := seedThread(t, base, dsn)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		// Replies nest under their parent, in conversation order, with the
		// scores the server has.
		tb.wait("the thread", `text(Q('.parley-count')) === '5 comments' && QA('.parley-comments > .parley-comment').length === 3 && `+
			fmt.Sprintf(`QA('.parley-comment[data-id="%d"] > .parley-replies > .parley-comment').map(li => li.dataset.id).join() === '%d,%d' && `, ids[0], ids[1], ids[2])+
			fmt.Sprintf(`text(Q('.parley-comment[data-id="%d"] .parley-score')) === '4' && `, ids[0])+
			`text(Q('[data-reaction=like] .parley-num')) === '14' && text(Q('[data-reaction=dislike] .parley-num')) === '3' && `+
			countBadge(article, ".parley-comment-count")+` === '5' && `+countBadge("harbour-bridge-repairs", "[data-reaction=like] .parley-n")+` === '9'`)
		if os.Getenv("PARLEY_SCREENSHOTS") == "" {
			return
		}
		// The reader has liked the article too (and reloaded, so that the
		// story list counts it); the form shows its captcha.
		tb.click(`Q('[data-reaction=like]')`)
		eventually(t, "the server to count the like", func() bool {
			_, body := call(t, "GET", base+"/api/v1/sites/demo/articles/"+article+"/reactions", "")
			return num(body, "counts", "like") == 15
		})
		tb.do(chromedp.Reload())
		tb.wait("the thread after a reload", `QA('.parley-comment').length === 5 && text(Q('[data-reaction=like] .parley-num')) === '15' && `+
			`Q('[data-reaction=like]').getAttribute('aria-pressed') === 'true' && `+countBadge(article, "[data-reaction=like] .parley-n")+` === '15' && `+
			countBadge("tool-library-opens", "[data-reaction=like] .parley-n")+` === '4'`)
		tb.eval(nil, `Q('.parley-form').scrollIntoView({block: 'center'}), true`)
		tb.wait("the captcha image", `Q('.parley-captcha-img').complete && Q('.parley-captcha-img').naturalWidth > 0`)
		tb.eval(nil, `window.scrollTo(0, 0), document.activeElement && document.activeElement.blur(), true`)
		tb.screenshot(filepath.Join("..", "..", "docs", "demo.png"), ".discussion", 260)
	})

	// A feed entry's link (#parley-comment-ID) leads to the comment inside
	// the widget's shadow root, where the page's own anchor cannot.
	t.Run("FeedLinkShowsComment", func(t *testing.T) {
		base, dsn := startDemo(t)
		ids := seedThread(t, base, dsn)
		tb := newTab(t, bctx)
		tb.open(fmt.Sprintf("%s/demo/#parley-comment-%d", base, ids[2]))
		tb.wait("the linked reply highlighted and focused", fmt.Sprintf(
			`QA('.parley-comment--target').map(li => li.dataset.id).join() === '%d' && W.activeElement === Q('.parley-comment[data-id="%d"]')`, ids[2], ids[2]))
		tb.eval(nil, fmt.Sprintf(`window.location.hash = '#parley-comment-%d', true`, ids[0]))
		tb.wait("the highlight moved with the hash", fmt.Sprintf(`QA('.parley-comment--target').map(li => li.dataset.id).join() === '%d'`, ids[0]))
	})

	// The dashboard says when the server wrote origins differently from
	// how they were typed.
	t.Run("DashboardOriginsNormalised", func(t *testing.T) {
		base, dsn := startDemo(t)
		const email, password = "ed@news.example", "correct horse battery staple"
		if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
			t.Fatalf("moderator add: %v %s", err, out)
		}
		tb := newTab(t, bctx)
		tb.open(base + "/mod/")
		tb.typeInto(`document.querySelector('#login-email')`, email)
		tb.typeInto(`document.querySelector('#login-password')`, password)
		tb.click(`document.querySelector('#login-submit')`)
		tb.wait("the sites tab", `!document.querySelector('.view-tab[data-view=sites]').hidden`)
		tb.click(`document.querySelector('.view-tab[data-view=sites]')`)
		tb.wait("the demo site's form", `document.querySelector('#site-origins').value.includes('http://')`)
		tb.eval(nil, `document.querySelector('#site-origins').value = 'HTTPS://Blog.Example:443/\n' + document.querySelector('#site-origins').value, true`)
		tb.click(`document.querySelector('#site-save')`)
		tb.wait("the notice", `document.querySelector('#toasts').textContent.includes('origins written as browsers send them: https://blog.example, ')`)
		tb.wait("the stored form", `document.querySelector('#site-origins').value.startsWith('https://blog.example\n')`)
	})

	// An admin imports a Disqus export from the site's settings: the job's
	// progress, then its report; importing again writes nothing twice.
	t.Run("DashboardImport", func(t *testing.T) {
		base, dsn := startDemo(t)
		const email, password = "ed@news.example", "correct horse battery staple"
		if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
			t.Fatalf("moderator add: %v %s", err, out)
		}
		fixture, err := filepath.Abs(filepath.Join("internal", "imports", "testdata", "disqus", "export.xml"))
		if err != nil {
			t.Fatal(err)
		}
		tb := newTab(t, bctx)
		tb.open(base + "/mod/")
		tb.typeInto(`document.querySelector('#login-email')`, email)
		tb.typeInto(`document.querySelector('#login-password')`, password)
		tb.click(`document.querySelector('#login-submit')`)
		tb.wait("the sites tab", `!document.querySelector('.view-tab[data-view=sites]').hidden`)
		tb.click(`document.querySelector('.view-tab[data-view=sites]')`)
		tb.wait("the import form of the demo site", `!document.querySelector('#import-form').hidden && `+
			`document.querySelector('#site-export').getAttribute('href') === '/api/v1/mod/sites/demo/export'`)
		// Without a file the form says what is missing.
		tb.click(`document.querySelector('#import-start')`)
		tb.wait("the missing file", `!document.querySelector('#import-error').hidden && document.querySelector('#import-error').textContent === 'Choose the export file first.'`)

		report := func(key string) string {
			return `(() => { const r = document.querySelector('#import-report-table tr[data-key="` + key + `"] td'); return r ? r.textContent : null; })()`
		}
		upload := func(dry bool) {
			tb.do(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{fixture}))
			tb.eval(nil, `document.querySelector('#import-format').value = 'disqus', true`)
			if dry != evalJS[bool](tb, `document.querySelector('#import-dry-run').checked`) {
				tb.click(`document.querySelector('#import-dry-run')`)
			}
			tb.click(`document.querySelector('#import-start')`)
		}
		upload(true)
		tb.wait("the dry run's report", `document.querySelector('#import-status').textContent === 'Dry run done: nothing was written.' && `+
			report("Records read")+` === '8' && `+report("Comments approved")+` === '6' && `+report("Comments spam")+` === '1' && `+
			report("Repaired parents")+` === '2' && `+report("Written")+` === null`)
		if status, body := call(t, "GET", base+"/api/v1/sites/demo/articles/politique_reforme-des-retraites/comments", ""); status != 200 || num(body, "count") != 0 {
			t.Fatalf("a dry run wrote comments: %d %v", status, body)
		}

		upload(false)
		tb.wait("the import's report", `document.querySelector('#import-status').textContent === 'Import done.' && !document.querySelector('#import-start').disabled && `+
			report("Written")+` === '8' && `+report("Already imported")+` === '0' && `+report("Merged articles")+` === '1' && `+
			`document.querySelector('#import-report').textContent.includes('5006 (parent 4999): parent not found in the import')`)
		eventually(t, "the imported thread", func() bool {
			status, body := call(t, "GET", base+"/api/v1/sites/demo/articles/politique_reforme-des-retraites/comments", "")
			return status == 200 && num(body, "count") == 4
		})

		upload(false)
		tb.wait("the second import's report", `document.querySelector('#import-status').textContent === 'Import done.' && `+
			report("Written")+` === '0' && `+report("Already imported")+` === '8'`)
	})

	// A held comment's card says why, with the words the reader wrote and
	// the classifier's probability and strongest words, and marks them.
	t.Run("DashboardExplainsHolds", func(t *testing.T) {
		base, dsn := startDemo(t)
		const email, password = "ed@news.example", "correct horse battery staple"
		if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
			t.Fatalf("moderator add: %v %s", err, out)
		}
		changed := teachDemo(t, dsn)
		time.Sleep(time.Until(changed.Add(siteSettingsBound)))
		id, status := postComment(t, base, newReader(t, base), article, "Gus", "Only Idiots would cut the night buses: buy cheap pills at the casino", 0)
		if status != "pending" {
			t.Fatalf("comment with a suspect word: %s", status)
		}
		tb := newTab(t, bctx)
		tb.open(base + "/mod/")
		tb.typeInto(`document.querySelector('#login-email')`, email)
		tb.typeInto(`document.querySelector('#login-password')`, password)
		tb.click(`document.querySelector('#login-submit')`)
		card := fmt.Sprintf(`document.querySelector('.card[data-id="%d"]')`, id)
		tb.wait("the card's reasons", card+` && [...`+card+`.querySelectorAll('.chip')].map(text).join('|').includes('suspect word: Idiots (idiot*)') && `+
			`/classifier: 0\.\d\d spam, not trusted yet \(6 of 50 decisions\); words: [a-z, ]*pills/.test([...`+card+`.querySelectorAll('.chip')].map(text).join('|'))`)
		tb.wait("the marked words", `[...`+card+`.querySelectorAll('mark.hit-suspect')].map(text).join() === 'Idiots' && `+
			`[...`+card+`.querySelectorAll('mark.hit-model')].map(text).includes('pills')`)
	})

	t.Run("Dashboard", func(t *testing.T) {
		base, dsn := startDemo(t)
		const email, password = "ed@news.example", "correct horse battery staple"
		if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
			t.Fatalf("moderator add: %v %s", err, out)
		}
		changed := setModeration(t, dsn, "pre")
		time.Sleep(time.Until(changed.Add(siteSettingsBound)))
		reader := newReader(t, base)
		first, status := postComment(t, base, reader, article, "Gus", "Fourteen routes is a good start, but the northern estates need the N12 from March, not September.", 0)
		if status != "pending" {
			t.Fatalf("comment in pre mode: %s", status)
		}
		held, _ := postComment(t, base, newReader(t, base), article, "Hana", "Will there be step-free access at the new night stops?", 0)
		postComment(t, base, newReader(t, base), article, "Ivo", "BEST NEWS ALL YEAR!!!!!! FINALLY!!!!!!", 0)

		tb := newTab(t, bctx)
		tb.open(base + "/mod/")
		tb.typeInto(`document.querySelector('#login-email')`, email)
		tb.typeInto(`document.querySelector('#login-password')`, password)
		tb.click(`document.querySelector('#login-submit')`)
		tb.wait("the pending queue", fmt.Sprintf(`text(document.querySelector('.queue-tab[data-queue=pending] .count')) === '3' && `+
			`document.querySelector('.card[data-id="%d"]') && document.querySelector('.card[data-id="%d"]')`, first, held))
		// j moves down to the second card, k back up to the first.
		tb.do(chromedp.KeyEvent("j"))
		tb.wait("a selected card", `document.querySelector('.card.selected') !== null`)
		for i := 0; i < 4 && evalJS[string](tb, `document.querySelector('.card.selected').dataset.id`) != fmt.Sprint(held); i++ {
			tb.do(chromedp.KeyEvent("j"))
		}
		tb.wait("the second card selected", fmt.Sprintf(`document.querySelector('.card.selected').dataset.id === '%d'`, held))
		tb.do(chromedp.KeyEvent("k"))
		tb.wait("the first card selected", fmt.Sprintf(`document.querySelector('.card.selected').dataset.id === '%d'`, first))
		if os.Getenv("PARLEY_SCREENSHOTS") != "" {
			tb.screenshot(filepath.Join("..", "..", "docs", "dashboard.png"), "", 0)
		}
		tb.do(chromedp.KeyEvent("a"))
		tb.wait("the approved card gone from the queue", fmt.Sprintf(`text(document.querySelector('.queue-tab[data-queue=pending] .count')) === '2' && `+
			`!document.querySelector('.card[data-id="%d"][data-status=pending]')`, first))

		// A reader now finds it under the article; the other stays held.
		page := newTab(t, bctx)
		page.open(base + "/demo/")
		page.wait("the approved comment on the article", fmt.Sprintf(`text(Q('.parley-count')) === '1 comment' && `+
			`QA('.parley-comment').map(li => li.dataset.id).join() === '%d'`, first))
	})
}

// styleTargets are the widget's elements whose computed styles the hostile
// page must not change, and the properties compared.
var styleTargets = map[string]struct {
	Sel   string `json:"sel"`
	Props string `json:"props"`
}{
	"host":          {"", "display opacity font-size color text-align line-height"},
	"root":          {".parley-root", "font-family font-size color line-height letter-spacing background-color"},
	"question":      {".parley-question", "display color font-size font-weight letter-spacing text-decoration-line"},
	"like":          {"[data-reaction=like]", "display background-color color font-family font-size font-weight text-transform border-top-style border-top-width border-top-left-radius line-height padding-left"},
	"like-icon":     {"[data-reaction=like] .parley-icon", "display width height"},
	"like-count":    {"[data-reaction=like] .parley-num", "display font-weight"},
	"heading":       {".parley-count", "display font-size text-decoration-line"},
	"form":          {".parley-form", "display background-color padding-top outline-style"},
	"author":        {"input[name=author]", "display background-color color font-family font-size border-top-style border-top-color text-transform"},
	"body":          {"textarea[name=body]", "display background-color font-family font-size border-top-style"},
	"captcha-input": {"input[name=captcha_solution]", "display background-color font-size"},
	"submit":        {".parley-submit", "display background-color color font-size text-transform border-top-style"},
	"comment":       {".parley-comment", "display list-style-type outline-style padding-top"},
	"comment-body":  {".parley-comment-body", "display color font-family font-size line-height letter-spacing"},
	"time":          {".parley-time", "color font-weight"},
	"badge":         {"badge", "display font-family font-size color"},
	"badge-icon":    {"badge .parley-icon", "display width"},
}

// styleProbe collects styleTargets' computed styles, and whether each
// element is rendered with a size, on the current page.
var styleProbe = func() string {
	b, _ := json.Marshal(styleTargets)
	return `(() => {
		const targets = ` + string(b) + `;
		const badge = document.querySelector('[data-parley-mode="count"][data-parley-article="` + article + `"]').shadowRoot;
		const out = {};
		for (const [name, t] of Object.entries(targets)) {
			let el;
			if (t.sel === '') el = host;
			else if (t.sel.startsWith('badge')) el = t.sel === 'badge' ? badge.querySelector('.parley-count-line') : badge.querySelector(t.sel.slice(6));
			else el = Q(t.sel);
			if (!el) continue;
			const cs = getComputedStyle(el);
			const r = el.getBoundingClientRect();
			const props = {visible: String(r.width > 0 && r.height > 0 && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true}))};
			for (const p of t.props.split(' ')) props[p] = cs.getPropertyValue(p);
			out[name] = props;
		}
		return out;
	})()`
}()

// jsPrelude gives page scripts short names for the full widget on the page:
// host, W (its shadow root), Q and QA (queries inside it) and text.
const jsPrelude = `const host = document.querySelector('[data-parley-site]:not([data-parley-mode])');
const W = host ? host.shadowRoot : null;
const Q = sel => W ? W.querySelector(sel) : null;
const QA = sel => W ? Array.from(W.querySelectorAll(sel)) : [];
const text = el => el ? el.textContent.trim() : null;
`

func withPrelude(expr string) string {
	return "(() => {\n" + jsPrelude + "return (" + expr + ");\n})()"
}

// countBadge is a script expression for the text of one part (a
// selector) of an article's count badge.
func countBadge(key, sel string) string {
	return `(() => { const h = document.querySelector('[data-parley-mode="count"][data-parley-article="` + key + `"]'); ` +
		`const el = h && h.shadowRoot && h.shadowRoot.querySelector('` + sel + `'); return el ? el.textContent : null; })()`
}

func jsStr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// chromium finds the browser, or skips (fails in CI) without one.
func chromium(t *testing.T) string {
	name := os.Getenv("PARLEY_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required in CI: %v (set PARLEY_CHROMIUM)", err)
		}
		t.Skipf("no Chromium (%v): set PARLEY_CHROMIUM to run the browser tests", err)
	}
	return path
}

// startBrowser starts one headless Chromium for the whole test, with a
// fresh profile; every tab gets a browser context (storage) of its own.
func startBrowser(t *testing.T) context.Context {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout on this one
		t.Fatalf("start %s: %v", path, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	return ctx
}

// startDemo starts the real server on a new SQLite database with the demo
// site and the captcha test mode.
func startDemo(t *testing.T) (base, dsn string) {
	dsn = filepath.Join(t.TempDir(), "parley.db")
	return startServer(t, map[string]string{"PARLEY_DB": dsn}, "-demo", "-captcha-test"), dsn
}

// tab is one browser tab in a fresh browser context: its own localStorage.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu   sync.Mutex
	seen []string // messages of the JavaScript dialogs that opened
}

func newTab(t *testing.T, bctx context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // opens the tab; no timeout on this one
		t.Fatalf("new tab: %v", err)
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-US"}); err != nil {
		t.Fatal(err)
	}
	// Dialogs block the page: record and dismiss them.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.seen = append(tb.seen, ev.Message)
			tb.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return tb
}

func (tb *tab) dialogs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.seen...)
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url))
}

// eval runs expr (with the prelude) and decodes its value into v.
func (tb *tab) eval(v any, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](withPrelude(expr), chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", expr, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			tb.t.Fatalf("eval %s: %v in %s", expr, err, raw)
		}
	}
}

func evalJS[T any](tb *tab, expr string) T {
	tb.t.Helper()
	var v T
	tb.eval(&v, expr)
	return v
}

// wait polls cond (with the prelude) in the page until it is true.
func (tb *tab) wait(what, cond string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	start := time.Now()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](withPrelude(cond),
		chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		var state string
		dctx, dcancel := context.WithTimeout(tb.ctx, 5*time.Second)
		defer dcancel()
		state, _ = chromedp.Run(dctx, chromedp.Evaluate[string](withPrelude(`(W ? W.querySelector('.parley-root') || W : document.body).innerText.slice(0, 1500)`)))
		tb.t.Fatalf("waiting %v for %s: %v\ncondition: %s\npage: %s", time.Since(start).Round(time.Millisecond), what, err, cond, state)
	}
}

// click scrolls the element into view and clicks its middle with the
// mouse, after checking that the click lands on it and not on something
// covering it.
func (tb *tab) click(el string) {
	tb.t.Helper()
	tb.wait("an element to click: "+el, `(() => { const e = `+el+`; return e && !e.disabled && e.checkVisibility(); })()`)
	var at struct {
		X, Y float64
		Hit  bool
	}
	tb.eval(&at, `(() => {
		const e = `+el+`;
		e.scrollIntoView({block: 'center', inline: 'center'});
		const r = e.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const root = e.getRootNode();
		const hit = (root.elementFromPoint ? root.elementFromPoint(x, y) : document.elementFromPoint(x, y));
		return {x, y, hit: hit === e || e.contains(hit)};
	})()`)
	if !at.Hit {
		tb.t.Fatalf("%s is covered at (%.0f, %.0f)", el, at.X, at.Y)
	}
	tb.do(chromedp.MouseClickXY(at.X, at.Y))
}

// typeInto clicks a field and types text into it, key by key.
func (tb *tab) typeInto(el, text string) {
	tb.t.Helper()
	tb.click(el)
	tb.wait("the focus in "+el, `(() => { const e = `+el+`; const r = e.getRootNode(); return (r.activeElement || document.activeElement) === e; })()`)
	tb.do(chromedp.KeyEvent(text))
	tb.wait("the typed text in "+el, `(`+el+`).value.endsWith(`+jsStr(text)+`)`)
}

// captchaSolution waits for the form's captcha (it loads when the form is
// near the viewport or focused) and returns the digits the test mode
// exposes.
func (tb *tab) captchaSolution() string {
	tb.t.Helper()
	tb.wait("the captcha", `Q('.parley-captcha-img') && Q('.parley-captcha-img').dataset.testSolution && Q('.parley-captcha-img').complete && Q('.parley-captcha-img').naturalWidth > 0`)
	return evalJS[string](tb, `Q('.parley-captcha-img').dataset.testSolution`)
}

// fillForm fills the main comment form as a reader does.
func (tb *tab) fillForm(author, body string) {
	tb.t.Helper()
	tb.typeInto(`Q('input[name=author]')`, author)
	tb.typeInto(`Q('textarea[name=body]')`, body)
	tb.typeInto(`Q('input[name=captcha_solution]')`, tb.captchaSolution())
}

// screenshot writes the page as PNG, 1280 px wide: the whole page, or the
// element sel with `above` pixels of the page over it. For an element the
// viewport is made that tall and scrolled there, so that sticky parts of the
// page show beside it as a reader sees them.
func (tb *tab) screenshot(file, sel string, above float64) {
	tb.t.Helper()
	var clip struct{ Top, Bottom float64 }
	tb.eval(&clip, `(() => {
		const sel = `+jsStr(sel)+`;
		const r = (sel ? document.querySelector(sel) : document.documentElement).getBoundingClientRect();
		return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY};
	})()`)
	params := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, FromSurface: ptr(true)}
	if sel == "" {
		params.CaptureBeyondViewport = ptr(true)
		params.Clip = &page.Viewport{Width: 1280, Height: max(clip.Bottom, 800), Scale: 1}
	} else {
		top := max(0, clip.Top-above)
		tb.do(chromedp.EmulateViewport(1280, int64(clip.Bottom-top+24)))
		tb.eval(nil, fmt.Sprintf(`window.scrollTo(0, %f), true`, top))
		tb.eval(nil, `new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, params)
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	// Chromium encodes for speed; the copy in the repository is smaller.
	img, err := png.Decode(bytes.NewReader(shot.Data))
	if err != nil {
		tb.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		tb.t.Fatal(err)
	}
	b := img.Bounds()
	tb.t.Logf("wrote %s: %dx%d, %d KB", file, b.Dx(), b.Dy(), buf.Len()>>10)
}

func ptr[T any](v T) *T { return &v }

// eventually polls cond from Go until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// num reads a number from a decoded JSON object by path; -1 when missing.
func num(m map[string]any, path ...string) float64 {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return -1
		}
		v = o[p]
	}
	if f, ok := v.(float64); ok {
		return f
	}
	return -1
}

func newReader(t *testing.T, base string) string {
	t.Helper()
	status, body := call(t, "POST", base+"/api/v1/readers", "")
	if status != 201 {
		t.Fatalf("reader: %d %v", status, body)
	}
	return body["token"].(string)
}

func react(t *testing.T, base, token, key, reaction string) {
	t.Helper()
	status, body := call(t, "PUT", base+"/api/v1/sites/demo/articles/"+key+"/reactions/mine", `{"reaction":"`+reaction+`"}`, "X-Reader-Token", token)
	if status != 200 {
		t.Fatalf("reaction: %d %v", status, body)
	}
}

// postComment posts through the public API, as the widget does, and
// returns the new comment's id and status.
func postComment(t *testing.T, base, token, key, author, text string, parent int64) (int64, string) {
	t.Helper()
	status, captcha := call(t, "POST", base+"/api/v1/captchas", "")
	if status != 201 || captcha["test_solution"] == nil {
		t.Fatalf("captcha: %d %v", status, captcha)
	}
	in := map[string]any{"author": author, "body": text, "captcha_id": captcha["id"], "captcha_solution": captcha["test_solution"]}
	if parent != 0 {
		in["parent_id"] = parent
	}
	b, _ := json.Marshal(in)
	status, out := call(t, "POST", base+"/api/v1/sites/demo/articles/"+key+"/comments", string(b), "X-Reader-Token", token, "Content-Type", "application/json")
	if status != 201 {
		t.Fatalf("comment: %d %v", status, out)
	}
	c := out["comment"].(map[string]any)
	return int64(c["id"].(float64)), c["status"].(string)
}

// setModeration changes the demo site's moderation mode directly in the
// database the server runs on, and returns when it did.
func setModeration(t *testing.T, dsn, mode string) time.Time {
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
	st := site.Settings
	st.Moderation.Mode = mode
	if err := s.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// teachDemo gives the demo site a suspect word and teaches its classifier
// six decisions, as moderators' decisions would, so that a comment about
// pills gets the classifier's note.
func teachDemo(t *testing.T, dsn string) time.Time {
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
	for i := range 3 {
		if err := s.Learn(ctx, site.ID, moderation.Features(fmt.Sprintf("cheap pills casino bonus offer %d", i)), schema.LabelSpam, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Learn(ctx, site.ID, moderation.Features(fmt.Sprintf("the night buses timetable council %d", i)), schema.LabelHam, 1); err != nil {
			t.Fatal(err)
		}
	}
	st := site.Settings
	st.Moderation.SuspectWords = []string{"idiot*"}
	st.Moderation.ClassifierHold = 0.5
	if err := s.UpdateSiteSettings(ctx, site.ID, st, nil); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// seedThread gives the demo article a realistic discussion through the
// public API: reactions, three comments and two replies, votes, spread
// over the last hours. It returns the ids of the first comment and of its
// two replies.
func seedThread(t *testing.T, base, dsn string) [3]int64 {
	t.Helper()
	readers := make([]string, 17)
	for i := range readers {
		readers[i] = newReader(t, base)
	}
	for i, r := range readers {
		switch {
		case i < 14:
			react(t, base, r, article, "like")
		default:
			react(t, base, r, article, "dislike")
		}
		if i < 9 {
			react(t, base, r, "harbour-bridge-repairs", "like")
		}
		if i < 4 {
			react(t, base, r, "tool-library-opens", "like")
		}
	}
	type seed struct {
		author, body string
		parent       int // index into the comments so far, -1 for none
		ago          time.Duration
		votes        int
	}
	seeds := []seed{
		{"Talia B.", "As someone who finishes at 1:30 a.m. three nights a week: thank you. The walk along the ring road in January is miserable, and a taxi costs me most of an hour's pay.", -1, 3*time.Hour + 12*time.Minute, 4},
		{"Jonas Pell", "Same for my bakers. Twenty minutes between buses until two is more than we hoped for.", 0, 2*time.Hour + 40*time.Minute, 2},
		{"Mira K.", "Will the hospital stop get one of the help points? It should be on the list of the ten busiest.", 0, 97 * time.Minute, 1},
		{"Bram V.", "Happy to be proven wrong, but I would like to see the ridership numbers published every quarter, not only after a year.", -1, 54 * time.Minute, 3},
		{"Lena Ortiz", "Does anyone know whether the N12 will stop at Kestrel Row, or only on the main road?", -1, 8 * time.Minute, 0},
	}
	var ids []int64
	for i, s := range seeds {
		var parent int64
		if s.parent >= 0 {
			parent = ids[s.parent]
		}
		id, status := postComment(t, base, readers[i], article, s.author, s.body, parent)
		if status != "approved" {
			t.Fatalf("seeded comment %d: %s", i, status)
		}
		ids = append(ids, id)
		for v := 0; v < s.votes; v++ {
			status, body := call(t, "PUT", fmt.Sprintf("%s/api/v1/comments/%d/vote", base, id), `{"vote":1}`, "X-Reader-Token", readers[16-v])
			if status != 200 {
				t.Fatalf("vote: %d %v", status, body)
			}
		}
	}
	// Spread the thread over the last hours: the API stamps comments with
	// the server's clock, so move them back in the database. Nothing has
	// read the thread yet, so the server has no page of it cached.
	db, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for i, s := range seeds {
		if _, err := db.Exec(`UPDATE comments SET created_at = ? WHERE id = ?`, now.Add(-s.ago).UnixMilli(), ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
		t.Fatal(err)
	}
	return [3]int64{ids[0], ids[1], ids[2]}
}
