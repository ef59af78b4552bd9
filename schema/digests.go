package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// A moderator may ask for an email listing the comments that entered the
// pending queue since the last one, at most every so many minutes.

// ModeratorDigest returns how often the moderator asked for the pending
// digest, in minutes; 0 for never.
func (s *Store) ModeratorDigest(ctx context.Context, moderatorID int64) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q(`SELECT every_minutes FROM moderator_digests WHERE moderator_id = ?`), moderatorID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read moderator digest: %w", err)
	}
	return n, nil
}

// SetModeratorDigest sets how often the moderator gets the pending digest;
// 0 stops it. The first one covers what is held from now on.
func (s *Store) SetModeratorDigest(ctx context.Context, moderatorID int64, everyMinutes int) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if everyMinutes <= 0 {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM moderator_digests WHERE moderator_id = ?`), moderatorID)
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO moderator_digests (moderator_id, every_minutes, last_at) VALUES (?, ?, ?)
			ON CONFLICT (moderator_id) DO UPDATE SET every_minutes = excluded.every_minutes`), moderatorID, everyMinutes, s.nowMS())
		if err != nil {
			return fmt.Errorf("set moderator digest: %w", err)
		}
		return nil
	})
}

// DueModeratorDigests lists the moderators whose pending digest is due.
func (s *Store) DueModeratorDigests(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.q(`SELECT moderator_id FROM moderator_digests
		WHERE last_at + every_minutes * 60000 <= ? ORDER BY moderator_id`), s.nowMS()); err != nil {
		return nil, fmt.Errorf("find due moderator digests: %w", err)
	}
	return ids, nil
}

// PendingDigest is what one moderator's pending digest reports: the
// comments held since the last digest on the sites they moderate (the
// newest 20 of Total).
type PendingDigest struct {
	Moderator *Moderator
	Total     int64
	Comments  []AuthorComment
}

// SendModeratorDigest queues the pending digest of a moderator whose
// digest is due, in one transaction; build renders it. Nothing is sent
// when nothing new is held or the account is disabled, but the time is
// recorded either way. It tells whether an email was queued.
func (s *Store) SendModeratorDigest(ctx context.Context, moderatorID int64, build func(d *PendingDigest) (Mail, error)) (bool, error) {
	sent := false
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		sent = false
		now := s.nowMS()
		var row struct {
			Every int64 `db:"every_minutes"`
			Last  int64 `db:"last_at"`
		}
		err := tx.GetContext(ctx, &row, s.q(`SELECT every_minutes, last_at FROM moderator_digests WHERE moderator_id = ?`+s.forUpdate()), moderatorID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read moderator digest: %w", err)
		}
		if row.Last+row.Every*60000 > now {
			return nil // another instance sent it
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE moderator_digests SET last_at = ? WHERE moderator_id = ?`), now, moderatorID); err != nil {
			return fmt.Errorf("record moderator digest: %w", err)
		}
		var mr moderatorRow
		if err := tx.GetContext(ctx, &mr, s.q(`SELECT `+moderatorColumns+` FROM moderators WHERE id = ?`), moderatorID); err != nil {
			return notFound(fmt.Sprintf("moderator %d", moderatorID), err)
		}
		m, err := mr.moderator()
		if err != nil || m.Disabled {
			return err
		}
		where := `c.status = 'pending' AND c.created_at > ? AND c.created_at <= ?`
		args := []any{row.Last, now}
		if m.Role != RoleAdmin && len(m.Sites) > 0 {
			where += ` AND c.site_id IN (?` + strings.Repeat(`, ?`, len(m.Sites)-1) + `)`
			for _, id := range m.Sites {
				args = append(args, id)
			}
		}
		d := PendingDigest{Moderator: m}
		if err := tx.GetContext(ctx, &d.Total, s.q(`SELECT COUNT(*) FROM comments c WHERE `+where), args...); err != nil {
			return fmt.Errorf("count pending comments: %w", err)
		}
		if d.Total == 0 {
			return nil
		}
		if err := tx.SelectContext(ctx, &d.Comments, s.q(`SELECT `+prefixed(commentColumns, "c")+`, s.slug AS site_slug, a.key AS article_key
			FROM comments c JOIN sites s ON s.id = c.site_id JOIN articles a ON a.id = c.article_id
			WHERE `+where+` ORDER BY c.id DESC LIMIT 20`), args...); err != nil {
			return fmt.Errorf("list pending comments: %w", err)
		}
		mail, err := build(&d)
		if err != nil {
			return fmt.Errorf("render pending digest: %w", err)
		}
		if err := s.QueueMail(ctx, tx, mail); err != nil {
			return err
		}
		sent = true
		return nil
	})
	return sent, err
}
