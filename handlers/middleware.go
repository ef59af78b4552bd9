package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	readerKey
	moderatorKey
	sessionKey
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// statusWriter remembers the status a handler wrote, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives every request an id, recovers panics into a 500 in the
// contract's shape, and logs and counts the request by route and status.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, next, nil, "", "")
	})
}

// exchange is what serve keeps of a request, in one allocation.
type exchange struct {
	ctx      requestCtx
	sw       statusWriter
	idHeader [1]string
}

// serve runs next as observe does, for a route gorilla matched (hot nil)
// or for a hot route with its variables; a hot route's handler also gets
// the request's deadline here, where gorilla's get it from h.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, next http.Handler, hot *hotRoute, site, article string) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 || !printableASCII(id) {
		id = s.ids.next()
	}
	x := &exchange{ctx: requestCtx{Context: r.Context(), id: id}, sw: statusWriter{ResponseWriter: w}}
	x.idHeader[0] = id
	w.Header()["X-Request-Id"] = x.idHeader[:]
	if hot != nil {
		x.ctx.hot, x.ctx.site, x.ctx.article = true, site, article
		x.ctx.deadline = start.Add(s.cfg.RequestTimeout)
		defer x.ctx.release()
	}
	r = r.WithContext(&x.ctx)
	sw := &x.sw
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if sw.status == 0 {
				s.writeError(sw, r, &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error: the request id is " + id})
			}
		}
		route := ""
		if hot != nil {
			route = hot.template
		} else {
			route = routeName(r)
		}
		d := time.Since(start)
		s.metrics.observe(route, r.Method, sw.status, d)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		// Checked first: building the attributes costs more than the
		// request itself on the fastest paths.
		if s.log.Enabled(r.Context(), level) {
			s.log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "route", route, "status", sw.status, "duration_ms", d.Milliseconds())
		}
	}()
	next.ServeHTTP(sw, r)
}

// routeName is the matched route's template, so metrics do not explode
// with one label per article.
func routeName(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}

// limitBody caps request bodies at n bytes. A declared length over n is
// answered payload_too_large at once, whether or not the route reads a
// body; a body longer than declared, or chunked, fails with the same
// answer when the handler reads past n.
func limitBody(n int64) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{errPayloadTooLarge()})
				return
			}
			// A request without a body (most GETs) has nothing to limit.
			if r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP is the address rate limits and IP hashes key on: the
// connection's peer, or, when that peer is a trusted proxy, the nearest
// untrusted address in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Header values set on every answer, or on every JSON answer, are built
// once: Header.Set allocates a slice per value. net/http never changes a
// value in place, and Add appends to a copy (each has no spare capacity).
var (
	nosniff         = []string{"nosniff"}
	referrerPolicy  = []string{"strict-origin-when-cross-origin"}
	jsonContentType = []string{"application/json; charset=utf-8"}
)

// secureHeaders are set on every answer.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["Referrer-Policy"] = referrerPolicy
		next.ServeHTTP(w, r)
	})
}

// requestIDs are a random per-process prefix and a counter: unique, and
// far cheaper than reading random bytes for every request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs { return &requestIDs{prefix: randomToken(6)} }

func (g *requestIDs) next() string {
	var b [32]byte
	id := append(append(b[:0], g.prefix...), '-')
	return string(strconv.AppendUint(id, g.n.Add(1), 36))
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
