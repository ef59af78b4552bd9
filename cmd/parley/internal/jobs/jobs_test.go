package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a log destination the jobs' goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Periodic jobs run at their interval (and at once if asked), workers run
// once until the context ends, failures are logged by name, and Run
// returns only after every job stopped.
func TestRun(t *testing.T) {
	var ticks, started, failures atomic.Int64
	workerStopped := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var logged syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, slog.New(slog.NewTextHandler(&logged, nil)), []Job{
			{Name: "tick", Every: 10 * time.Millisecond, Run: func(context.Context) error { ticks.Add(1); return nil }},
			{Name: "at-start", Every: time.Hour, AtStart: true, Run: func(context.Context) error { started.Add(1); return nil }},
			{Name: "failing", Every: 10 * time.Millisecond, Run: func(context.Context) error { failures.Add(1); return errors.New("disk on fire") }},
			{Name: "worker", Run: func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(20 * time.Millisecond) // finishing its attempts
				close(workerStopped)
				return nil
			}},
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for ticks.Load() < 3 || failures.Load() < 2 || started.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("ticks %d, failures %d, at start %d", ticks.Load(), failures.Load(), started.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	select {
	case <-workerStopped:
	default:
		t.Fatal("Run returned before the worker stopped")
	}
	if n := started.Load(); n != 1 {
		t.Fatalf("the hourly job ran %d times in a test of a second", n)
	}
	if log := logged.String(); !strings.Contains(log, "job=failing") || !strings.Contains(log, "disk on fire") || strings.Contains(log, "job=tick") {
		t.Fatalf("log:\n%s", log)
	}
	after := ticks.Load()
	time.Sleep(30 * time.Millisecond)
	if ticks.Load() != after {
		t.Fatal("a job ran after Run returned")
	}
}
