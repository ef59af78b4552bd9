package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type sessionResponse struct {
	CSRFToken string  `json:"csrf_token,omitempty"`
	Moderator modView `json:"moderator"`
	// Email tells the dashboard whether the server sends email.
	Email bool `json:"email"`
}

// login checks a moderator's email and password and starts a session.
//
// Failures are limited per address (429 past the Logins rate). Per
// account they are counted too, but an account past its ceiling is only
// slowed down, and only for addresses that failed on it: strangers'
// guesses must not lock the owner out. Password hashing, the costly part,
// is bounded for the whole instance and refused before it starts. An
// unknown email or a disabled account costs as much as a wrong password and
// is answered the same, so answers tell nothing about accounts.
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
	} else if len(email) > maxEmail {
		// No account has such an email; refusing it keeps the limiters'
		// keys small.
		fields["email"] = fmt.Sprintf("at most %d characters", maxEmail)
	}
	if in.Password == "" {
		fields["password"] = "required"
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	// Every attempt is counted as a failure until it succeeds, so that
	// concurrent guesses cannot slip past the counts.
	addr := "ip:" + limitKey(s.clientIP(r))
	if err := s.limits.logins.check(addr); err != nil {
		return err
	}
	pair := email + " " + addr
	failedHere := s.limits.failed.attempt(pair)
	debt := s.limits.accounts.owe(email)
	if failedHere && debt > 0 {
		wait := time.NewTimer(loginDelay(debt, s.cfg.RequestTimeout/2))
		select {
		case <-wait.C:
		case <-r.Context().Done():
			wait.Stop()
			return errRateLimited(time.Second)
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
	var ok bool
	if err := s.limits.hashers.run(r.Context(), func() { ok = moderation.CheckPassword(hash, in.Password) }); err != nil {
		// Not a failure of this address: it never got to try.
		if !failedHere {
			s.limits.failed.forget(pair)
		}
		return err
	}
	if !ok || m == nil || m.Disabled {
		return errUnauthorized("wrong email or password")
	}
	s.limits.logins.refund(addr)
	s.limits.accounts.refund(email)
	s.limits.failed.forget(pair)
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
	writeJSON(w, http.StatusOK, sessionResponse{CSRFToken: csrf, Moderator: toModView(m, slugs), Email: s.cfg.Mail.Enabled()})
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
	resp := sessionResponse{Moderator: toModView(a.mod, slugs), Email: s.cfg.Mail.Enabled()}
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
