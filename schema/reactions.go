package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/schema/cache"
)

// Counts maps a reaction to how many readers chose it.
type Counts map[string]int64

// Reactions is an article's counts and one reader's own reaction ("" for none).
type Reactions struct {
	Counts Counts
	Mine   string
}

// ReactionCounts returns an article's counts, from memory when it can; an
// article nobody reacted to has none.
func (s *Store) ReactionCounts(ctx context.Context, articleID int64) (Counts, error) {
	return s.state.counts.Load(articleID, func() (Counts, error) {
		return s.reactionCounts(ctx, s.db, articleID)
	})
}

func (s *Store) reactionCounts(ctx context.Context, q sqlx.QueryerContext, articleID int64) (Counts, error) {
	rows, err := q.QueryxContext(ctx, s.q(`SELECT reaction, count FROM reaction_counts WHERE article_id = ?`), articleID)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	return scanCounts(rows)
}

// scanCounts reads (reaction, count) rows.
func scanCounts(rows *sqlx.Rows) (Counts, error) {
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

// ReaderReaction returns the reader's reaction to an article, or "". The
// widget asks on every page view, so answers are cached, "" too.
func (s *Store) ReaderReaction(ctx context.Context, articleID int64, readerID string) (string, error) {
	return s.state.mine.Load(readerArticle{articleID, readerID}, func() (string, error) {
		var r string
		err := s.db.GetContext(ctx, &r, s.q(`SELECT reaction FROM reactions WHERE article_id = ? AND reader_id = ?`), articleID, readerID)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return r, err
	})
}

// SiteReactionCounts returns the counts of several articles of a site by
// key; articles never used are absent.
func (s *Store) SiteReactionCounts(ctx context.Context, siteID int64, keys []string) (map[string]Counts, error) {
	ids, err := s.ArticleIDs(ctx, siteID, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Counts, len(ids))
	var missing []int64
	fills := map[int64]cache.Fill{}
	for _, id := range ids {
		if _, ok := s.state.counts.Get(id); !ok {
			missing = append(missing, id)
			fills[id] = s.state.counts.Begin(id)
		}
	}
	if len(missing) > 0 {
		query, args, err := sqlx.In(`SELECT article_id, reaction, count FROM reaction_counts WHERE article_id IN (?)`, missing)
		if err != nil {
			return nil, err
		}
		rows, err := s.db.QueryxContext(ctx, s.q(query), args...)
		if err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		keys := make(map[int64]string, len(ids))
		for k, id := range ids {
			keys[id] = k
		}
		loaded := make(map[int64]Counts, len(missing))
		for _, id := range missing {
			loaded[id] = Counts{}
		}
		for rows.Next() {
			var id, n int64
			var r string
			if err := rows.Scan(&id, &r, &n); err != nil {
				rows.Close()
				return nil, err
			}
			loaded[id][r] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for id, c := range loaded {
			s.state.counts.Put(fills[id], id, c)
			out[keys[id]] = c
		}
	}
	for key, id := range ids {
		if _, done := out[key]; done {
			continue
		}
		c, err := s.ReactionCounts(ctx, id)
		if err != nil {
			return nil, err
		}
		out[key] = c
	}
	return out, nil
}

// SetReaction records the reader's reaction to an article, replacing any
// earlier one, or retracts it when reaction is "". It goes through the
// group-commit writer; the counters change in the same transaction, so
// counts stay exact under any concurrency.
func (s *Store) SetReaction(ctx context.Context, articleID int64, readerID, reaction string) (Reactions, error) {
	err := s.submit(ctx, func(b *batch) error {
		return s.setReaction(b, articleID, readerID, reaction)
	})
	if err != nil {
		return Reactions{}, err
	}
	c, err := s.ReactionCounts(ctx, articleID)
	return Reactions{Counts: c, Mine: reaction}, err
}

// The statements of the vote path, prepared once on SQLite.
const (
	sqlReadReaction   = `SELECT reaction FROM reactions WHERE article_id = ? AND reader_id = ?`
	sqlInsertReaction = `INSERT INTO reactions (article_id, reader_id, reaction, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (article_id, reader_id) DO NOTHING`
	sqlUpdateReaction = `UPDATE reactions SET reaction = ?, updated_at = ? WHERE article_id = ? AND reader_id = ?`
	sqlDeleteReaction = `DELETE FROM reactions WHERE article_id = ? AND reader_id = ?`
	sqlAddCount       = `INSERT INTO reaction_counts (article_id, reaction, count) VALUES (?, ?, ?) ON CONFLICT (article_id, reaction) DO UPDATE SET count = reaction_counts.count + excluded.count RETURNING count`
)

func (s *Store) setReaction(b *batch, articleID int64, readerID, reaction string) error {
	s.published(b.tx, mineChanged(articleID, readerID))
	b.afterCommit(func() { s.state.mine.Set(readerArticle{articleID, readerID}, reaction) })
	read := sqlReadReaction + s.forUpdate()
	var old string
	err := b.get(&old, read, articleID, readerID)
	switch {
	case errors.Is(err, sql.ErrNoRows) && reaction == "":
		return nil // retracting what was never there
	case errors.Is(err, sql.ErrNoRows):
		res, err := b.exec(sqlInsertReaction, articleID, readerID, reaction, s.nowMS())
		if err != nil {
			return fmt.Errorf("set reaction: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			b.addCount(articleID, reaction, 1)
			return nil
		}
		// The same reader won a race on another PostgreSQL instance: read
		// what they chose, now locked, and go on from there.
		if err := b.get(&old, read, articleID, readerID); err != nil {
			return fmt.Errorf("read reaction: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read reaction: %w", err)
	}
	if old == reaction {
		return nil
	}
	if reaction == "" {
		_, err = b.exec(sqlDeleteReaction, articleID, readerID)
	} else {
		_, err = b.exec(sqlUpdateReaction, reaction, s.nowMS(), articleID, readerID)
	}
	if err != nil {
		return fmt.Errorf("change reaction: %w", err)
	}
	b.addCount(articleID, old, -1)
	if reaction != "" {
		b.addCount(articleID, reaction, 1)
	}
	return nil
}

// RecountReactions counts an article's reactions row by row. It scans the
// votes, so nothing on a request path calls it: it is how tests and the
// benchmark check that the counters are exact.
func (s *Store) RecountReactions(ctx context.Context, articleID int64) (Counts, error) {
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT reaction, COUNT(*) FROM reactions WHERE article_id = ? GROUP BY reaction`), articleID)
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	return scanCounts(rows)
}
