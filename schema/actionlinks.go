package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ActionLink is a one-time link that approves or rejects a held comment
// without logging in, sent in a webhook. Only its token's hash is stored.
// The links of one announcement share a Pair and are spent together.
type ActionLink struct {
	TokenHash string `db:"token_hash"`
	CommentID int64  `db:"comment_id"`
	Action    string `db:"action"`
	Pair      string `db:"pair"`
	// CommentVersion is the comment's version the link was issued for: it
	// acts on that text and no other.
	CommentVersion int64  `db:"comment_version"`
	ExpiresMS      int64  `db:"expires_at"`
	UsedMS         *int64 `db:"used_at"`
}

// ExpiresAt is when the link stops working.
func (l *ActionLink) ExpiresAt() time.Time { return msTime(l.ExpiresMS) }

// Usable tells whether the link was neither used nor expired at now.
func (l *ActionLink) Usable(now time.Time) bool {
	return l.UsedMS == nil && l.ExpiresMS > now.UnixMilli()
}

// CreateActionLinks stores links; each needs a Pair, even a link alone.
func (s *Store) CreateActionLinks(ctx context.Context, links ...ActionLink) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		for _, l := range links {
			if err := s.insertLink(ctx, tx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) insertLink(ctx context.Context, tx sqlx.ExtContext, l ActionLink) error {
	if l.Pair == "" {
		return fmt.Errorf("action link for comment %d has no pair", l.CommentID)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO action_links (token_hash, comment_id, action, pair, comment_version, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		l.TokenHash, l.CommentID, l.Action, l.Pair, l.CommentVersion, l.ExpiresMS); err != nil {
		return fmt.Errorf("store action link: %w", err)
	}
	return nil
}

// spendCommentLinks spends every live link of a comment: a decision made
// elsewhere, or a newer pair, leaves them nothing to do.
func (s *Store) spendCommentLinks(ctx context.Context, tx sqlx.ExtContext, commentID int64) error {
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE action_links SET used_at = ? WHERE comment_id = ? AND used_at IS NULL`), s.nowMS(), commentID); err != nil {
		return fmt.Errorf("spend action links: %w", err)
	}
	return nil
}

// LiveLinks counts a comment's links that are neither used nor expired.
func (s *Store) LiveLinks(ctx context.Context, commentID int64) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM action_links WHERE comment_id = ? AND used_at IS NULL AND expires_at > ?`),
		commentID, s.nowMS())
	if err != nil {
		return 0, fmt.Errorf("count action links: %w", err)
	}
	return n, nil
}

// ActionLink returns the link with the token hash, used or not.
func (s *Store) ActionLink(ctx context.Context, tokenHash string) (*ActionLink, error) {
	var l ActionLink
	err := s.db.GetContext(ctx, &l, s.q(`SELECT token_hash, comment_id, action, pair, comment_version, expires_at, used_at FROM action_links WHERE token_hash = ?`), tokenHash)
	if err != nil {
		return nil, notFound("action link", err)
	}
	return &l, nil
}

// spendLink marks a usable link for the comment, and its twin, used, and
// returns the comment version the link was issued for. One statement
// updates the whole pair; callers lock the comment first, so two clicks on
// the twins take turns and the second finds them spent.
func (s *Store) spendLink(ctx context.Context, tx sqlx.ExtContext, tokenHash string, commentID int64) (int64, error) {
	now := s.nowMS()
	var spent []struct {
		TokenHash string `db:"token_hash"`
		CommentID int64  `db:"comment_id"`
		Version   int64  `db:"comment_version"`
	}
	err := sqlx.SelectContext(ctx, tx, &spent, s.q(`UPDATE action_links SET used_at = ?
		WHERE pair = (SELECT pair FROM action_links WHERE token_hash = ?) AND used_at IS NULL AND expires_at > ?
		RETURNING token_hash, comment_id, comment_version`), now, tokenHash, now)
	if err != nil {
		return 0, fmt.Errorf("spend action link: %w", err)
	}
	for _, l := range spent {
		if l.TokenHash == tokenHash && l.CommentID == commentID {
			return l.Version, nil
		}
	}
	return 0, fmt.Errorf("action link used or expired: %w", ErrNotFound)
}
