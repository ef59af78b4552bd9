package handlers

import (
	"context"
	"github.com/parley/parley/docs"
	"net/http"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	b := s.cfg.Build
	if b.Drivers == nil {
		b.Drivers = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": b.Version, "commit": b.Commit, "go": b.Go, "drivers": b.Drivers})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the database does not answer", RetryAfter: time.Second}
	}
	// Ready even when the watch is down: the caches then expire quickly,
	// and the detail tells an operator why other instances' changes lag.
	ws := s.store.WatchStatus()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "watch": map[string]any{"up": ws.Up, "publishing": ws.Publishing, "detail": ws.Detail}})
	return nil
}

// openAPI serves docs/openapi.yaml as JSON, converted once.
func (s *Server) openAPI() http.Handler {
	spec, err := docs.OpenAPIJSON()
	line := append(spec[:len(spec):len(spec)], '\n')
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSONLine(w, http.StatusOK, line)
		return nil
	})
}
