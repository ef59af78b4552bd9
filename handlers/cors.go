package handlers

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/schema"
)

var sitePath = regexp.MustCompile(`^/api/v1/sites/([^/]+)/`)

// originAllowed tells whether a browser on origin may call the public API at
// r's path: a site's own origins for its paths, and the origins of any site
// for the site-less ones (readers, captchas, comments by id).
func (s *Server) originAllowed(ctx context.Context, r *http.Request, origin string) bool {
	if m := sitePath.FindStringSubmatch(r.URL.Path); m != nil {
		if !validSlug(m[1]) {
			return false
		}
		site, err := s.store.Site(ctx, m[1])
		return err == nil && site.Settings.AllowsOrigin(origin)
	}
	return s.origins.allowed(ctx, origin)
}

// cors answers preflights and adds the CORS headers for allowed origins on
// the public API. Moderator routes never pass through it, so no article
// page can call them.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := s.originAllowed(r.Context(), r, origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Content-Type, X-Reader-Token, Authorization")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id")
		}
		next.ServeHTTP(w, r)
	})
}

// originCache is the union of every site's origins, refreshed every few
// seconds, for routes that name no site.
type originCache struct {
	store *schema.Store
	mu    sync.Mutex
	set   map[string]bool
	any   bool
	at    time.Time
}

func (c *originCache) allowed(ctx context.Context, origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil || time.Since(c.at) > 5*time.Second {
		sites, err := c.store.Sites(ctx)
		if err != nil {
			return false
		}
		c.set, c.any, c.at = map[string]bool{}, false, time.Now()
		for _, site := range sites {
			for _, o := range site.Settings.Origins {
				if o == "*" {
					c.any = true
				}
				c.set[strings.ToLower(o)] = true
			}
		}
	}
	return c.any || c.set[strings.ToLower(origin)]
}

// invalidate makes the next lookup read the sites again.
func (c *originCache) invalidate() {
	c.mu.Lock()
	c.set = nil
	c.mu.Unlock()
}
