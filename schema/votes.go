package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// CommentScore is a comment's votes and one reader's own vote (-1, 0, 1).
type CommentScore struct {
	ID        int64 `db:"id"`
	Upvotes   int64 `db:"upvotes"`
	Downvotes int64 `db:"downvotes"`
	Score     int64 `db:"score"`
	Mine      int   `db:"-"`
	ArticleID int64 `db:"article_id"`
}

// VoteComment records a reader's up (1) or down (-1) vote on a comment,
// replacing an earlier one, or retracts it (0). The comment's totals change
// in the same transaction, one of the group-commit writer's, so that a
// popular comment's votes share commits instead of queueing for one each.
func (s *Store) VoteComment(ctx context.Context, commentID int64, readerID string, vote int) (CommentScore, error) {
	var out CommentScore
	err := s.submit(ctx, func(b *batch) error {
		out = CommentScore{}
		var article int64
		if err := b.get(&article, `SELECT article_id FROM comments WHERE id = ?`, commentID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return soft(fmt.Errorf("comment %d: %w", commentID, ErrNotFound))
			}
			return fmt.Errorf("read comment: %w", err)
		}
		if vote != 0 {
			res, err := b.exec(`INSERT INTO comment_votes (comment_id, reader_id, vote) VALUES (?, ?, ?)
				ON CONFLICT (comment_id, reader_id) DO NOTHING`, commentID, readerID, vote)
			if err != nil {
				return fmt.Errorf("vote: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return s.applyVote(b, commentID, 0, vote, &out)
			}
		}
		// The row lock makes a vote of the same reader on another instance
		// wait, so that each change is counted against the vote it replaced.
		var old int
		err := b.get(&old, `SELECT vote FROM comment_votes WHERE comment_id = ? AND reader_id = ?`+s.forUpdate(), commentID, readerID)
		if errors.Is(err, sql.ErrNoRows) {
			old = 0
		} else if err != nil {
			return fmt.Errorf("read vote: %w", err)
		}
		if old != vote {
			if vote == 0 {
				_, err = b.exec(`DELETE FROM comment_votes WHERE comment_id = ? AND reader_id = ?`, commentID, readerID)
			} else {
				_, err = b.exec(`UPDATE comment_votes SET vote = ? WHERE comment_id = ? AND reader_id = ?`, vote, commentID, readerID)
			}
			if err != nil {
				return fmt.Errorf("change vote: %w", err)
			}
		}
		return s.applyVote(b, commentID, old, vote, &out)
	})
	return out, err
}

func (s *Store) applyVote(b *batch, commentID int64, old, vote int, out *CommentScore) error {
	tally := func(v int) (up, down int64) {
		switch v {
		case 1:
			return 1, 0
		case -1:
			return 0, 1
		}
		return 0, 0
	}
	oldUp, oldDown := tally(old)
	newUp, newDown := tally(vote)
	up, down := newUp-oldUp, newDown-oldDown
	err := b.get(out, `UPDATE comments SET upvotes = upvotes + ?, downvotes = downvotes + ?, score = score + ?
		WHERE id = ? RETURNING id, upvotes, downvotes, score, article_id`, up, down, up-down, commentID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("comment %d: %w", commentID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("count vote: %w", err)
	}
	out.Mine = vote
	b.s.changed(b.tx, threadChanged(out.ArticleID))
	return nil
}

// RecountVotes returns a comment's totals as stored and as counted from
// its votes: they must agree.
func (s *Store) RecountVotes(ctx context.Context, commentID int64) (stored, counted CommentScore, err error) {
	if err = s.db.GetContext(ctx, &stored, s.q(`SELECT id, upvotes, downvotes, score, article_id FROM comments WHERE id = ?`), commentID); err != nil {
		return stored, counted, notFound(fmt.Sprintf("comment %d", commentID), err)
	}
	err = s.db.GetContext(ctx, &counted, s.q(`SELECT COALESCE(SUM(CASE WHEN vote = 1 THEN 1 ELSE 0 END), 0) AS upvotes,
		COALESCE(SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END), 0) AS downvotes, COALESCE(SUM(vote), 0) AS score
		FROM comment_votes WHERE comment_id = ?`), commentID)
	counted.ID, counted.ArticleID = stored.ID, stored.ArticleID
	if err != nil {
		return stored, counted, fmt.Errorf("recount votes: %w", err)
	}
	return stored, counted, nil
}

// ReaderVotes returns a reader's votes on the given comments.
func (s *Store) ReaderVotes(ctx context.Context, readerID string, commentIDs []int64) (map[int64]int, error) {
	out := map[int64]int{}
	if len(commentIDs) == 0 || readerID == "" {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT comment_id, vote FROM comment_votes WHERE reader_id = ? AND comment_id IN (?)`, readerID, commentIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryxContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read votes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}
