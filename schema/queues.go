package schema

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Moderation queues. Pending, reported and spam are the work; approved and
// rejected are history.
const (
	QueuePending  = "pending"
	QueueReported = "reported"
	QueueSpam     = "spam"
	QueueApproved = "approved"
	QueueRejected = "rejected"
)

// Queues lists the queues a moderator can page through.
var Queues = []string{QueuePending, QueueReported, QueueSpam, QueueApproved, QueueRejected}

// CountedQueues are the queues whose sizes queue_counts keeps.
var CountedQueues = []string{QueuePending, QueueReported, QueueSpam}

// queueOf is the queue of a comment in status, reported or not: reports
// matter only while the comment is published.
func queueOf(status string, reported bool) string {
	if status == StatusApproved && reported {
		return QueueReported
	}
	return status
}

func counted(queue string) bool { return slices.Contains(CountedQueues, queue) }

// moveQueue keeps queue_counts right when a comment of the site leaves
// queue from ("" for a new comment) for queue to. The two counters are
// updated in name order, so that concurrent moves in opposite directions
// lock them in the same order on PostgreSQL and cannot deadlock.
func (s *Store) moveQueue(ctx context.Context, tx sqlx.ExtContext, siteID int64, from, to string) error {
	for _, d := range queueDeltas(from, to) {
		if _, err := tx.ExecContext(ctx, s.q(sqlMoveQueue), siteID, d.queue, d.by); err != nil {
			return fmt.Errorf("count queue %s: %w", d.queue, err)
		}
	}
	return nil
}

// moveQueue is Store.moveQueue in a batch: the change is folded into the
// batch's queue counters, written when its ops have run.
func (b *batch) moveQueue(siteID int64, from, to string) {
	for _, d := range queueDeltas(from, to) {
		b.queues[queueKey{siteID, d.queue}] += int64(d.by)
	}
}

const sqlMoveQueue = `INSERT INTO queue_counts (site_id, queue, count) VALUES (?, ?, ?)
			ON CONFLICT (site_id, queue) DO UPDATE SET count = queue_counts.count + excluded.count`

type queueDelta struct {
	queue string
	by    int
}

// queueDeltas are the counter changes of a comment moving between queues,
// in queue order, the order every transaction locks them in.
func queueDeltas(from, to string) []queueDelta {
	if from == to {
		return nil
	}
	var ds []queueDelta
	if counted(from) {
		ds = append(ds, queueDelta{from, -1})
	}
	if counted(to) {
		ds = append(ds, queueDelta{to, 1})
	}
	slices.SortFunc(ds, func(a, b queueDelta) int { return strings.Compare(a.queue, b.queue) })
	return ds
}

// QueueCounts returns the sizes of the counted queues over the given sites
// (every site when siteIDs is nil), read from counters, never by counting
// comments.
func (s *Store) QueueCounts(ctx context.Context, siteIDs []int64) (map[string]int64, error) {
	out := map[string]int64{}
	for _, q := range CountedQueues {
		out[q] = 0
	}
	query, args := `SELECT queue, SUM(count) FROM queue_counts`, []any{}
	if siteIDs != nil {
		if len(siteIDs) == 0 {
			return out, nil
		}
		var err error
		if query, args, err = sqlx.In(query+` WHERE site_id IN (?)`, siteIDs); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.QueryxContext(ctx, s.q(query+` GROUP BY queue`), args...)
	if err != nil {
		return nil, fmt.Errorf("read queue counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var q string
		var n int64
		if err := rows.Scan(&q, &n); err != nil {
			return nil, err
		}
		out[q] = n
	}
	return out, rows.Err()
}

// Orders of a queue page. Queues work oldest first; history reads best
// newest first; priority puts the comments with the most reasons and
// reports first, oldest first among equals.
const (
	QueueOldest   = "oldest"
	QueueNewest   = "newest"
	QueuePriority = "priority"
)

// QueueQuery selects a page of a moderation queue.
type QueueQuery struct {
	Queue string
	// SiteIDs are the sites to show; nil means every site.
	SiteIDs []int64
	// ArticleID, when not 0, narrows the page to one article.
	ArticleID int64
	Sort      string // QueueOldest, QueueNewest or QueuePriority
	After     *Cursor
	Limit     int
}

// QueuePage returns a page of a queue after q.After and the cursor of the
// next page, if any. Whatever the size of the table, a page is one index
// range per site: pages are keyset pages (no OFFSET), the sites of a
// moderator limited to several are read one by one and merged here, and
// the priority order runs over an index on (queue, priority DESC, id).
func (s *Store) QueuePage(ctx context.Context, q QueueQuery) ([]Comment, *Cursor, error) {
	if !slices.Contains(Queues, q.Queue) {
		return nil, nil, fmt.Errorf("unknown queue %q", q.Queue)
	}
	if q.Sort != QueueNewest && q.Sort != QueuePriority {
		q.Sort = QueueOldest
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	type scope struct {
		where string
		arg   any
	}
	var scopes []scope
	switch {
	case q.ArticleID != 0:
		scopes = []scope{{`article_id = ? AND `, q.ArticleID}}
	case q.SiteIDs == nil:
		scopes = []scope{{``, nil}}
	default:
		for _, id := range q.SiteIDs {
			scopes = append(scopes, scope{`site_id = ? AND `, id})
		}
	}
	var rows []Comment
	for _, sc := range scopes {
		var args []any
		if sc.arg != nil {
			args = append(args, sc.arg)
		}
		page, err := s.queueScope(ctx, sc.where, args, q)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, page...)
	}
	if len(scopes) > 1 {
		slices.SortFunc(rows, queueOrder(q.Sort))
	}
	var next *Cursor
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = &Cursor{Sort: q.Sort, Score: last.Priority, ID: last.ID}
	}
	return rows, next, nil
}

// queueScope reads up to q.Limit+1 comments of one scope (all sites, one
// site or one article) in the page's order.
func (s *Store) queueScope(ctx context.Context, where string, args []any, q QueueQuery) ([]Comment, error) {
	sel := `SELECT ` + commentColumns + ` FROM comments WHERE ` + where + `queue = ?`
	args = append(args, q.Queue)
	n := q.Limit + 1
	read := func(query string, args ...any) ([]Comment, error) {
		rows, err := s.selectComments(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("read queue %s: %w", q.Queue, err)
		}
		return rows, nil
	}
	with := func(extra ...any) []any { return append(slices.Clone(args), extra...) }
	switch {
	case q.Sort == QueueNewest && q.After != nil:
		return read(sel+` AND id < ? ORDER BY id DESC LIMIT ?`, with(q.After.ID, n)...)
	case q.Sort == QueueNewest:
		return read(sel+` ORDER BY id DESC LIMIT ?`, with(n)...)
	case q.Sort == QueuePriority && q.After != nil:
		// "After (p, id) in priority DESC, id ASC" is two index ranges:
		// the rest of priority p, then everything below p.
		rows, err := read(sel+` AND priority = ? AND id > ? ORDER BY id LIMIT ?`, with(q.After.Score, q.After.ID, n)...)
		if err != nil || len(rows) >= n {
			return rows, err
		}
		more, err := read(sel+` AND priority < ? ORDER BY priority DESC, id LIMIT ?`, with(q.After.Score, n-len(rows))...)
		return append(rows, more...), err
	case q.Sort == QueuePriority:
		return read(sel+` ORDER BY priority DESC, id LIMIT ?`, with(n)...)
	case q.After != nil:
		return read(sel+` AND id > ? ORDER BY id LIMIT ?`, with(q.After.ID, n)...)
	default:
		return read(sel+` ORDER BY id LIMIT ?`, with(n)...)
	}
}

func queueOrder(sort string) func(a, b Comment) int {
	switch sort {
	case QueueNewest:
		return func(a, b Comment) int { return cmp.Compare(b.ID, a.ID) }
	case QueuePriority:
		return func(a, b Comment) int {
			return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.ID, b.ID))
		}
	default:
		return func(a, b Comment) int { return cmp.Compare(a.ID, b.ID) }
	}
}
