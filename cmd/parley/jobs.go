package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley/parley/cmd/parley/internal/jobs"
	"github.com/parley/parley/handlers"
	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/moderation/webhooks"
	"github.com/parley/parley/schema"
)

// serveJobs is the background work of a serving instance, run by
// jobs.Run with the server's context: a new worker or periodic job is one
// more entry here. Every instance runs all of them; what they take from
// the database they claim there, so instances never do the same work
// twice.
func serveJobs(store *schema.Store, srv *handlers.Server, hooks *webhooks.Worker, mailer *mail.Mailer, insightsRetention time.Duration, log *slog.Logger) []jobs.Job {
	list := []jobs.Job{
		{Name: "webhook deliveries", Run: func(ctx context.Context) error { hooks.Run(ctx); return nil }},
		{Name: "idle rate-limit buckets", Every: time.Minute, Run: func(context.Context) error {
			srv.ForgetIdleClients()
			return nil
		}},
		{Name: "expired captchas", Every: time.Minute, Run: func(ctx context.Context) error {
			n, err := store.DeleteExpiredCaptchas(ctx)
			if n > 0 {
				log.Debug("deleted expired captchas", "count", n)
			}
			return err
		}},
		{Name: "expired sessions, links and deliveries", Every: time.Minute, Run: func(ctx context.Context) error {
			n, err := store.DeleteExpired(ctx)
			if n > 0 {
				log.Debug("deleted expired sessions, links and deliveries", "count", n)
			}
			return err
		}},
		// At start too: a server restarted more often than hourly would
		// otherwise never clear them.
		{Name: "IP hash retention", Every: time.Hour, AtStart: true, Run: func(ctx context.Context) error {
			n, err := store.ClearExpiredIPHashes(ctx)
			if n > 0 {
				log.Info("cleared IP hashes past their retention", "count", n)
			}
			return err
		}},
	}
	list = append(list,
		jobs.Job{Name: "queue sizes for the Insights", Every: time.Minute, Run: store.SampleQueues},
		// Retention first, so that a month is never folded with days
		// about to go; then the months that have ended are summed once.
		jobs.Job{Name: "Insights retention and months", Every: time.Hour, AtStart: true, Run: func(ctx context.Context) error {
			n, err := store.DeleteOldInsights(ctx, insightsRetention)
			if n > 0 {
				log.Info("deleted insights past their retention", "rows", n)
			}
			if err != nil {
				return err
			}
			m, err := store.FoldInsightMonths(ctx, insightsRetention)
			if m > 0 {
				log.Info("summed the Insights of ended months", "months", m)
			}
			return err
		}})
	if mailer != nil {
		// Sends the mail outbox, builds reply and pending digests, prunes.
		list = append(list, jobs.Job{Name: "mail", Run: func(ctx context.Context) error { mailer.Run(ctx); return nil }})
	}
	return list
}
