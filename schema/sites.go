package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	Origins   []string `json:"origins"`
	Reactions []string `json:"reactions"`
	// ReactionStyles are optional labels and icons of reactions, by name;
	// a reaction without one is drawn with the widget's own text and icon.
	ReactionStyles    map[string]ReactionStyle `json:"reaction_styles"`
	CommentsOpen      bool                     `json:"comments_open"`
	StrictArticles    bool                     `json:"strict_articles"`
	EditWindowSeconds int                      `json:"edit_window_seconds"`
	IPRetentionDays   int                      `json:"ip_retention_days"`
	Moderation        Moderation               `json:"moderation"`
	Webhooks          Webhooks                 `json:"webhooks"`
	// Language is the language of the email Parley sends for the site
	// (reply notifications, statements of reasons, notice receipts): en or
	// fr; others fall back to English. A reader's email follows the
	// widget's language when it said one.
	Language string `json:"language"`
	// ReplyDigestMinutes is the least time between two emails about
	// replies to one reader on one article; replies arriving meanwhile
	// wait and go together in the next one. 0 sends each at once.
	ReplyDigestMinutes int `json:"reply_digest_minutes"`
	// EUDSA turns on the duties of the EU Digital Services Act: a
	// statement of reasons to every author who left an email whose comment
	// is removed or hidden, and shadow bans only where such a statement
	// can be sent. On for new sites; sites that existed before 0019 have it
	// off until an administrator turns it on.
	EUDSA bool `json:"eu_dsa"`
	// TermsGrounds are the provisions of the publisher's terms a moderator
	// names as the ground of a decision; the first is used when a decision
	// names none (an automated one, or a one-time link).
	TermsGrounds []string `json:"terms_grounds"`
}

// ReactionStyle is how the widget draws a reaction: its label, and its icon
// (an emoji, or the name of one of the widget's built-in icons).
type ReactionStyle struct {
	Label string `json:"label,omitempty"`
	Icon  string `json:"icon,omitempty"`
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
	// RejectMinDecisions is how many reject decisions, and as many
	// approvals, the reject model must have learned before it holds;
	// RejectHold the probability from which it holds, 0 for never.
	RejectMinDecisions int     `json:"reject_min_decisions"`
	RejectHold         float64 `json:"reject_hold_threshold"`
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
		ReactionStyles:    map[string]ReactionStyle{},
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
			ClassifierHold:         0.90,
			RejectMinDecisions:     30,
			RejectHold:             0.95,
		},
		Webhooks:           Webhooks{URLs: []string{}},
		Language:           "en",
		ReplyDigestMinutes: 30,
		EUDSA:              true,
		TermsGrounds: []string{
			"Terms of use: no spam or advertising",
			"Terms of use: no insults, harassment or hate speech",
			"Terms of use: stay on the article's topic",
			"Terms of use: no personal data of others",
			"Illegal content under the law that applies to the site",
		},
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
		s.changed(tx, siteChanged(slug))
		if audit == nil {
			return nil
		}
		a := audit.For("site.create", "site", id).OnSite(id)
		return s.audit(ctx, tx, &a)
	})
	if err != nil {
		return nil, err
	}
	return &Site{ID: id, Slug: slug, Settings: st, CreatedAt: msTime(now), UpdatedAt: msTime(now)}, nil
}

// Site returns the site with the given slug; ErrNotFound if there is none.
// Every public request names its site, so sites are cached, unknown slugs
// too.
func (s *Store) Site(ctx context.Context, slug string) (*Site, error) {
	site, err := s.state.sites.Load(slug, func() (*Site, error) {
		var r siteRow
		err := s.db.GetContext(ctx, &r, s.q(`SELECT id, slug, settings, created_at, updated_at FROM sites WHERE slug = ?`), slug)
		if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrInvalidText) {
			return nil, nil // no such site, and none can be named so
		}
		if err != nil {
			return nil, err
		}
		return r.site()
	})
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", slug, err)
	}
	if site == nil {
		return nil, fmt.Errorf("site %s: %w", slug, ErrNotFound)
	}
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

// Sites lists every site by slug. Every moderator page lists them.
func (s *Store) Sites(ctx context.Context) ([]*Site, error) {
	return s.state.siteList.Load(struct{}{}, func() ([]*Site, error) {
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
		return out, nil
	})
}

// Origins is the union of every site's allowed origins, lower-cased, for
// routes that name no site.
type Origins struct {
	Any bool // some site allows every origin
	Set map[string]bool
}

// Allows tells whether some site allows a browser origin.
func (o Origins) Allows(origin string) bool { return o.Any || o.Set[strings.ToLower(origin)] }

// AllOrigins returns the union of every site's origins.
func (s *Store) AllOrigins(ctx context.Context) (Origins, error) {
	return s.state.origins.Load(struct{}{}, func() (Origins, error) {
		sites, err := s.Sites(ctx)
		if err != nil {
			return Origins{}, err
		}
		o := Origins{Set: map[string]bool{}}
		for _, site := range sites {
			for _, origin := range site.Settings.Origins {
				o.Any = o.Any || origin == "*"
				o.Set[strings.ToLower(origin)] = true
			}
		}
		return o, nil
	})
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
		var slug string
		if err := tx.GetContext(ctx, &slug, s.q(`SELECT slug FROM sites WHERE id = ?`), id); err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		s.changed(tx, siteChanged(slug))
		if audit == nil {
			return nil
		}
		a := audit.For("site.update", "site", id).OnSite(id)
		return s.audit(ctx, tx, &a)
	})
	return err
}
