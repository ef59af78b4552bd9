package schema

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Announcement is a webhook event stored in the outbox (webhook_deliveries)
// by the transaction of the change it announces: a crash can lose both or
// neither, never the event alone.
type Announcement struct {
	SiteID    int64
	CommentID int64
	Event     string
	Payload   string
	URLs      []string
	// Replace drops the comment's undelivered events of the same name:
	// only the newest announcement of a held comment is worth sending.
	Replace bool
	// Links are the one-time links the payload carries. Storing them spends
	// the comment's earlier live links: one live pair per comment.
	Links []ActionLink
}

// Change is what an Announcer is told about: the comment before (nil for
// a new one) and after the change, its article, and, when the change is a
// report that reached the threshold, the comment's open reports.
type Change struct {
	Before, After *Comment
	Article       *Article
	Reports       []Report
}

// Announcer builds the announcements of a change, inside its transaction.
// A nil Announcer announces nothing.
type Announcer func(ctx context.Context, ch Change) ([]Announcement, error)

// announce runs fn on the change and stores what it returns in tx.
func (s *Store) announce(ctx context.Context, tx sqlx.ExtContext, fn Announcer, ch Change) error {
	if fn == nil {
		return nil
	}
	if ch.Article == nil {
		a, err := s.articleByID(ctx, tx, ch.After.ArticleID)
		if err != nil {
			return err
		}
		ch.Article = a
	}
	anns, err := fn(ctx, ch)
	if err != nil {
		return fmt.Errorf("announce comment %d: %w", ch.After.ID, err)
	}
	for i := range anns {
		if err := s.storeAnnouncement(ctx, tx, &anns[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) storeAnnouncement(ctx context.Context, tx sqlx.ExtContext, a *Announcement) error {
	now := s.nowMS()
	if len(a.Links) > 0 {
		if err := s.spendCommentLinks(ctx, tx, a.CommentID); err != nil {
			return err
		}
		for _, l := range a.Links {
			if err := s.insertLink(ctx, tx, l); err != nil {
				return err
			}
		}
	}
	if a.Replace {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM webhook_deliveries
			WHERE comment_id = ? AND event = ? AND delivered_at IS NULL AND gave_up_at IS NULL`), a.CommentID, a.Event); err != nil {
			return fmt.Errorf("replace webhook event: %w", err)
		}
	}
	for _, u := range a.URLs {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_deliveries (site_id, comment_id, url, event, payload, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), a.SiteID, a.CommentID, u, a.Event, a.Payload, now, now); err != nil {
			return fmt.Errorf("enqueue webhook: %w", err)
		}
	}
	return nil
}

// PendingEvents counts the comment's webhook deliveries of an event that
// are neither delivered nor given up.
func (s *Store) PendingEvents(ctx context.Context, commentID int64, event string) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM webhook_deliveries
		WHERE comment_id = ? AND event = ? AND delivered_at IS NULL AND gave_up_at IS NULL`), commentID, event)
	if err != nil {
		return 0, fmt.Errorf("count webhook events: %w", err)
	}
	return n, nil
}

// Events returns the payloads of a comment's webhook deliveries of an event,
// oldest first, delivered or not.
func (s *Store) Events(ctx context.Context, commentID int64, event string) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, s.q(`SELECT payload FROM webhook_deliveries WHERE comment_id = ? AND event = ? ORDER BY id`),
		commentID, event)
	if err != nil {
		return nil, fmt.Errorf("read webhook events: %w", err)
	}
	return out, nil
}
