package main

// Browser tests of the widget's weight, versions, reaction sets, modes and
// languages, and of the dashboard's language and focus. They share the
// helpers of browser_test.go.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley/parley/moderation/mail/mailtest"
)

// mountJS adds a widget to the page, as a publisher's page would, with the
// given data-parley-* attributes; it replaces the full widget already
// there, so that the prelude's host, W and Q are the new one.
func mountJS(attrs string) string {
	return `(() => {
		const old = document.querySelector('.discussion [data-parley-site]');
		const d = document.createElement('div');
		Object.assign(d.dataset, ` + attrs + `);
		old.replaceWith(d);
		return true;
	})()`
}

func TestBrowserWidget(t *testing.T) {
	bctx := startBrowser(t)

	t.Run("CompressedAndPinned", func(t *testing.T) {
		base, _ := startDemo(t)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the widget", `text(Q('.parley-question')) === 'Do you like this article?'`)
		// What went over the wire: compressed, and within the budget.
		var size struct{ Encoded, Decoded float64 }
		tb.eval(&size, `(() => { const e = performance.getEntriesByType('resource').find(e => new URL(e.name).pathname === '/embed.js');
			return {encoded: e.encodedBodySize, decoded: e.decodedBodySize}; })()`)
		t.Logf("embed.js on the wire: %.0f bytes, %.0f unpacked", size.Encoded, size.Decoded)
		if size.Encoded <= 0 || size.Encoded > 20<<10 || size.Decoded < 2*size.Encoded {
			t.Fatalf("embed.js: %.0f bytes on the wire for %.0f", size.Encoded, size.Decoded)
		}
		// The pinned form runs with its integrity hash; a wrong hash is refused.
		_, m := call(t, "GET", base+"/embed.json", "")
		src, integrity := m["src"].(string), m["integrity"].(string)
		load := func(integrity string) string {
			return `new Promise(done => { const s = document.createElement('script'); s.src = ` + jsStr(base+src) + `;
				s.integrity = ` + jsStr(integrity) + `; s.crossOrigin = 'anonymous';
				s.onload = () => done('loaded'); s.onerror = () => done('refused'); document.head.append(s); })`
		}
		if got := evalJS[string](tb, load(integrity)); got != "loaded" {
			t.Fatalf("the pinned widget with its integrity: %s", got)
		}
		if got := evalJS[string](tb, load("sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); got != "refused" {
			t.Fatalf("the pinned widget with a wrong integrity: %s", got)
		}
	})

	t.Run("CaptchaPlaceholder", func(t *testing.T) {
		// Far from the form the captcha is not fetched yet: its box holds
		// the place, the size of the image, with no broken image in it.
		base, _ := startDemo(t)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the placeholder", `(() => { const b = Q('.parley-captcha-box'); if (!b) return false; const r = b.getBoundingClientRect();
			return Math.round(r.width) === 240 && Math.round(r.height) === 80 && Q('.parley-captcha-img').hidden && !Q('.parley-captcha-img').getAttribute('src'); })()`)
		tb.eval(nil, `(Q('.parley-form').scrollIntoView({block: 'center'}), true)`)
		tb.wait("the image in the same box", `(() => { const i = Q('.parley-captcha-img'); const r = i.getBoundingClientRect();
			return !i.hidden && i.complete && i.naturalWidth > 0 && Math.round(r.width) === 238 && Math.round(r.height) === 78; })()`)
	})

	t.Run("EmailMeReplies", func(t *testing.T) {
		// Without -smtp-url there is no box, even with an address.
		base, _ := startDemo(t)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the loaded thread", `text(Q('.parley-count')) === '0 comments'`)
		tb.typeInto(`Q('input[name=email]')`, "ann@example.org")
		if evalJS[bool](tb, `!Q('.parley-notify').hidden`) {
			t.Fatal("the box is offered by a server that sends no email")
		}

		// With it, the box appears once an address is typed, and ticking
		// it subscribes: the confirmation email arrives.
		smtp := mailtest.Start(t)
		base = startServer(t, map[string]string{"PARLEY_DB": filepath.Join(t.TempDir(), "parley.db")}, "-demo", "-captcha-test",
			"-smtp-url", smtp.URL, "-mail-from", "comments@news.example")
		tb = newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the loaded thread", `text(Q('.parley-count')) === '0 comments'`)
		if evalJS[bool](tb, `!Q('.parley-notify').hidden`) {
			t.Fatal("the box is offered before an address is typed")
		}
		tb.typeInto(`Q('input[name=email]')`, "ann@example.org")
		tb.wait("the box", `!Q('.parley-notify').hidden && text(Q('.parley-notify label')) === 'Email me replies'`)
		tb.click(`Q('input[name=notify_replies]')`)
		tb.fillForm("Ann Reader", "Tell me when someone answers.")
		tb.click(`Q('.parley-submit')`)
		tb.wait("the message", `text(Q('.parley-form-message')).startsWith('Your comment was published. Check your inbox')`)
		got := smtp.Wait(t, 1, 10*time.Second)
		if got[0].To[0] != "ann@example.org" || !strings.Contains(got[0].Subject, "Confirm") || !strings.Contains(got[0].Text, "/api/v1/mail/confirm/") {
			t.Fatalf("confirmation: %+v", got[0])
		}
	})

	t.Run("EmojiReactions", func(t *testing.T) {
		base, _ := startDemo(t)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		const E = `document.querySelector('[data-parley-site="demo-emoji"]').shadowRoot`
		tb.wait("three emoji reactions in the site's order", `(() => { const r = `+E+`;
			const b = Array.from(r.querySelectorAll('.parley-react'));
			return b.map(x => x.dataset.reaction + ':' + text(x.querySelector('.parley-emoji')) + ':' + text(x.querySelector('.parley-btn-label')) + ':' + text(x.querySelector('.parley-num'))).join(' ') ===
				'love:❤️:Love:0 funny:😂:Funny:0 wow:😮:Wow:0' && text(r.querySelector('.parley-question')) === 'How do you feel about it?'
				&& !r.querySelector('.parley-discussion'); })()`)
		tb.click(E + `.querySelector('[data-reaction=funny]')`)
		tb.wait("funny pressed and counted", E+`.querySelector('[data-reaction=funny]').getAttribute('aria-pressed') === 'true' && text(`+E+`.querySelector('[data-reaction=funny] .parley-num')) === '1'`)
		eventually(t, "the server to count it", func() bool {
			_, body := call(t, "GET", base+"/api/v1/sites/demo-emoji/articles/tool-library-opens/reactions", "")
			return num(body, "counts", "funny") == 1
		})
		tb.do(chromedp.Reload())
		tb.wait("funny pressed after a reload", E+` && `+E+`.querySelector('[data-reaction=funny]') && `+E+`.querySelector('[data-reaction=funny]').getAttribute('aria-pressed') === 'true'`)
	})

	t.Run("TwoPlacementsInStep", func(t *testing.T) {
		base, _ := startDemo(t)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		const R = `document.querySelector('.quick-react').shadowRoot`
		tb.wait("both placements", `!!Q('[data-reaction=like]') && !!`+R+`.querySelector('[data-reaction=like]') && !`+R+`.querySelector('.parley-discussion')`)
		tb.click(R + `.querySelector('[data-reaction=like]')`)
		// At once, before the server answers: the other placement and the
		// story list's badge.
		tb.wait("the like in the other placement", `Q('[data-reaction=like]').getAttribute('aria-pressed') === 'true' && text(Q('[data-reaction=like] .parley-num')) === '1' && `+
			countBadge(article, "[data-reaction=like] .parley-n")+` === '1'`)
		tb.click(`Q('[data-reaction=dislike]')`)
		tb.wait("the change in the first placement", R+`.querySelector('[data-reaction=dislike]').getAttribute('aria-pressed') === 'true' && `+
			R+`.querySelector('[data-reaction=like]').getAttribute('aria-pressed') === 'false'`)
		// One reader for both: the server has one reaction, this reader's.
		token := evalJS[string](tb, `localStorage.getItem('parley:reader')`)
		eventually(t, "the server to have one dislike by this reader", func() bool {
			_, body := call(t, "GET", base+"/api/v1/sites/demo/articles/"+article+"/reactions", "", "X-Reader-Token", token)
			return body["mine"] == "dislike" && num(body, "total") == 1
		})
	})

	t.Run("French", func(t *testing.T) {
		base, _ := startDemo(t)
		for _, who := range []string{"Léa", "Marc"} {
			postComment(t, base, newReader(t, base), article, who, "Enfin des bus de nuit, dit "+who+".", 0)
		}
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the English widget", `text(Q('.parley-question')) === 'Do you like this article?'`)
		tb.eval(nil, mountJS(`{parleySite: 'demo', parleyArticle: '`+article+`', parleyLang: 'fr'}`))
		tb.wait("the French widget", `text(Q('.parley-question')) === 'Cet article vous a-t-il plu ?' && `+
			`text(Q('[data-reaction=like] .parley-btn-label')) === 'J’aime' && text(Q('.parley-count')) === '2 commentaires' && `+
			`text(Q('.parley-submit')) === 'Publier le commentaire' && Q('.parley-root').lang === 'fr' && `+
			`[[0, 'second'], [-1, 'minute']].some(([n, u]) => text(Q('.parley-time')) === new Intl.RelativeTimeFormat('fr', {numeric: 'auto'}).format(n, u))`)
		// A page's own text still wins.
		tb.eval(nil, mountJS(`{parleySite: 'demo', parleyArticle: 'empty-one', parleyLang: 'fr', parleyTextQuestion: 'Votre avis ?'}`))
		tb.wait("the override and the singular", `text(Q('.parley-question')) === 'Votre avis ?' && text(Q('.parley-count')) === '0 commentaire'`)
	})

	t.Run("ArabicRightToLeft", func(t *testing.T) {
		base, _ := startDemo(t)
		for _, who := range []string{"Sami", "Lina", "Omar"} {
			postComment(t, base, newReader(t, base), article, who, "خبر رائع للمدينة، يقول "+who+".", 0)
		}
		tb := newTab(t, bctx)
		tb.do(chromedp.EmulateViewport(375, 800))
		tb.open(base + "/demo/")
		tb.wait("the English widget", `text(Q('.parley-question')) === 'Do you like this article?'`)
		// The page's <html lang> picks the language.
		tb.eval(nil, `(document.documentElement.lang = 'ar', true)`)
		tb.eval(nil, mountJS(`{parleySite: 'demo', parleyArticle: '`+article+`'}`))
		tb.wait("the Arabic widget", `text(Q('.parley-question')) === 'هل أعجبك هذا المقال؟' && `+
			`text(Q('.parley-count')) === new Intl.NumberFormat('ar').format(3) + ' تعليقات' && QA('.parley-comment').length === 3 && `+
			`Q('.parley-root').dir === 'rtl' && getComputedStyle(Q('.parley-root')).direction === 'rtl'`)
		tb.eval(nil, `(Q('.parley-form').scrollIntoView(), true)`)
		tb.wait("the captcha", `Q('.parley-captcha-img').complete && Q('.parley-captcha-img').naturalWidth > 0 && !Q('.parley-captcha-img').hidden`)
		var layout struct {
			PageWidth, RootWidth, RootScroll, QuestionRight, RootRight, FormRight float64
			Overflowing                                                           []string
		}
		// The action links reach 6 px past the edge on purpose (their text
		// lines up with the comment's), in both directions: 8 px of slack.
		tb.eval(&layout, `(() => {
			const root = Q('.parley-root').getBoundingClientRect();
			const over = QA('.parley-root *').filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.left < root.left - 8 || r.right > root.right + 8); })
				.map(e => e.className || e.tagName);
			return {pageWidth: document.documentElement.scrollWidth, rootWidth: Q('.parley-root').clientWidth, rootScroll: Q('.parley-root').scrollWidth,
				questionRight: Q('.parley-question').getBoundingClientRect().right, rootRight: root.right,
				formRight: Q('.parley-form-title').getBoundingClientRect().right, overflowing: over};
		})()`)
		if layout.PageWidth > 375 || layout.RootScroll > layout.RootWidth || len(layout.Overflowing) > 0 {
			t.Fatalf("overflow at 375 px: %+v", layout)
		}
		// Right to left: texts start at the right edge.
		if layout.RootRight-layout.QuestionRight > 2 || layout.RootRight-layout.FormRight > 40 {
			t.Fatalf("not laid out right to left: %+v", layout)
		}
		if os.Getenv("PARLEY_SCREENSHOTS") != "" {
			tb.eval(nil, `(window.scrollTo(0, 0), document.activeElement && document.activeElement.blur(), true)`)
			tb.screenshot(filepath.Join("..", "..", "docs", "widget-ar.png"), ".discussion", 0)
		}
	})

	t.Run("FrenchScreenshot", func(t *testing.T) {
		if os.Getenv("PARLEY_SCREENSHOTS") == "" {
			t.Skip("PARLEY_SCREENSHOTS is not set")
		}
		base, dsn := startDemo(t)
		seedThread(t, base, dsn)
		tb := newTab(t, bctx)
		tb.open(base + "/demo/")
		tb.wait("the English widget", `QA('.parley-comment').length === 5`)
		tb.eval(nil, mountJS(`{parleySite: 'demo', parleyArticle: '`+article+`', parleyLang: 'fr'}`))
		tb.wait("the French thread", `text(Q('.parley-count')) === '5 commentaires' && QA('.parley-comment').length === 5`)
		tb.eval(nil, `(Q('.parley-form').scrollIntoView({block: 'center'}), true)`)
		tb.wait("the captcha image", `Q('.parley-captcha-img').complete && Q('.parley-captcha-img').naturalWidth > 0`)
		tb.eval(nil, `(window.scrollTo(0, 0), document.activeElement && document.activeElement.blur(), true)`)
		tb.screenshot(filepath.Join("..", "..", "docs", "widget-fr.png"), ".discussion", 0)
	})
}

// A moderator whose browser prefers French gets the dashboard in French;
// the first card of the queue has the focus.
func TestBrowserDashboardFrench(t *testing.T) {
	bctx := startBrowser(t)
	base, dsn := startDemo(t)
	const email, password = "lea@news.example", "cheval correct agrafe"
	if out, err := runCmd(t, password+"\n", "moderator", "add", "-email", email, "-role", "admin", "-db", dsn); err != nil {
		t.Fatalf("moderator add: %v %s", err, out)
	}
	tb := newTab(t, bctx)
	tb.open(base + "/mod/")
	tb.eval(nil, `(localStorage.setItem('parley-mod:lang', 'fr'), true)`)
	tb.do(chromedp.Reload())
	tb.wait("the French sign-in", `document.documentElement.lang === 'fr' && document.querySelector('#login-submit').textContent.trim() === 'Se connecter'`)
	changed := setModeration(t, dsn, "pre")
	time.Sleep(time.Until(changed.Add(siteSettingsBound)))
	first, _ := postComment(t, base, newReader(t, base), article, "Gus", "Quatorze lignes, c'est un bon début.", 0)
	second, _ := postComment(t, base, newReader(t, base), article, "Hana", "Approve", 0)
	tb.typeInto(`document.querySelector('#login-email')`, email)
	tb.typeInto(`document.querySelector('#login-password')`, password)
	tb.click(`document.querySelector('#login-submit')`)
	tb.wait("the French queue with the first card focused", fmt.Sprintf(`document.querySelector('.queue-tab[data-queue=pending]').firstChild.textContent.trim() === 'En attente' && `+
		`document.querySelector('.card[data-id="%d"] [data-action=approve]')?.firstChild?.textContent === 'Approuver' && `+
		`document.activeElement === document.querySelector('.card[data-id="%d"]') && document.activeElement.classList.contains('selected')`, first, first))
	// A comment that reads like a text of the dashboard stays as written.
	if got := evalJS[string](tb, fmt.Sprintf(`document.querySelector('.card[data-id="%d"] .card-body').textContent`, second)); got != "Approve" {
		t.Fatalf("a comment's text translated: %q", got)
	}
	if os.Getenv("PARLEY_SCREENSHOTS") != "" {
		tb.screenshot(filepath.Join("..", "..", "docs", "dashboard-fr.png"), "", 0)
	}
	// j goes to the second card: the first was the one in focus.
	tb.do(chromedp.KeyEvent("j"))
	tb.wait("the second card", fmt.Sprintf(`document.activeElement === document.querySelector('.card[data-id="%d"]')`, second))
	// No console errors on a fresh, signed-out dashboard.
	fresh := newTab(t, bctx)
	fresh.open(base + "/mod/")
	fresh.wait("the sign-in", `!document.querySelector('#login').hidden && performance.getEntriesByType('resource').every(e => !e.name.includes('/api/v1/mod/session'))`)
}
