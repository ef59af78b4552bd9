package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type sessionResponse struct {
	CSRFToken string  `json:"csrf_token,omitempty"`
	Moderator modView `json:"moderator"`
}

// login checks a moderator's email and password and starts a session.
// Failed attempts are slowed per IP and per account; an unknown email costs
// as much as a wrong password, so timing does not tell which emails exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	// Another site's page must not log a browser in (login CSRF).
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errForbidden("log in from the dashboard's own origin")
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	fields := map[string]string{}
	if email == "" {
		fields["email"] = "required"
	}
	if in.Password == "" {
		fields["password"] = "required"
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	// Every attempt takes a token from both buckets; a success gives them
	// back, so that only failures slow an account or an address down.
	keys := []string{"ip:" + s.clientIP(r), "email:" + email}
	for i, k := range keys {
		if ok, retry := s.limits.logins.allow(k); !ok {
			for _, taken := range keys[:i] {
				s.limits.logins.refund(taken)
			}
			return errRateLimited(retry)
		}
	}
	m, err := s.store.ModeratorByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, schema.ErrNotFound) {
		return err
	}
	hash := moderation.DummyHash
	if m != nil {
		hash = m.PasswordHash
	}
	if !moderation.CheckPassword(hash, in.Password) || m == nil {
		return errUnauthorized("wrong email or password")
	}
	if m.Disabled {
		return errForbidden("this account is disabled: ask an admin")
	}
	for _, k := range keys {
		s.limits.logins.refund(k)
	}
	token, csrf := randomToken(32), randomToken(32)
	sess := &schema.Session{IDHash: tokenHash(token), ModeratorID: m.ID, CSRFToken: csrf}
	if err := s.store.CreateSession(r.Context(), sess, s.store.Now().Add(sessionIdle)); err != nil {
		return err
	}
	// No Expires: the server ends the session (sliding), the browser
	// forgets the cookie when it closes.
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.cfg.SecureCookies,
	})
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "moderator logged in", "moderator_id", m.ID)
	writeJSON(w, http.StatusOK, sessionResponse{CSRFToken: csrf, Moderator: toModView(m, slugs)})
	return nil
}

// currentSession tells the dashboard who is logged in, and the CSRF token
// (absent for API tokens, which need none).
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r.Context())
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	resp := sessionResponse{Moderator: toModView(a.mod, slugs)}
	if a.session != nil {
		resp.CSRFToken = a.session.CSRFToken
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// logout ends the session; with an API token there is none to end (revoke
// the token instead).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r.Context())
	if a.session == nil {
		return errBadRequest("API tokens have no session: revoke the token with DELETE /api/v1/mod/tokens/{id}")
	}
	if err := s.store.DeleteSession(r.Context(), a.session.IDHash); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.cfg.SecureCookies,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
