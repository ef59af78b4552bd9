package handlers

import (
	"context"
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
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "watch": map[string]any{"up": ws.Up, "detail": ws.Detail}})
	return nil
}
