package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// The session cookie and its lifetime: a session ends after 12 hours
// without a request (sliding), and in any case 7 days after logging in.
const (
	sessionCookie = "parley_session"
	sessionIdle   = 12 * time.Hour
	sessionMax    = 7 * 24 * time.Hour
	// Sessions and token use are written at most this often, so that a
	// busy dashboard does not turn every read into a write.
	touchEvery = time.Minute
)

// modAuth is who a moderator request comes from: a session (then CSRF
// applies) or an API token.
type modAuth struct {
	mod     *schema.Moderator
	session *schema.Session
	token   *schema.APIToken
}

func authOf(ctx context.Context) *modAuth {
	a, _ := ctx.Value(moderatorKey).(*modAuth)
	return a
}

// moderator is the request's moderator; requireModerator guarantees one.
func moderator(r *http.Request) *schema.Moderator { return authOf(r.Context()).mod }

// actor is the request's moderator as moderation names them.
func actor(r *http.Request) moderation.Actor { return moderation.Actor{Moderator: moderator(r)} }

// requireModerator lets through requests with an API token or a live
// session of an enabled account, and answers 401 to the rest.
func (s *Server) requireModerator(next http.Handler) http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.authenticate(r)
		if err != nil {
			return err
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), moderatorKey, a)))
		return nil
	})
}

func (s *Server) authenticate(r *http.Request) (*modAuth, error) {
	ctx := r.Context()
	now := s.store.Now()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return nil, errUnauthorized("send an API token as Authorization: Bearer <token>")
		}
		t, m, err := s.store.TokenModerator(ctx, tokenHash(tok))
		if errors.Is(err, schema.ErrNotFound) {
			return nil, errUnauthorized("the API token is unknown, revoked, or its account is disabled")
		}
		if err != nil {
			return nil, err
		}
		if t.LastUsedMS == nil || now.Sub(time.UnixMilli(*t.LastUsedMS)) >= touchEvery {
			if err := s.store.TouchAPIToken(ctx, t.ID); err != nil {
				s.log.WarnContext(ctx, "touch api token", "token_id", t.ID, "err", err)
			}
		}
		return &modAuth{mod: m, token: t}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errUnauthorized("log in with POST /api/v1/mod/session, or send Authorization: Bearer <api token>")
	}
	sess, m, err := s.store.SessionModerator(ctx, tokenHash(c.Value))
	if errors.Is(err, schema.ErrNotFound) {
		return nil, errUnauthorized("the session ended: log in again with POST /api/v1/mod/session")
	}
	if err != nil {
		return nil, err
	}
	// Sliding expiry, capped at sessionMax after login.
	exp := min(now.Add(sessionIdle).UnixMilli(), sess.CreatedMS+sessionMax.Milliseconds())
	if exp-sess.ExpiresMS >= touchEvery.Milliseconds() {
		if err := s.store.ExtendSession(ctx, sess.IDHash, time.UnixMilli(exp)); err != nil {
			s.log.WarnContext(ctx, "extend session", "moderator_id", m.ID, "err", err)
		}
		sess.ExpiresMS = exp
	}
	return &modAuth{mod: m, session: sess}, nil
}

// requireCSRF makes unsafe requests of a cookie session carry the
// session's CSRF token in X-CSRF-Token. The cookie is SameSite=Strict as
// well; the token covers browsers and proxies that do not honour that. API
// tokens are never sent by a browser on its own, so they need none.
func (s *Server) requireCSRF(next http.Handler) http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		a := authOf(r.Context())
		if a.session != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.session.CSRFToken)) != 1 {
				return errForbidden("send the session's CSRF token in X-CSRF-Token: POST or GET /api/v1/mod/session returns it")
			}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// requireAdmin lets admins through and answers 403 to other moderators.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		if moderator(r).Role != schema.RoleAdmin {
			return errForbidden("only admins may do this")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
