package handlers

import (
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type banView struct {
	ID          int64      `json:"id"`
	Site        string     `json:"site"`
	Kind        string     `json:"kind"`
	Value       string     `json:"value"` // the hashed email or IP, or the reader id
	Reason      string     `json:"reason"`
	Shadow      bool       `json:"shadow"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Active      bool       `json:"active"`
	CommentID   *int64     `json:"comment_id"`
	ModeratorID *int64     `json:"moderator_id"`
	CreatedAt   time.Time  `json:"created_at"`
}

func (s *Server) toBanView(b *schema.Ban, slugs map[int64]string) banView {
	v := banView{
		ID: b.ID, Site: slugs[b.SiteID], Kind: b.Kind, Value: b.Value, Reason: b.Reason, Shadow: b.Shadow,
		ExpiresAt: b.ExpiresAt(), CreatedAt: b.CreatedAt(),
		Active: b.ExpiresMS == nil || *b.ExpiresMS > s.store.Now().UnixMilli(),
	}
	v.CommentID, v.ModeratorID = b.CommentID, b.ModeratorID
	return v
}

// listBans lists the bans of the sites the caller moderates, newest first,
// expired ones included (active tells them apart).
func (s *Server) listBans(w http.ResponseWriter, r *http.Request) error {
	sites, err := s.modSites(r)
	if err != nil {
		return err
	}
	limit, err := queryLimit(r, 100, 1000)
	if err != nil {
		return err
	}
	bans, err := s.store.Bans(r.Context(), sites, limit)
	if err != nil {
		return err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	out := make([]banView, 0, len(bans))
	for i := range bans {
		out = append(out, s.toBanView(&bans[i], slugs))
	}
	writeJSON(w, http.StatusOK, map[string]any{"bans": out})
	return nil
}

// createBan bans the author of a comment by one of its identities.
func (s *Server) createBan(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CommentID     int64   `json:"comment_id"`
		Kind          string  `json:"kind"`
		Reason        string  `json:"reason"`
		Shadow        bool    `json:"shadow"`
		ExpiresAt     *string `json:"expires_at"`
		RejectPending bool    `json:"reject_pending"`
		Site          string  `json:"site"`
		IP            string  `json:"ip"`
		Ground        string  `json:"ground"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req := moderation.BanRequest{CommentID: in.CommentID, Kind: in.Kind, Reason: in.Reason, Shadow: in.Shadow, RejectPending: in.RejectPending, Ground: in.Ground}
	if in.IP != "" && in.CommentID == 0 {
		// An address is banned as the rate limits and comments group it:
		// its IPv6 /64, hashed with the server's key.
		a, err := netip.ParseAddr(in.IP)
		if err != nil || a.Zone() != "" {
			return errValidation(map[string]string{"ip": "an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1"})
		}
		if in.Kind == "" {
			req.Kind = "ip"
		}
		if validSlug(in.Site) {
			if site, err := s.store.Site(r.Context(), in.Site); err == nil {
				req.SiteID = site.ID
			} else if !errors.Is(err, schema.ErrNotFound) {
				return err
			}
		}
		req.IPHash = s.keys.IP(limitKey(a.Unmap().String()))
	}
	if in.ExpiresAt != nil && *in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, *in.ExpiresAt)
		if err != nil {
			return errValidation(map[string]string{"expires_at": "an RFC 3339 time such as 2030-01-02T15:04:05Z"})
		}
		req.ExpiresAt = &t
	}
	b, rejected, err := s.queue.Ban(r.Context(), actor(r), req)
	if err != nil {
		return err
	}
	slugs, err := s.siteSlugs(r.Context())
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(rejected))
	for _, c := range rejected {
		ids = append(ids, c.ID)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ban": s.toBanView(b, slugs), "rejected": ids})
	return nil
}

// deleteBan lifts a ban.
func (s *Server) deleteBan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "ban")
	if err != nil {
		return err
	}
	if err := s.queue.Unban(r.Context(), actor(r), id); err != nil {
		return notFoundAs(err, "ban")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
