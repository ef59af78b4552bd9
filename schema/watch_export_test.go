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
