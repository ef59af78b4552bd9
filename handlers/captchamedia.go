package handlers

import (
	"container/list"
	"context"
	"runtime"
	"sync"
	"time"
)

// mediaCache keeps the rendered images and audio of captchas, keyed by
// captcha id, kind and language. Drawing an image or speaking six digits
// costs milliseconds of CPU, and nothing stopped one client from asking
// for the same captcha's audio over and over: each is now rendered once,
// concurrent requests for it wait for that one render, and renders run at
// most a few at a time so that they cannot starve other requests. The
// cache is bounded in bytes; entries go when their captcha expires or, the
// oldest first, when the bound is reached. Only the media is kept, never
// the digits.
type mediaCache struct {
	max   int
	ttl   time.Duration
	slots chan struct{}
	// renders counts media actually rendered, for metrics and tests.
	renders func(kind string)

	mu    sync.Mutex
	m     map[mediaKey]*list.Element
	order *list.List // of *mediaEntry, oldest first
	bytes int
}

type mediaKey struct{ id, kind, lang string }

type mediaEntry struct {
	key   mediaKey
	at    time.Time
	done  chan struct{}
	data  []byte
	err   error
	ready bool // done is closed; guarded by mediaCache.mu
}

func newMediaCache(maxBytes int, ttl time.Duration, renders func(kind string)) *mediaCache {
	return &mediaCache{
		max: maxBytes, ttl: ttl, renders: renders,
		slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		m:     map[mediaKey]*list.Element{}, order: list.New(),
	}
}

// get returns the media for key, rendering it once if no other request
// has or is doing so.
func (c *mediaCache) get(ctx context.Context, key mediaKey, render func() ([]byte, error)) ([]byte, error) {
	now := time.Now()
	c.mu.Lock()
	if el, ok := c.m[key]; ok {
		e := el.Value.(*mediaEntry)
		if now.Sub(e.at) < c.ttl {
			c.mu.Unlock()
			select {
			case <-e.done:
				return e.data, e.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		c.removeLocked(el)
	}
	e := &mediaEntry{key: key, at: now, done: make(chan struct{})}
	el := c.order.PushBack(e)
	c.m[key] = el
	c.mu.Unlock()

	select {
	case c.slots <- struct{}{}:
		e.data, e.err = render()
		<-c.slots
		c.renders(key.kind)
	case <-ctx.Done():
		e.err = ctx.Err()
	}
	close(e.done)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] != el {
		return e.data, e.err // swept meanwhile
	}
	if e.err != nil {
		// Not kept: the next request tries again.
		c.order.Remove(el)
		delete(c.m, key)
		return nil, e.err
	}
	e.ready = true
	c.bytes += len(e.data)
	for c.bytes > c.max {
		oldest := c.order.Front()
		if oldest == nil || !oldest.Value.(*mediaEntry).ready {
			break
		}
		c.removeLocked(oldest)
	}
	return e.data, nil
}

func (c *mediaCache) removeLocked(el *list.Element) {
	e := el.Value.(*mediaEntry)
	if e.ready {
		c.bytes -= len(e.data)
	}
	c.order.Remove(el)
	delete(c.m, e.key)
}

// sweep forgets the media of captchas that have expired.
func (c *mediaCache) sweep() {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*mediaEntry); e.ready && now.Sub(e.at) >= c.ttl {
			c.removeLocked(el)
		}
		el = next
	}
}
