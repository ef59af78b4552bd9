package schema

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/schema/cache"
)

// The store's in-memory state: every piece is a cache.Cache, kept right by
// the writes of this process (at commit) and by the changes other
// processes publish (see watch.go). docs/architecture.md tables each one.
type state struct {
	sites    *cache.Cache[string, *Site]     // by slug; nil: no such site
	siteList *cache.Cache[struct{}, []*Site] // every site, by slug
	origins  *cache.Cache[struct{}, Origins] // the union of every site's origins
	articles *cache.Cache[articleKey, int64] // article ids by key; 0: never used
	counts   *cache.Cache[int64, Counts]     // reaction counts by article; empty: none yet
	// readers holds each reader's reactions by article: the widget asks for
	// a reader's own reaction on every page view, mostly of articles they
	// never reacted to, and one query per reader answers all of those.
	readers  *cache.Cache[string, map[int64]string]
	reactors *filter // who may have reacted at all (filters.go)
	// usedArticles tells the keys that may name an article: a page view of
	// an article never used is answered without a query or a cache entry.
	usedArticles *filter
	threads      *cache.Cache[int64, uint64] // thread versions by article
	shadows      *cache.Cache[shadowKey, bool]
	bans         *cache.Cache[int64, map[banKey][]*Ban] // unexpired bans by site
	// insightDays holds the Insights' per-article sums of settled days
	// (see InsightArticles): rollups are written on the day of the event,
	// so a day that has ended never changes and its sums need no
	// invalidation; a retention sweep clears them.
	insightDays *cache.Cache[string, map[int64]*ArticleActivity]
	// insightParts holds the sums, per article, of each folded month and
	// ended day that the periods' sums are made of; insightDesk the
	// desk's ended days (see InsightDesk). Both on the same grounds.
	insightParts *cache.Cache[string, map[int64]*ArticleActivity]
	insightDesk  *cache.Cache[deskKey, DeskDay]
	// nextVersion numbers thread versions: a version is never reused, so a
	// page cached under an evicted or invalidated version is never served.
	nextVersion atomic.Uint64
}

type readerArticle struct {
	article int64
	reader  string
}

type shadowKey struct {
	site   int64
	reader string
}

func newState() state {
	return state{
		sites:    cache.New[string, *Site]("sites", 10_000, nil),
		siteList: cache.New[struct{}, []*Site]("site_list", 1, nil),
		origins:  cache.New[struct{}, Origins]("origins", 1, nil),
		articles: cache.New[articleKey, int64]("article_ids", 200_000, nil),
		counts:   cache.New[int64, Counts]("counts", 200_000, nil),
		readers: cache.New("reader_reactions", 500_000, func(_ string, m map[int64]string) int64 {
			return 1 + int64(len(m))
		}),
		reactors:     newReactors(),
		usedArticles: newUsedArticles(),
		threads:      cache.New[int64, uint64]("thread_versions", 200_000, nil),
		shadows:      cache.New[shadowKey, bool]("shadow_readers", 100_000, nil),
		bans:         cache.New[int64, map[banKey][]*Ban]("bans", 1_000, nil),
		insightDays: cache.New("insight_days", 50_000, func(_ string, m map[int64]*ArticleActivity) int64 {
			return 1 + int64(len(m))
		}),
		insightParts: cache.New("insight_parts", 200_000, func(_ string, m map[int64]*ArticleActivity) int64 {
			return 1 + int64(len(m))
		}),
		insightDesk: cache.New[deskKey, DeskDay]("insight_desk", 100_000, nil),
	}
}

func (st *state) all() []cache.Statser {
	return []cache.Statser{st.sites, st.siteList, st.origins, st.articles, st.counts, st.readers, st.threads, st.shadows, st.bans, st.insightDays, st.insightParts, st.insightDesk}
}

// CacheStats reports every cache of the store, for metrics.
func (s *Store) CacheStats() []cache.Stats {
	var out []cache.Stats
	for _, c := range s.state.all() {
		out = append(out, c.Stats())
	}
	return out
}

// ThreadVersion is a number that changes whenever a comment of the article
// is added, changed, decided or voted on, by this process or, once
// published, by another: encoded pages are cached under it.
func (s *Store) ThreadVersion(article int64) uint64 {
	v, _ := s.state.threads.Load(article, func() (uint64, error) {
		return s.state.nextVersion.Add(1), nil
	})
	return v
}

// A change names a piece of cached state that a commit changed. It is
// applied to this process's caches after the commit, and published to the
// other processes on the same database before it.
type change struct {
	kind byte
	key  string
}

// The kinds of change, as published.
const (
	changeSite    = 's' // key: slug
	changeArticle = 'a' // key: site id "/" article key
	changeCounts  = 'c' // key: article id
	changeMine    = 'm' // key: reader id
	changeThread  = 't' // key: article id
	changeShadow  = 'h' // key: site id "/" reader id
	changeBans    = 'b' // key: site id
	changeAll     = '*' // everything: after bulk changes
)

func siteChanged(slug string) change { return change{changeSite, slug} }
func articleCreated(site int64, key string) change {
	return change{changeArticle, strconv.FormatInt(site, 10) + "/" + key}
}
func countsChanged(article int64) change {
	return change{changeCounts, strconv.FormatInt(article, 10)}
}
func mineChanged(reader string) change { return change{changeMine, reader} }
func threadChanged(article int64) change {
	return change{changeThread, strconv.FormatInt(article, 10)}
}
func shadowChanged(site int64, reader string) change {
	return change{changeShadow, strconv.FormatInt(site, 10) + "/" + reader}
}
func bansChanged(site int64) change { return change{changeBans, strconv.FormatInt(site, 10)} }

// apply drops what a change made stale from this process's caches.
func (s *Store) apply(ch change) {
	st := &s.state
	idAnd := func() (int64, string, bool) {
		a, b, ok := strings.Cut(ch.key, "/")
		id, err := strconv.ParseInt(a, 10, 64)
		return id, b, ok && err == nil
	}
	id, err := strconv.ParseInt(ch.key, 10, 64)
	switch ch.kind {
	case changeSite:
		st.sites.Invalidate(ch.key)
		st.siteList.Clear()
		st.origins.Clear()
	case changeArticle:
		if site, key, ok := idAnd(); ok {
			k := articleKey{site, key}
			st.usedArticles.add(st.usedArticles.articleHash(k))
			st.articles.Invalidate(k)
		}
	case changeCounts:
		if err == nil {
			st.counts.Invalidate(id)
		}
	case changeMine:
		st.readers.Invalidate(ch.key)
		st.reactors.add(st.reactors.readerHash(ch.key))
	case changeThread:
		if err == nil {
			st.threads.Invalidate(id)
		}
	case changeShadow:
		if site, reader, ok := idAnd(); ok {
			st.shadows.Invalidate(shadowKey{site, reader})
		}
	case changeBans:
		if err == nil {
			st.bans.Invalidate(id)
		}
	case changeAll:
		for _, c := range st.all() {
			c.Clear()
		}
		s.state.reactors.stale()
		s.state.usedArticles.stale()
	}
}

// changed records, inside a write transaction, that it changes cached
// state: the change is published with the commit and applied here after it.
// Outside a transaction it is applied at once.
func (s *Store) changed(tx sqlx.ExtContext, chs ...change) {
	for _, ch := range chs {
		s.hooks.publish(tx, ch)
		s.onCommit(tx, func() { s.apply(ch) })
	}
}

// published records a change for the other processes only: the caller
// updates this process's caches itself after the commit, with the values
// it committed.
func (s *Store) published(tx sqlx.ExtContext, chs ...change) {
	for _, ch := range chs {
		s.hooks.publish(tx, ch)
	}
}

// encodeChanges is a published payload: one change a line.
func encodeChanges(chs []change) string {
	var b strings.Builder
	for _, ch := range chs {
		b.WriteByte(ch.kind)
		b.WriteString(ch.key)
		b.WriteByte('\n')
	}
	return b.String()
}

func decodeChanges(payload string) []change {
	var out []change
	for _, line := range strings.Split(payload, "\n") {
		if line != "" {
			out = append(out, change{kind: line[0], key: line[1:]})
		}
	}
	return out
}

// setTTL sets the safety-net expiry of every cache: while changes from
// other processes may be missed, entries are trusted for at most ttl.
func (s *Store) setTTL(ttl time.Duration) {
	s.ttl.Store(int64(ttl))
	for _, c := range s.state.all() {
		c.SetTTL(ttl)
	}
}

// CacheTTL is how long a cached piece of state may lag behind other
// processes: zero while their changes arrive as they commit.
func (s *Store) CacheTTL() time.Duration { return time.Duration(s.ttl.Load()) }

// clearCaches forgets all cached state, after changes may have been missed.
func (s *Store) clearCaches() { s.apply(change{kind: changeAll}) }
