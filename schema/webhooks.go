package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Delivery is one webhook event on its way to one URL: the outbox row a
// worker claims, sends and retries until the receiver accepts it or the
// worker gives up.
type Delivery struct {
	ID            int64  `db:"id"`
	SiteID        int64  `db:"site_id"`
	URL           string `db:"url"`
	Event         string `db:"event"`
	Payload       string `db:"payload"`
	Attempts      int    `db:"attempts"`
	NextAttemptMS int64  `db:"next_attempt_at"`
	DeliveredMS   *int64 `db:"delivered_at"`
	GaveUpMS      *int64 `db:"gave_up_at"`
	LastError     string `db:"last_error"`
	CreatedMS     int64  `db:"created_at"`
}

// CreatedAt is when the event happened.
func (d *Delivery) CreatedAt() time.Time { return msTime(d.CreatedMS) }

const deliveryColumns = `id, site_id, url, event, payload, attempts, next_attempt_at, delivered_at, gave_up_at, last_error, created_at`

// EnqueueWebhook stores a delivery of the event to each URL, due at once.
func (s *Store) EnqueueWebhook(ctx context.Context, siteID int64, event, payload string, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	now := s.nowMS()
	return s.write(ctx, func(tx *sqlx.Tx) error {
		for _, u := range urls {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_deliveries (site_id, url, event, payload, next_attempt_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`), siteID, u, event, payload, now, now); err != nil {
				return fmt.Errorf("enqueue webhook: %w", err)
			}
		}
		return nil
	})
}

// ClaimDeliveries claims up to limit due deliveries for the length of
// lease: each claimed delivery counts one more attempt and is not due again
// until the lease ends, so another instance (or this one after a crash)
// retries it only if this attempt never reports back. On PostgreSQL
// concurrent claimers skip each other's rows instead of waiting for them.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Delivery, error) {
	now := s.nowMS()
	// The worker is woken by every held comment, most often with nothing
	// due: a read on the pool answers that without a write transaction,
	// which on SQLite would wait for, and hold up, the group-commit writer.
	var due int
	st, err := s.readStmt(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries
		WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ? LIMIT 1) d`)
	if err == nil {
		err = st.QueryRowContext(ctx, now).Scan(&due)
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	if due == 0 {
		return nil, nil
	}
	var rows []Delivery
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, s.q(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (SELECT id FROM webhook_deliveries
				WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?`+s.skipLocked()+`)
			RETURNING `+deliveryColumns), now+lease.Milliseconds(), now, limit)
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return rows, nil
}

// DeliveryDone records that the receiver accepted a delivery.
func (s *Store) DeliveryDone(ctx context.Context, id int64) error {
	_, err := s.wdb.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET delivered_at = ?, last_error = '' WHERE id = ?`), s.nowMS(), id)
	if err != nil {
		return fmt.Errorf("record webhook delivery: %w", err)
	}
	return nil
}

// DeliveryFailed records a failed attempt and when to try again; a zero
// retry time gives the delivery up.
func (s *Store) DeliveryFailed(ctx context.Context, id int64, msg string, retry time.Time) error {
	var err error
	if retry.IsZero() {
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET gave_up_at = ?, last_error = ? WHERE id = ?`), s.nowMS(), msg, id)
	} else {
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?`), retry.UnixMilli(), msg, id)
	}
	if err != nil {
		return fmt.Errorf("record webhook failure: %w", err)
	}
	return nil
}

// Deliveries lists a site's newest webhook deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, siteID int64, limit int) ([]Delivery, error) {
	var rows []Delivery
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE site_id = ? ORDER BY id DESC LIMIT ?`),
		siteID, limit); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return rows, nil
}
