package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

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
		st, err := s.readStmt(ctx, `SELECT reaction, count FROM reaction_counts WHERE article_id = ?`)
		if err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		rows, err := st.QueryContext(ctx, articleID)
		if err != nil {
			return nil, fmt.Errorf("read counts: %w", err)
		}
		return scanCounts(rows)
	})
}

func (s *Store) reactionCounts(ctx context.Context, q sqlx.QueryerContext, articleID int64) (Counts, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT reaction, count FROM reaction_counts WHERE article_id = ?`), articleID)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	return scanCounts(rows)
}

// scanCounts reads (reaction, count) rows.
func scanCounts(rows *sql.Rows) (Counts, error) {
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
	if !s.mayHaveReacted(readerID) {
		return "", nil
	}
	mine, err := s.state.readers.Load(readerID, func() (map[int64]string, error) {
		st, err := s.readStmt(ctx, `SELECT article_id, reaction FROM reactions WHERE reader_id = ?`)
		if err != nil {
			return nil, fmt.Errorf("read reactions: %w", err)
		}
		rows, err := st.QueryContext(ctx, readerID)
		if err != nil {
			return nil, fmt.Errorf("read reactions: %w", err)
		}
		defer rows.Close()
		m := map[int64]string{}
		for rows.Next() {
			var id int64
			var r string
			if err := rows.Scan(&id, &r); err != nil {
				return nil, err
			}
			m[id] = r
		}
		return m, rows.Err()
	})
	return mine[articleID], err
}

// mayHaveReacted tells whether the reader may have reactions: false only
// when the filter of readers who reacted knows they have none.
func (s *Store) mayHaveReacted(reader string) bool {
	return s.state.reactors.mayHave(s.state.reactors.readerHash(reader))
}

// firstReaction tells whether memory knows the reader has no reaction to
// the article: a reader who never reacted, or whose reactions are cached.
func (s *Store) firstReaction(reader string, article int64) bool {
	if !s.mayHaveReacted(reader) {
		return true
	}
	mine, ok := s.state.readers.Get(reader)
	return ok && mine[article] == ""
}

// ArticleReactions is the widget's read of an article by its key: the
// article's id (0 when the key was never used), its counts and the
// reader's own reaction ("" for none, and when readerID is ""). Most
// page views are of articles nobody reacted to, or never used at all:
// those answers are cached like any other, and what memory lacks on a
// first read comes from one query, not one per piece.
func (s *Store) ArticleReactions(ctx context.Context, siteID int64, key, readerID string) (int64, Reactions, error) {
	ak := articleKey{siteID, key}
	if !s.mayBeUsed(ak) {
		return 0, Reactions{}, nil
	}
	id, haveID := s.state.articles.Get(ak)
	if haveID && id == 0 {
		return 0, Reactions{}, nil
	}
	var res Reactions
	haveCounts := false
	if haveID {
		res.Counts, haveCounts = s.state.counts.Get(id)
	}
	var mine map[int64]string
	haveMine := readerID == "" || !s.mayHaveReacted(readerID)
	if !haveMine {
		mine, haveMine = s.state.readers.Get(readerID)
	}
	if haveID && haveCounts && haveMine {
		res.Mine = mine[id]
		return id, res, nil
	}

	// The missing pieces, as rows of (piece, article, reaction, count).
	var parts []string
	var args []any
	var idFill, countsFill, mineFill cache.Fill
	switch {
	case !haveID:
		// The counts' key is the id this query finds: their fill is
		// refused if any article's counts change meanwhile.
		idFill, countsFill = s.state.articles.Begin(ak), s.state.counts.BeginAny()
		parts = append(parts, `SELECT 1, a.id, COALESCE(c.reaction, ''), COALESCE(c.count, 0)
			FROM articles a LEFT JOIN reaction_counts c ON c.article_id = a.id WHERE a.site_id = ? AND a.key = ?`)
		args = append(args, siteID, key)
	case !haveCounts:
		countsFill = s.state.counts.Begin(id)
		parts = append(parts, `SELECT 1, article_id, reaction, count FROM reaction_counts WHERE article_id = ?`)
		args = append(args, id)
	}
	if !haveMine {
		mineFill = s.state.readers.Begin(readerID)
		parts = append(parts, `SELECT 2, article_id, reaction, 0 FROM reactions WHERE reader_id = ?`)
		args = append(args, readerID)
	}
	st, err := s.readStmt(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return 0, Reactions{}, fmt.Errorf("read reactions: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if errors.Is(err, ErrInvalidText) && !haveID {
		// A key PostgreSQL cannot hold names no article, as on SQLite.
		s.state.articles.Put(idFill, ak, 0)
		return 0, Reactions{}, nil
	}
	if err != nil {
		return 0, Reactions{}, fmt.Errorf("read reactions: %w", err)
	}
	defer rows.Close()
	if !haveCounts {
		res.Counts = Counts{}
	}
	if !haveMine {
		mine = map[int64]string{}
	}
	for rows.Next() {
		var piece int
		var article, n int64
		var reaction string
		if err := rows.Scan(&piece, &article, &reaction, &n); err != nil {
			return 0, Reactions{}, fmt.Errorf("read reactions: %w", err)
		}
		if piece == 2 {
			mine[article] = reaction
			continue
		}
		id = article
		if reaction != "" {
			res.Counts[reaction] = n
		}
	}
	if err := rows.Err(); err != nil {
		return 0, Reactions{}, fmt.Errorf("read reactions: %w", err)
	}
	if !haveMine {
		s.state.readers.Put(mineFill, readerID, mine)
	}
	if !haveID {
		s.state.articles.Put(idFill, ak, id)
		if id == 0 {
			return 0, Reactions{}, nil
		}
	}
	if !haveCounts {
		s.state.counts.Put(countsFill, id, res.Counts)
	}
	res.Mine = mine[id]
	return id, res, nil
}

// readerReacted records a reader's committed reaction in their cached
// reactions, if they are cached; "" removes it.
// f was begun before the commit: a reader's change committed on another
// instance after it drops the entry instead of being overwritten.
func (s *Store) readerReacted(f cache.Fill, reader string, article int64, reaction string) {
	s.state.reactors.add(s.state.reactors.readerHash(reader))
	s.state.readers.UpdateIf(f, reader, func(old map[int64]string) map[int64]string {
		next := make(map[int64]string, len(old)+1)
		for k, v := range old {
			next[k] = v
		}
		if reaction == "" {
			delete(next, article)
		} else {
			next[article] = reaction
		}
		return next
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
		if s.dialect == Postgres {
			b.reactions = append(b.reactions, reactionChange{readerArticle{articleID, readerID}, reaction})
			return nil
		}
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
	s.published(b.tx, mineChanged(readerID))
	f := s.state.readers.Begin(readerID)
	b.afterCommit(func() { s.readerReacted(f, readerID, articleID, reaction) })
	read := sqlReadReaction + s.forUpdate()
	// insert stores a first reaction; false when the reader had one.
	insert := func() (bool, error) {
		res, err := b.exec(sqlInsertReaction, articleID, readerID, reaction, s.nowMS())
		if err != nil {
			return false, fmt.Errorf("set reaction: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			b.addCount(articleID, reaction, 1)
			return true, nil
		}
		return false, nil
	}
	// Most votes are a reader's first on the article: when memory says so,
	// the insert is the only statement. Memory being wrong costs the read
	// below, never a wrong count: the insert then changes nothing.
	if reaction != "" && s.firstReaction(readerID, articleID) {
		if done, err := insert(); done || err != nil {
			return err
		}
	}
	var old string
	err := b.get(&old, read, articleID, readerID)
	switch {
	case errors.Is(err, sql.ErrNoRows) && reaction == "":
		return nil // retracting what was never there
	case errors.Is(err, sql.ErrNoRows):
		if done, err := insert(); done || err != nil {
			return err
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

// reactionChange is one reader's new reaction to an article ("" retracts).
type reactionChange struct {
	key      readerArticle
	reaction string
}

// writeReactions writes a batch's reaction changes on PostgreSQL in a few
// set-based statements instead of two round trips a vote: lock and read
// what the readers chose before, insert the first reactions, update the
// changed ones, delete the retracted ones. Rows are locked in key order,
// as every other writer of reactions does. A reader who voted twice in
// one batch ends with their last vote, and counts move by the difference.
func (b *batch) writeReactions() error {
	if len(b.reactions) == 0 {
		return nil
	}
	final := make(map[readerArticle]string, len(b.reactions))
	for _, r := range b.reactions {
		final[r.key] = r.reaction
	}
	keys := make([]readerArticle, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].article != keys[j].article {
			return keys[i].article < keys[j].article
		}
		return keys[i].reader < keys[j].reader
	})
	old := make(map[readerArticle]string, len(keys))
	readOld := func(ks []readerArticle) error {
		arts, readers := splitKeys(ks)
		var rows []struct {
			Article  int64  `db:"article_id"`
			Reader   string `db:"reader_id"`
			Reaction string `db:"reaction"`
		}
		if err := b.tx.SelectContext(b.ctx, &rows, `SELECT r.article_id, r.reader_id, r.reaction FROM reactions r
			JOIN unnest($1::bigint[], $2::text[]) AS u(article_id, reader_id) USING (article_id, reader_id)
			ORDER BY r.article_id, r.reader_id FOR UPDATE OF r`, arts, readers); err != nil {
			return fmt.Errorf("read reactions: %w", err)
		}
		for _, r := range rows {
			old[readerArticle{r.Article, r.Reader}] = r.Reaction
		}
		return nil
	}
	if err := readOld(keys); err != nil {
		return err
	}
	now := b.s.nowMS()
	var insert []readerArticle
	for _, k := range keys {
		if _, had := old[k]; !had && final[k] != "" {
			insert = append(insert, k)
		}
	}
	if len(insert) > 0 {
		arts, readers := splitKeys(insert)
		var rows []struct {
			Article int64  `db:"article_id"`
			Reader  string `db:"reader_id"`
		}
		if err := b.tx.SelectContext(b.ctx, &rows, `INSERT INTO reactions (article_id, reader_id, reaction, updated_at)
			SELECT u.article_id, u.reader_id, u.reaction, $4 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(article_id, reader_id, reaction)
			ON CONFLICT (article_id, reader_id) DO NOTHING RETURNING article_id, reader_id`,
			arts, readers, reactionsOf(insert, final), now); err != nil {
			return fmt.Errorf("set reactions: %w", err)
		}
		inserted := make(map[readerArticle]bool, len(rows))
		for _, r := range rows {
			k := readerArticle{r.Article, r.Reader}
			inserted[k] = true
			old[k] = final[k] // nothing to change below
			b.addCount(k.article, final[k], 1)
		}
		// The same readers won a race on another instance: read what they
		// chose, now locked, and go on from there.
		var raced []readerArticle
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
	var update, remove []readerArticle
	for _, k := range keys {
		was, had := old[k]
		switch {
		case !had || was == final[k]:
		case final[k] == "":
			remove = append(remove, k)
			b.addCount(k.article, was, -1)
		default:
			update = append(update, k)
			b.addCount(k.article, was, -1)
			b.addCount(k.article, final[k], 1)
		}
	}
	if len(update) > 0 {
		arts, readers := splitKeys(update)
		if _, err := b.tx.ExecContext(b.ctx, `UPDATE reactions AS r SET reaction = u.reaction, updated_at = $4
			FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(article_id, reader_id, reaction)
			WHERE r.article_id = u.article_id AND r.reader_id = u.reader_id`, arts, readers, reactionsOf(update, final), now); err != nil {
			return fmt.Errorf("change reactions: %w", err)
		}
	}
	if len(remove) > 0 {
		arts, readers := splitKeys(remove)
		if _, err := b.tx.ExecContext(b.ctx, `DELETE FROM reactions r USING unnest($1::bigint[], $2::text[]) AS u(article_id, reader_id)
			WHERE r.article_id = u.article_id AND r.reader_id = u.reader_id`, arts, readers); err != nil {
			return fmt.Errorf("retract reactions: %w", err)
		}
	}
	for _, k := range keys {
		b.s.published(b.tx, mineChanged(k.reader))
		f := b.s.state.readers.Begin(k.reader)
		b.afterCommit(func() { b.s.readerReacted(f, k.reader, k.article, final[k]) })
	}
	return nil
}

func splitKeys(keys []readerArticle) ([]int64, []string) {
	arts, readers := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		arts[i], readers[i] = k.article, k.reader
	}
	return arts, readers
}

func reactionsOf(keys []readerArticle, final map[readerArticle]string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = final[k]
	}
	return out
}

// RecountReactions counts an article's reactions row by row. It scans the
// votes, so nothing on a request path calls it: it is how tests and the
// benchmark check that the counters are exact.
func (s *Store) RecountReactions(ctx context.Context, articleID int64) (Counts, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT reaction, COUNT(*) FROM reactions WHERE article_id = ? GROUP BY reaction`), articleID)
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	return scanCounts(rows)
}
