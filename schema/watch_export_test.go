package schema

import "context"

// KillListeners ends the LISTEN connections of every store on this
// store's schema, as a database restart would, and counts them.
func (s *Store) KillListeners(ctx context.Context, n *int) error {
	return s.db.GetContext(ctx, n, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = $1 AND pid <> pg_backend_pid()`, `LISTEN "`+s.watch.channel+`"`)
}

// ReactorsReady tells whether the filter of readers who reacted is built.
func (s *Store) ReactorsReady() bool { return s.state.reactors.ready.Load() }

// UsedArticlesReady tells whether the filter of used articles is built.
func (s *Store) UsedArticlesReady() bool { return s.state.usedArticles.ready.Load() }

// ArticleLookups counts the article id lookups that the filter of used
// articles let through to the id cache.
func (s *Store) ArticleLookups() int64 {
	st := s.state.articles.Stats()
	return st.Hits + st.Misses
}

// ReaderLookups counts the per-reader reaction lookups that missed memory.
func (s *Store) ReaderLookups() int64 { return s.state.readers.Stats().Misses }

// ApprovedCounts returns, per article of a site, the approved counter the
// writers keep and a count of the article's approved comments.
func (s *Store) ApprovedCounts(ctx context.Context, siteID int64) (stored, counted map[int64]int64, err error) {
	var rows []struct {
		ID      int64 `db:"id"`
		Stored  int64 `db:"approved_count"`
		Counted int64 `db:"counted"`
	}
	err = s.db.SelectContext(ctx, &rows, s.q(`SELECT a.id, a.approved_count,
		(SELECT COUNT(*) FROM comments c WHERE c.article_id = a.id AND c.status = 'approved') AS counted
		FROM articles a WHERE a.site_id = ?`), siteID)
	stored, counted = map[int64]int64{}, map[int64]int64{}
	for _, r := range rows {
		stored[r.ID], counted[r.ID] = r.Stored, r.Counted
	}
	return stored, counted, err
}

// CommitUnannounced commits a statement as an instance does whose process
// dies between its commit and its notification: no change is published.
func (s *Store) CommitUnannounced(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, s.q(query), args...)
	return err
}

// Announce sends lines on the store's channel in the name of instance.
func (s *Store) Announce(ctx context.Context, instance, lines string) error {
	_, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.watch.channel, instance+"\n"+lines)
	return err
}

// Peers counts the serving instances this one hears.
func (s *Store) Peers() int {
	s.watch.peers.mu.Lock()
	defer s.watch.peers.mu.Unlock()
	return len(s.watch.peers.seen)
}

// SilentAfter is how long an instance may stay silent before the others
// clear their caches.
const SilentAfter = silentAfter

// KillPublishers ends the connections serving instances publish on.
func (s *Store) KillPublishers(ctx context.Context, n *int) error {
	return s.db.GetContext(ctx, n, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE 'SELECT pg_notify($1, p) FROM unnest%' AND pid <> pg_backend_pid()`)
}
