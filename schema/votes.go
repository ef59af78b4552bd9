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
// in the same transaction.
func (s *Store) VoteComment(ctx context.Context, commentID int64, readerID string, vote int) (CommentScore, error) {
	var out CommentScore
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var old int
		if vote != 0 {
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO comment_votes (comment_id, reader_id, vote) VALUES (?, ?, ?)
				ON CONFLICT (comment_id, reader_id) DO NOTHING`), commentID, readerID, vote)
			if err != nil {
				return fmt.Errorf("vote: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return s.applyVote(ctx, tx, commentID, 0, vote, &out)
			}
		}
		err := tx.GetContext(ctx, &old, s.q(`SELECT vote FROM comment_votes WHERE comment_id = ? AND reader_id = ?`+s.forUpdate()), commentID, readerID)
		if errors.Is(err, sql.ErrNoRows) {
			old = 0
		} else if err != nil {
			return fmt.Errorf("read vote: %w", err)
		}
		if old != vote {
			if vote == 0 {
				_, err = tx.ExecContext(ctx, s.q(`DELETE FROM comment_votes WHERE comment_id = ? AND reader_id = ?`), commentID, readerID)
			} else {
				_, err = tx.ExecContext(ctx, s.q(`UPDATE comment_votes SET vote = ? WHERE comment_id = ? AND reader_id = ?`), vote, commentID, readerID)
			}
			if err != nil {
				return fmt.Errorf("change vote: %w", err)
			}
		}
		return s.applyVote(ctx, tx, commentID, old, vote, &out)
	})
	return out, err
}

func (s *Store) applyVote(ctx context.Context, tx *sqlx.Tx, commentID int64, old, vote int, out *CommentScore) error {
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
	err := tx.GetContext(ctx, out, s.q(`UPDATE comments SET upvotes = upvotes + ?, downvotes = downvotes + ?, score = score + ?
		WHERE id = ? RETURNING id, upvotes, downvotes, score, article_id`), up, down, up-down, commentID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("comment %d: %w", commentID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("count vote: %w", err)
	}
	out.Mine = vote
	s.changed(tx, threadChanged(out.ArticleID))
	return nil
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
