package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"
)

// ImportArticle is an article an import writes comments under.
type ImportArticle struct {
	Key   string
	Title string
	URL   string
}

// ImportComment is one comment of an import in Parley's terms: the format
// readers turn each system's records into these, already hashed.
type ImportComment struct {
	// SourceID and ParentSourceID are the source system's ids; the parent
	// is resolved once the whole file is written ("" for top level).
	SourceID       string
	ParentSourceID string
	Article        ImportArticle
	ReaderID       string
	Author         string
	EmailHash      string
	IPHash         string
	Body           string
	BodyKey        string
	Status         string
	Version        int64
	Reasons        string
	EditTokenHash  string
	Learned        string
	Upvotes        int64
	Downvotes      int64
	Score          int64
	ReportCount    int64
	Shadow         bool
	CreatedMS      int64
	EditedMS       *int64
	DecidedMS      *int64
	ReportedMS     *int64
	// WantID keeps a restored Parley export's comment id when no comment
	// holds it yet: public pages and links then stay the same.
	WantID  int64
	Votes   []ImportVote
	Reports []ImportReport
	// History is the comment's audit entries; ObjectID and SiteID are set
	// on import.
	History []Audit
}

// ImportReport is one reader's report of a comment.
type ImportReport struct {
	CommentID   int64  `db:"comment_id" json:"-"`
	ReaderID    string `db:"reader_id" json:"reader_id"`
	Reason      string `db:"reason" json:"reason"`
	Note        string `db:"note" json:"note"`
	CreatedMS   int64  `db:"created_at" json:"created_at"`
	DismissedMS *int64 `db:"dismissed_at" json:"-"`
}

// ImportVote is one reader's vote on a comment.
type ImportVote struct {
	ReaderID string `json:"reader_id"`
	Vote     int    `json:"vote"`
}

// Import writes one import into a site in batches, each its own
// transaction, keyed on (site, source, source id) so that running the same
// import again writes nothing twice. Finish resolves the parents once
// every batch is in.
type Import struct {
	s        *Store
	siteID   int64
	source   string
	articles map[string]int64
}

// NewImport starts an import of comments from source (a format name) into
// the site.
func (s *Store) NewImport(siteID int64, source string) *Import {
	return &Import{s: s, siteID: siteID, source: source, articles: map[string]int64{}}
}

// ImportBatch says what one Write did.
type ImportBatch struct {
	Written int
	// Already are the source ids that were imported before (an earlier
	// run, or earlier in the same file) and were left alone.
	Already []string
}

// Rows per multi-row INSERT: under SQLite's and PostgreSQL's limits on
// bound parameters for the widest table.
const importRowsPerInsert = 400

// Write stores a batch of comments in one transaction, with their
// articles, votes, reports and history, and keeps the article and queue
// counters right. Parents are left for Finish.
func (im *Import) Write(ctx context.Context, batch []ImportComment) (ImportBatch, error) {
	var res ImportBatch
	s := im.s
	newArticles := map[string]int64{}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		res = ImportBatch{}
		clear(newArticles)
		// Repeats inside the batch, then ids imported before.
		seen := make(map[string]bool, len(batch))
		var todo []*ImportComment
		for i := range batch {
			c := &batch[i]
			if seen[c.SourceID] {
				res.Already = append(res.Already, c.SourceID)
				continue
			}
			seen[c.SourceID] = true
			todo = append(todo, c)
		}
		if len(todo) == 0 {
			return nil
		}
		ids := make([]string, len(todo))
		for i, c := range todo {
			ids[i] = c.SourceID
		}
		done := map[string]bool{}
		for chunk := range slices.Chunk(ids, 5000) {
			q, args, err := sqlx.In(`SELECT source_id FROM imported_comments WHERE site_id = ? AND source = ? AND source_id IN (?)`, im.siteID, im.source, chunk)
			if err != nil {
				return err
			}
			var got []string
			if err := tx.SelectContext(ctx, &got, s.q(q), args...); err != nil {
				return fmt.Errorf("find imported comments: %w", err)
			}
			for _, id := range got {
				done[id] = true
			}
		}
		if len(done) > 0 {
			kept := todo[:0]
			for _, c := range todo {
				if done[c.SourceID] {
					res.Already = append(res.Already, c.SourceID)
				} else {
					kept = append(kept, c)
				}
			}
			todo = kept
		}
		if len(todo) == 0 {
			return nil
		}
		articleIDs := make([]int64, len(todo))
		for i, c := range todo {
			id, ok := im.articles[c.Article.Key]
			if !ok {
				id, ok = newArticles[c.Article.Key]
			}
			if !ok {
				var err error
				if id, err = im.ensureArticle(ctx, tx, c.Article); err != nil {
					return err
				}
				newArticles[c.Article.Key] = id
			}
			articleIDs[i] = id
		}
		commentIDs, err := im.allocate(ctx, tx, todo)
		if err != nil {
			return err
		}
		if err := im.insertComments(ctx, tx, todo, articleIDs, commentIDs); err != nil {
			return err
		}
		if err := im.insertExtras(ctx, tx, todo, commentIDs); err != nil {
			return err
		}
		// Counters move by what the batch added, so that a server writing
		// at the same time keeps its own increments.
		queues := map[string]int64{}
		approved := map[int64]int64{}
		for i, c := range todo {
			if q := queueOf(c.Status, c.ReportedMS != nil); counted(q) {
				queues[q]++
			}
			if c.Status == StatusApproved {
				approved[articleIDs[i]]++
			}
		}
		for _, q := range slices.Sorted(mapKeys(queues)) {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO queue_counts (site_id, queue, count) VALUES (?, ?, ?)
				ON CONFLICT (site_id, queue) DO UPDATE SET count = queue_counts.count + excluded.count`), im.siteID, q, queues[q]); err != nil {
				return fmt.Errorf("count queue %s: %w", q, err)
			}
		}
		for _, a := range slices.Sorted(mapKeys(approved)) {
			if err := s.bumpApproved(ctx, tx, a, approved[a]); err != nil {
				return err
			}
		}
		res.Written = len(todo)
		s.changed(tx, change{kind: changeAll})
		return nil
	})
	if err != nil {
		return ImportBatch{}, err
	}
	for k, id := range newArticles {
		im.articles[k] = id
	}
	return res, nil
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ensureArticle creates the article, or fills in the title and URL of an
// existing one that has none; a publisher's own title wins.
func (im *Import) ensureArticle(ctx context.Context, tx *sqlx.Tx, a ImportArticle) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, im.s.q(`INSERT INTO articles (site_id, key, title, url, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site_id, key) DO UPDATE SET
			title = CASE WHEN articles.title = '' THEN excluded.title ELSE articles.title END,
			url = CASE WHEN articles.url = '' THEN excluded.url ELSE articles.url END
		RETURNING id`), im.siteID, a.Key, a.Title, a.URL, im.s.nowMS())
	if err != nil {
		return 0, fmt.Errorf("article %s: %w", a.Key, err)
	}
	return id, nil
}

// allocate picks the new comments' ids inside the transaction, so that
// imported_comments can name them without reading them back: the wanted
// id when it is free, else a fresh one.
func (im *Import) allocate(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment) ([]int64, error) {
	s := im.s
	out := make([]int64, len(todo))
	var want []int64
	for _, c := range todo {
		if c.WantID > 0 {
			want = append(want, c.WantID)
		}
	}
	taken := map[int64]bool{}
	for chunk := range slices.Chunk(want, 5000) {
		q, args, err := sqlx.In(`SELECT id FROM comments WHERE id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		var got []int64
		if err := tx.SelectContext(ctx, &got, s.q(q), args...); err != nil {
			return nil, fmt.Errorf("check comment ids: %w", err)
		}
		for _, id := range got {
			taken[id] = true
		}
	}
	fresh := 0
	var maxWanted int64
	for i, c := range todo {
		if c.WantID > 0 && !taken[c.WantID] {
			taken[c.WantID] = true // a repeat in the batch gets a fresh id
			out[i] = c.WantID
			maxWanted = max(maxWanted, c.WantID)
		} else {
			fresh++
		}
	}
	if s.dialect == Postgres {
		if fresh > 0 {
			var ids []int64
			if err := tx.SelectContext(ctx, &ids, `SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, $1)`, fresh); err != nil {
				return nil, fmt.Errorf("allocate comment ids: %w", err)
			}
			j := 0
			for i := range out {
				if out[i] == 0 {
					for taken[ids[j]] {
						// The sequence can lag behind ids given explicitly.
						var next int64
						if err := tx.GetContext(ctx, &next, `SELECT nextval(pg_get_serial_sequence('comments', 'id'))`); err != nil {
							return nil, err
						}
						ids[j] = next
					}
					out[i] = ids[j]
					j++
				}
			}
		}
		if maxWanted > 0 {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('comments', 'id'), GREATEST((SELECT MAX(id) FROM comments), $1))`, maxWanted); err != nil {
				return nil, fmt.Errorf("move comment id sequence: %w", err)
			}
		}
		return out, nil
	}
	// SQLite: the writer transaction is exclusive, so MAX(id) stays ours.
	var top int64
	if err := tx.GetContext(ctx, &top, `SELECT COALESCE(MAX(id), 0) FROM comments`); err != nil {
		return nil, fmt.Errorf("allocate comment ids: %w", err)
	}
	top = max(top, maxWanted)
	for i := range out {
		if out[i] == 0 {
			top++
			for taken[top] {
				top++
			}
			out[i] = top
		}
	}
	return out, nil
}

// multiInsert runs INSERT … VALUES (…), (…) for rows of n columns, a few
// hundred rows a statement.
func (s *Store) multiInsert(ctx context.Context, tx *sqlx.Tx, head string, n int, rows [][]any, tail ...string) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	for chunk := range slices.Chunk(rows, importRowsPerInsert) {
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*n)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		for _, t := range tail {
			b.WriteString(" " + t)
		}
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

func (im *Import) insertComments(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment, articleIDs, ids []int64) error {
	rows := make([][]any, len(todo))
	maps := make([][]any, len(todo))
	for i, c := range todo {
		reasons := c.Reasons
		if reasons == "" {
			reasons = "[]"
		}
		version := max(c.Version, 1)
		queue := queueOf(c.Status, c.ReportedMS != nil)
		rows[i] = []any{ids[i], im.siteID, articleIDs[i], c.ReaderID, c.Author, c.EmailHash, c.IPHash, c.Body, c.BodyKey,
			c.Status, version, reasons, c.EditTokenHash, c.Upvotes, c.Downvotes, c.Score, c.ReportCount, c.Shadow,
			visible(c.Status, false), c.ReportedMS, c.CreatedMS, c.EditedMS, c.DecidedMS, queue,
			reasonCount(reasons) + c.ReportCount, c.Learned}
		maps[i] = []any{im.siteID, im.source, c.SourceID, ids[i], c.ParentSourceID, c.ParentSourceID == ""}
	}
	if err := im.s.multiInsert(ctx, tx, `INSERT INTO comments (id, site_id, article_id, reader_id, author, email_hash, ip_hash, body, body_key,
		status, version, reasons, edit_token_hash, upvotes, downvotes, score, report_count, shadow, visible, reported_at,
		created_at, edited_at, decided_at, queue, priority, learned)`, 26, rows); err != nil {
		return fmt.Errorf("insert comments: %w", err)
	}
	if err := im.s.multiInsert(ctx, tx, `INSERT INTO imported_comments (site_id, source, source_id, comment_id, source_parent, resolved)`, 6, maps); err != nil {
		return fmt.Errorf("record imported comments: %w", err)
	}
	return nil
}

func (im *Import) insertExtras(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment, ids []int64) error {
	var votes, reports [][]any
	for i, c := range todo {
		for _, v := range c.Votes {
			votes = append(votes, []any{ids[i], v.ReaderID, v.Vote})
		}
		for _, r := range c.Reports {
			reports = append(reports, []any{ids[i], r.ReaderID, r.Reason, r.Note, r.CreatedMS, r.DismissedMS})
		}
		for _, a := range c.History {
			a.ObjectType, a.ObjectID, a.SiteID = "comment", ids[i], new(im.siteID)
			if err := im.s.insertAudit(ctx, tx, &a); err != nil {
				return err
			}
		}
	}
	if err := im.s.multiInsert(ctx, tx, `INSERT INTO comment_votes (comment_id, reader_id, vote)`, 3, votes); err != nil {
		return fmt.Errorf("insert votes: %w", err)
	}
	if err := im.s.multiInsert(ctx, tx, `INSERT INTO reports (comment_id, reader_id, reason, note, created_at, dismissed_at)`, 6, reports); err != nil {
		return fmt.Errorf("insert reports: %w", err)
	}
	return nil
}

// insertAudit writes an entry as it was, time and actor included; a
// moderator the database does not know becomes no moderator, the actor
// keeping the name.
func (s *Store) insertAudit(ctx context.Context, tx *sqlx.Tx, a *Audit) error {
	if a.ModeratorID != nil {
		var n int
		if err := tx.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM moderators WHERE id = ?`), *a.ModeratorID); err != nil {
			return err
		}
		if n == 0 {
			a.ModeratorID = nil
		}
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (at, moderator_id, actor, action, object_type, object_id, site_id,
		before_state, after_state, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.AtMS, a.ModeratorID, a.Actor, a.Action, a.ObjectType, a.ObjectID, a.SiteID, a.Before, a.After, a.Detail)
	if err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	return nil
}

// ImportResolution is what Finish did to the parents.
type ImportResolution struct {
	Resolved int
	// Dangling are comments whose parent is not in the import (or is
	// under another article): they became top level.
	Dangling []DanglingParent
	// Cycles are comments whose parent chain led back to themselves: each
	// cycle was broken by making one of them top level.
	Cycles []string
}

// DanglingParent is a comment whose parent could not be found.
type DanglingParent struct {
	SourceID       string
	ParentSourceID string
}

// Finish resolves the parents of every comment of the source not resolved
// yet, breaks cycles, and marks the parents that now have replies.
func (im *Import) Finish(ctx context.Context) (ImportResolution, error) {
	s := im.s
	var res ImportResolution
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		res = ImportResolution{}
		r, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET parent_id = (
				SELECT p.comment_id FROM imported_comments m
				JOIN imported_comments p ON p.site_id = m.site_id AND p.source = m.source AND p.source_id = m.source_parent
				JOIN comments pc ON pc.id = p.comment_id
				WHERE m.comment_id = comments.id AND pc.article_id = comments.article_id)
			WHERE id IN (SELECT comment_id FROM imported_comments WHERE site_id = ? AND source = ? AND resolved = FALSE AND source_parent <> '')`),
			im.siteID, im.source)
		if err != nil {
			return fmt.Errorf("resolve parents: %w", err)
		}
		n, _ := r.RowsAffected()
		rows, err := tx.QueryxContext(ctx, s.q(`SELECT m.source_id, m.source_parent FROM imported_comments m JOIN comments c ON c.id = m.comment_id
			WHERE m.site_id = ? AND m.source = ? AND m.resolved = FALSE AND m.source_parent <> '' AND c.parent_id IS NULL ORDER BY c.id`), im.siteID, im.source)
		if err != nil {
			return fmt.Errorf("find dangling parents: %w", err)
		}
		for rows.Next() {
			var d DanglingParent
			if err := rows.Scan(&d.SourceID, &d.ParentSourceID); err != nil {
				rows.Close()
				return err
			}
			res.Dangling = append(res.Dangling, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res.Resolved = int(n) - len(res.Dangling)
		broken, err := im.breakCycles(ctx, tx)
		if err != nil {
			return err
		}
		res.Cycles = broken
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET has_replies = TRUE, visible = (status = 'approved' OR status = 'deleted')
			WHERE has_replies = FALSE AND id IN (SELECT c.parent_id FROM comments c JOIN imported_comments m ON m.comment_id = c.id
				WHERE m.site_id = ? AND m.source = ? AND m.resolved = FALSE AND c.parent_id IS NOT NULL)`), im.siteID, im.source); err != nil {
			return fmt.Errorf("mark parents: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE imported_comments SET resolved = TRUE WHERE site_id = ? AND source = ? AND resolved = FALSE`),
			im.siteID, im.source); err != nil {
			return fmt.Errorf("mark resolved: %w", err)
		}
		s.changed(tx, change{kind: changeAll})
		return nil
	})
	return res, err
}

// breakCycles finds parent chains of the import that loop and makes the
// comment that closes each loop top level. Only the import's new links
// can form a loop: comments resolved before point to older ones. The
// database finds the new comments a top-level comment (or one imported
// before) leads down to; only the others, none in a sound file, are read
// into memory, so that a million-comment import holds no map of it.
func (im *Import) breakCycles(ctx context.Context, tx *sqlx.Tx) ([]string, error) {
	s := im.s
	const fresh = `SELECT c.id, c.parent_id FROM imported_comments m JOIN comments c ON c.id = m.comment_id
		WHERE m.site_id = ? AND m.source = ? AND m.resolved = FALSE`
	// Replies of a new comment are new comments: older ones cannot point
	// to it, so the walk down needs no filter. The unary plus keeps
	// SQLite from looking the parent up by (site_id, source), which scans
	// every new comment for each one, instead of by comment_id.
	plus := ""
	if s.dialect == SQLite {
		plus = "+"
	}
	sound := `WITH RECURSIVE sound(id) AS (
			SELECT c.id FROM imported_comments m JOIN comments c ON c.id = m.comment_id
			WHERE m.site_id = ? AND m.source = ? AND m.resolved = FALSE AND (c.parent_id IS NULL OR NOT EXISTS (
				SELECT 1 FROM imported_comments p WHERE p.comment_id = c.parent_id AND ` + plus + `p.site_id = m.site_id AND ` + plus + `p.source = m.source AND p.resolved = FALSE))
			UNION
			SELECT c.id FROM comments c JOIN sound ON c.parent_id = sound.id)`
	var total, ok int
	if err := tx.GetContext(ctx, &total, s.q(`SELECT COUNT(*) FROM imported_comments WHERE site_id = ? AND source = ? AND resolved = FALSE`), im.siteID, im.source); err != nil {
		return nil, fmt.Errorf("count new comments: %w", err)
	}
	if err := tx.GetContext(ctx, &ok, s.q(sound+` SELECT COUNT(*) FROM sound`), im.siteID, im.source); err != nil {
		return nil, fmt.Errorf("walk parents: %w", err)
	}
	if ok == total {
		return nil, nil
	}
	rows, err := tx.QueryxContext(ctx, s.q(sound+`, looping AS (`+fresh+`)
		SELECT id, parent_id FROM looping WHERE parent_id IS NOT NULL AND id NOT IN (SELECT id FROM sound)`), im.siteID, im.source, im.siteID, im.source)
	if err != nil {
		return nil, fmt.Errorf("read parents: %w", err)
	}
	parent := map[int64]int64{}
	for rows.Next() {
		var id, p int64
		if err := rows.Scan(&id, &p); err != nil {
			rows.Close()
			return nil, err
		}
		parent[id] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// state: 0 unseen, 1 on the current path, 2 done.
	state := make(map[int64]byte, len(parent))
	var cut []int64
	starts := slices.Sorted(mapKeys(parent))
	for _, start := range starts {
		var path []int64
		id := start
		for {
			st := state[id]
			if st == 2 {
				break
			}
			if st == 1 {
				// id is on the path: the node before it in the loop closes it;
				// cut the loop member with the highest id, the latest.
				i := slices.Index(path, id)
				loop := path[i:]
				cut = append(cut, slices.Max(loop))
				break
			}
			p, ok := parent[id]
			state[id] = 1
			path = append(path, id)
			if !ok {
				break
			}
			id = p
		}
		for _, n := range path {
			state[n] = 2
		}
	}
	if len(cut) == 0 {
		return nil, nil
	}
	sort.Slice(cut, func(i, j int) bool { return cut[i] < cut[j] })
	var out []string
	for chunk := range slices.Chunk(cut, 5000) {
		q, args, err := sqlx.In(`UPDATE comments SET parent_id = NULL WHERE id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return nil, fmt.Errorf("break cycles: %w", err)
		}
		q, args, err = sqlx.In(`SELECT source_id FROM imported_comments WHERE site_id = ? AND source = ? AND comment_id IN (?) ORDER BY comment_id`, im.siteID, im.source, chunk)
		if err != nil {
			return nil, err
		}
		var ids []string
		if err := tx.SelectContext(ctx, &ids, s.q(q), args...); err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// ImportedID returns the comment an import wrote for a source id.
func (s *Store) ImportedID(ctx context.Context, siteID int64, source, sourceID string) (int64, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, s.q(`SELECT comment_id FROM imported_comments WHERE site_id = ? AND source = ? AND source_id = ?`), siteID, source, sourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("imported %s %s: %w", source, sourceID, ErrNotFound)
	}
	return id, err
}

// ImportedIDs maps every source id of a source on a site to its comment.
func (s *Store) ImportedIDs(ctx context.Context, siteID int64, source string) (map[string]int64, error) {
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT source_id, comment_id FROM imported_comments WHERE site_id = ? AND source = ?`), siteID, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, err
		}
		out[k] = id
	}
	return out, rows.Err()
}
