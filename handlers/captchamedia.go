package handlers

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/parley/parley/schema/cache"
)

// mediaCache keeps the rendered images and audio of captchas, keyed by
// captcha id, kind and language. Drawing an image or speaking six digits
// costs milliseconds of CPU, and nothing stopped one client from asking
// for the same captcha's audio over and over: each is now rendered once,
// concurrent requests for it wait for that one render, and renders run at
// most a few at a time so that they cannot starve other requests. The
// cache is bounded in bytes; entries go when their captcha expires or, the
// least recently used first, when the bound is reached. Only the media is
// kept, never the digits.
type mediaCache struct {
	c     *cache.Cache[mediaKey, *mediaEntry]
	slots chan struct{}
	// renders counts media actually rendered, for metrics and tests.
	renders func(kind string)
	// mu makes "find the entry or start rendering it" one step.
	mu sync.Mutex
}

type mediaKey struct{ id, kind, lang string }

type mediaEntry struct {
	done chan struct{} // closed once data or err is set
	data []byte
	err  error
}

func newMediaCache(maxBytes int, ttl time.Duration, renders func(kind string)) *mediaCache {
	c := cache.New("captcha_media", int64(maxBytes), func(k mediaKey, e *mediaEntry) int64 {
		return int64(len(k.id)+len(k.kind)+len(k.lang)+len(e.data)) + 200
	})
	c.SetTTL(ttl) // a captcha's media is of no use once the captcha expired
	return &mediaCache{c: c, renders: renders, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
}

// get returns the media for key, rendering it once if no other request
// has or is doing so.
func (m *mediaCache) get(ctx context.Context, key mediaKey, render func() ([]byte, error)) ([]byte, error) {
	m.mu.Lock()
	e, ok := m.c.Get(key)
	if !ok {
		e = &mediaEntry{done: make(chan struct{})}
		m.c.Set(key, e)
	}
	m.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			return e.data, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case m.slots <- struct{}{}:
		e.data, e.err = render()
		<-m.slots
		m.renders(key.kind)
	case <-ctx.Done():
		e.err = ctx.Err()
	}
	close(e.done)
	if e.err != nil {
		m.c.Invalidate(key) // not kept: the next request tries again
		return nil, e.err
	}
	m.c.Set(key, e) // again, now that its cost is known
	return e.data, nil
}
