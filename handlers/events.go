package handlers

import (
	"context"

	"github.com/parley/parley/schema"
)

// commentCreated is told about every new or re-assessed comment; held
// (pending) comments are announced to the site's webhooks with one-time
// approve and reject links. Spam is not announced.
func (s *Server) commentCreated(ctx context.Context, site *schema.Site, c *schema.Comment) {
	if c.Status == schema.StatusPending {
		s.notify.Held(ctx, site, c)
	}
}

// commentReported is told when a comment's reports reach the threshold.
func (s *Server) commentReported(ctx context.Context, site *schema.Site, c *schema.Comment) {
	s.notify.Reported(ctx, site, c)
}
