package handlers

import "github.com/gorilla/mux"

// Router is the server's route table, for the test that every route is
// documented in docs/openapi.yaml.
func Router(s *Server) *mux.Router {
	r, _ := s.router()
	return r
}
