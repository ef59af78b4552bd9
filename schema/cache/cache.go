// Package cache is the one cache type of Parley: every piece of state kept
// in memory in front of the database (sites, article ids, counts, a
// reader's own reaction, thread versions, bans, encoded pages) is a Cache.
//
// A Cache is bounded by a cost budget and evicts the least recently used
// entries past it. It never stores a value read before an invalidation of
// its key: a fill begins with Begin, which notes the key's generation, and
// Put stores only if no Set, Invalidate or Clear touched that key's stripe
// since. That closes the race where a read that missed loads the old value
// from the database while a writer commits the new one, then stores the old
// value after the writer updated the cache. A fill of a key the read itself
// finds (BeginAny) is checked against a change of any key instead.
//
// Entries do not expire: writers and the invalidation feed from other
// processes keep them right. A time to live (SetTTL) is only the safety net
// for when that feed is down.
package cache

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const (
	shards  = 16
	stripes = 16384 // generation counters, so that one key's invalidation rarely refuses another's fill
)

// Cache maps keys to values within a cost budget.
type Cache[K comparable, V any] struct {
	name   string
	seed   maphash.Seed
	cost   func(K, V) int64
	budget int64 // per shard
	ttl    atomic.Int64
	gens   [stripes]atomic.Uint64
	// changes counts every change of any key, for fills of a key not known
	// when they begin (BeginAny).
	changes atomic.Uint64
	shards  [shards]shard[K, V]

	hits, misses, evictions, invalidations, refused atomic.Int64
}

type shard[K comparable, V any] struct {
	mu   sync.Mutex
	m    map[K]*list.Element
	lru  list.List // front: most recently used
	cost int64
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
	at   int64 // unix nanoseconds, for the TTL safety net
}

// New returns a cache named name (its label in metrics) holding at most
// budget worth of entries, each costing cost(k, v), or 1 when cost is nil.
func New[K comparable, V any](name string, budget int64, cost func(K, V) int64) *Cache[K, V] {
	c := &Cache[K, V]{name: name, seed: maphash.MakeSeed(), cost: cost, budget: max(budget/shards, 1)}
	for i := range c.shards {
		c.shards[i].m = map[K]*list.Element{}
	}
	return c
}

// Name is the cache's name in metrics.
func (c *Cache[K, V]) Name() string { return c.name }

func (c *Cache[K, V]) locate(k K) (*shard[K, V], *atomic.Uint64) {
	h := maphash.Comparable(c.seed, k)
	return &c.shards[h%shards], &c.gens[(h/shards)%stripes]
}

// Get returns the value cached for k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	s, _ := c.locate(k)
	ttl := c.ttl.Load()
	s.mu.Lock()
	el, ok := s.m[k]
	if ok {
		e := el.Value.(*entry[K, V])
		if ttl > 0 && time.Now().UnixNano()-e.at > ttl {
			s.remove(el)
			ok = false
		} else {
			s.lru.MoveToFront(el)
			v := e.val
			s.mu.Unlock()
			c.hits.Add(1)
			return v, true
		}
	}
	s.mu.Unlock()
	c.misses.Add(1)
	var zero V
	return zero, false
}

// Fill is a read of k from the source of truth, begun at a generation.
type Fill struct {
	gen uint64
	any bool // gen is of the whole cache (BeginAny)
}

// Begin starts a fill of k: call it before reading the value to cache.
func (c *Cache[K, V]) Begin(k K) Fill {
	_, g := c.locate(k)
	return Fill{gen: g.Load()}
}

// BeginAny starts a fill of a key that the read itself will tell, such
// as the counts of an article looked up by its key in the same query: Put
// then stores only if no key of the cache changed since. Under many
// writes such fills are mostly refused, and the next read fills the key
// it now knows with Begin.
func (c *Cache[K, V]) BeginAny() Fill {
	return Fill{gen: c.changes.Load(), any: true}
}

// Put stores v for k unless k was set or invalidated since f began; it
// reports whether it stored.
func (c *Cache[K, V]) Put(f Fill, k K, v V) bool {
	s, g := c.locate(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Checked under the shard lock, which every change of k also holds
	// while it bumps the generations: no change can slip in between.
	gen := g.Load()
	if f.any {
		gen = c.changes.Load()
	}
	if gen != f.gen {
		c.refused.Add(1)
		return false
	}
	c.store(s, k, v)
	return true
}

// Load returns the cached value of k or, on a miss, what load returns,
// storing it unless k changed meanwhile.
func (c *Cache[K, V]) Load(k K, load func() (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	f := c.Begin(k)
	v, err := load()
	if err != nil {
		return v, err
	}
	c.Put(f, k, v)
	return v, nil
}

// Set stores v for k as the new truth, from a writer that just committed it:
// fills of k already under way will not overwrite it.
func (c *Cache[K, V]) Set(k K, v V) {
	s, g := c.locate(k)
	s.mu.Lock()
	c.bump(g)
	c.store(s, k, v)
	s.mu.Unlock()
}

// Update changes the value cached for k with fn, from a writer that just
// committed a change of it; when k is not cached, fills under way are
// refused, so the next read loads the committed value.
func (c *Cache[K, V]) Update(k K, fn func(V) V) {
	s, g := c.locate(k)
	s.mu.Lock()
	c.bump(g)
	if el, ok := s.m[k]; ok {
		// The entry keeps its age: a value updated here but otherwise read
		// long ago must still expire under the safety net's TTL.
		at := el.Value.(*entry[K, V]).at
		c.store(s, k, fn(el.Value.(*entry[K, V]).val))
		el.Value.(*entry[K, V]).at = at
	}
	s.mu.Unlock()
}

// UpdateIf is Update for a writer that noted k's generation (Begin) before
// it wrote: if anything else changed k meanwhile, such as another
// process's commit that may be newer than this one, k is dropped instead.
func (c *Cache[K, V]) UpdateIf(f Fill, k K, fn func(V) V) {
	s, g := c.locate(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[k]
	if g.Load() != f.gen {
		c.bump(g)
		if ok {
			s.remove(el)
		}
		return
	}
	c.bump(g)
	if ok {
		at := el.Value.(*entry[K, V]).at
		c.store(s, k, fn(el.Value.(*entry[K, V]).val))
		el.Value.(*entry[K, V]).at = at
	}
}

// Invalidate forgets k: the next read loads it again.
func (c *Cache[K, V]) Invalidate(k K) {
	s, g := c.locate(k)
	s.mu.Lock()
	c.bump(g)
	if el, ok := s.m[k]; ok {
		s.remove(el)
	}
	s.mu.Unlock()
	c.invalidations.Add(1)
}

// Clear forgets everything, and refuses every fill under way.
func (c *Cache[K, V]) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
	}
	for i := range c.gens {
		c.gens[i].Add(1)
	}
	c.changes.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.m = map[K]*list.Element{}
		s.lru.Init()
		s.cost = 0
		s.mu.Unlock()
	}
	c.invalidations.Add(1)
}

// bump marks a change of a key of stripe g, under its shard's lock.
func (c *Cache[K, V]) bump(g *atomic.Uint64) {
	g.Add(1)
	c.changes.Add(1)
}

// SetTTL makes entries older than ttl count as missing; 0 turns it off.
func (c *Cache[K, V]) SetTTL(ttl time.Duration) { c.ttl.Store(int64(ttl)) }

func (c *Cache[K, V]) store(s *shard[K, V], k K, v V) {
	cost := int64(1)
	if c.cost != nil {
		cost = c.cost(k, v)
	}
	if cost > c.budget {
		// Larger than a shard may hold: not cached, so the budget is a
		// bound and one entry never empties a shard.
		if el, ok := s.m[k]; ok {
			s.remove(el)
		}
		c.refused.Add(1)
		return
	}
	now := time.Now().UnixNano()
	if el, ok := s.m[k]; ok {
		e := el.Value.(*entry[K, V])
		s.cost += cost - e.cost
		e.val, e.cost, e.at = v, cost, now
		s.lru.MoveToFront(el)
	} else {
		s.m[k] = s.lru.PushFront(&entry[K, V]{key: k, val: v, cost: cost, at: now})
		s.cost += cost
	}
	for s.cost > c.budget && s.lru.Len() > 1 {
		s.remove(s.lru.Back())
		c.evictions.Add(1)
	}
}

func (s *shard[K, V]) remove(el *list.Element) {
	e := s.lru.Remove(el).(*entry[K, V])
	delete(s.m, e.key)
	s.cost -= e.cost
}

// Stats are a cache's counters since it was made, and its current size.
type Stats struct {
	Name                                   string
	Hits, Misses, Evictions, Invalidations int64
	// Refused counts fills not stored because their key changed meanwhile.
	Refused       int64
	Entries, Cost int64
}

// Stats reports the cache's counters.
func (c *Cache[K, V]) Stats() Stats {
	st := Stats{Name: c.name, Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Invalidations: c.invalidations.Load(), Refused: c.refused.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Entries += int64(len(s.m))
		st.Cost += s.cost
		s.mu.Unlock()
	}
	return st
}

// Statser is any cache, for metrics.
type Statser interface {
	Stats() Stats
	Clear()
	SetTTL(time.Duration)
}
