package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Author identifies who wrote a comment, as far as Parley knows: any of
// the three may be empty. IPHash is the keyed hash of the address's group
// (an IPv4 address, or the /64 network of an IPv6 one).
type Author struct {
	EmailHash string
	IPHash    string
	ReaderID  string
}

// FactsQuery says what a new or edited comment is, for PostFacts.
type FactsQuery struct {
	SiteID int64
	// ArticleKey, when set, asks for the article (nil when never used).
	ArticleKey string
	// ParentID, when set, asks for the parent comment.
	ParentID int64
	Who      Author
	BodyKey  string
	// Exclude is the comment being edited: its own earlier text neither
	// repeats the new one nor counts towards the posting rate.
	Exclude int64
	// SameSince and RecentSince start the windows of the repeated-text
	// and posting-rate rules; counting recent comments stops at RecentMax.
	SameSince, RecentSince time.Time
	RecentMax              int
	// Features are the classifier's features of the body.
	Features []string
}

// Facts is what the moderation policy needs to know about a comment
// besides its text, with the article and parent the handler checks.
type Facts struct {
	Article *Article // nil: never used
	Parent  *Comment // nil: none asked, or no such comment
	// AuthorApproved counts the author's approved comments on the site,
	// by email or reader.
	AuthorApproved int
	// SameBodyRecent: a comment with the same body key was posted on the
	// site since SameSince.
	SameBodyRecent bool
	// RecentByIP counts comments from the author's address group since
	// RecentSince, up to RecentMax.
	RecentByIP int
	// Ban is the author's active ban, nil when none.
	Ban *Ban
	// Tokens and Totals are the site classifier's counts.
	Tokens map[string]TokenCount
	Totals TokenCount
}

// sqlPostFacts counts what the policy asks of a new comment's author.
//
// An empty email, reader or address must match nothing. The guards test the
// parameter itself ("? <> ”"), not the column: PostgreSQL runs prepared
// statements with generic plans, where only a parameter-only test becomes a
// one-time filter that skips the scan; "email_hash <> ”" would instead walk
// every comment stored without an email.
//
// The article rides along (a LEFT JOIN on its key, "" for none): one round
// trip for all a post reads before the policy decides.
const sqlPostFacts = `SELECT f.*, a.id, a.site_id, a.key, a.title, a.url, a.comments_open, a.approved_count, a.created_at FROM (SELECT
	(SELECT COUNT(*) FROM (
		SELECT id FROM comments WHERE ? <> '' AND site_id = ? AND email_hash = ? AND status = 'approved'
		UNION
		SELECT id FROM comments WHERE ? <> '' AND site_id = ? AND reader_id = ? AND status = 'approved') AS mine) AS approved,
	(SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE site_id = ? AND body_key = ? AND created_at >= ? AND id <> ? LIMIT 1) AS same) AS same_body,
	(SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE ? <> '' AND ip_hash = ? AND created_at >= ? AND id <> ? LIMIT ?) AS recent) AS recent,
	COALESCE((SELECT spam FROM classifier_totals WHERE site_id = ?), 0) AS spam_total,
	COALESCE((SELECT ham FROM classifier_totals WHERE site_id = ?), 0) AS ham_total,
	COALESCE((SELECT rejected FROM classifier_totals WHERE site_id = ?), 0) AS rejected_total) AS f
	LEFT JOIN articles a ON a.site_id = ? AND a.key = ?`

// PostFacts reads in one call everything the policy and the comment
// handler need: the counts in one statement, the bans from memory, the
// classifier's counts of the body's features, the article and parent.
func (s *Store) PostFacts(ctx context.Context, q FactsQuery) (*Facts, error) {
	f := &Facts{}
	var row struct {
		Approved int   `db:"approved"`
		Same     int   `db:"same_body"`
		Recent   int   `db:"recent"`
		Spam     int64 `db:"spam_total"`
		Ham      int64 `db:"ham_total"`
		Rejected int64 `db:"rejected_total"`
	}
	// A flood must not make every new comment count the whole flood: the
	// posting-rate rule only asks whether the limit was reached.
	// Prepared once: parsing this statement was a third of a post's work.
	var art struct {
		ID, SiteID, ApprovedCount, CreatedMS sql.NullInt64
		Key, Title, URL                      sql.NullString
		CommentsOpen                         sql.NullBool
	}
	st, err := s.readStmt(ctx, sqlPostFacts)
	if err == nil {
		err = st.QueryRowContext(ctx,
			q.Who.EmailHash, q.SiteID, q.Who.EmailHash, q.Who.ReaderID, q.SiteID, q.Who.ReaderID,
			q.SiteID, q.BodyKey, q.SameSince.UnixMilli(), q.Exclude,
			q.Who.IPHash, q.Who.IPHash, q.RecentSince.UnixMilli(), q.Exclude, q.RecentMax,
			q.SiteID, q.SiteID, q.SiteID, q.SiteID, q.ArticleKey).Scan(&row.Approved, &row.Same, &row.Recent, &row.Spam, &row.Ham, &row.Rejected,
			&art.ID, &art.SiteID, &art.Key, &art.Title, &art.URL, &art.CommentsOpen, &art.ApprovedCount, &art.CreatedMS)
	}
	if err != nil {
		return nil, fmt.Errorf("read author facts: %w", err)
	}
	if q.ArticleKey != "" && art.ID.Valid {
		f.Article = &Article{ID: art.ID.Int64, SiteID: art.SiteID.Int64, Key: art.Key.String, Title: art.Title.String, URL: art.URL.String,
			CommentsOpen: art.CommentsOpen.Bool, ApprovedCount: art.ApprovedCount.Int64, CreatedMS: art.CreatedMS.Int64,
			CreatedAt: msTime(art.CreatedMS.Int64)}
	}
	f.AuthorApproved, f.SameBodyRecent, f.RecentByIP = row.Approved, row.Same > 0, row.Recent
	f.Totals = TokenCount{Spam: row.Spam, Ham: row.Ham, Rejected: row.Rejected}
	if f.Ban, err = s.ActiveBan(ctx, q.SiteID, q.Who); err != nil {
		return nil, err
	}
	f.Tokens = map[string]TokenCount{}
	if f.Totals != (TokenCount{}) {
		if f.Tokens, err = s.tokenCounts(ctx, q.SiteID, q.Features); err != nil {
			return nil, err
		}
	}
	if q.ParentID > 0 {
		f.Parent, err = s.Comment(ctx, q.ParentID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return f, nil
}
