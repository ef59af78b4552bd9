package handlers

import (
	"unsafe"

	"github.com/parley/parley/schema/cache"
)

// pageCache keeps encoded comment pages, each with its newline, as they
// are written: the comments of a popular article are read by everyone and
// change rarely in comparison. A page is stored under the thread version
// it was read at; once the thread changes, its version changes and the old
// pages are never served again, and age out.
type pageCache struct {
	c *cache.Cache[pageKey, pageEntry]
}

type pageKey struct {
	article int64
	sort    string
	cursor  string
	limit   int
}

type pageEntry struct {
	version uint64
	body    []byte
}

// maxPageCacheBytes bounds the memory the cache holds, counted as what an
// entry really costs: its body, its cursor and the bookkeeping around them.
const maxPageCacheBytes = 24 << 20

// pageOverhead is what an entry costs besides its body and cursor: the key
// and entry structs, the map slot and the list element.
const pageOverhead = int64(unsafe.Sizeof(pageKey{})+unsafe.Sizeof(pageEntry{})) + 208

func newPageCache() *pageCache {
	return &pageCache{c: cache.New("pages", maxPageCacheBytes, func(k pageKey, e pageEntry) int64 {
		return int64(len(k.sort)+len(k.cursor)+cap(e.body)) + pageOverhead
	})}
}

func (p *pageCache) get(k pageKey, version uint64) ([]byte, bool) {
	e, ok := p.c.Get(k)
	if !ok || e.version != version {
		return nil, false
	}
	return e.body, true
}

// put stores a page read at version. The version itself guards against a
// page read before a change: the change gave the thread a new version.
// A slow reader's page of an older version does not replace a newer one:
// versions only grow.
func (p *pageCache) put(k pageKey, version uint64, body []byte) {
	if e, ok := p.c.Get(k); ok && e.version > version {
		return
	}
	p.c.Set(k, pageEntry{version: version, body: body})
}
