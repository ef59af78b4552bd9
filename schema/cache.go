package schema

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// countsCache keeps reaction counts in memory, so reading counts costs no
// query. The writer puts the values its commits returned; on SQLite, where
// one process writes, entries are exact and never expire. On PostgreSQL
// other instances write too, so an entry is reloaded after stale: counts
// from another instance show within that bound.
type countsCache struct {
	stale time.Duration // 0: never
	mu    sync.RWMutex
	m     map[int64]countsEntry
}

type countsEntry struct {
	counts Counts // never modified once stored: copy on write
	loaded time.Time
}

// maxCachedArticles bounds the cache; past it, it starts again empty, which
// costs one query per article and keeps memory flat.
const maxCachedArticles = 200_000

func (c *countsCache) get(article int64) (Counts, bool) {
	c.mu.RLock()
	e, ok := c.m[article]
	c.mu.RUnlock()
	if !ok || (c.stale > 0 && time.Since(e.loaded) > c.stale) {
		return nil, false
	}
	return e.counts, true
}

func (c *countsCache) put(article int64, counts Counts) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedArticles {
		c.m = make(map[int64]countsEntry)
	}
	c.m[article] = countsEntry{counts: counts, loaded: time.Now()}
	c.mu.Unlock()
}

// set records one counter's committed value. An article not cached is left
// alone: the next read loads all its counters at once.
func (c *countsCache) set(article int64, reaction string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[article]
	if !ok {
		return
	}
	next := make(Counts, len(e.counts)+1)
	for k, v := range e.counts {
		next[k] = v
	}
	next[reaction] = n
	c.m[article] = countsEntry{counts: next, loaded: e.loaded}
}

// versions counts the changes of each article's thread, so that encoded
// pages can be cached until the thread changes. Only this process's
// changes are seen; callers on PostgreSQL bound staleness with a TTL.
type versions struct {
	mu sync.Mutex
	m  map[int64]*atomic.Uint64
}

func (v *versions) counter(article int64) *atomic.Uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[int64]*atomic.Uint64{}
	}
	c, ok := v.m[article]
	if !ok {
		c = new(atomic.Uint64)
		v.m[article] = c
	}
	return c
}

// ThreadVersion is a number that changes whenever a comment of the article
// is added, changed, decided or voted on through this Store.
func (s *Store) ThreadVersion(article int64) uint64 { return s.threads.counter(article).Load() }

func (s *Store) threadChanged(article int64) { s.threads.counter(article).Add(1) }

// CacheTTL is how long data cached from the database may lag behind other
// instances: zero on SQLite, where this process is the only writer.
func (s *Store) CacheTTL() time.Duration { return s.counts.stale }

// shadowSet is the set of readers who have comments hidden by a shadow ban,
// per site: every page read by a reader with a token asks it, so it lives in
// memory, reloaded every few seconds for other instances' changes.
type shadowSet struct {
	mu     sync.Mutex
	m      map[shadowKey]bool
	loaded time.Time
}

type shadowKey struct {
	site   int64
	reader string
}

const shadowRefresh = 5 * time.Second

// HasShadowComments tells whether a reader has comments on the site that a
// shadow ban hides from everybody but them.
func (s *Store) HasShadowComments(ctx context.Context, siteID int64, readerID string) bool {
	s.shadows.mu.Lock()
	defer s.shadows.mu.Unlock()
	if s.shadows.m == nil || time.Since(s.shadows.loaded) > shadowRefresh {
		rows, err := s.db.QueryxContext(ctx, `SELECT DISTINCT site_id, reader_id FROM comments
			WHERE shadow = TRUE AND reader_id <> '' AND status IN ('pending', 'spam')`)
		if err != nil {
			// Unknown: look, and let the page query answer.
			return true
		}
		m := map[shadowKey]bool{}
		for rows.Next() {
			var k shadowKey
			if rows.Scan(&k.site, &k.reader) == nil {
				m[k] = true
			}
		}
		rows.Close()
		s.shadows.m, s.shadows.loaded = m, time.Now()
	}
	return s.shadows.m[shadowKey{siteID, readerID}]
}

func (s *Store) addShadow(siteID int64, readerID string) {
	s.shadows.mu.Lock()
	if s.shadows.m != nil {
		s.shadows.m[shadowKey{siteID, readerID}] = true
	}
	s.shadows.mu.Unlock()
}
