package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Report is a reader's report of a comment.
type Report struct {
	ID        int64  `db:"id" json:"-"`
	CommentID int64  `db:"comment_id" json:"-"`
	ReaderID  string `db:"reader_id" json:"-"`
	Reason    string `db:"reason" json:"reason"`
	Note      string `db:"note" json:"note"`
	CreatedMS int64  `db:"created_at" json:"-"`
}

// CreatedAt is when the report was made.
func (r Report) CreatedAt() time.Time { return msTime(r.CreatedMS) }

// ReportComment stores a reader's report; a repeat by the same reader is
// accepted and not counted (counted is false). When the open reports reach
// threshold, the comment enters the reported queue (reportedNow is true the
// moment that happens), and announce's webhook events are stored with it.
// It runs in the group-commit writer: a burst of reports shares commits.
func (s *Store) ReportComment(ctx context.Context, commentID int64, readerID, reason, note string, threshold int, announce Announcer) (counted, reportedNow bool, err error) {
	err = s.submit(ctx, func(b *batch) error {
		counted, reportedNow = false, false
		var exists int
		if err := b.get(&exists, `SELECT COUNT(*) FROM comments WHERE id = ?`, commentID); err != nil {
			return fmt.Errorf("read comment: %w", err)
		}
		if exists == 0 {
			return soft(fmt.Errorf("comment %d: %w", commentID, ErrNotFound))
		}
		now := s.nowMS()
		res, err := b.exec(`INSERT INTO reports (comment_id, reader_id, reason, note, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (comment_id, reader_id) DO NOTHING`, commentID, readerID, reason, note, now)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		counted = true
		var c struct {
			SiteID   int64  `db:"site_id"`
			Article  int64  `db:"article_id"`
			Status   string `db:"status"`
			Queue    string `db:"queue"`
			Count    int64  `db:"report_count"`
			Reported *int64 `db:"reported_at"`
		}
		// The update locks the row, so concurrent reports on other
		// instances count one by one and only one sees the threshold.
		if err := b.get(&c, `UPDATE comments SET report_count = report_count + 1, priority = priority + 1
			WHERE id = ? RETURNING site_id, article_id, status, queue, report_count, reported_at`, commentID); err != nil {
			return notFound(fmt.Sprintf("comment %d", commentID), err)
		}
		b.rollReport(c.SiteID, c.Article)
		if c.Reported != nil || c.Count < int64(threshold) {
			return nil
		}
		reportedNow = true
		queue := queueOf(c.Status, true)
		if _, err := b.exec(`UPDATE comments SET reported_at = ?, queue = ? WHERE id = ?`, now, queue, commentID); err != nil {
			return fmt.Errorf("mark reported: %w", err)
		}
		b.moveQueue(c.SiteID, c.Queue, queue)
		if announce == nil {
			return nil
		}
		after, err := s.comment(b.ctx, b.tx, commentID)
		if err != nil {
			return err
		}
		var reports []Report
		if err := b.tx.SelectContext(b.ctx, &reports, s.q(`SELECT id, comment_id, reader_id, reason, note, created_at FROM reports
			WHERE comment_id = ? AND dismissed_at IS NULL ORDER BY id`), commentID); err != nil {
			return fmt.Errorf("read reports: %w", err)
		}
		return s.announce(b.ctx, b.tx, announce, Change{After: after, Reports: reports})
	})
	return counted, reportedNow, err
}

// dismissReports closes a comment's open reports: a moderator approved it.
// The caller's transition then moves it out of the reported queue.
func (s *Store) dismissReports(ctx context.Context, tx sqlx.ExtContext, c *Comment) error {
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE reports SET dismissed_at = ? WHERE comment_id = ? AND dismissed_at IS NULL`), s.nowMS(), c.ID); err != nil {
		return fmt.Errorf("dismiss reports: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET priority = priority - report_count, report_count = 0, reported_at = NULL WHERE id = ?`), c.ID); err != nil {
		return fmt.Errorf("dismiss reports: %w", err)
	}
	c.Priority -= c.ReportCount
	c.ReportCount, c.ReportedMS = 0, nil
	return nil
}

// OpenReports returns the undismissed reports of the given comments.
func (s *Store) OpenReports(ctx context.Context, commentIDs []int64) (map[int64][]Report, error) {
	out := map[int64][]Report{}
	if len(commentIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT id, comment_id, reader_id, reason, note, created_at FROM reports
		WHERE comment_id IN (?) AND dismissed_at IS NULL ORDER BY id`, commentIDs)
	if err != nil {
		return nil, err
	}
	var rows []Report
	if err := s.db.SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	for _, r := range rows {
		out[r.CommentID] = append(out[r.CommentID], r)
	}
	return out, nil
}
