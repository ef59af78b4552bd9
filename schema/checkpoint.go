package schema

import (
	"context"
	"time"
)

// startCheckpoints moves SQLite's WAL checkpoints off the commit path: a
// passive checkpoint every second copies committed pages into the database
// without blocking anyone, and a truncating one, when the WAL has grown,
// keeps the file from growing without bound.
func (s *Store) startCheckpoints() func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var busy, logFrames, done int
			err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
			// 16,384 frames of 4 KiB: 64 MiB of WAL, all copied back already.
			if err == nil && logFrames > 16384 && done == logFrames {
				s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		// A last full checkpoint leaves a small WAL behind on a clean stop.
		s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
}
