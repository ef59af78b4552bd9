package handlers

import (
	"sync"
	"time"
)

// pageCache keeps encoded comment pages until their thread changes: the
// comments of a popular article are read by everyone and change rarely in
// comparison. An entry is valid while the store's thread version is the
// one it was built at and, on PostgreSQL where other instances write, for
// at most ttl.
type pageCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[pageKey]pageEntry
	bytes   int
}

type pageKey struct {
	article int64
	sort    string
	cursor  string
	limit   int
}

type pageEntry struct {
	version uint64
	at      time.Time
	body    []byte
}

// maxPageCacheBytes bounds the memory the cache holds; when full it starts
// again empty, which costs one query per page and keeps RSS flat.
const maxPageCacheBytes = 24 << 20

func (c *pageCache) get(k pageKey, version uint64) ([]byte, bool) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || e.version != version || (c.ttl > 0 && time.Since(e.at) > c.ttl) {
		return nil, false
	}
	return e.body, true
}

func (c *pageCache) put(k pageKey, version uint64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || c.bytes+len(body) > maxPageCacheBytes {
		c.entries, c.bytes = map[pageKey]pageEntry{}, 0
	}
	if old, ok := c.entries[k]; ok {
		c.bytes -= len(old.body)
	}
	c.entries[k] = pageEntry{version: version, at: time.Now(), body: body}
	c.bytes += len(body)
}
