package handlers

import (
	"context"
	"net/http"
	"regexp"
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
	o, err := s.store.AllOrigins(ctx)
	return err == nil && o.Allows(origin)
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
