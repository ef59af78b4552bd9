package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Counts maps a reaction to how many readers chose it.
type Counts map[string]int64

// Reactions is an article's counts and one reader's own reaction ("" for none).
type Reactions struct {
	Counts Counts
	Mine   string
}

// ReactionCounts returns an article's counts; an unknown article has none.
func (s *Store) ReactionCounts(ctx context.Context, articleID int64) (Counts, error) {
	return s.reactionCounts(ctx, s.db, articleID)
}

func (s *Store) reactionCounts(ctx context.Context, q sqlx.QueryerContext, articleID int64) (Counts, error) {
	rows, err := q.QueryxContext(ctx, s.q(`SELECT reaction, count FROM reaction_counts WHERE article_id = ?`), articleID)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	defer rows.Close()
	c := Counts{}
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		c[r] = n
	}
	return c, rows.Err()
}

// ReaderReaction returns the reader's reaction to an article, or "".
func (s *Store) ReaderReaction(ctx context.Context, articleID int64, readerID string) (string, error) {
	var r string
	err := s.db.GetContext(ctx, &r, s.q(`SELECT reaction FROM reactions WHERE article_id = ? AND reader_id = ?`), articleID, readerID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return r, err
}

// SiteReactionCounts returns the counts of several articles of a site by key;
// articles never used are absent.
func (s *Store) SiteReactionCounts(ctx context.Context, siteID int64, keys []string) (map[string]Counts, error) {
	out := make(map[string]Counts, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT a.key, c.reaction, c.count FROM articles a
		JOIN reaction_counts c ON c.article_id = a.id
		WHERE a.site_id = ? AND a.key IN (?)`, siteID, keys)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryxContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, r string
		var n int64
		if err := rows.Scan(&key, &r, &n); err != nil {
			return nil, err
		}
		if out[key] == nil {
			out[key] = Counts{}
		}
		out[key][r] = n
	}
	return out, rows.Err()
}

// SetReaction records the reader's reaction to an article, replacing any
// earlier one, or retracts it when reaction is "". The counter rows change
// in the same transaction, so counts stay exact under any concurrency.
func (s *Store) SetReaction(ctx context.Context, articleID int64, readerID, reaction string) (Reactions, error) {
	var out Reactions
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := s.setReaction(ctx, tx, articleID, readerID, reaction); err != nil {
			return err
		}
		c, err := s.reactionCounts(ctx, tx, articleID)
		out = Reactions{Counts: c, Mine: reaction}
		return err
	})
	return out, err
}

func (s *Store) setReaction(ctx context.Context, tx sqlx.ExtContext, articleID int64, readerID, reaction string) error {
	now := s.nowMS()
	var old string
	if reaction != "" {
		// Insert first: if it goes in there was no earlier reaction. If the row
		// exists, the locking read below gives the earlier one, even when
		// the same reader races with themselves on PostgreSQL.
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO reactions (article_id, reader_id, reaction, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (article_id, reader_id) DO NOTHING`), articleID, readerID, reaction, now)
		if err != nil {
			return fmt.Errorf("set reaction: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return s.bumpCount(ctx, tx, articleID, reaction, 1)
		}
	}
	err := sqlx.GetContext(ctx, tx, &old, s.q(`SELECT reaction FROM reactions WHERE article_id = ? AND reader_id = ?`+s.forUpdate()), articleID, readerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // retracting what was never there
	}
	if err != nil {
		return fmt.Errorf("read reaction: %w", err)
	}
	if old == reaction {
		return nil
	}
	if reaction == "" {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM reactions WHERE article_id = ? AND reader_id = ?`), articleID, readerID); err != nil {
			return fmt.Errorf("retract reaction: %w", err)
		}
	} else if _, err := tx.ExecContext(ctx, s.q(`UPDATE reactions SET reaction = ?, updated_at = ? WHERE article_id = ? AND reader_id = ?`),
		reaction, now, articleID, readerID); err != nil {
		return fmt.Errorf("change reaction: %w", err)
	}
	// Counter rows are always locked in name order, so two readers moving in
	// opposite directions cannot deadlock on PostgreSQL.
	first, firstBy, second, secondBy := old, int64(-1), reaction, int64(1)
	if reaction != "" && reaction < old {
		first, firstBy, second, secondBy = reaction, 1, old, -1
	}
	if err := s.bumpCount(ctx, tx, articleID, first, firstBy); err != nil {
		return err
	}
	if second != "" {
		return s.bumpCount(ctx, tx, articleID, second, secondBy)
	}
	return nil
}

func (s *Store) bumpCount(ctx context.Context, tx sqlx.ExtContext, articleID int64, reaction string, by int64) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO reaction_counts (article_id, reaction, count) VALUES (?, ?, ?)
		ON CONFLICT (article_id, reaction) DO UPDATE SET count = reaction_counts.count + excluded.count`), articleID, reaction, by)
	if err != nil {
		return fmt.Errorf("count reaction: %w", err)
	}
	return nil
}
