package handlers

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// siteDoc is a site's settings as the API shows and takes them (the site
// settings object of docs/api.md): the slug beside the settings' own fields.
type siteDoc struct {
	Slug string `json:"slug"`
	schema.Settings
}

// listSites answers the sites the caller may moderate, briefly.
func (s *Server) listSites(w http.ResponseWriter, r *http.Request) error {
	sites, err := s.store.Sites(r.Context())
	if err != nil {
		return err
	}
	type brief struct {
		Slug         string `json:"slug"`
		CommentsOpen bool   `json:"comments_open"`
		Mode         string `json:"mode"`
		// What a moderator's reject dialog offers as grounds.
		EUDSA        bool     `json:"eu_dsa"`
		TermsGrounds []string `json:"terms_grounds"`
	}
	out := []brief{}
	m := moderator(r)
	for _, site := range sites {
		if m.CanModerate(site.ID) {
			out = append(out, brief{Slug: site.Slug, CommentsOpen: site.Settings.CommentsOpen, Mode: site.Settings.Moderation.Mode,
				EUDSA: site.Settings.EUDSA, TermsGrounds: site.Settings.TermsGrounds})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": out})
	return nil
}

// freshSite returns the route's site read from the database, not from the
// one-second cache, so that a change starts from what is stored.
func (s *Server) freshSite(r *http.Request) (*schema.Site, error) {
	slug := routeVar(r, "site")
	site, err := s.store.Site(r.Context(), slug)
	if err == nil {
		site, err = s.store.SiteByID(r.Context(), site.ID)
	}
	return site, notFoundAs(err, "site "+quote(slug))
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) error {
	site, err := s.freshSite(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, siteDoc{Slug: site.Slug, Settings: site.Settings})
	return nil
}

// putSite changes the fields the body names and keeps the others: the body
// is decoded onto the current settings (nested objects merge, lists and
// reaction_styles are replaced), then the whole is validated.
func (s *Server) putSite(w http.ResponseWriter, r *http.Request) error {
	site, err := s.freshSite(r)
	if err != nil {
		return err
	}
	doc := siteDoc{Slug: site.Slug, Settings: site.Settings}
	doc.Settings.ReactionStyles = nil
	if err := decodeJSON(r, &doc); err != nil {
		return err
	}
	if doc.Settings.ReactionStyles == nil {
		// Kept, but not for reactions the body took away.
		doc.Settings.ReactionStyles = map[string]schema.ReactionStyle{}
		for name, st := range site.Settings.ReactionStyles {
			if doc.Settings.HasReaction(name) {
				doc.Settings.ReactionStyles[name] = st
			}
		}
	}
	if doc.Slug != site.Slug {
		return errValidation(map[string]string{"slug": "a site's slug cannot change: it is in every embed code"})
	}
	normalizeSettings(&doc.Settings)
	if p := s.validateSite(site.Slug, doc.Settings); len(p) > 0 {
		return errValidation(p)
	}
	audit := schema.By(moderator(r), "")
	audit.Before, audit.After = s.auditSettings(site.Settings), s.auditSettings(doc.Settings)
	if err := s.store.UpdateSiteSettings(r.Context(), site.ID, doc.Settings, &audit); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// createSite adds a site: the body's fields over the defaults.
func (s *Server) createSite(w http.ResponseWriter, r *http.Request) error {
	doc := siteDoc{Settings: schema.DefaultSettings()}
	if err := decodeJSON(r, &doc); err != nil {
		return err
	}
	normalizeSettings(&doc.Settings)
	if p := s.validateSite(doc.Slug, doc.Settings); len(p) > 0 {
		return errValidation(p)
	}
	audit := schema.By(moderator(r), "")
	audit.After = s.auditSettings(doc.Settings)
	site, err := s.store.CreateSite(r.Context(), doc.Slug, doc.Settings, &audit)
	if errors.Is(err, schema.ErrConflict) {
		return errConflict("site " + quote(doc.Slug) + " exists already: change it with PUT /api/v1/mod/sites/" + doc.Slug)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, siteDoc{Slug: site.Slug, Settings: site.Settings})
	return nil
}

// normalizeSettings turns lists sent as null into empty ones and writes
// origins as browsers send them (the answer shows the stored form).
func normalizeSettings(st *schema.Settings) {
	st.Origins, _ = moderation.NormalizeOrigins(st.Origins)
	for _, l := range []*[]string{&st.Origins, &st.Reactions, &st.Moderation.BannedWords, &st.Moderation.SuspectWords, &st.Webhooks.URLs} {
		if *l == nil {
			*l = []string{}
		}
	}
	if st.ReactionStyles == nil {
		st.ReactionStyles = map[string]schema.ReactionStyle{}
	}
}

// validateSite is moderation.ValidateSite, and, unless the server allows
// private webhooks, the refusal of webhook URLs that name internal hosts.
func (s *Server) validateSite(slug string, st schema.Settings) map[string]string {
	p := moderation.ValidateSite(slug, st)
	if _, bad := p["webhooks.urls"]; bad || s.cfg.AllowPrivateWebhooks {
		return p
	}
	for _, u := range st.Webhooks.URLs {
		if msg := moderation.WebhookTargetProblem(u); msg != "" {
			p["webhooks.urls"] = msg + " (the server's -allow-private-webhooks allows them)"
			break
		}
	}
	return p
}

// auditSettings is settings as the audit log keeps them. Moderators read
// the log, and for a chat webhook the URL is the credential: URLs keep
// their scheme and host, with a fingerprint to show that one changed. The
// secret's fingerprint, like the URLs', is an HMAC under a key derived from
// the server secret, so that it cannot confirm guesses of a weak secret.
func (s *Server) auditSettings(st schema.Settings) string {
	if st.Webhooks.Secret != "" {
		st.Webhooks.Secret = "hmac:" + hex.EncodeToString(mac(s.keys.audit, "webhook-secret\x00"+st.Webhooks.Secret)[:6])
	}
	urls := make([]string, len(st.Webhooks.URLs))
	for i, u := range st.Webhooks.URLs {
		urls[i] = moderation.RedactURL(u) + " hmac:" + hex.EncodeToString(mac(s.keys.audit, "webhook-url\x00"+u)[:6])
	}
	st.Webhooks.URLs = urls
	b, _ := json.Marshal(st)
	return string(b)
}
