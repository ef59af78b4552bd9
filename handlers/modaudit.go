package handlers

import (
	"net/http"
	"time"

	"github.com/parley/parley/schema"
)

type auditView struct {
	ID        int64       `json:"id"`
	At        time.Time   `json:"at"`
	Moderator *auditActor `json:"moderator"`
	Actor     string      `json:"actor"`
	Action    string      `json:"action"`
	Object    auditObject `json:"object"`
	Site      *string     `json:"site"`
	Before    string      `json:"before"`
	After     string      `json:"after"`
	Detail    string      `json:"detail"`
}

type auditActor struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

type auditObject struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// auditLog answers the audit log, newest first. Admins see every entry;
// moderators see those of the sites they moderate, not the site-less ones
// about accounts and tokens.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	sites, err := s.modSites(r)
	if err != nil {
		return err
	}
	limit, err := queryLimit(r, 50, 200)
	if err != nil {
		return err
	}
	after, err := queryCursor(r, schema.SortNewest)
	if err != nil {
		return err
	}
	q := schema.AuditQuery{SiteIDs: sites, SitesOnly: moderator(r).Role != schema.RoleAdmin, After: after, Limit: limit}
	rows, next, err := s.store.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	items := make([]auditView, 0, len(rows))
	for _, a := range rows {
		v := auditView{
			ID: a.ID, At: a.At(), Actor: a.Actor, Action: a.Action, Object: auditObject{Type: a.ObjectType, ID: a.ObjectID},
			Before: a.Before, After: a.After, Detail: a.Detail,
		}
		if a.ModeratorID != nil {
			v.Moderator = &auditActor{ID: *a.ModeratorID, Email: a.Actor}
		}
		if a.SiteID != nil {
			slug := slugs[*a.SiteID]
			v.Site = &slug
		}
		items = append(items, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": cursorString(next)})
	return nil
}
