package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Site is a publisher's site and its settings.
type Site struct {
	ID        int64
	Slug      string
	Settings  Settings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Settings are a site's configuration, stored as one JSON document so that
// new settings need no migration. The JSON names are the API's.
type Settings struct {
	Origins           []string   `json:"origins"`
	Reactions         []string   `json:"reactions"`
	CommentsOpen      bool       `json:"comments_open"`
	StrictArticles    bool       `json:"strict_articles"`
	EditWindowSeconds int        `json:"edit_window_seconds"`
	IPRetentionDays   int        `json:"ip_retention_days"`
	Moderation        Moderation `json:"moderation"`
	Webhooks          Webhooks   `json:"webhooks"`
}

// Moderation holds a site's moderation settings.
type Moderation struct {
	Mode                   string   `json:"mode"`
	FirstTimeApproved      int      `json:"first_time_approved"`
	BannedWords            []string `json:"banned_words"`
	SuspectWords           []string `json:"suspect_words"`
	MaxLinks               int      `json:"max_links"`
	ReportThreshold        int      `json:"report_threshold"`
	MaxPerMinute           int      `json:"max_per_minute"`
	ClassifierMinDecisions int      `json:"classifier_min_decisions"`
	ClassifierSpam         float64  `json:"classifier_spam_threshold"`
	ClassifierHold         float64  `json:"classifier_hold_threshold"`
}

// Webhooks are the URLs told about held, reported and decided comments,
// and the secret their payloads are signed with.
type Webhooks struct {
	URLs   []string `json:"urls"`
	Secret string   `json:"secret"`
}

// DefaultSettings are what a new site starts with.
func DefaultSettings() Settings {
	return Settings{
		Origins:           []string{},
		Reactions:         []string{"like", "dislike"},
		CommentsOpen:      true,
		EditWindowSeconds: 900,
		IPRetentionDays:   90,
		Moderation: Moderation{
			Mode:                   "post",
			FirstTimeApproved:      1,
			BannedWords:            []string{},
			SuspectWords:           []string{},
			MaxLinks:               2,
			ReportThreshold:        3,
			MaxPerMinute:           5,
			ClassifierMinDecisions: 50,
			ClassifierSpam:         0.97,
			ClassifierHold:         0.80,
		},
		Webhooks: Webhooks{URLs: []string{}},
	}
}

// HasReaction tells whether r is one of the site's reactions.
func (st Settings) HasReaction(r string) bool {
	for _, x := range st.Reactions {
		if x == r {
			return true
		}
	}
	return false
}

// AllowsOrigin tells whether a browser origin may call the site's public API.
func (st Settings) AllowsOrigin(origin string) bool {
	for _, o := range st.Origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

type siteRow struct {
	ID        int64  `db:"id"`
	Slug      string `db:"slug"`
	Settings  string `db:"settings"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r siteRow) site() (*Site, error) {
	st := DefaultSettings()
	if err := json.Unmarshal([]byte(r.Settings), &st); err != nil {
		return nil, fmt.Errorf("site %s settings: %w", r.Slug, err)
	}
	return &Site{ID: r.ID, Slug: r.Slug, Settings: st, CreatedAt: msTime(r.CreatedAt), UpdatedAt: msTime(r.UpdatedAt)}, nil
}

// siteCache keeps recently read sites for a second: every public request
// names its site, and settings change rarely. Another instance's change is
// seen within that second.
type siteCache struct {
	mu    sync.Mutex
	items map[string]siteCacheEntry
	all   []*Site // the list Sites returned, read at allAt
	allAt time.Time
	// gen counts invalidations, so that a list read before one is not
	// stored after it.
	gen uint64
}

type siteCacheEntry struct {
	site *Site
	at   time.Time
}

const siteCacheTTL = time.Second

// CreateSite adds a site; ErrConflict when the slug is taken. audit, when
// not nil, is written in the same transaction as action site.create.
func (s *Store) CreateSite(ctx context.Context, slug string, st Settings, audit *Audit) (*Site, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	now := s.nowMS()
	var id int64
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, s.q(`INSERT INTO sites (slug, settings, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (slug) DO NOTHING RETURNING id`), slug, string(b), now, now)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("site %q exists: %w", slug, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("create site: %w", err)
		}
		if audit == nil {
			return nil
		}
		a := audit.For("site.create", "site", id).OnSite(id)
		return s.audit(ctx, tx, &a)
	})
	if err != nil {
		return nil, err
	}
	s.sites.mu.Lock()
	s.sites.all = nil
	s.sites.gen++
	s.sites.mu.Unlock()
	return &Site{ID: id, Slug: slug, Settings: st, CreatedAt: msTime(now), UpdatedAt: msTime(now)}, nil
}

// Site returns the site with the given slug; ErrNotFound if there is none.
func (s *Store) Site(ctx context.Context, slug string) (*Site, error) {
	s.sites.mu.Lock()
	if e, ok := s.sites.items[slug]; ok && time.Since(e.at) < siteCacheTTL {
		s.sites.mu.Unlock()
		return e.site, nil
	}
	s.sites.mu.Unlock()
	var r siteRow
	if err := s.db.GetContext(ctx, &r, s.q(`SELECT id, slug, settings, created_at, updated_at FROM sites WHERE slug = ?`), slug); err != nil {
		return nil, notFound("site "+slug, err)
	}
	site, err := r.site()
	if err != nil {
		return nil, err
	}
	s.sites.mu.Lock()
	if s.sites.items == nil {
		s.sites.items = map[string]siteCacheEntry{}
	}
	s.sites.items[slug] = siteCacheEntry{site: site, at: time.Now()}
	s.sites.mu.Unlock()
	return site, nil
}

// SiteByID returns a site by its id.
func (s *Store) SiteByID(ctx context.Context, id int64) (*Site, error) {
	var r siteRow
	if err := s.db.GetContext(ctx, &r, s.q(`SELECT id, slug, settings, created_at, updated_at FROM sites WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("site %d", id), err)
	}
	return r.site()
}

// Sites lists every site by slug.
func (s *Store) Sites(ctx context.Context) ([]*Site, error) {
	// Every moderator page lists the sites; they change rarely. The same
	// one-second bound as Site.
	s.sites.mu.Lock()
	if s.sites.all != nil && time.Since(s.sites.allAt) < siteCacheTTL {
		all := s.sites.all
		s.sites.mu.Unlock()
		return all, nil
	}
	gen := s.sites.gen
	s.sites.mu.Unlock()
	var rows []siteRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, slug, settings, created_at, updated_at FROM sites ORDER BY slug`); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	out := make([]*Site, 0, len(rows))
	for _, r := range rows {
		site, err := r.site()
		if err != nil {
			return nil, err
		}
		out = append(out, site)
	}
	s.sites.mu.Lock()
	if s.sites.gen == gen {
		s.sites.all, s.sites.allAt = out, time.Now()
	}
	s.sites.mu.Unlock()
	return out, nil
}

// UpdateSiteSettings replaces a site's settings. audit, when not nil, is
// written in the same transaction as action site.update, with the states
// the caller gave it.
func (s *Store) UpdateSiteSettings(ctx context.Context, id int64, st Settings, audit *Audit) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE sites SET settings = ?, updated_at = ? WHERE id = ?`), string(b), s.nowMS(), id)
		if err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("site %d: %w", id, ErrNotFound)
		}
		if audit == nil {
			return nil
		}
		a := audit.For("site.update", "site", id).OnSite(id)
		return s.audit(ctx, tx, &a)
	})
	if err != nil {
		return err
	}
	s.sites.mu.Lock()
	s.sites.items, s.sites.all = nil, nil
	s.sites.gen++
	s.sites.mu.Unlock()
	return nil
}
