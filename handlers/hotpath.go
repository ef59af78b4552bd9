package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

// The two reads every article view sends, the reactions' counts and the
// first page of comments, are found by string tests instead of gorilla's
// route table, and handled in one context that carries the request id, the
// route's variables and the request's deadline together. Through gorilla,
// matching the patterns and copying the request for each of those pieces
// (gorilla's variables and route, the request id, the deadline: five
// copies) cost more than the handler's own work. The same middleware
// applies either way (see serve): the handlers, the body limit, CORS and
// the security headers in front are the ones gorilla's routes use.

// hotRoute is a route served without gorilla.
type hotRoute struct {
	// template is gorilla's template of the same route: the route label
	// of metrics and logs, the same whichever way a request went.
	template string
	// handler is the route's handler behind its subrouter's middleware
	// (the body limit), as gorilla would run it after observe.
	handler http.Handler
}

// hotRoutes are the GETs under /api/v1/sites/{site}/articles/{article}/.
type hotRoutes struct {
	reactions, comments hotRoute
}

// match finds the hot route of r and its {site} and {article}: exactly
// the requests gorilla would send to the same routes. Gorilla's variables
// match [^/]+ on the decoded path, and a path that is not clean (an empty,
// "." or ".." segment) is redirected by gorilla rather than routed: such
// paths are left to it.
func (hr *hotRoutes) match(r *http.Request) (rt *hotRoute, site, article string) {
	if r.Method != http.MethodGet {
		return nil, "", ""
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/sites/")
	if !ok {
		return nil, "", ""
	}
	site, rest, ok = strings.Cut(rest, "/")
	if !ok || !cleanSegment(site) {
		return nil, "", ""
	}
	if rest, ok = strings.CutPrefix(rest, "articles/"); !ok {
		return nil, "", ""
	}
	article, rest, ok = strings.Cut(rest, "/")
	if !ok || !cleanSegment(article) {
		return nil, "", ""
	}
	switch rest {
	case "reactions":
		return &hr.reactions, site, article
	case "comments":
		return &hr.comments, site, article
	}
	return nil, "", ""
}

func cleanSegment(s string) bool { return s != "" && s != "." && s != ".." }

// routeVar is the route variable name of r: from the request's context on
// a hot route, from gorilla's otherwise.
func routeVar(r *http.Request, name string) string {
	if c, ok := r.Context().(*requestCtx); ok && c.hot {
		switch name {
		case "site":
			return c.site
		case "article":
			return c.article
		}
		return ""
	}
	return mux.Vars(r)[name]
}

// requestCtx is the context a request is handled in: the connection's,
// with the request id and, on a hot route, the route's variables and the
// request's deadline.
type requestCtx struct {
	context.Context
	id string
	// hot tells that the request came by a hot route, with its variables.
	hot           bool
	site, article string
	// deadline, when set, ends the request's work as context.WithDeadline
	// does. Its timer is made only when something asks whether the request
	// is done (a database call does), not for answers from memory.
	deadline time.Time
	mu       sync.Mutex
	timed    atomic.Pointer[timedCtx]
}

type timedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *requestCtx) Deadline() (time.Time, bool) {
	if c.deadline.IsZero() {
		return c.Context.Deadline()
	}
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *requestCtx) Done() <-chan struct{} { return c.work().Done() }

func (c *requestCtx) Err() error { return c.work().Err() }

// Value answers the request id itself. Other keys are the context's that
// carries the deadline once it was made: the context package finds the
// cancellation of a derived context's parent by a key of its own, and must
// find the one whose Done this context returns.
func (c *requestCtx) Value(key any) any {
	if key == requestIDKey {
		return c.id
	}
	if t := c.timed.Load(); t != nil {
		return t.ctx.Value(key)
	}
	return c.Context.Value(key)
}

// work is the context that ends with the request's work: the connection's
// when there is no deadline of its own, else one with the deadline, made on
// first use.
func (c *requestCtx) work() context.Context {
	if c.deadline.IsZero() {
		return c.Context
	}
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	ctx, cancel := context.WithDeadline(c.Context, c.deadline)
	c.timed.Store(&timedCtx{ctx: ctx, cancel: cancel})
	return ctx
}

// release stops the deadline's timer, if one was made, once the request
// is answered.
func (c *requestCtx) release() {
	if t := c.timed.Load(); t != nil {
		t.cancel()
	}
}
