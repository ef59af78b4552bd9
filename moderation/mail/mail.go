// Package mail is Parley's outgoing email: the texts (embedded text/template
// and html/template files, in English and French), the SMTP sender, and the
// worker that sends the mail outbox (schema.Store.QueueMail) with retries
// and builds the periodic digests (replies to readers, pending comments to
// moderators). The serve command starts the worker; handlers build the
// confirmation emails and the pages of their links through it. Nothing here
// serves HTTP.
package mail

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/parley/parley/schema"
)

// Config is what the mailer needs besides its store.
type Config struct {
	// SMTPURL is smtp://user:pass@host:587 (STARTTLS when the server offers
	// it, required when a password is given to a host other than loopback),
	// smtps://user:pass@host:465 (TLS from the first byte), or
	// smtp://127.0.0.1:2525?tls=none (plain text, loopback only: for tests
	// and a relay on the same machine).
	SMTPURL string
	// From is the sender, such as "Parley <comments@news.example>".
	From string
	// PublicURL is the server's public address: links in emails start
	// with it.
	PublicURL string
	// Retries are the waits before each retry of a mail whose sending
	// failed for a reason that may pass (the server down, a 4xx answer);
	// after the last, the mail is given up, as it is at once on a 5xx
	// answer. Default: DefaultRetries.
	Retries []time.Duration
	// Poll is how often the worker looks for due mail and digests; queued
	// mail wakes it at once. Default: 1 s.
	Poll time.Duration
	// Timeout bounds one SMTP conversation: no message is started after
	// it, and each command waits at most that long. A worker that dies
	// mid-send has its mail sent by another after twice that. Default: 30 s.
	Timeout time.Duration
	// ConfirmTTL is how long a confirmation link works. Default: 72 h.
	ConfirmTTL time.Duration
	// KeepSent is how long sent and given-up mail stays in the outbox.
	// Default: 7 days.
	KeepSent time.Duration
	Logger   *slog.Logger
}

// DefaultRetries double from 30 s: 10 attempts over about 8.5 hours.
func DefaultRetries() []time.Duration {
	var out []time.Duration
	for d := 30 * time.Second; len(out) < 9; d *= 2 {
		out = append(out, d)
	}
	return out
}

// batch is how many mails the worker claims at once, sent over one
// connection.
const batch = 16

// Mailer sends the outbox and builds Parley's emails. A nil *Mailer means
// email is off: Enabled reports false and nothing is sent.
type Mailer struct {
	store   *schema.Store
	cfg     Config
	log     *slog.Logger
	texts   *Texts
	smtp    smtpTarget
	from    *mail.Address
	metrics *metrics
	wake    chan struct{}
	// lastPrune is when the daily chores (pruning sent mail and
	// unconfirmed subscriptions) last ran.
	mu        sync.Mutex
	lastPrune time.Time
}

// New checks the configuration and returns a mailer; it connects to
// nothing until it has mail to send.
func New(store *schema.Store, cfg Config) (*Mailer, error) {
	target, err := ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("-mail-from is required with -smtp-url: the address emails come from, such as \"News comments <comments@news.example>\"")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("-mail-from %q: %v; write an address such as comments@news.example or \"News <comments@news.example>\"", cfg.From, err)
	}
	texts, err := LoadTexts()
	if err != nil {
		return nil, err
	}
	if cfg.Retries == nil {
		cfg.Retries = DefaultRetries()
	}
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	cfg.Timeout = cmp.Or(cfg.Timeout, 30*time.Second)
	cfg.ConfirmTTL = cmp.Or(cfg.ConfirmTTL, 72*time.Hour)
	cfg.KeepSent = cmp.Or(cfg.KeepSent, 7*24*time.Hour)
	cfg.PublicURL = strings.TrimRight(cmp.Or(cfg.PublicURL, "http://localhost"), "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mailer{store: store, cfg: cfg, log: cfg.Logger, texts: texts, smtp: target, from: from,
		metrics: newMetrics(store), wake: make(chan struct{}, 1)}, nil
}

// Enabled tells whether email is on.
func (m *Mailer) Enabled() bool { return m != nil }

// Texts are the mailer's compiled texts.
func (m *Mailer) Texts() *Texts { return m.texts }

// Wake tells the worker that mail was queued, so it need not wait for its
// next poll. Safe on a nil Mailer.
func (m *Mailer) Wake() {
	if m == nil {
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// URL is the public address of a path of this server.
func (m *Mailer) URL(path string) string { return m.cfg.PublicURL + path }

// Message renders message name in lang for the recipient, ready for
// schema.Store.QueueMail: kind names it in the outbox and in /metrics.
// This is how other parts of Parley send email: render with Message, queue
// with QueueMail in the transaction of the change that owes it, then Wake.
func (m *Mailer) Message(kind, to, lang, name string, data any) (schema.Mail, error) {
	r, err := m.texts.Render(lang, name, data)
	if err != nil {
		return schema.Mail{}, err
	}
	return schema.Mail{Kind: kind, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
}

// NewToken returns a link's secret token and the hash stored for it (as
// one-time moderation links are: SHA-256 of 256 random bits).
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how a link's token is stored and looked up.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// smtpTarget is a parsed -smtp-url.
type smtpTarget struct {
	host      string
	port      int
	user      string
	pass      string
	implicit  bool // smtps
	policy    gomail.TLSPolicy
	plainText bool
}

// ParseSMTPURL reads -smtp-url; its errors say what to write instead.
func ParseSMTPURL(raw string) (smtpTarget, error) {
	var t smtpTarget
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return t, fmt.Errorf("-smtp-url %q: want smtp://user:password@host:587 or smtps://user:password@host:465", redactURL(raw))
	}
	t.host = u.Hostname()
	switch u.Scheme {
	case "smtp":
		t.port, t.policy = 587, gomail.TLSOpportunistic
	case "smtps":
		t.port, t.implicit, t.policy = 465, true, gomail.TLSMandatory
	default:
		return t, fmt.Errorf("-smtp-url: scheme %q: use smtp:// (STARTTLS) or smtps:// (TLS from the start)", u.Scheme)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("-smtp-url: port %q is not a port number", p)
		}
		t.port = n
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
	}
	loopback := t.host == "localhost"
	if ip := net.ParseIP(t.host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	q := u.Query()
	switch q.Get("tls") {
	case "":
		// A password goes to a distant server over TLS or not at all: a
		// man in the middle could hide the STARTTLS offer.
		if t.user != "" && !loopback && !t.implicit {
			t.policy = gomail.TLSMandatory
		}
	case "none":
		if t.implicit {
			return t, errors.New("-smtp-url: tls=none contradicts smtps://")
		}
		if !loopback {
			return t, fmt.Errorf("-smtp-url: tls=none sends mail in clear text and is allowed to a loopback address only, not %s", t.host)
		}
		t.policy, t.plainText = gomail.NoTLS, true
	default:
		return t, fmt.Errorf("-smtp-url: tls=%q: the only option is tls=none (loopback only)", q.Get("tls"))
	}
	return t, nil
}

// redactURL hides the password of an SMTP URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// Describe is the SMTP target for the log, without the password.
func (m *Mailer) Describe() string {
	scheme := "smtp"
	if m.smtp.implicit {
		scheme = "smtps"
	}
	return fmt.Sprintf("%s://%s:%d (%s)", scheme, m.smtp.host, m.smtp.port, m.smtp.policy)
}

// Run is the worker: until ctx ends it sends due mail, builds due reply
// digests, and every minute the moderators' pending digests, and once a
// day prunes sent mail. Any number of instances may run it: mail is
// claimed in the database, and each digest is built under a row lock.
func (m *Mailer) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	var lastMinute time.Time
	for {
		m.replyDigests(ctx)
		if now := time.Now(); now.Sub(lastMinute) >= time.Minute {
			lastMinute = now
			m.pendingDigests(ctx)
			m.prune(ctx)
		}
		m.sendDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

// RunOnce does one round of the worker's work, for tests and tools.
func (m *Mailer) RunOnce(ctx context.Context) {
	m.replyDigests(ctx)
	m.pendingDigests(ctx)
	m.sendDue(ctx)
}

func (m *Mailer) prune(ctx context.Context) {
	m.mu.Lock()
	due := time.Since(m.lastPrune) >= 24*time.Hour
	if due {
		m.lastPrune = time.Now()
	}
	m.mu.Unlock()
	if !due {
		return
	}
	if n, err := m.store.PruneSentMail(ctx, m.store.Now().Add(-m.cfg.KeepSent)); err != nil {
		if ctx.Err() == nil {
			m.log.Warn("prune sent mail", "err", err)
		}
	} else if n > 0 {
		m.log.Info("pruned sent mail", "count", n)
	}
	if n, err := m.store.DeleteUnconfirmed(ctx, m.store.Now().Add(-m.cfg.ConfirmTTL)); err != nil {
		if ctx.Err() == nil {
			m.log.Warn("delete unconfirmed subscriptions", "err", err)
		}
	} else if n > 0 {
		m.log.Info("deleted unconfirmed reply subscriptions", "count", n)
	}
}

// sendDue claims and sends due mail until none is left.
func (m *Mailer) sendDue(ctx context.Context) {
	// A batch's conversation stops starting messages after Timeout, and
	// one message takes at most Timeout more: the lease outlives both, so
	// that only a worker that died mid-send has its mail taken over.
	lease := 2*m.cfg.Timeout + time.Second
	for ctx.Err() == nil {
		rows, err := m.store.ClaimMail(ctx, batch, lease)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("claim mail", "err", err)
			}
			return
		}
		if len(rows) == 0 {
			return
		}
		errs := m.send(ctx, rows)
		if ctx.Err() != nil {
			return // shutting down: the lease ends and the mail is sent again
		}
		for i, row := range rows {
			m.record(ctx, row, errs[i])
		}
	}
}

// record stores the outcome of one attempt: sent, a retry after the next
// wait, or given up.
func (m *Mailer) record(ctx context.Context, row schema.OutMail, err error) {
	if err == nil {
		if err := m.store.MailSent(ctx, row.ID); err != nil {
			m.log.Warn("record mail sent", "mail_id", row.ID, "err", err)
		}
		m.metrics.sent.WithLabelValues(row.Kind).Inc()
		return
	}
	m.metrics.failed.WithLabelValues(row.Kind).Inc()
	var retry time.Time
	if !permanent(err) && row.Attempts <= len(m.cfg.Retries) {
		retry = m.store.Now().Add(m.cfg.Retries[row.Attempts-1])
	}
	m.log.Info("mail not sent", "mail_id", row.ID, "kind", row.Kind, "attempt", row.Attempts, "retry", !retry.IsZero(), "err", err)
	if retry.IsZero() {
		m.metrics.gaveUp.WithLabelValues(row.Kind).Inc()
		m.log.Warn("mail given up", "mail_id", row.ID, "kind", row.Kind, "attempts", row.Attempts, "err", err)
	}
	if err := m.store.MailFailed(ctx, row.ID, err.Error(), retry); err != nil {
		m.log.Warn("record mail failure", "mail_id", row.ID, "err", err)
	}
}

// permanent tells a failure retrying cannot fix: the server refused the
// message or a recipient for good (5xx), or the message cannot be built.
func permanent(err error) bool {
	var bad badMessage
	if errors.As(err, &bad) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp() && se.ErrorCode() >= 500
	}
	return false
}

type badMessage struct{ err error }

func (e badMessage) Error() string { return "cannot build the message: " + e.err.Error() }
