package schema

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ActionLink is a one-time link that approves or rejects a held comment
// without logging in, sent in a webhook. Only its token's hash is stored.
// The links of one announcement share a Pair and are spent together.
type ActionLink struct {
	TokenHash string        `db:"token_hash"`
	CommentID int64         `db:"comment_id"`
	Action    string        `db:"action"`
	Pair      string        `db:"pair"`
	ExpiresMS int64         `db:"expires_at"`
	UsedMS    sql.NullInt64 `db:"used_at"`
}

// ExpiresAt is when the link stops working.
func (l *ActionLink) ExpiresAt() time.Time { return msTime(l.ExpiresMS) }

// Usable tells whether the link was neither used nor expired at now.
func (l *ActionLink) Usable(now time.Time) bool {
	return !l.UsedMS.Valid && l.ExpiresMS > now.UnixMilli()
}

// CreateActionLinks stores links; each needs a Pair, even a link alone.
func (s *Store) CreateActionLinks(ctx context.Context, links ...ActionLink) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		for _, l := range links {
			if l.Pair == "" {
				return fmt.Errorf("action link for comment %d has no pair", l.CommentID)
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO action_links (token_hash, comment_id, action, pair, expires_at) VALUES (?, ?, ?, ?, ?)`),
				l.TokenHash, l.CommentID, l.Action, l.Pair, l.ExpiresMS); err != nil {
				return fmt.Errorf("store action link: %w", err)
			}
		}
		return nil
	})
}

// ActionLink returns the link with the token hash, used or not.
func (s *Store) ActionLink(ctx context.Context, tokenHash string) (*ActionLink, error) {
	var l ActionLink
	err := s.db.GetContext(ctx, &l, s.q(`SELECT token_hash, comment_id, action, pair, expires_at, used_at FROM action_links WHERE token_hash = ?`), tokenHash)
	if err != nil {
		return nil, notFound("action link", err)
	}
	return &l, nil
}

// spendLink marks a usable link for the comment, and its twin, used. One
// statement updates the whole pair, so that two clicks on the twins lock
// the same rows in the same order and cannot deadlock; the second finds
// them spent.
func (s *Store) spendLink(ctx context.Context, tx sqlx.ExtContext, tokenHash string, commentID int64) error {
	now := s.nowMS()
	var spent []struct {
		TokenHash string `db:"token_hash"`
		CommentID int64  `db:"comment_id"`
	}
	err := sqlx.SelectContext(ctx, tx, &spent, s.q(`UPDATE action_links SET used_at = ?
		WHERE pair = (SELECT pair FROM action_links WHERE token_hash = ?) AND used_at IS NULL AND expires_at > ?
		RETURNING token_hash, comment_id`), now, tokenHash, now)
	if err != nil {
		return fmt.Errorf("spend action link: %w", err)
	}
	for _, l := range spent {
		if l.TokenHash == tokenHash && l.CommentID == commentID {
			return nil
		}
	}
	return fmt.Errorf("action link used or expired: %w", ErrNotFound)
}
