package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/moderation/mail/mailtest"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
	"github.com/prometheus/client_golang/prometheus"
)

func newMailer(t *testing.T, s *schema.Store, smtp *mailtest.Server, retries ...time.Duration) *mail.Mailer {
	t.Helper()
	m, err := mail.New(s, mail.Config{SMTPURL: smtp.URL, From: "Parley <parley@news.example>", PublicURL: "https://c.example", Retries: retries})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// metric reads one value of the mailer's metrics: name, then label value.
func metric(t *testing.T, m *mail.Mailer, name, kind string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, x := range mf.GetMetric() {
			if kind != "" && (len(x.GetLabel()) == 0 || x.GetLabel()[0].GetValue() != kind) {
				continue
			}
			if x.Counter != nil {
				return x.Counter.GetValue()
			}
			return x.Gauge.GetValue()
		}
	}
	return 0
}

// runUntil runs rounds of the worker until cond holds, for at most 5 s.
func runUntil(t *testing.T, m *mail.Mailer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not get there in 5 s")
		}
		m.RunOnce(context.Background())
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetries: an SMTP server that answers 451 twice gets the mail on the
// third attempt; one that answers 550 makes the worker give up at once;
// one that keeps answering 451 makes it give up after the last retry.
// /metrics counts each and the queue empties.
func TestRetries(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		smtp := mailtest.Start(t)
		m := newMailer(t, s, smtp, 10*time.Millisecond, 20*time.Millisecond, 40*time.Millisecond)
		queue := func(to, kind string) {
			t.Helper()
			if err := s.EnqueueMail(ctx, schema.Mail{Kind: kind, To: to, Subject: "Héllo " + kind, Text: "Plain ünïcode text.\n", HTML: "<p>HTML</p>",
				Headers: map[string]string{"X-Test": kind}}); err != nil {
				t.Fatal(err)
			}
		}
		row := func(to string) schema.OutMail {
			t.Helper()
			rows, err := s.MailTo(ctx, to)
			if err != nil || len(rows) != 1 {
				t.Fatalf("mail to %s: %v %v", to, rows, err)
			}
			return rows[0]
		}

		smtp.Refuse(451, 451)
		queue("later@example.org", "test")
		if q := metric(t, m, "parley_mail_queue_depth", ""); q != 1 {
			t.Fatalf("queue depth %v, want 1", q)
		}
		runUntil(t, m, func() bool { return len(smtp.To("later@example.org")) == 1 })
		r := row("later@example.org")
		if !r.SentMS.Valid || r.Attempts != 3 || r.GaveUpMS.Valid {
			t.Fatalf("after two refusals: %+v", r)
		}
		got := smtp.To("later@example.org")[0]
		if got.Subject != "Héllo test" || got.Text != "Plain ünïcode text.\n" || got.HTML != "<p>HTML</p>" || got.Header.Get("X-Test") != "test" ||
			got.Header.Get("Auto-Submitted") != "auto-generated" || got.From != "parley@news.example" {
			t.Fatalf("received %+v", got)
		}
		if metric(t, m, "parley_mail_failed_total", "test") != 2 || metric(t, m, "parley_mail_sent_total", "test") != 1 {
			t.Fatal("metrics do not count two failures and a success")
		}

		smtp.Refuse(550)
		queue("nobody@example.org", "refused")
		runUntil(t, m, func() bool { return row("nobody@example.org").GaveUpMS.Valid })
		if r := row("nobody@example.org"); r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
			t.Fatalf("a 550 is given up at once: %+v", r)
		}

		smtp.Refuse(451, 451, 451, 451)
		queue("down@example.org", "bounded")
		runUntil(t, m, func() bool { return row("down@example.org").GaveUpMS.Valid })
		if r := row("down@example.org"); r.Attempts != 4 {
			t.Fatalf("given up after %d attempts, want 4 (3 retries)", r.Attempts)
		}
		if metric(t, m, "parley_mail_given_up_total", "refused") != 1 || metric(t, m, "parley_mail_given_up_total", "bounded") != 1 {
			t.Fatal("given-up mail not counted")
		}
		if q := metric(t, m, "parley_mail_queue_depth", ""); q != 0 {
			t.Fatalf("queue depth %v, want 0", q)
		}
		if n := len(smtp.Messages()); n != 1 {
			t.Fatalf("%d messages accepted, want 1", n)
		}
	})
}

// TestUnreachableServer: a server that does not answer at all is a failure
// that passes: retried, not lost.
func TestUnreachableServer(t *testing.T) {
	s := schematest.Open(t, schema.SQLite)
	ctx := context.Background()
	m, err := mail.New(s, mail.Config{SMTPURL: "smtp://127.0.0.1:1?tls=none", From: "p@news.example", Timeout: time.Second, Retries: []time.Duration{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueMail(ctx, schema.Mail{Kind: "test", To: "a@example.org", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	m.RunOnce(ctx)
	rows, _ := s.MailTo(ctx, "a@example.org")
	if len(rows) != 1 || rows[0].SentMS.Valid || rows[0].GaveUpMS.Valid || rows[0].Attempts != 1 || !strings.Contains(rows[0].LastError, "connect") {
		t.Fatalf("after a refused connection: %+v", rows)
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, c := range []struct {
		url, err string
	}{
		{"smtp://user:pass@mail.example:587", ""},
		{"smtps://user:pass@mail.example", ""},
		{"smtp://127.0.0.1:2525?tls=none", ""},
		{"smtp://localhost:25?tls=none", ""},
		{"smtp://mail.example:25?tls=none", "loopback"},
		{"smtps://127.0.0.1?tls=none", "contradicts"},
		{"smtp://mail.example?tls=maybe", "tls=none"},
		{"http://mail.example", "scheme"},
		{"mail.example:587", "want smtp://"},
		{"smtp://mail.example:99999", "port"},
		{"smtp://u:s3cret@mail.example:99999", "port"},
		{"smtp://u:s3cret@mail.example?tls=no", "tls=none"},
	} {
		_, err := mail.ParseSMTPURL(c.url)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", c.url, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", c.url, err)
		}
	}
	if _, err := mail.New(nil, mail.Config{SMTPURL: "smtp://127.0.0.1?tls=none"}); err == nil || !strings.Contains(err.Error(), "-mail-from") {
		t.Errorf("no sender: %v", err)
	}
}

// TestTexts renders every message in every language: English and French
// differ, HTML is escaped, and a language without texts falls back to
// English.
func TestTexts(t *testing.T) {
	texts, err := mail.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	data := map[string]any{
		"reply_confirm": mail.ConfirmData{Article: "Budget <2026>", ArticleURL: "https://news.example/a", ConfirmURL: "https://c.example/api/v1/mail/confirm/T", Hours: 72},
		"reply_digest": mail.DigestData{Article: "Budget", UnsubscribeURL: "https://c.example/api/v1/mail/unsubscribe/U",
			Replies: []mail.ReplyItem{{Author: "Bob", Body: "x < y", Parent: "first", At: at}}},
		"pending_digest": mail.PendingData{Total: 3, DashboardURL: "https://c.example/mod/",
			Comments: []mail.PendingItem{{Site: "news", Article: "a-1", Author: "Eve", Body: "<b>spam</b>", At: at}}},
	}
	for name, d := range data {
		en, err := texts.Render("en", name, d)
		if err != nil {
			t.Fatalf("%s en: %v", name, err)
		}
		fr, err := texts.Render("fr-CA", name, d)
		if err != nil {
			t.Fatalf("%s fr: %v", name, err)
		}
		de, err := texts.Render("de", name, d)
		if err != nil || de != en {
			t.Fatalf("%s de: %v, want the English texts", name, err)
		}
		if en.Subject == fr.Subject || en.Text == fr.Text || en.HTML == fr.HTML || en.HTML == "" || strings.Contains(en.Subject, "\n") {
			t.Fatalf("%s: English and French texts are not both there:\n%+v\n%+v", name, en, fr)
		}
		if strings.Contains(en.HTML, "<b>spam") || strings.Contains(en.HTML, "x < y") || strings.Contains(en.HTML, "Budget <2026>") {
			t.Fatalf("%s: HTML not escaped: %s", name, en.HTML)
		}
	}
	r, _ := texts.Render("fr", "reply_digest", data["reply_digest"])
	if !strings.Contains(r.Subject, "Une nouvelle réponse") || !strings.Contains(r.Text, "01/03/2026 09:30 UTC") {
		t.Fatalf("French digest: %+v", r)
	}
	if _, err := texts.Render("en", "no_such", nil); err == nil {
		t.Fatal("an unknown message rendered")
	}
}

// TestPendingDigest: a moderator who asked for the pending digest gets the
// comments held since the last one on their sites, at most once per
// interval, and nothing when nothing new was held.
func TestPendingDigest(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		smtp := mailtest.Start(t)
		m := newMailer(t, s, smtp)
		now := time.Now()
		s.SetClock(func() time.Time { return now })
		news, _ := s.CreateSite(ctx, "news", schema.DefaultSettings(), nil)
		st := schema.DefaultSettings()
		st.Language = "fr"
		other, _ := s.CreateSite(ctx, "other", st, nil)
		ed := &schema.Moderator{Email: "ed@news.example", PasswordHash: "x", Role: schema.RoleModerator, Sites: []int64{news.ID}}
		if err := s.CreateModerator(ctx, ed, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SetModeratorDigest(ctx, ed.ID, 60); err != nil {
			t.Fatal(err)
		}
		hold := func(site *schema.Site, body string) {
			t.Helper()
			now = now.Add(time.Second)
			c := &schema.Comment{SiteID: site.ID, Author: "Eve", Body: body, Status: schema.StatusPending}
			if err := s.PostComment(ctx, c, schema.PostOptions{ArticleKey: "a-1"}); err != nil {
				t.Fatal(err)
			}
		}
		hold(news, "held on news")
		hold(other, "held on other")
		m.RunOnce(ctx)
		if n := len(smtp.Messages()); n != 0 {
			t.Fatalf("%d digests before the interval", n)
		}
		now = now.Add(time.Hour)
		m.RunOnce(ctx)
		got := smtp.Wait(t, 1, 5*time.Second)
		if len(got) != 1 || got[0].To[0] != "ed@news.example" || !strings.Contains(got[0].Subject, "1 comment waiting") ||
			!strings.Contains(got[0].Text, "held on news") || strings.Contains(got[0].Text, "held on other") || !strings.Contains(got[0].Text, "https://c.example/mod/") {
			t.Fatalf("pending digest: %+v", got)
		}
		// Nothing new: nothing sent.
		now = now.Add(2 * time.Hour)
		m.RunOnce(ctx)
		if n := len(smtp.Messages()); n != 1 {
			t.Fatalf("%d digests, want still 1 with nothing new held", n)
		}
		if err := s.SetModeratorDigest(ctx, ed.ID, 0); err != nil {
			t.Fatal(err)
		}
		hold(news, "held after turning it off")
		now = now.Add(2 * time.Hour)
		m.RunOnce(ctx)
		if n := len(smtp.Messages()); n != 1 {
			t.Fatalf("a digest after turning it off")
		}
		if metric(t, m, "parley_mail_digests_total", "pending") != 1 {
			t.Fatal("digest not counted")
		}
	})
}
