package handlers

import (
	"net/http"
)

// createReader hands out an anonymous reader token.
func (s *Server) createReader(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.readers.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	token, _ := s.keys.NewReaderToken()
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
	return nil
}

// reader returns the reader id of the request's X-Reader-Token: "" without
// a token, unauthorized for a forged or malformed one.
func (s *Server) reader(r *http.Request) (string, error) {
	t := r.Header.Get("X-Reader-Token")
	if t == "" {
		return "", nil
	}
	id, ok := s.keys.ReaderID(t)
	if !ok {
		return "", errUnauthorized("the reader token is invalid: get a new one from POST /api/v1/readers")
	}
	return id, nil
}

// requireReader is reader for routes that need one.
func (s *Server) requireReader(r *http.Request) (string, error) {
	id, err := s.reader(r)
	if err == nil && id == "" {
		err = errUnauthorized("send a reader token in X-Reader-Token: get one from POST /api/v1/readers")
	}
	return id, err
}
