// Package jobs runs the serve command's background work: workers that run
// until the server stops (the webhook delivery worker) and periodic jobs
// (clean-ups, retention). The jobs themselves live in the package whose
// job they are; this package only starts, spaces and stops them.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is one piece of background work.
type Job struct {
	// Name identifies the job in the log.
	Name string
	// Every is the interval of a periodic job; zero makes the job a
	// worker: Run is called once and must return when ctx ends.
	Every time.Duration
	// AtStart runs a periodic job once when the runner starts, before the
	// first interval passes.
	AtStart bool
	// Run does the work. An error is logged (unless ctx ended) and the job
	// runs again at its next interval.
	Run func(ctx context.Context) error
}

// Run runs every job until ctx ends and returns once all of them stopped.
// A periodic job's runs never overlap: a run that outlasts the interval
// delays the next.
func Run(ctx context.Context, log *slog.Logger, jobs []Job) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { run(ctx, log, j) })
	}
	wg.Wait()
}

func run(ctx context.Context, log *slog.Logger, j Job) {
	once := func() {
		if err := j.Run(ctx); err != nil && ctx.Err() == nil {
			log.Warn("background job failed", "job", j.Name, "err", err)
		}
	}
	if j.Every <= 0 {
		once()
		return
	}
	if j.AtStart {
		once()
	}
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			once()
		}
	}
}
