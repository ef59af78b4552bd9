package schema

import (
	"context"
	"fmt"
	"time"
)

// Author identifies who wrote a comment, as far as Parley knows: any of
// the three may be empty.
type Author struct {
	EmailHash string
	IPHash    string
	ReaderID  string
}

// AuthorApproved counts the author's approved comments on a site, by email
// or reader: what first-time moderation asks.
func (s *Store) AuthorApproved(ctx context.Context, siteID int64, a Author) (int, error) {
	var n int
	if a.EmailHash == "" && a.ReaderID == "" {
		return 0, nil
	}
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM (
		SELECT id FROM comments WHERE site_id = ? AND email_hash = ? AND email_hash <> '' AND status = 'approved'
		UNION
		SELECT id FROM comments WHERE site_id = ? AND reader_id = ? AND reader_id <> '' AND status = 'approved'
	) AS mine`), siteID, a.EmailHash, siteID, a.ReaderID)
	if err != nil {
		return 0, fmt.Errorf("count approved: %w", err)
	}
	return n, nil
}

// SameBodySince tells whether a comment with the same normalized body was
// posted on the site since the given time.
func (s *Store) SameBodySince(ctx context.Context, siteID int64, bodyKey string, since time.Time) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE site_id = ? AND body_key = ? AND created_at >= ? LIMIT 1) AS x`),
		siteID, bodyKey, since.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("find repeated text: %w", err)
	}
	return n > 0, nil
}

// RecentByIP counts comments posted from an IP hash since the given time,
// up to max: the posting-rate rule only asks whether a limit was reached,
// and a flood must not make every new comment count the whole flood.
func (s *Store) RecentByIP(ctx context.Context, ipHash string, since time.Time, max int) (int, error) {
	var n int
	if ipHash == "" {
		return 0, nil
	}
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE ip_hash = ? AND created_at >= ? LIMIT ?) AS recent`),
		ipHash, since.UnixMilli(), max)
	if err != nil {
		return 0, fmt.Errorf("count recent comments: %w", err)
	}
	return n, nil
}
