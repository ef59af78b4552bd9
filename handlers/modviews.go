package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parley/parley/schema"
)

// The moderator API's views of the store's records. Unlike readers,
// moderators see statuses, versions and the hashed identities bans use.

// modComment is a comment as moderators see it: the readers' view's
// fields (commentView), then what only moderators see.
type modComment struct {
	commentView
	DecidedAt   *time.Time `json:"decided_at"`
	Status      string     `json:"status"`
	Version     int64      `json:"version"`
	Queue       string     `json:"queue"`
	Priority    int64      `json:"priority"`
	Score       int64      `json:"score"`
	ReportCount int64      `json:"report_count"`
	Shadow      bool       `json:"shadow"`
	EmailHash   string     `json:"email_hash,omitempty"`
	IPHash      string     `json:"ip_hash,omitempty"`
	ReaderID    string     `json:"reader_id,omitempty"`
}

func toModComment(c *schema.Comment) modComment {
	return modComment{
		commentView: toCommentView(c), DecidedAt: c.DecidedAt(), Status: c.Status, Version: c.Version,
		Queue: c.Queue, Priority: c.Priority, Score: c.Score, ReportCount: c.ReportCount, Shadow: c.Shadow,
		EmailHash: c.EmailHash, IPHash: c.IPHash, ReaderID: c.ReaderID,
	}
}

// reasonsJSON is a comment's stored reasons, passed through as they are.
func reasonsJSON(c *schema.Comment) json.RawMessage {
	if !json.Valid([]byte(c.Reasons)) {
		return json.RawMessage(`[]`)
	}
	return json.RawMessage(c.Reasons)
}

// modView is a moderator account as the API shows it.
type modView struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Sites     []string  `json:"sites"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func toModView(m *schema.Moderator, slugs map[int64]string) modView {
	v := modView{ID: m.ID, Email: m.Email, Role: m.Role, Sites: []string{}, Disabled: m.Disabled, CreatedAt: m.CreatedAt}
	for _, id := range m.Sites {
		if slug, ok := slugs[id]; ok {
			v.Sites = append(v.Sites, slug)
		}
	}
	return v
}

// sitesByID returns every site by id; sites are few.
func (s *Server) sitesByID(ctx context.Context) (map[int64]*schema.Site, error) {
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*schema.Site, len(sites))
	for _, site := range sites {
		out[site.ID] = site
	}
	return out, nil
}

func (s *Server) siteSlugs(ctx context.Context) (map[int64]string, error) {
	sites, err := s.sitesByID(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(sites))
	for id, site := range sites {
		out[id] = site.Slug
	}
	return out, nil
}

// modSites returns the ids of the sites a moderator sees, narrowed to the
// ?site= of the request when it names one: nil means every site. A site
// the moderator may not moderate is forbidden; an unknown one not found.
func (s *Server) modSites(r *http.Request) ([]int64, error) {
	m := moderator(r)
	if slug := r.URL.Query().Get("site"); slug != "" {
		site, err := s.store.Site(r.Context(), slug)
		if err != nil {
			return nil, notFoundAs(err, "site "+quote(slug))
		}
		if !m.CanModerate(site.ID) {
			return nil, errForbidden("you do not moderate site " + quote(slug))
		}
		return []int64{site.ID}, nil
	}
	if m.Role == schema.RoleAdmin || len(m.Sites) == 0 {
		return nil, nil
	}
	return m.Sites, nil
}
