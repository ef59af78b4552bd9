package schema

import (
	"context"
	"database/sql"
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

// OutMail is a row of the mail outbox as the worker claims it.
type OutMail struct {
	ID            int64         `db:"id"`
	SiteID        sql.NullInt64 `db:"site_id"`
	Kind          string        `db:"kind"`
	To            string        `db:"recipient"`
	Subject       string        `db:"subject"`
	Text          string        `db:"text_body"`
	HTML          string        `db:"html_body"`
	HeadersJSON   string        `db:"headers"`
	Attempts      int           `db:"attempts"`
	NextAttemptMS int64         `db:"next_attempt_at"`
	SentMS        sql.NullInt64 `db:"sent_at"`
	GaveUpMS      sql.NullInt64 `db:"gave_up_at"`
	LastError     string        `db:"last_error"`
	CreatedMS     int64         `db:"created_at"`
}

// Headers decodes the extra headers; a row written by hand with bad JSON
// has none.
func (m *OutMail) Headers() map[string]string {
	h := map[string]string{}
	json.Unmarshal([]byte(m.HeadersJSON), &h)
	return h
}

// CreatedAt is when the mail was queued.
func (m *OutMail) CreatedAt() time.Time { return msTime(m.CreatedMS) }

const outMailColumns = `id, site_id, kind, recipient, subject, text_body, html_body, headers, attempts, next_attempt_at, sent_at, gave_up_at, last_error, created_at`

// ClaimMail claims up to limit due mails for the length of lease, as
// ClaimDeliveries does for webhooks: each claimed row counts one more
// attempt and is not due again until the lease ends, so a worker that dies
// mid-send (even after the SMTP server accepted the message) has its rows
// sent again by the next one: a mail may go twice, never zero times. On
// PostgreSQL concurrent workers skip each other's rows.
func (s *Store) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]OutMail, error) {
	now := s.nowMS()
	var rows []OutMail
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, s.q(`UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (SELECT id FROM mail_outbox
				WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?`+s.skipLocked()+`)
			RETURNING `+outMailColumns), now+lease.Milliseconds(), now, limit)
	})
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return rows, nil
}

// MailSent records that the SMTP server accepted a mail.
func (s *Store) MailSent(ctx context.Context, id int64) error {
	if _, err := s.wdb.ExecContext(ctx, s.q(`UPDATE mail_outbox SET sent_at = ?, last_error = '' WHERE id = ?`), s.nowMS(), id); err != nil {
		return fmt.Errorf("record mail sent: %w", err)
	}
	return nil
}

// MailFailed records a failed attempt and when to try again; a zero retry
// time gives the mail up.
func (s *Store) MailFailed(ctx context.Context, id int64, msg string, retry time.Time) error {
	var err error
	if retry.IsZero() {
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE mail_outbox SET gave_up_at = ?, last_error = ? WHERE id = ?`), s.nowMS(), msg, id)
	} else {
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE mail_outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?`), retry.UnixMilli(), msg, id)
	}
	if err != nil {
		return fmt.Errorf("record mail failure: %w", err)
	}
	return nil
}

// MailQueue is what waits in the outbox: mails neither sent nor given up,
// and the age of the oldest.
type MailQueue struct {
	Depth  int64
	Oldest time.Duration
}

// MailQueue measures the outbox for /metrics.
func (s *Store) MailQueue(ctx context.Context) (MailQueue, error) {
	var r struct {
		N      int64         `db:"n"`
		Oldest sql.NullInt64 `db:"oldest"`
	}
	if err := s.db.GetContext(ctx, &r, `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_outbox
		WHERE sent_at IS NULL AND gave_up_at IS NULL`); err != nil {
		return MailQueue{}, fmt.Errorf("measure mail outbox: %w", err)
	}
	q := MailQueue{Depth: r.N}
	if r.Oldest.Valid {
		q.Oldest = max(0, s.Now().Sub(msTime(r.Oldest.Int64)))
	}
	return q, nil
}

// MailTo lists the mail queued for a recipient, oldest first, sent or not:
// what tests read and an operator looks at when an address says nothing
// arrived.
func (s *Store) MailTo(ctx context.Context, recipient string) ([]OutMail, error) {
	var rows []OutMail
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+outMailColumns+` FROM mail_outbox WHERE recipient = ? ORDER BY id`), recipient); err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	return rows, nil
}

// PruneSentMail deletes mail sent or given up before the cutoff: its text
// holds addresses and unsubscribe links that need not outlive delivery.
func (s *Store) PruneSentMail(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, s.q(`DELETE FROM mail_outbox WHERE (sent_at IS NOT NULL AND sent_at < ?) OR (gave_up_at IS NOT NULL AND gave_up_at < ?)`),
		before.UnixMilli(), before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune sent mail: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// EnqueueMail queues a mail that is a change of its own (not owed by
// another write), in a transaction of its own.
func (s *Store) EnqueueMail(ctx context.Context, m Mail) error {
	return s.write(ctx, func(tx *sqlx.Tx) error { return s.QueueMail(ctx, tx, m) })
}
