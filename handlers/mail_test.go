package handlers_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/moderation/mail/mailtest"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// mailEnv is a server with email on, sending to a real SMTP server on
// loopback. The mail worker does not run by itself: work() does one round,
// so that every test sees exactly what a round sends.
type mailEnv struct {
	*env
	mailer *mail.Mailer
	smtp   *mailtest.Server
}

const mailPublicURL = "https://comments.news.example"

func newMailEnv(t *testing.T, d schema.Dialect) *mailEnv {
	t.Helper()
	store := schematest.Open(t, d)
	smtp := mailtest.Start(t)
	mailer, err := mail.New(store, mail.Config{SMTPURL: smtp.URL, From: "News comments <comments@news.example>",
		PublicURL: mailPublicURL, Retries: []time.Duration{time.Millisecond, time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, store, func(c *envConfig) { c.Mail = mailer; c.Limits = noLimits() })
	e.relaxPosting()
	return &mailEnv{env: e, mailer: mailer, smtp: smtp}
}

func (m *mailEnv) work() { m.mailer.RunOnce(context.Background()) }

// linkPath finds the first link of the kind (confirm, unsubscribe) in a
// text and returns its path on the test server.
func linkPath(t *testing.T, text, kind string) string {
	t.Helper()
	raw := regexp.MustCompile(regexp.QuoteMeta(mailPublicURL) + `/api/v1/mail/` + kind + `/[A-Za-z0-9_-]+`).FindString(text)
	if raw == "" {
		t.Fatalf("no %s link in %q", kind, text)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func (m *mailEnv) reply(parent int64, author, body string) int64 {
	m.t.Helper()
	r := m.post("a-1", map[string]any{"parent_id": parent, "author": author, "body": body, "email": strings.ToLower(author) + "@example.org"})
	if r.Status != 201 {
		m.t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	return commentID(r)
}

// TestReplyNotifications follows a reader from "email me replies" to the
// unsubscribe button: a confirmation first and nothing else before it is
// followed, then replies as digests (one email per thread per interval,
// replies meanwhile collected), held replies once approved and rejected
// ones never, and one-click unsubscription without a session.
func TestReplyNotifications(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newMailEnv(t, d)
		clock := e.clock()
		ctx := context.Background()
		const alice = "alice@example.org"

		r := e.post("a-1", map[string]any{"author": "Alice", "email": alice, "notify_replies": true, "body": "Alice's first point."})
		if r.Status != 201 || r.JSON["subscription"] != "confirm_sent" {
			t.Fatalf("post with notify_replies: %d %s", r.Status, r.Body)
		}
		top := commentID(r)
		// Asking again while the confirmation waits sends no second one.
		r = e.post("a-1", map[string]any{"author": "Alice", "email": alice, "notify_replies": true, "body": "Alice again."})
		if r.JSON["subscription"] != "confirm_pending" {
			t.Fatalf("second ask: %s", r.Body)
		}
		e.work()
		got := e.smtp.To(alice)
		if len(got) != 1 || !strings.Contains(got[0].Subject, "Confirm") || got[0].Text == "" || got[0].HTML == "" {
			t.Fatalf("want one confirmation with text and HTML, got %+v", got)
		}
		confirm := linkPath(t, got[0].Text, "confirm")
		if linkPath(t, got[0].HTML, "confirm") != confirm {
			t.Fatal("the HTML part links elsewhere than the text part")
		}

		// Not confirmed: a reply sends nothing.
		e.reply(top, "Bob", "Bob disagrees, before the confirmation.")
		clock.advance(time.Hour)
		e.work()
		if n := len(e.smtp.To(alice)); n != 1 {
			t.Fatalf("%d emails to alice before she confirmed, want only the confirmation", n)
		}

		// Opening the link only shows a button; the POST confirms, once.
		page := e.do("GET", confirm, nil, "Accept", "text/html")
		if page.Status != 200 || !strings.Contains(string(page.Body), "<form method=\"post\">") {
			t.Fatalf("confirm page: %d %s", page.Status, page.Body)
		}
		if r := e.do("POST", confirm, nil); r.Status != 200 || r.JSON["confirmed"] != true {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", confirm, nil); r.Status != 404 {
			t.Fatalf("confirm twice: %d %s", r.Status, r.Body)
		}

		// Confirmed: a reply arrives, with the RFC 8058 headers.
		e.reply(top, "Carol", "Carol <agrees> & adds a point.")
		e.work()
		got = e.smtp.To(alice)
		if len(got) != 2 {
			t.Fatalf("%d emails to alice after a reply, want 2", len(got))
		}
		digest := got[1]
		unsubscribe := linkPath(t, digest.Text, "unsubscribe")
		if h := digest.Header.Get("List-Unsubscribe"); h != "<"+mailPublicURL+unsubscribe+">" {
			t.Fatalf("List-Unsubscribe %q, want the link %s", h, unsubscribe)
		}
		if h := digest.Header.Get("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe-Post %q", h)
		}
		if !strings.Contains(digest.Text, "Carol <agrees> & adds a point.") || !strings.Contains(digest.HTML, "Carol &lt;agrees&gt; &amp; adds a point.") ||
			!strings.Contains(digest.Text, "> Alice's first point.") {
			t.Fatalf("digest texts:\n%s\n%s", digest.Text, digest.HTML)
		}
		if strings.Contains(digest.Text, "Bob disagrees") {
			t.Fatal("a reply published before the confirmation was sent")
		}
		if digest.Header.Get("Message-Id") == "" || !strings.Contains(digest.Subject, "A new reply") {
			t.Fatalf("headers: %v", digest.Header)
		}

		// Within the interval (30 minutes), replies wait and go together.
		e.reply(top, "Dave", "Dave's reply.")
		e.reply(top, "Erin", "Erin's reply.")
		clock.advance(10 * time.Minute)
		e.work()
		if n := len(e.smtp.To(alice)); n != 2 {
			t.Fatalf("%d emails to alice within the interval, want still 2", n)
		}
		clock.advance(21 * time.Minute)
		e.work()
		got = e.smtp.To(alice)
		if len(got) != 3 || !strings.Contains(got[2].Subject, "2 new replies") ||
			!strings.Contains(got[2].Text, "Dave's reply.") || !strings.Contains(got[2].Text, "Erin's reply.") {
			t.Fatalf("want one digest of Dave's and Erin's replies, got %d: %+v", len(got), got[len(got)-1])
		}

		// A held reply tells nothing until approved; a rejected one never.
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "pre" })
		held := e.reply(top, "Frank", "Frank's held reply.")
		rejected := e.reply(top, "Gina", "Gina's rejected reply.")
		clock.advance(time.Hour)
		e.work()
		if n := len(e.smtp.To(alice)); n != 3 {
			t.Fatalf("a held reply was announced: %d emails", n)
		}
		mod := e.moderator("ed@news.example", schema.RoleAdmin)
		mod.must(200, "POST", "/api/v1/mod/comments/"+itoa(held)+"/decision", map[string]any{"action": "approve"})
		mod.must(200, "POST", "/api/v1/mod/comments/"+itoa(rejected)+"/decision", map[string]any{"action": "reject"})
		e.work()
		got = e.smtp.To(alice)
		if len(got) != 4 || !strings.Contains(got[3].Text, "Frank's held reply.") || strings.Contains(got[3].Text, "Gina") {
			t.Fatalf("after approving one and rejecting the other: %d emails, last %q", len(got), got[len(got)-1].Text)
		}

		// The link opened in a browser only shows a button.
		page = e.do("GET", unsubscribe, nil, "Accept", "text/html")
		if page.Status != 200 || !strings.Contains(string(page.Body), "Stop them</button>") || page.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("unsubscribe page: %d %s", page.Status, page.Body)
		}
		if r := e.do("GET", unsubscribe, nil); r.Status != 200 || r.JSON["unsubscribed"] != false {
			t.Fatalf("unsubscribe link as JSON: %d %s", r.Status, r.Body)
		}
		// One click in the mail client: a POST without session, cookie or
		// CSRF token, with RFC 8058's body.
		r = e.do("POST", unsubscribe, "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded")
		if r.Status != 200 || r.JSON["unsubscribed"] != true {
			t.Fatalf("one-click unsubscribe: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", unsubscribe, "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded"); r.Status != 404 {
			t.Fatalf("unsubscribe twice: %d", r.Status)
		}
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "post" })
		e.reply(top, "Hugo", "Hugo's reply after the unsubscription.")
		clock.advance(time.Hour)
		e.work()
		if n := len(e.smtp.To(alice)); n != 4 {
			t.Fatalf("%d emails after unsubscribing, want still 4", n)
		}
		if subs, _ := e.store.SubscriptionsByEmailHash(ctx, moderation.EmailHash(testSecret, alice)); len(subs) != 0 {
			t.Fatalf("subscription kept after unsubscribing: %+v", subs)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestEmailOff: without -smtp-url the widget is told not to offer reply
// notifications, the API refuses them in the contract's shape, and the
// dashboard is told email is off.
func TestEmailOff(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		r := e.post("a-1", map[string]any{"email": "a@example.org", "notify_replies": true})
		if r.Status != 422 || !strings.Contains(r.field("notify_replies"), "-smtp-url") {
			t.Fatalf("notify_replies without email: %d %s", r.Status, r.Body)
		}
		if r := list(e, "a-1", ""); r.JSON["email_notifications"] != false {
			t.Fatalf("thread: %s", r.Body)
		}
		mod := e.moderator("ed@news.example", schema.RoleAdmin)
		if r := mod.must(200, "GET", "/api/v1/mod/session", nil); r.JSON["email"] != false {
			t.Fatalf("session: %s", r.Body)
		}
		if r := mod.do("PUT", "/api/v1/mod/digest", map[string]any{"every_minutes": 60}); r.Status != 422 || r.field("every_minutes") == "" {
			t.Fatalf("digest without email: %d %s", r.Status, r.Body)
		}
		mod.must(200, "PUT", "/api/v1/mod/digest", map[string]any{"every_minutes": 0})
	})
}

// TestSubscriptionRequests: what the API answers around notify_replies,
// and the bound on confirmations one address can be sent.
func TestSubscriptionRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newMailEnv(t, d)
		if r := e.post("a-1", map[string]any{"notify_replies": true}); r.Status != 422 || r.field("email") == "" {
			t.Fatalf("notify_replies without an email: %d %s", r.Status, r.Body)
		}
		if r := list(e.env, "a-1", ""); r.JSON["email_notifications"] != true {
			t.Fatalf("thread: %s", r.Body)
		}
		// A stranger using someone's address: three confirmations a day at
		// most, whatever the number of articles.
		for i, want := range []string{"confirm_sent", "confirm_sent", "confirm_sent", "confirm_limited"} {
			r := e.post("art-"+itoa(int64(i)), map[string]any{"email": "victim@example.org", "notify_replies": true, "lang": "fr"})
			if r.Status != 201 || r.JSON["subscription"] != want {
				t.Fatalf("ask %d: %d %s, want %s", i, r.Status, r.Body, want)
			}
		}
		e.work()
		got := e.smtp.To("victim@example.org")
		if len(got) != 3 || !strings.Contains(got[0].Subject, "Confirmation") {
			t.Fatalf("%d confirmations (want 3, in French): %+v", len(got), got)
		}
		// The link's page speaks the subscription's language; a page for
		// a link that does not exist answers 404 in the contract's shape
		// or as a page.
		confirm := linkPath(t, got[0].Text, "confirm")
		if r := e.do("GET", confirm, nil, "Accept", "text/html"); r.Status != 200 || !strings.Contains(string(r.Body), "Oui, m’envoyer les réponses") {
			t.Fatalf("French page: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", confirm, nil); r.Status != 200 || r.JSON["confirmed"] != false {
			t.Fatalf("JSON: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/v1/mail/unsubscribe/nope", nil); r.Status != 404 || r.errCode() != "not_found" {
			t.Fatalf("unknown link: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/mail/confirm/nope", nil, "Accept", "text/html"); r.Status != 404 || !strings.Contains(string(r.Body), "Nothing to do") {
			t.Fatalf("unknown link page: %d %s", r.Status, r.Body)
		}
		// The button of the page confirms; after that, posting with the box
		// ticked answers active.
		if r := e.do("POST", confirm, nil, "Accept", "text/html"); r.Status != 200 || !strings.Contains(string(r.Body), "Confirmé") {
			t.Fatalf("confirm from the page: %d %s", r.Status, r.Body)
		}
		if r := e.post("art-0", map[string]any{"email": "victim@example.org", "notify_replies": true}); r.JSON["subscription"] != "active" {
			t.Fatalf("after confirming: %s", r.Body)
		}
		mod := e.moderator("ed@news.example", schema.RoleModerator)
		if r := mod.must(200, "GET", "/api/v1/mod/session", nil); r.JSON["email"] != true {
			t.Fatalf("session: %s", r.Body)
		}
		mod.must(200, "PUT", "/api/v1/mod/digest", map[string]any{"every_minutes": 60})
		if r := mod.must(200, "GET", "/api/v1/mod/digest", nil); num(r.JSON["every_minutes"]) != 60 {
			t.Fatalf("digest: %s", r.Body)
		}
		if r := mod.do("PUT", "/api/v1/mod/digest", map[string]any{"every_minutes": -1}); r.Status != 422 {
			t.Fatalf("negative digest: %d", r.Status)
		}
		if _, body := e.metrics(); !strings.Contains(body, "parley_mail_sent_total") || !strings.Contains(body, "parley_mail_queue_depth 0") {
			t.Fatalf("metrics lack the mail: %s", body)
		}
	})
}

// The EU DSA's emails go out over SMTP like every other: the notifier's
// receipt and decision, the author's statement of reasons with its appeal
// link, and the appeal's receipt and outcome, each a real message with a
// text and an HTML part.
func TestDSAMailOverSMTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newMailEnv(t, d)
		alice := e.moderator("alice@news.example", schema.RoleModerator, e.site.ID)
		bob := e.moderator("bob@news.example", schema.RoleModerator, e.site.ID)
		const author, notifier = "author@example.com", "nora@example.com"
		id, _ := e.comment(post{Body: "an awful comment", Email: author})

		r := e.do("POST", "/api/v1/comments/"+strconv.FormatInt(id, 10)+"/notices", notice(notifier), "X-Reader-Token", e.readerToken())
		if r.Status != 201 {
			t.Fatalf("notice: %d %s", r.Status, r.Body)
		}
		notice := int64(num(r.JSON["notice"].(map[string]any)["id"]))
		alice.must(200, "POST", "/api/v1/mod/notices/"+strconv.FormatInt(notice, 10)+"/decision",
			map[string]any{"action": "remove", "ground": e.site.Settings.TermsGrounds[4], "reason": "incitement to hatred"})
		e.work()

		var receipt, decision, statement mailtest.Message
		toNotifier := e.smtp.To(notifier)
		if len(toNotifier) != 2 {
			t.Fatalf("%d messages to the notifier, want the receipt and the decision", len(toNotifier))
		}
		for _, msg := range toNotifier {
			if strings.Contains(msg.Text, "the comment was removed") {
				decision = msg
			} else {
				receipt = msg
			}
		}
		mustContain(t, "receipt", receipt.Subject, "#"+strconv.FormatInt(notice, 10))
		mustContain(t, "receipt", receipt.Text, "Nora Notifier", "Illegal or harmful speech")
		if receipt.HTML == "" || receipt.Header.Get("Message-Id") == "" {
			t.Errorf("receipt lacks an HTML part or a Message-Id: %+v", receipt.Header)
		}
		mustContain(t, "decision", decision.Text, "incitement to hatred", "Article 21")
		if msgs := e.smtp.To(author); len(msgs) != 1 {
			t.Fatalf("%d messages to the author, want the statement", len(msgs))
		} else {
			statement = msgs[0]
		}
		mustContain(t, "statement", statement.Text, "Article 17", "an awful comment", e.site.Settings.TermsGrounds[4])
		token := appealToken(t, schema.Mail{Text: statement.Text, HTML: statement.HTML})

		r = e.do("POST", "/api/v1/appeals/"+token, map[string]string{"explanation": "It quoted a politician, it did not incite anything."})
		if r.Status != 201 {
			t.Fatalf("appeal: %d %s", r.Status, r.Body)
		}
		appeal := strconv.FormatInt(int64(num(r.JSON["appeal"].(map[string]any)["id"])), 10)
		bob.must(200, "POST", "/api/v1/mod/appeals/"+appeal+"/decision", map[string]any{"outcome": "reverse", "reason": "a quotation"})
		e.work()
		msgs := e.smtp.To(author)
		if len(msgs) != 3 {
			t.Fatalf("%d messages to the author, want the statement, the appeal's receipt and its outcome", len(msgs))
		}
		var outcome bool
		for _, msg := range msgs[1:] {
			if strings.Contains(msg.Text, "a quotation") {
				outcome = true
			}
		}
		if !outcome {
			t.Fatalf("no appeal outcome among %+v", msgs[1:])
		}
		if s := e.status(id); s != schema.StatusApproved {
			t.Fatalf("comment after the reversal: %s", s)
		}
	})
}
