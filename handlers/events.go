package handlers

import (
	"context"

	"github.com/parley/parley/schema"
)

// commentCreated is told about every new or re-assessed comment; held
// comments are announced to the site's webhooks.
func (s *Server) commentCreated(ctx context.Context, site *schema.Site, c *schema.Comment) {}

// commentReported is told when a comment's reports reach the threshold.
func (s *Server) commentReported(ctx context.Context, site *schema.Site, c *schema.Comment) {}
