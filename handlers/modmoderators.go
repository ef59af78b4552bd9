package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

func (s *Server) listModerators(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.store.Moderators(r.Context())
	if err != nil {
		return err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	out := make([]modView, 0, len(ms))
	for _, m := range ms {
		out = append(out, toModView(m, slugs))
	}
	writeJSON(w, http.StatusOK, map[string]any{"moderators": out})
	return nil
}

// siteIDs turns slugs into site ids, or explains which slug is unknown.
func (s *Server) siteIDs(r *http.Request, slugs []string) ([]int64, string, error) {
	ids := []int64{}
	for _, slug := range slugs {
		site, err := s.store.Site(r.Context(), slug)
		if errors.Is(err, schema.ErrNotFound) {
			return nil, fmt.Sprintf("no site %s", quote(slug)), nil
		}
		if err != nil {
			return nil, "", err
		}
		ids = append(ids, site.ID)
	}
	return ids, "", nil
}

// Messages for site lists that would not do what they say.
const (
	msgNoSites    = "an empty list would let the moderator moderate every site: name at least one site, or leave sites out (null) for every site"
	msgAdminSites = "admins moderate every site: leave sites out, or make the account a moderator"
)

// createModerator adds an account. sites left out (or null) means every
// site; an empty list is refused, since it reads as "none".
func (s *Server) createModerator(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string   `json:"email"`
		Password string   `json:"password"`
		Role     string   `json:"role"`
		Sites    []string `json:"sites"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	email, msg := checkEmail(strings.ToLower(in.Email))
	if msg == "" && email == "" {
		msg = "required"
	}
	if msg != "" {
		fields["email"] = msg
	}
	if in.Role != schema.RoleAdmin && in.Role != schema.RoleModerator {
		fields["role"] = "admin or moderator"
	}
	ids, msg, err := s.siteIDs(r, in.Sites)
	if err != nil {
		return err
	}
	switch {
	case msg != "":
		fields["sites"] = msg
	case in.Role == schema.RoleAdmin && len(in.Sites) > 0:
		fields["sites"] = msgAdminSites
	case in.Role == schema.RoleModerator && in.Sites != nil && len(in.Sites) == 0:
		fields["sites"] = msgNoSites
	}
	hash, err := s.hashPassword(r, in.Password, fields)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	m := &schema.Moderator{Email: email, PasswordHash: hash, Role: in.Role, Sites: ids}
	audit := schema.By(moderator(r), "")
	if err := s.store.CreateModerator(r.Context(), m, &audit); errors.Is(err, schema.ErrConflict) {
		return errConflict("a moderator with email " + quote(email) + " exists already")
	} else if err != nil {
		return err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"moderator": toModView(m, slugs)})
	return nil
}

// hashPassword hashes a new password within the instance's bound on
// hashing (see Limits.LoginHashers); a password too short is reported in
// fields, without hashing.
func (s *Server) hashPassword(r *http.Request, password string, fields map[string]string) (string, error) {
	if len(password) < moderation.MinPasswordLength || len(password) > 1024 {
		// HashPassword refuses these before hashing: no hasher needed.
		_, err := moderation.HashPassword(password)
		fields["password"] = err.Error()
		return "", nil
	}
	var hash string
	var herr error
	if err := s.limits.hashers.run(r.Context(), func() { hash, herr = moderation.HashPassword(password) }); err != nil {
		return "", err
	}
	if herr != nil {
		fields["password"] = herr.Error()
	}
	return hash, nil
}

// updateModerator changes the fields the body names: role, sites,
// password, disabled. Admins cannot demote or disable themselves, so that a
// site never loses its last admin by accident. "sites": null means every
// site, [] is refused; admins have no site list.
func (s *Server) updateModerator(w http.ResponseWriter, r *http.Request) error {
	m, err := s.routeModerator(r)
	if err != nil {
		return err
	}
	var in struct {
		Role     *string         `json:"role"`
		Sites    json.RawMessage `json:"sites"`
		Password *string         `json:"password"`
		Disabled *bool           `json:"disabled"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	before := *m
	fields := map[string]string{}
	self := m.ID == moderator(r).ID
	if in.Role != nil {
		switch {
		case *in.Role != schema.RoleAdmin && *in.Role != schema.RoleModerator:
			fields["role"] = "admin or moderator"
		case self && *in.Role != schema.RoleAdmin:
			fields["role"] = "you cannot demote yourself: ask another admin"
		default:
			m.Role = *in.Role
		}
	}
	if m.Role == schema.RoleAdmin {
		// A limit an admin would ignore is not kept to mislead later.
		m.Sites = nil
	}
	if in.Sites != nil {
		var slugs []string
		if err := json.Unmarshal(in.Sites, &slugs); err != nil {
			return errBadRequest("field \"sites\" must be a list of site slugs, or null for every site")
		}
		ids, msg, err := s.siteIDs(r, slugs)
		if err != nil {
			return err
		}
		switch {
		case msg != "":
			fields["sites"] = msg
		case m.Role == schema.RoleAdmin && len(slugs) > 0:
			fields["sites"] = msgAdminSites
		case m.Role != schema.RoleAdmin && slugs != nil && len(slugs) == 0:
			fields["sites"] = msgNoSites
		default:
			m.Sites = ids
		}
	}
	if in.Password != nil {
		hash, err := s.hashPassword(r, *in.Password, fields)
		if err != nil {
			return err
		}
		m.PasswordHash = hash
	}
	if in.Disabled != nil {
		if self && *in.Disabled {
			fields["disabled"] = "you cannot disable yourself: ask another admin"
		}
		m.Disabled = *in.Disabled
	}
	if len(fields) > 0 {
		return errValidation(fields)
	}
	action := "moderator.update"
	if m.Disabled && !before.Disabled {
		action = "moderator.disable"
	}
	return s.saveModerator(w, r, &before, m, action, http.StatusOK)
}

// disableModerator disables an account: it can no longer log in, its
// sessions end and its API tokens stop working. Its audit trail stays.
func (s *Server) disableModerator(w http.ResponseWriter, r *http.Request) error {
	m, err := s.routeModerator(r)
	if err != nil {
		return err
	}
	if m.ID == moderator(r).ID {
		return errValidation(map[string]string{"id": "you cannot disable yourself: ask another admin"})
	}
	before := *m
	m.Disabled = true
	return s.saveModerator(w, r, &before, m, "moderator.disable", http.StatusNoContent)
}

func (s *Server) routeModerator(r *http.Request) (*schema.Moderator, error) {
	id, err := pathID(r, "id", "moderator")
	if err != nil {
		return nil, err
	}
	m, err := s.store.ModeratorByID(r.Context(), id)
	return m, notFoundAs(err, "moderator")
}

func (s *Server) saveModerator(w http.ResponseWriter, r *http.Request, before, m *schema.Moderator, action string, status int) error {
	audit := schema.By(moderator(r), "")
	audit.Action = action
	audit.Before, audit.After = moderatorState(before), moderatorState(m)
	if m.PasswordHash != before.PasswordHash {
		audit.Detail = "password changed"
	}
	if err := s.store.UpdateModerator(r.Context(), m, &audit); err != nil {
		return notFoundAs(err, "moderator")
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return nil
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"moderator": toModView(m, slugs)})
	return nil
}

// moderatorState is how the audit log shows an account: role, site ids
// and whether it is disabled.
func moderatorState(m *schema.Moderator) string {
	st := fmt.Sprintf("%s sites=%v", m.Role, m.Sites)
	if m.Disabled {
		st += " disabled"
	}
	return st
}
