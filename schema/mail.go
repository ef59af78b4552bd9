package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"time"

	"github.com/jmoiron/sqlx"
)

// Mail is one outgoing email, already rendered. It is queued in the
// mail_outbox by the transaction of the change that owes it and sent later
// by the mail worker, so nothing in a request waits for an SMTP server.
type Mail struct {
	SiteID  int64 // 0 for mail that belongs to no site
	Kind    string
	To      string
	Subject string
	Text    string
	HTML    string
	Headers map[string]string
	// NotBefore delays the first attempt (a digest collects what arrives
	// until then); zero sends as soon as the worker runs.
	NotBefore time.Time
}

// QueueMail stores m in the mail outbox inside tx (a transaction from
// s.write or a writer batch, or s.db for mail that is its own change).
func (s *Store) QueueMail(ctx context.Context, tx sqlx.ExtContext, m Mail) error {
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("queue %s mail: recipient %q: %w", m.Kind, m.To, err)
	}
	if m.Kind == "" || m.Subject == "" || m.Text == "" {
		return fmt.Errorf("queue mail to %s: kind, subject and text are required", m.To)
	}
	headers := "{}"
	if len(m.Headers) > 0 {
		b, err := json.Marshal(m.Headers)
		if err != nil {
			return fmt.Errorf("queue %s mail: headers: %w", m.Kind, err)
		}
		headers = string(b)
	}
	now := s.nowMS()
	due := now
	if !m.NotBefore.IsZero() {
		due = max(now, m.NotBefore.UnixMilli())
	}
	var site any
	if m.SiteID != 0 {
		site = m.SiteID
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO mail_outbox
		(site_id, kind, recipient, subject, text_body, html_body, headers, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		site, m.Kind, m.To, m.Subject, m.Text, m.HTML, headers, due, now); err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	return nil
}
