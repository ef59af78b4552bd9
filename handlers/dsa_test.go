package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// mails returns the mail of kind queued for the test site.
func (e *env) mails(kind string) []schema.Mail {
	e.t.Helper()
	ms, err := e.store.QueuedMail(context.Background(), e.site.ID, kind)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// oneMail returns the only mail of kind to to, failing otherwise.
func (e *env) oneMail(kind, to string) schema.Mail {
	e.t.Helper()
	var found []schema.Mail
	for _, m := range e.mails(kind) {
		if m.To == to {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("%d %s mails to %s, want 1: %+v", len(found), kind, to, e.mails(""))
	}
	return found[0]
}

func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

var appealLink = regexp.MustCompile(`/appeal/#([A-Za-z0-9_-]+)`)

// appealToken is the token of the appeal link in a statement of reasons.
func appealToken(t *testing.T, m schema.Mail) string {
	t.Helper()
	g := appealLink.FindStringSubmatch(m.Text)
	if g == nil {
		t.Fatalf("no appeal link in:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "/appeal/#"+g[1]) {
		t.Errorf("the HTML part lacks the appeal link:\n%s", m.HTML)
	}
	return g[1]
}

func notice(email string) map[string]any {
	return map[string]any{"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		"explanation": "This comment incites hatred against a group, which the law forbids.",
		"name":        "Nora Notifier", "email": email, "good_faith": true}
}

// A notice of illegal content: receipt, the queue with trusted flaggers
// first, removal with a statement to the author and the decision to the
// notifier; bad notices get field errors.
func TestNoticesOfIllegalContent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		id, st := e.comment(post{Body: "an awful comment", Email: "author@example.com"})
		other, _ := e.comment(post{Body: "another comment", Email: "second@example.com"})
		if st != "approved" {
			t.Fatalf("status %s", st)
		}
		reader := e.readerToken()
		path := fmt.Sprintf("/api/v1/comments/%d/notices", id)

		// Field errors, and no reader token.
		bad := notice("nora@example.com")
		bad["good_faith"], bad["category"], bad["email"] = false, "spam", "not an email"
		r := e.do("POST", path, bad, "X-Reader-Token", reader)
		if r.Status != 422 || r.field("good_faith") == "" || r.field("category") == "" || r.field("email") == "" {
			t.Fatalf("bad notice: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", path, notice("nora@example.com")); r.Status != 401 {
			t.Fatalf("without a reader token: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/comments/999999/notices", notice("nora@example.com"), "X-Reader-Token", reader); r.Status != 404 {
			t.Fatalf("unknown comment: %d %s", r.Status, r.Body)
		}

		r = e.do("POST", path, notice("nora@example.com"), "X-Reader-Token", reader)
		if r.Status != 201 {
			t.Fatalf("notice: %d %s", r.Status, r.Body)
		}
		first := num(r.JSON["notice"].(map[string]any)["id"])
		receipt := e.oneMail("dsa_notice_receipt", "nora@example.com")
		mustContain(t, "receipt", receipt.Subject, fmt.Sprintf("#%d", first))
		mustContain(t, "receipt", receipt.Text, "Nora Notifier", fmt.Sprintf("#%d", id), "Illegal or harmful speech", "incites hatred")

		// A trusted flagger's later notice goes first.
		mod.must(201, "POST", "/api/v1/mod/sites/news/trusted-flaggers", map[string]string{"email": "Flagger@NGO.example", "name": "NGO"})
		r = e.do("POST", fmt.Sprintf("/api/v1/comments/%d/notices", other), notice("flagger@ngo.example"), "X-Reader-Token", reader)
		if r.Status != 201 {
			t.Fatalf("trusted notice: %d %s", r.Status, r.Body)
		}
		trusted := num(r.JSON["notice"].(map[string]any)["id"])
		mustContain(t, "trusted receipt", e.oneMail("dsa_notice_receipt", "flagger@ngo.example").Text, "trusted flagger")
		q := mod.must(200, "GET", "/api/v1/mod/notices?site=news", nil)
		ns := q.JSON["notices"].([]any)
		if len(ns) != 2 || num(ns[0].(map[string]any)["id"]) != trusted || num(ns[1].(map[string]any)["id"]) != first {
			t.Fatalf("queue order: %s", q.Body)
		}

		// Removal: the comment is rejected, the author gets a statement
		// naming the notice and the ground, the notifier the decision.
		ground := e.site.Settings.TermsGrounds[4]
		mod.must(422, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", first), map[string]any{"action": "remove", "ground": "not a ground"})
		r = mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", first), map[string]any{"action": "remove", "ground": ground, "reason": "incitement to hatred"})
		if n := r.JSON["notice"].(map[string]any); n["status"] != "actioned" {
			t.Fatalf("notice after: %s", r.Body)
		}
		if s := e.status(id); s != schema.StatusRejected {
			t.Fatalf("comment is %s", s)
		}
		decision := e.oneMail("dsa_notice_decision", "nora@example.com")
		mustContain(t, "decision", decision.Text, "the comment was removed", "incitement to hatred", "out-of-court", "Article 21")
		statement := e.oneMail("dsa_statement", "author@example.com")
		mustContain(t, "statement", statement.Text, "Article 17", "an awful comment", "your comment was removed", ground,
			fmt.Sprintf("notice of illegal content (#%d)", first), "Illegal or harmful speech", "a moderator detected and decided", "appeal")
		appealToken(t, statement)
		mod.must(409, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", first), map[string]any{"action": "dismiss"})

		// Dismissal as manifestly unfounded.
		r = mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", trusted), map[string]any{"action": "dismiss", "manifestly_unfounded": true, "reason": "satire"})
		if n := r.JSON["notice"].(map[string]any); n["status"] != "dismissed" || n["manifestly_unfounded"] != true {
			t.Fatalf("dismissed: %s", r.Body)
		}
		mustContain(t, "dismissal", e.oneMail("dsa_notice_decision", "flagger@ngo.example").Text, "no action", "satire")
		if s := e.status(other); s != schema.StatusApproved {
			t.Fatalf("dismissal changed the comment: %s", s)
		}
		if len(e.mails("dsa_statement")) != 1 {
			t.Fatalf("statements: %+v", e.mails("dsa_statement"))
		}
		mod.must(200, "GET", "/api/v1/mod/notices?site=news&status=all", nil)
		mod.must(400, "GET", "/api/v1/mod/notices?status=nope", nil)
		mod.must(204, "DELETE", "/api/v1/mod/sites/news/trusted-flaggers/"+url.PathEscape("flagger@ngo.example"), nil)
		mod.must(404, "DELETE", "/api/v1/mod/sites/news/trusted-flaggers/"+url.PathEscape("flagger@ngo.example"), nil)

		// The notice API lists the categories, in French too.
		r = e.do("GET", "/api/v1/notice-categories?lang=fr", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), "Discours illicites ou préjudiciables") {
			t.Fatalf("categories: %d %s", r.Status, r.Body)
		}
	})
}

// A moderator's reject sends a statement of reasons with the ground and
// the appeal link; the appeal is confirmed, decided by another moderator
// than the one who rejected, and its reversal restores the comment and
// teaches the classifier.
func TestStatementsAndAppeals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) { st.Language = "fr" })
		alice := e.moderator("alice@news.example", schema.RoleModerator, e.site.ID)
		bob := e.moderator("bob@news.example", schema.RoleModerator, e.site.ID)
		id, _ := e.comment(post{Body: "un commentaire discutable", Email: "auteur@example.com"})
		anon, _ := e.comment(post{Body: "sans adresse"})

		ground := e.site.Settings.TermsGrounds[1]
		alice.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", id), map[string]any{"action": "reject", "ground": ground, "reason": "insulte"})
		alice.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", anon), map[string]any{"action": "reject"})
		if n := len(e.mails("dsa_statement")); n != 1 {
			t.Fatalf("%d statements, want 1 (the author without an email gets none)", n)
		}
		st := e.oneMail("dsa_statement", "auteur@example.com")
		mustContain(t, "statement", st.Subject, "exposé des motifs")
		mustContain(t, "statement", st.Text, "article 17", "un commentaire discutable", "votre commentaire a été retiré", ground,
			"insulte", "un modérateur a détecté et décidé", "contester cette décision jusqu'au")
		token := appealToken(t, st)

		// The audit log lists the statement.
		audit := alice.must(200, "GET", "/api/v1/mod/audit?site=news", nil)
		if !strings.Contains(string(audit.Body), `"action":"statement.sent"`) {
			t.Fatalf("audit log: %s", audit.Body)
		}

		// The appeal page's API, then the appeal.
		if r := e.do("GET", "/api/v1/appeals/not-a-token", nil); r.Status != 404 {
			t.Fatalf("unknown token: %d %s", r.Status, r.Body)
		}
		r := e.do("GET", "/api/v1/appeals/"+token, nil)
		if r.Status != 200 || r.JSON["open"] != true || r.JSON["language"] != "fr" {
			t.Fatalf("appeal status: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/appeals/"+token, map[string]string{"explanation": "court"}); r.Status != 422 {
			t.Fatalf("short appeal: %d %s", r.Status, r.Body)
		}
		r = e.do("POST", "/api/v1/appeals/"+token, map[string]string{"explanation": "Ce n'était pas une insulte mais une citation."})
		if r.Status != 201 {
			t.Fatalf("appeal: %d %s", r.Status, r.Body)
		}
		appeal := num(r.JSON["appeal"].(map[string]any)["id"])
		mustContain(t, "appeal receipt", e.oneMail("dsa_appeal_receipt", "auteur@example.com").Text, fmt.Sprintf("n° %d", appeal))
		if r := e.do("POST", "/api/v1/appeals/"+token, map[string]string{"explanation": "Une seconde réclamation."}); r.Status != 409 {
			t.Fatalf("second appeal: %d %s", r.Status, r.Body)
		}
		q := bob.must(200, "GET", "/api/v1/mod/appeals?site=news", nil)
		if as := q.JSON["appeals"].([]any); len(as) != 1 || num(as[0].(map[string]any)["id"]) != appeal {
			t.Fatalf("appeals queue: %s", q.Body)
		}

		// Alice decided: Bob must decide the appeal.
		r = alice.do("POST", fmt.Sprintf("/api/v1/mod/appeals/%d/decision", appeal), map[string]any{"outcome": "reverse"})
		if r.Status != 403 {
			t.Fatalf("the original moderator: %d %s", r.Status, r.Body)
		}
		bob.must(422, "POST", fmt.Sprintf("/api/v1/mod/appeals/%d/decision", appeal), map[string]any{"outcome": "maybe"})
		r = bob.must(200, "POST", fmt.Sprintf("/api/v1/mod/appeals/%d/decision", appeal), map[string]any{"outcome": "reverse", "reason": "citation"})
		if a := r.JSON["appeal"].(map[string]any); a["status"] != "reversed" {
			t.Fatalf("appeal after: %s", r.Body)
		}
		c, err := e.store.Comment(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != schema.StatusApproved || c.Learned != schema.LabelHam {
			t.Fatalf("comment after the reversal: %s, learned %q", c.Status, c.Learned)
		}
		mustContain(t, "outcome", e.oneMail("dsa_appeal_decision", "auteur@example.com").Text, "la décision est annulée", "citation")
		bob.must(409, "POST", fmt.Sprintf("/api/v1/mod/appeals/%d/decision", appeal), map[string]any{"outcome": "uphold"})
		if r := e.do("GET", "/api/v1/appeals/"+token, nil); r.JSON["open"] != false {
			t.Fatalf("appealed statement still open: %s", r.Body)
		}

		// Six months later the link no longer takes an appeal.
		other, _ := e.comment(post{Body: "encore un", Email: "auteur@example.com"})
		alice.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", other), map[string]any{"action": "spam"})
		ms := e.mails("dsa_statement")
		late := appealToken(t, ms[len(ms)-1])
		e.clock().advance(185 * 24 * 3600 * 1e9)
		if r := e.do("POST", "/api/v1/appeals/"+late, map[string]string{"explanation": "Trop tard, sans doute."}); r.Status != 410 {
			t.Fatalf("late appeal: %d %s", r.Status, r.Body)
		}
	})
}

// Under eu_dsa a shadow ban needs an author who left an email; it sends
// a statement, and so does each comment the ban hides later. Without
// eu_dsa nothing is sent and shadow bans stay silent.
func TestShadowBansUnderDSA(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		anon, _ := e.comment(post{Body: "no email here"})
		r := mod.do("POST", "/api/v1/mod/bans", map[string]any{"comment_id": anon, "kind": "ip", "reason": "troll", "shadow": true})
		if r.Status != 422 || r.field("shadow") == "" {
			t.Fatalf("shadow ban without an email: %d %s", r.Status, r.Body)
		}
		id, _ := e.comment(post{Body: "first troll", Email: "troll@example.com"})
		mod.must(201, "POST", "/api/v1/mod/bans", map[string]any{"comment_id": id, "kind": "email", "reason": "trolling", "shadow": true})
		ban := e.oneMail("dsa_statement", "troll@example.com")
		mustContain(t, "ban statement", ban.Text, "the visibility of your comments is restricted", "trolling")

		// The next comment is hidden as it is posted: the automated
		// moderation sends its statement.
		e.comment(post{Body: "second troll", Email: "troll@example.com"})
		ms := e.mails("dsa_statement")
		if len(ms) != 2 {
			t.Fatalf("%d statements, want 2", len(ms))
		}
		mustContain(t, "automated statement", ms[1].Text, "second troll", "the decision was taken by automated means", "banned_identity")

		// The ban is appealed; the site's only moderator may decide it, and
		// the reversal lifts the ban: the next comment is published.
		r = e.do("POST", "/api/v1/appeals/"+appealToken(t, ban), map[string]string{"explanation": "I only quoted the article."})
		if r.Status != 201 {
			t.Fatalf("appeal: %d %s", r.Status, r.Body)
		}
		mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/appeals/%d/decision", num(r.JSON["appeal"].(map[string]any)["id"])), map[string]any{"outcome": "reverse"})
		if bans := mod.must(200, "GET", "/api/v1/mod/bans", nil).JSON["bans"].([]any); len(bans) != 0 {
			t.Fatalf("bans after the reversal: %v", bans)
		}
		if after, _ := e.comment(post{Body: "third, free again", Email: "troll@example.com"}); e.status(after) != schema.StatusApproved {
			t.Fatalf("a comment after the reversal is %s", e.status(after))
		}

		// Without eu_dsa: silent, as before.
		e.settings(func(st *schema.Settings) { st.EUDSA = false })
		quiet, _ := e.comment(post{Body: "quiet one", Email: "quiet@example.com"})
		mod.must(201, "POST", "/api/v1/mod/bans", map[string]any{"comment_id": quiet, "kind": "email", "reason": "x", "shadow": true})
		mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", quiet), map[string]any{"action": "reject"})
		if n := len(e.mails("dsa_statement")); n != 2 {
			t.Fatalf("%d statements without eu_dsa, want still 2", n)
		}
	})
}

// The misuse counters suggest suspending a notifier whose notices are
// manifestly unfounded and an author whose comments are removed on notice.
func TestMisuseCounters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		reader := e.readerToken()
		for i := range 3 {
			id, _ := e.comment(post{Body: fmt.Sprintf("fine comment %d", i), Email: "fine@example.com"})
			// The same notifier, whatever the case of the address.
			r := e.do("POST", fmt.Sprintf("/api/v1/comments/%d/notices", id), notice([]string{"pest@example.com", "Pest@Example.com", "PEST@example.com"}[i]), "X-Reader-Token", reader)
			mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", num(r.JSON["notice"].(map[string]any)["id"])),
				map[string]any{"action": "dismiss", "manifestly_unfounded": true})
			bad, _ := e.comment(post{Body: fmt.Sprintf("illegal comment %d", i), Email: "offender@example.com"})
			r = e.do("POST", fmt.Sprintf("/api/v1/comments/%d/notices", bad), notice("good@example.com"), "X-Reader-Token", reader)
			mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", num(r.JSON["notice"].(map[string]any)["id"])),
				map[string]any{"action": "remove"})
		}
		r := mod.must(200, "GET", "/api/v1/mod/sites/news/misuse", nil)
		ns, as := r.JSON["notifiers"].([]any), r.JSON["authors"].([]any)
		if len(ns) != 1 || ns[0].(map[string]any)["email"] != "pest@example.com" || num(ns[0].(map[string]any)["manifestly_unfounded"]) != 3 ||
			ns[0].(map[string]any)["suggestion"] == "" {
			t.Fatalf("notifiers: %s", r.Body)
		}
		if len(as) != 1 || num(as[0].(map[string]any)["removed_on_notice"]) != 3 || as[0].(map[string]any)["suggestion"] == "" {
			t.Fatalf("authors: %s", r.Body)
		}
		other := e.moderator("other@news.example", schema.RoleModerator, 9999)
		other.must(403, "GET", "/api/v1/mod/sites/news/misuse", nil)
	})
}

// The transparency report over HTTP: JSON, CSV by Accept or format, and
// clear errors for bad periods and sites the caller does not moderate.
func TestTransparencyEndpoint(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		id, _ := e.comment(post{Body: "reported comment", Email: "a@example.com"})
		r := e.do("POST", fmt.Sprintf("/api/v1/comments/%d/notices", id), notice("n@example.com"), "X-Reader-Token", e.readerToken())
		mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/notices/%d/decision", num(r.JSON["notice"].(map[string]any)["id"])), map[string]any{"action": "remove"})
		day := e.store.Now().UTC().Format("2006-01-02")
		path := "/api/v1/mod/sites/news/transparency?from=" + day + "&to=" + day
		r = mod.must(200, "GET", path, nil)
		n := r.JSON["notices"].(map[string]any)
		if num(n["total"]) != 1 || num(n["decided"]) != 1 || num(r.JSON["statements_of_reasons"]) != 1 ||
			num(n["by_category"].(map[string]any)["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"].(map[string]any)["actioned"]) != 1 {
			t.Fatalf("report: %s", r.Body)
		}
		for _, csv := range []response{mod.do("GET", path, nil, "Accept", "text/csv"), mod.do("GET", path+"&format=csv", nil)} {
			if csv.Status != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(string(csv.Body), "notices,STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH,actioned,1\n") {
				t.Fatalf("csv: %d %s %s", csv.Status, csv.Header.Get("Content-Type"), csv.Body)
			}
		}
		for _, q := range []string{"from=2026-02-30&to=2026-03-01", "from=2026-03-01&to=2026-02-01", "to=2026-01-01", "from=2026-01-01&to=2026-01-02&format=xml"} {
			if r := mod.do("GET", "/api/v1/mod/sites/news/transparency?"+q, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		mod.must(404, "GET", "/api/v1/mod/sites/nope/transparency?from=2026-01-01&to=2026-01-02", nil)
		e.moderator("other@news.example", schema.RoleModerator, 9999).must(403, "GET", path, nil)
	})
}

// An email the widget takes but no mail server would (two @) is not kept,
// and a decision on its comment still works, without a statement.
func TestUnmailableEmailSendsNoStatement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		mod := e.moderator("mod@news.example", schema.RoleModerator, e.site.ID)
		id, _ := e.comment(post{Body: "odd address", Email: "a@b@example.com"})
		mod.must(200, "POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", id), map[string]any{"action": "reject"})
		if ms := e.mails(""); len(ms) != 0 {
			t.Fatalf("mail: %+v", ms)
		}
	})
}

// The email kept for statements goes with the author's other data when
// they are forgotten, and is not kept at all without eu_dsa.
func TestContactErasedWithAuthor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		ctx := context.Background()
		id, _ := e.comment(post{Body: "soon forgotten", Email: "gone@example.com"})
		if got, err := e.store.CommentContact(ctx, id); err != nil || got != "gone@example.com" {
			t.Fatalf("contact: %q %v", got, err)
		}
		c, err := e.store.Comment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ForgetEmailHash(ctx, c.EmailHash); err != nil {
			t.Fatal(err)
		}
		if got, err := e.store.CommentContact(ctx, id); err != nil || got != "" {
			t.Fatalf("contact after forgetting: %q %v", got, err)
		}
		e.settings(func(st *schema.Settings) { st.EUDSA = false })
		other, _ := e.comment(post{Body: "not kept", Email: "kept@example.com"})
		if got, _ := e.store.CommentContact(ctx, other); got != "" {
			t.Fatalf("contact kept without eu_dsa: %q", got)
		}
	})
}

// An edit the policy rejects (a banned word in the new text) sends the
// author an automated statement of reasons, like a new comment would.
func TestRejectedEditSendsStatement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) { st.Moderation.BannedWords = []string{"scoundrel"} })
		r := e.postComment(post{Body: "a polite comment", Email: "editor@example.com"})
		if r.Status != 201 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		id, tok := num(r.JSON["comment"].(map[string]any)["id"]), r.JSON["edit_token"].(string)
		r = e.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]string{"body": "you scoundrel"}, "Authorization", "Bearer "+tok)
		if r.Status != 200 || e.status(id) != schema.StatusRejected {
			t.Fatalf("edit: %d %s, stored %s", r.Status, r.Body, e.status(id))
		}
		st := e.oneMail("dsa_statement", "editor@example.com")
		mustContain(t, "statement", st.Text, "you scoundrel", "the decision was taken by automated means", "banned_words")
	})
}
