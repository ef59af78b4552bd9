package schema

import (
	"context"
	"fmt"
)

// LatestApprovedOnSite returns a site's newest approved comments across
// its articles, newest first, for the site-wide feed.
func (s *Store) LatestApprovedOnSite(ctx context.Context, siteID int64, limit int) ([]Comment, error) {
	rows, err := s.selectComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE site_id = ? AND status = 'approved' ORDER BY id DESC LIMIT ?`, siteID, limit)
	if err != nil {
		return nil, fmt.Errorf("read a site's latest comments: %w", err)
	}
	return rows, nil
}
