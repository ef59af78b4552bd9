package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

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
	return s.voteComment(ctx, commentID, readerID, vote, false)
}

// VotePublishedComment is VoteComment for the public API: a comment that
// is not published (held, rejected, deleted, or none) is ErrNotFound. The
// status is read in the vote's own transaction, so the public vote needs
// no read of the comment before it, and a comment unpublished meanwhile
// is never voted on.
func (s *Store) VotePublishedComment(ctx context.Context, commentID int64, readerID string, vote int) (CommentScore, error) {
	return s.voteComment(ctx, commentID, readerID, vote, true)
}

func (s *Store) voteComment(ctx context.Context, commentID int64, readerID string, vote int, published bool) (CommentScore, error) {
	var out CommentScore
	err := s.submit(ctx, func(b *batch) error {
		out = CommentScore{}
		if s.dialect == Postgres {
			b.commentVotes = append(b.commentVotes, &commentVote{op: b.cur, comment: commentID, reader: readerID, vote: vote,
				published: published, out: &out})
			return nil
		}
		// SQLite from here: its writer is alone, so nothing is locked.
		// Most votes are a reader's first on the comment: one insert that
		// checks the comment, then the count. Anything else (no such
		// comment, not published, an earlier vote) inserts nothing and
		// takes the way below.
		if vote != 0 {
			insert := sqlInsertVoteOn
			if published {
				insert = sqlInsertVotePublished
			}
			res, err := b.exec(insert, commentID, readerID, vote, commentID)
			if err != nil {
				return fmt.Errorf("vote: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return s.applyVote(b, commentID, 0, vote, &out)
			}
		}
		read := sqlVoteArticle
		if published {
			read = sqlVotePublished
		}
		var article int64
		if err := b.get(&article, read, commentID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return soft(fmt.Errorf("comment %d: %w", commentID, ErrNotFound))
			}
			return fmt.Errorf("read comment: %w", err)
		}
		var old int
		err := b.get(&old, sqlReadVote, commentID, readerID)
		if errors.Is(err, sql.ErrNoRows) {
			old = 0
		} else if err != nil {
			return fmt.Errorf("read vote: %w", err)
		}
		if old != vote {
			switch {
			case vote == 0:
				_, err = b.exec(sqlDeleteVote, commentID, readerID)
			case old == 0:
				_, err = b.exec(sqlInsertVote, commentID, readerID, vote)
			default:
				_, err = b.exec(sqlUpdateVote, vote, commentID, readerID)
			}
			if err != nil {
				return fmt.Errorf("change vote: %w", err)
			}
		}
		return s.applyVote(b, commentID, old, vote, &out)
	})
	return out, err
}

// The statements of a comment vote on SQLite, prepared once.
const (
	sqlVoteArticle = `SELECT article_id FROM comments WHERE id = ?`
	// sqlVotePublished binds the status as a literal: StatusApproved.
	sqlVotePublished = `SELECT article_id FROM comments WHERE id = ? AND status = 'approved'`
	sqlInsertVote    = `INSERT INTO comment_votes (comment_id, reader_id, vote) VALUES (?, ?, ?) ON CONFLICT (comment_id, reader_id) DO NOTHING`
	// A first vote on a comment that exists (and is published): the
	// comment's id comes twice.
	sqlInsertVoteOn        = `INSERT INTO comment_votes (comment_id, reader_id, vote) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM comments WHERE id = ?) ON CONFLICT (comment_id, reader_id) DO NOTHING`
	sqlInsertVotePublished = `INSERT INTO comment_votes (comment_id, reader_id, vote) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM comments WHERE id = ? AND status = 'approved') ON CONFLICT (comment_id, reader_id) DO NOTHING`
	sqlReadVote            = `SELECT vote FROM comment_votes WHERE comment_id = ? AND reader_id = ?`
	sqlDeleteVote          = `DELETE FROM comment_votes WHERE comment_id = ? AND reader_id = ?`
	sqlUpdateVote          = `UPDATE comment_votes SET vote = ? WHERE comment_id = ? AND reader_id = ?`
	sqlCountVote           = `UPDATE comments SET upvotes = upvotes + ?, downvotes = downvotes + ?, score = score + ? WHERE id = ? RETURNING id, upvotes, downvotes, score, article_id`
)

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
	err := b.get(out, sqlCountVote, up, down, up-down, commentID)
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

// commentVote is one reader's new vote on a comment (0 retracts), and
// where its answer goes.
type commentVote struct {
	op      *op
	comment int64
	reader  string
	vote    int
	// published refuses a comment that is not approved, as not found.
	published bool
	out       *CommentScore
}

type commentReader struct {
	comment int64
	reader  string
}

// writeCommentVotes writes a batch's comment votes on PostgreSQL in a few
// set-based statements, as writeReactions does for reactions: lock the
// comments in id order, lock and read the readers' earlier votes, insert,
// update and delete votes, then move each comment's totals once.
func (b *batch) writeCommentVotes() error {
	if len(b.commentVotes) == 0 {
		return nil
	}
	ids := map[int64]bool{}
	for _, v := range b.commentVotes {
		ids[v.comment] = true
	}
	commentIDs := make([]int64, 0, len(ids))
	for id := range ids {
		commentIDs = append(commentIDs, id)
	}
	sort.Slice(commentIDs, func(i, j int) bool { return commentIDs[i] < commentIDs[j] })
	var locked []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
	}
	if err := b.tx.SelectContext(b.ctx, &locked, `SELECT id, status FROM comments WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, commentIDs); err != nil {
		return fmt.Errorf("read comments: %w", err)
	}
	status := make(map[int64]string, len(locked))
	for _, c := range locked {
		status[c.ID] = c.Status
	}
	final := map[commentReader]int{}
	var votes []*commentVote
	voted := map[int64]bool{}
	for _, v := range b.commentVotes {
		st, ok := status[v.comment]
		if !ok || v.published && st != StatusApproved {
			v.op.soft = fmt.Errorf("comment %d: %w", v.comment, ErrNotFound)
			continue
		}
		votes = append(votes, v)
		voted[v.comment] = true
		final[commentReader{v.comment, v.reader}] = v.vote
	}
	// The comments whose totals may move: those a vote reached.
	var found []int64
	for _, c := range locked {
		if voted[c.ID] {
			found = append(found, c.ID)
		}
	}
	keys := make([]commentReader, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].comment != keys[j].comment {
			return keys[i].comment < keys[j].comment
		}
		return keys[i].reader < keys[j].reader
	})
	split := func(ks []commentReader) ([]int64, []string, []int64) {
		c, r, v := make([]int64, len(ks)), make([]string, len(ks)), make([]int64, len(ks))
		for i, k := range ks {
			c[i], r[i], v[i] = k.comment, k.reader, int64(final[k])
		}
		return c, r, v
	}
	old := map[commentReader]int{}
	readOld := func(ks []commentReader) error {
		c, r, _ := split(ks)
		var rows []struct {
			Comment int64  `db:"comment_id"`
			Reader  string `db:"reader_id"`
			Vote    int    `db:"vote"`
		}
		if err := b.tx.SelectContext(b.ctx, &rows, `SELECT v.comment_id, v.reader_id, v.vote FROM comment_votes v
			JOIN unnest($1::bigint[], $2::text[]) AS u(comment_id, reader_id) USING (comment_id, reader_id)
			ORDER BY v.comment_id, v.reader_id FOR UPDATE OF v`, c, r); err != nil {
			return fmt.Errorf("read votes: %w", err)
		}
		for _, row := range rows {
			old[commentReader{row.Comment, row.Reader}] = row.Vote
		}
		return nil
	}
	if len(keys) > 0 {
		if err := readOld(keys); err != nil {
			return err
		}
	}
	// A reader's earlier vote, 0 for none; inserted rows need no other write.
	inserted := map[commentReader]bool{}
	var insert []commentReader
	for _, k := range keys {
		if _, had := old[k]; !had && final[k] != 0 {
			insert = append(insert, k)
		}
	}
	if len(insert) > 0 {
		c, r, v := split(insert)
		var rows []struct {
			Comment int64  `db:"comment_id"`
			Reader  string `db:"reader_id"`
		}
		if err := b.tx.SelectContext(b.ctx, &rows, `INSERT INTO comment_votes (comment_id, reader_id, vote)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
			ON CONFLICT (comment_id, reader_id) DO NOTHING RETURNING comment_id, reader_id`, c, r, v); err != nil {
			return fmt.Errorf("vote: %w", err)
		}
		for _, row := range rows {
			inserted[commentReader{row.Comment, row.Reader}] = true
		}
		// The same readers won a race on another instance: read what they
		// chose, now locked, and go on from there.
		var raced []commentReader
		for _, k := range insert {
			if !inserted[k] {
				raced = append(raced, k)
			}
		}
		if len(raced) > 0 {
			if err := readOld(raced); err != nil {
				return err
			}
		}
	}
	type tally struct{ up, down int64 }
	deltas := map[int64]*tally{}
	for _, id := range found {
		deltas[id] = &tally{}
	}
	count := func(comment int64, v, by int) {
		switch v {
		case 1:
			deltas[comment].up += int64(by)
		case -1:
			deltas[comment].down += int64(by)
		}
	}
	var update, remove []commentReader
	for _, k := range keys {
		was := old[k]
		if was == final[k] {
			continue
		}
		count(k.comment, was, -1)
		count(k.comment, final[k], 1)
		switch {
		case inserted[k]:
		case final[k] == 0:
			remove = append(remove, k)
		default:
			update = append(update, k)
		}
	}
	if len(update) > 0 {
		c, r, v := split(update)
		if _, err := b.tx.ExecContext(b.ctx, `UPDATE comment_votes AS cv SET vote = u.vote
			FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(comment_id, reader_id, vote)
			WHERE cv.comment_id = u.comment_id AND cv.reader_id = u.reader_id`, c, r, v); err != nil {
			return fmt.Errorf("change votes: %w", err)
		}
	}
	if len(remove) > 0 {
		c, r, _ := split(remove)
		if _, err := b.tx.ExecContext(b.ctx, `DELETE FROM comment_votes cv USING unnest($1::bigint[], $2::text[]) AS u(comment_id, reader_id)
			WHERE cv.comment_id = u.comment_id AND cv.reader_id = u.reader_id`, c, r); err != nil {
			return fmt.Errorf("retract votes: %w", err)
		}
	}
	if len(found) == 0 {
		return nil
	}
	ups, downs := make([]int64, len(found)), make([]int64, len(found))
	for i, id := range found {
		ups[i], downs[i] = deltas[id].up, deltas[id].down
	}
	var totals []CommentScore
	if err := b.tx.SelectContext(b.ctx, &totals, `UPDATE comments AS c SET upvotes = c.upvotes + u.up, downvotes = c.downvotes + u.down,
			score = c.score + u.up - u.down
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, up, down) WHERE c.id = u.id
		RETURNING c.id, c.upvotes, c.downvotes, c.score, c.article_id`, found, ups, downs); err != nil {
		return fmt.Errorf("count votes: %w", err)
	}
	byID := make(map[int64]CommentScore, len(totals))
	for _, t := range totals {
		byID[t.ID] = t
		b.s.changed(b.tx, threadChanged(t.ArticleID))
	}
	for _, v := range votes {
		*v.out = byID[v.comment]
		v.out.Mine = v.vote
	}
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
