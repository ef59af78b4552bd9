package handlers

import (
	"net/http"
	"time"

	"github.com/parley/parley/schema"
)

// apiTokenPrefix marks Parley's API tokens, so that secret scanners and
// people can tell them from other strings.
const apiTokenPrefix = "parley_"

type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"` // only when created
}

func toTokenView(t *schema.APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt(), LastUsedAt: t.LastUsedAt()}
}

// listTokens lists the caller's own API tokens (never the tokens themselves).
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	return s.writeTokens(w, r, moderator(r).ID)
}

// listAccountTokens lets an admin see any account's tokens, to find and
// revoke one that leaked.
func (s *Server) listAccountTokens(w http.ResponseWriter, r *http.Request) error {
	m, err := s.routeModerator(r)
	if err != nil {
		return err
	}
	return s.writeTokens(w, r, m.ID)
}

func (s *Server) writeTokens(w http.ResponseWriter, r *http.Request, moderatorID int64) error {
	ts, err := s.store.APITokens(r.Context(), moderatorID)
	if err != nil {
		return err
	}
	out := make([]tokenView, 0, len(ts))
	for i := range ts {
		out = append(out, toTokenView(&ts[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

// createToken makes an API token for the caller; the answer is the only
// time the token is shown.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	name, msg := checkText(in.Name, 1, 100, false)
	if msg != "" {
		return errValidation(map[string]string{"name": msg + " (say what the token is for)"})
	}
	m := moderator(r)
	token := apiTokenPrefix + randomToken(32)
	t := &schema.APIToken{ModeratorID: m.ID, Name: name}
	audit := schema.By(m, "")
	if err := s.store.CreateAPIToken(r.Context(), t, tokenHash(token), &audit); err != nil {
		return err
	}
	v := toTokenView(t)
	v.Token = token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// revokeToken deletes one of the caller's tokens; others' are not found.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "token")
	if err != nil {
		return err
	}
	m := moderator(r)
	audit := schema.By(m, "")
	if err := s.store.DeleteAPIToken(r.Context(), m.ID, id, &audit); err != nil {
		return notFoundAs(err, "token")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeAccountToken lets an admin revoke any account's token; the audit
// entry names the admin, and the owner in its detail.
func (s *Server) revokeAccountToken(w http.ResponseWriter, r *http.Request) error {
	m, err := s.routeModerator(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "token", "token")
	if err != nil {
		return err
	}
	audit := schema.By(moderator(r), "")
	audit.Detail = "of " + m.Email
	if err := s.store.DeleteAPIToken(r.Context(), m.ID, id, &audit); err != nil {
		return notFoundAs(err, "token")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
