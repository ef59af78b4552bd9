package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
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
// import again writes nothing twice. A parent already written (earlier in
// the batch or in an earlier batch or run) is resolved as its reply is
// written; Finish resolves the others once every batch is in.
type Import struct {
	s        *Store
	siteID   int64
	source   string
	articles map[string]int64
	// stmts are the full-size multi-row INSERTs by their head, prepared
	// once on SQLite's writer connection: preparing a 400-row statement
	// again for every chunk was a tenth of an import.
	stmts map[string]*sqlx.Stmt
	// moderators known to exist, for the audit entries of a Parley export.
	moderators map[int64]bool
	// written counts the comments written; analyzeAt is the count at which
	// PostgreSQL's statistics are refreshed next.
	written, analyzeAt int
	// deferIndexes: the caller asked for a bulk load (see BulkLoad);
	// checked: the first Write looked for an empty comments table; bulk:
	// it dropped the secondary indexes, which Finish or Close builds again.
	deferIndexes, checked, bulk bool
	// ours holds a hash of each source id a bulk load wrote. The load began
	// on an empty comments table, so imported_comments was empty too: an id
	// whose hash is not here was not imported before, and only the others
	// (repeats in the file, or a hash shared by chance) are looked up, where
	// looking up every id was a tenth of the load.
	ours hashSet
}

// sourceSeed keys the hashes of ours; any seed will do within one import.
var sourceSeed = maphash.MakeSeed()

// maybeOurs says whether the import may have written the source id: in a
// bulk load, only if its hash is in ours; otherwise it may have.
func (im *Import) maybeOurs(id string) bool {
	return !im.bulk || im.ours.has(maphash.String(sourceSeed, id))
}

// hashSet is a set of 64-bit hashes kept in sorted runs, each at least
// twice as long as the next: adding a batch sorts it and merges it with the
// shorter runs, a lookup searches each of the few runs. Eight bytes an id
// and nothing for the garbage collector to scan: a map of a million ids
// took the import's peak RSS from 156 to 224 MB.
type hashSet struct{ runs [][]uint64 }

// add takes batch over.
func (h *hashSet) add(batch []uint64) {
	if len(batch) == 0 {
		return
	}
	slices.Sort(batch)
	run := batch
	for n := len(h.runs); n > 0 && len(h.runs[n-1]) <= 2*len(run); n = len(h.runs) {
		last := h.runs[n-1]
		h.runs = h.runs[:n-1]
		merged := make([]uint64, 0, len(last)+len(run))
		i, j := 0, 0
		for i < len(last) && j < len(run) {
			if last[i] <= run[j] {
				merged = append(merged, last[i])
				i++
			} else {
				merged = append(merged, run[j])
				j++
			}
		}
		run = append(append(merged, last[i:]...), run[j:]...)
	}
	h.runs = append(h.runs, run)
}

func (h *hashSet) has(x uint64) bool {
	for _, r := range h.runs {
		if _, ok := slices.BinarySearch(r, x); ok {
			return true
		}
	}
	return false
}

// BulkLoad asks the import to drop the comments' secondary indexes for the
// load when the database holds no comments yet, and to build them in one
// pass at the end: several times faster, but while it runs every read of
// comments scans the table, and the build holds the writer (on PostgreSQL
// a lock on comments) until it is done. It is for a first import into a
// database that no server is serving yet.
func (im *Import) BulkLoad() { im.deferIndexes = true }

// NewImport starts an import of comments from source (a format name) into
// the site. Close releases it.
func (s *Store) NewImport(siteID int64, source string) *Import {
	return &Import{s: s, siteID: siteID, source: source, articles: map[string]int64{},
		stmts: map[string]*sqlx.Stmt{}, moderators: map[int64]bool{}, analyzeAt: 20000}
}

// Close releases the import's prepared statements and builds the indexes
// the import dropped if Finish did not (an import that failed); closing
// again does nothing.
func (im *Import) Close() error {
	var err error
	if im.bulk {
		im.bulk = false
		_, err = im.s.RestoreIndexes(context.Background())
	}
	for k, st := range im.stmts {
		err = errors.Join(err, st.Close())
		delete(im.stmts, k)
	}
	return err
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
// counters right. Parents written before are resolved here, with one
// lookup per batch; the others are left for Finish.
func (im *Import) Write(ctx context.Context, batch []ImportComment) (ImportBatch, error) {
	var res ImportBatch
	s := im.s
	if im.deferIndexes && !im.checked {
		im.checked = true
		bulk, err := s.deferIndexes(ctx)
		if err != nil {
			return res, err
		}
		im.bulk = bulk
	}
	if err := im.prepare(ctx); err != nil {
		return res, err
	}
	if err := im.analyze(ctx); err != nil {
		return res, err
	}
	newArticles := map[string]int64{}
	write := s.write
	if im.bulk {
		// Every reference the batch writes is to a row it has just written
		// or read in the same transaction (the site, its articles, comments
		// linked as parents, known moderators), and no server runs.
		write = s.writeUnchecked
	}
	var wrote []*ImportComment
	err := write(ctx, func(tx *sqlx.Tx) error {
		wrote = nil
		res = ImportBatch{}
		clear(newArticles)
		if err := im.planFresh(ctx, tx); err != nil {
			return err
		}
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
		var ids []string
		for _, c := range todo {
			if im.maybeOurs(c.SourceID) {
				ids = append(ids, c.SourceID)
			}
		}
		done := map[string]bool{}
		for chunk := range slices.Chunk(ids, 5000) {
			q, args, err := s.inQuery(`SELECT source_id FROM imported_comments WHERE site_id = ? AND source = ? AND source_id IN (?)`, im.siteID, im.source, chunk)
			if err != nil {
				return err
			}
			var got []string
			if err := tx.SelectContext(ctx, &got, q, args...); err != nil {
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
		links, err := im.linkParents(ctx, tx, todo, articleIDs, commentIDs)
		if err != nil {
			return err
		}
		if err := im.insertComments(ctx, tx, todo, articleIDs, commentIDs, links); err != nil {
			return err
		}
		if len(links.older) > 0 {
			for chunk := range slices.Chunk(links.older, 5000) {
				q, args, err := s.inQuery(`UPDATE comments SET has_replies = TRUE, visible = (status = 'approved' OR status = 'deleted')
					WHERE has_replies = FALSE AND id IN (?)`, chunk)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return fmt.Errorf("mark parents: %w", err)
				}
			}
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
		wrote = todo
		s.changed(tx, change{kind: changeAll})
		return nil
	})
	if err != nil {
		return ImportBatch{}, err
	}
	for k, id := range newArticles {
		im.articles[k] = id
	}
	im.written += len(wrote)
	if im.bulk && len(wrote) > 0 {
		hs := make([]uint64, len(wrote))
		for i, c := range wrote {
			hs[i] = maphash.String(sourceSeed, c.SourceID)
		}
		im.ours.add(hs)
	}
	return res, nil
}

// planFresh makes PostgreSQL plan the import's statements for each run,
// with their lists as constants and the tables at their current size:
// the cached generic plan of a statement first run on an empty table
// kept scanning imported_comments, testing each row against the whole
// list, as it grew (the import slowed from 3,500 to 150 comments/s).
func (im *Import) planFresh(ctx context.Context, tx *sqlx.Tx) error {
	if im.s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return fmt.Errorf("plan the import: %w", err)
	}
	return nil
}

// analyze refreshes PostgreSQL's statistics of imported_comments each
// time the import has doubled what it wrote: planned with the counts of
// the empty table it started on, the batch's lookups tested every row of
// it against their lists instead of using its index (174 ms a batch at
// 100,000 rows, growing with the table).
func (im *Import) analyze(ctx context.Context) error {
	if im.s.dialect != Postgres || im.written < im.analyzeAt {
		return nil
	}
	im.analyzeAt = 2 * im.written
	if _, err := im.s.wdb.ExecContext(ctx, `ANALYZE imported_comments`); err != nil {
		return fmt.Errorf("refresh the planner's statistics: %w", err)
	}
	return nil
}

// parentLinks are the parents a batch resolves as it is written.
type parentLinks struct {
	parent     []sql.NullInt64 // per comment of the batch
	hasReplies []bool          // a later comment of the batch answers it
	// older are comments written before the batch that it answers.
	older []int64
}

// linkParents resolves the parents written before each comment: earlier
// in the batch, or before the batch (one lookup for all). A parent under
// another article, or not written yet, is left for Finish. Resolved
// links always point to a comment written earlier, so they cannot form a
// loop by themselves: every loop holds a link that Finish makes.
func (im *Import) linkParents(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment, articleIDs, ids []int64) (parentLinks, error) {
	l := parentLinks{parent: make([]sql.NullInt64, len(todo)), hasReplies: make([]bool, len(todo))}
	pos := make(map[string]int, len(todo))
	var ask []string
	for i, c := range todo {
		if p := c.ParentSourceID; p != "" {
			if j, ok := pos[p]; ok {
				if articleIDs[j] == articleIDs[i] {
					l.parent[i] = sql.NullInt64{Int64: ids[j], Valid: true}
					l.hasReplies[j] = true
				}
			} else if im.maybeOurs(p) {
				ask = append(ask, p)
			}
		}
		pos[c.SourceID] = i
	}
	if len(ask) == 0 {
		return l, nil
	}
	type found struct {
		id, article int64
	}
	before := make(map[string]found, len(ask))
	slices.Sort(ask)
	ask = slices.Compact(ask)
	for chunk := range slices.Chunk(ask, 5000) {
		q, args, err := im.s.inQuery(`SELECT m.source_id, m.comment_id, c.article_id FROM imported_comments m JOIN comments c ON c.id = m.comment_id
			WHERE m.site_id = ? AND m.source = ? AND m.source_id IN (?)`, im.siteID, im.source, chunk)
		if err != nil {
			return l, err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return l, fmt.Errorf("find parents: %w", err)
		}
		for rows.Next() {
			var k string
			var f found
			if err := rows.Scan(&k, &f.id, &f.article); err != nil {
				rows.Close()
				return l, err
			}
			before[k] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return l, err
		}
	}
	marked := map[int64]bool{}
	for i, c := range todo {
		if c.ParentSourceID == "" || l.parent[i].Valid {
			continue
		}
		if f, ok := before[c.ParentSourceID]; ok && f.article == articleIDs[i] {
			l.parent[i] = sql.NullInt64{Int64: f.id, Valid: true}
			if !marked[f.id] {
				marked[f.id] = true
				l.older = append(l.older, f.id)
			}
		}
	}
	slices.Sort(l.older)
	return l, nil
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
		q, args, err := s.inQuery(`SELECT id FROM comments WHERE id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		var got []int64
		if err := tx.SelectContext(ctx, &got, q, args...); err != nil {
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
	return s.multiInsertWith(ctx, tx, nil, head, n, rows, tail...)
}

// multiInsertWith is multiInsert using stmts, the full-size statements
// without a tail prepared already, by their head.
func (s *Store) multiInsertWith(ctx context.Context, tx *sqlx.Tx, stmts map[string]*sqlx.Stmt, head string, n int, rows [][]any, tail ...string) error {
	args := make([]any, 0, min(len(rows), importRowsPerInsert)*n)
	for chunk := range slices.Chunk(rows, importRowsPerInsert) {
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		if st, ok := stmts[head]; ok && len(chunk) == importRowsPerInsert && len(tail) == 0 {
			if _, err := tx.StmtxContext(ctx, st).ExecContext(ctx, args...); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(multiValues(head, n, len(chunk), tail...)), args...); err != nil {
			return err
		}
	}
	return nil
}

// multiValues is "head VALUES (?, …), (?, …) tail" for rows of n columns.
func multiValues(head string, n, rows int, tail ...string) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	q := head + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
	for _, t := range tail {
		q += " " + t
	}
	return q
}

// The INSERTs of an import, each followed by its rows.
const (
	importCommentsHead = `INSERT INTO comments (id, site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key,
		status, version, reasons, edit_token_hash, upvotes, downvotes, score, report_count, shadow, has_replies, visible, reported_at,
		created_at, edited_at, decided_at, queue, priority, learned)`
	importMapHead     = `INSERT INTO imported_comments (site_id, source, source_id, comment_id, source_parent, resolved)`
	importVotesHead   = `INSERT INTO comment_votes (comment_id, reader_id, vote)`
	importReportsHead = `INSERT INTO reports (comment_id, reader_id, reason, note, created_at, dismissed_at)`
	importAuditHead   = `INSERT INTO audit_log (at, moderator_id, actor, action, object_type, object_id, site_id,
		before_state, after_state, detail)`
)

// prepare readies the full-size INSERTs on SQLite's writer connection,
// outside any transaction: the writer has one connection, which a
// transaction holds. pgx caches statements by their text itself.
func (im *Import) prepare(ctx context.Context) error {
	s := im.s
	if s.dialect != SQLite || len(im.stmts) > 0 {
		return nil
	}
	for _, t := range []struct {
		head string
		n    int
	}{{importCommentsHead, 28}, {importMapHead, 6}, {importVotesHead, 3}, {importReportsHead, 6}, {importAuditHead, 10}} {
		st, err := s.wdb.PreparexContext(ctx, s.q(multiValues(t.head, t.n, importRowsPerInsert)))
		if err != nil {
			return fmt.Errorf("prepare the import: %w", err)
		}
		im.stmts[t.head] = st
	}
	return nil
}

func (im *Import) insertComments(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment, articleIDs, ids []int64, links parentLinks) error {
	rows := make([][]any, len(todo))
	maps := make([][]any, len(todo))
	for i, c := range todo {
		reasons := c.Reasons
		if reasons == "" {
			reasons = "[]"
		}
		version := max(c.Version, 1)
		queue := queueOf(c.Status, c.ReportedMS != nil)
		rows[i] = []any{ids[i], im.siteID, articleIDs[i], links.parent[i], c.ReaderID, c.Author, c.EmailHash, c.IPHash, c.Body, c.BodyKey,
			c.Status, version, reasons, c.EditTokenHash, c.Upvotes, c.Downvotes, c.Score, c.ReportCount, c.Shadow,
			links.hasReplies[i], visible(c.Status, links.hasReplies[i]), c.ReportedMS, c.CreatedMS, c.EditedMS, c.DecidedMS, queue,
			reasonCount(reasons) + c.ReportCount, c.Learned}
		// resolved: nothing left for Finish (top level, or linked now).
		maps[i] = []any{im.siteID, im.source, c.SourceID, ids[i], c.ParentSourceID, c.ParentSourceID == "" || links.parent[i].Valid}
	}
	if err := im.s.multiInsertWith(ctx, tx, im.stmts, importCommentsHead, 28, rows); err != nil {
		return fmt.Errorf("insert comments: %w", err)
	}
	if err := im.s.multiInsertWith(ctx, tx, im.stmts, importMapHead, 6, maps); err != nil {
		return fmt.Errorf("record imported comments: %w", err)
	}
	return nil
}

func (im *Import) insertExtras(ctx context.Context, tx *sqlx.Tx, todo []*ImportComment, ids []int64) error {
	var votes, reports, audit [][]any
	for i, c := range todo {
		for _, v := range c.Votes {
			votes = append(votes, []any{ids[i], v.ReaderID, v.Vote})
		}
		for _, r := range c.Reports {
			reports = append(reports, []any{ids[i], r.ReaderID, r.Reason, r.Note, r.CreatedMS, r.DismissedMS})
		}
		for _, a := range c.History {
			mod, err := im.knownModerator(ctx, tx, a.ModeratorID)
			if err != nil {
				return err
			}
			audit = append(audit, []any{a.AtMS, mod, a.Actor, a.Action, "comment", ids[i], im.siteID,
				a.Before, a.After, a.Detail})
		}
	}
	if err := im.s.multiInsertWith(ctx, tx, im.stmts, importVotesHead, 3, votes); err != nil {
		return fmt.Errorf("insert votes: %w", err)
	}
	if err := im.s.multiInsertWith(ctx, tx, im.stmts, importReportsHead, 6, reports); err != nil {
		return fmt.Errorf("insert reports: %w", err)
	}
	if err := im.s.multiInsertWith(ctx, tx, im.stmts, importAuditHead, 10, audit); err != nil {
		return fmt.Errorf("insert audit entries: %w", err)
	}
	return nil
}

// knownModerator is the entry's moderator if the database knows them,
// else no moderator (the entry keeps the actor's name); each id is looked
// up once per import.
func (im *Import) knownModerator(ctx context.Context, tx *sqlx.Tx, id *int64) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	ok, seen := im.moderators[*id]
	if !seen {
		var n int
		if err := tx.GetContext(ctx, &n, im.s.q(`SELECT COUNT(*) FROM moderators WHERE id = ?`), *id); err != nil {
			return nil, err
		}
		ok = n > 0
		im.moderators[*id] = ok
	}
	if !ok {
		return nil, nil
	}
	return id, nil
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

// Finish builds the indexes the import dropped, resolves the parents of
// every comment of the source not resolved yet, breaks cycles, and marks
// the parents that now have replies.
func (im *Import) Finish(ctx context.Context) (ImportResolution, error) {
	s := im.s
	var res ImportResolution
	if im.bulk {
		if _, err := s.RestoreIndexes(ctx); err != nil {
			return res, err
		}
		im.bulk = false
	}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		res = ImportResolution{}
		if err := im.planFresh(ctx, tx); err != nil {
			return err
		}
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

// breakCycles finds parent chains that loop and makes the latest comment
// (the highest id) of each loop top level. Every loop holds a link Finish
// has just made (links made while writing point to comments written
// earlier), so only the chains above those comments are walked, in SQL:
// a sound file has few or none of them, and memory holds only the loops.
func (im *Import) breakCycles(ctx context.Context, tx *sqlx.Tx) ([]string, error) {
	s := im.s
	// up pairs each comment linked by Finish with every comment above it;
	// UNION ends the walk when a chain comes back to where it was.
	const up = `WITH RECURSIVE up(start, id) AS (
			SELECT c.id, c.parent_id FROM imported_comments m JOIN comments c ON c.id = m.comment_id
			WHERE m.site_id = ? AND m.source = ? AND m.resolved = FALSE AND c.parent_id IS NOT NULL
			UNION
			SELECT up.start, c.parent_id FROM up JOIN comments c ON c.id = up.id
			WHERE c.parent_id IS NOT NULL AND up.id <> up.start)`
	var looping []int64
	if err := tx.SelectContext(ctx, &looping, s.q(up+` SELECT start FROM up WHERE id = start ORDER BY start`), im.siteID, im.source); err != nil {
		return nil, fmt.Errorf("walk parents: %w", err)
	}
	if len(looping) == 0 {
		return nil, nil
	}
	// Each looping comment's loop, read one link at a time: loops are
	// short, and a file has few.
	parent := map[int64]int64{}
	var cut []int64
	done := map[int64]bool{}
	for _, start := range looping {
		if done[start] {
			continue
		}
		loop := []int64{start}
		id := start
		for {
			p, ok := parent[id]
			if !ok {
				if err := tx.GetContext(ctx, &p, s.q(`SELECT parent_id FROM comments WHERE id = ?`), id); err != nil {
					return nil, fmt.Errorf("read parents: %w", err)
				}
				parent[id] = p
			}
			if p == start {
				break
			}
			loop = append(loop, p)
			id = p
		}
		for _, n := range loop {
			done[n] = true
		}
		cut = append(cut, slices.Max(loop))
	}
	slices.Sort(cut)
	var out []string
	for chunk := range slices.Chunk(cut, 5000) {
		q, args, err := s.inQuery(`UPDATE comments SET parent_id = NULL WHERE id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("break cycles: %w", err)
		}
		// The former parents may have been marked as answered while the
		// batch was written.
		olds := make([]int64, len(chunk))
		for i, id := range chunk {
			olds[i] = parent[id]
		}
		q, args, err = s.inQuery(`UPDATE comments SET has_replies = EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id),
			visible = (status = 'approved' OR (status = 'deleted' AND EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)))
			WHERE id IN (?)`, olds)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("break cycles: %w", err)
		}
		q, args, err = s.inQuery(`SELECT source_id FROM imported_comments WHERE site_id = ? AND source = ? AND comment_id IN (?) ORDER BY comment_id`, im.siteID, im.source, chunk)
		if err != nil {
			return nil, err
		}
		var ids []string
		if err := tx.SelectContext(ctx, &ids, q, args...); err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// inQuery binds a list to the query's one "IN (?)" and rebinds it: the
// list is expanded on SQLite, and one array parameter (= ANY) on
// PostgreSQL, whose cached generic plan for thousands of parameters
// scanned the whole table for each batch.
func (s *Store) inQuery(q string, args ...any) (string, []any, error) {
	if s.dialect == Postgres {
		return s.q(strings.Replace(q, "IN (?)", "= ANY(?)", 1)), args, nil
	}
	q, args, err := sqlx.In(q, args...)
	return s.q(q), args, err
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
