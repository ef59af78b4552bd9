package handlers

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request's context with a deadline behaves as context.WithDeadline's:
// it reports the deadline, ends at it (Done, Err, and contexts derived
// from it), ends with its parent, and answers the request id and the
// parent's values.
func TestRequestCtxDeadline(t *testing.T) {
	type key struct{}
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	defer cancelParent()

	c := &requestCtx{Context: parent, id: "req-1", deadline: time.Now().Add(50 * time.Millisecond)}
	defer c.release()
	if d, ok := c.Deadline(); !ok || !d.Equal(c.deadline) {
		t.Fatalf("Deadline() = %v, %v", d, ok)
	}
	if c.timed.Load() != nil {
		t.Fatal("the timer was made before anything waited on the context")
	}
	if requestID(c) != "req-1" || c.Value(key{}) != "v" {
		t.Fatalf("values: %v %v", requestID(c), c.Value(key{}))
	}
	child, cancelChild := context.WithCancel(context.WithValue(c, key{}, "w"))
	defer cancelChild()
	if requestID(child) != "req-1" || child.Value(key{}) != "w" {
		t.Fatalf("child values: %v %v", requestID(child), child.Value(key{}))
	}
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from the request's did not end at its deadline")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("errors at the deadline: %v, %v", c.Err(), child.Err())
	}
	// Values still reach the parent once the deadline's context exists.
	if requestID(c) != "req-1" || c.Value(key{}) != "v" {
		t.Fatalf("values after the deadline: %v %v", requestID(c), c.Value(key{}))
	}

	// It ends with its parent (the client went away) before the deadline.
	p2, cancel2 := context.WithCancel(context.Background())
	c2 := &requestCtx{Context: p2, id: "req-2", deadline: time.Now().Add(time.Hour)}
	defer c2.release()
	child2, cancelChild2 := context.WithTimeout(c2, 2*time.Hour)
	defer cancelChild2()
	if d, _ := child2.Deadline(); !d.Equal(c2.deadline) {
		t.Fatalf("a derived context's deadline %v, want the request's %v", d, c2.deadline)
	}
	cancel2()
	select {
	case <-child2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from the request's did not end with the connection's")
	}
	if !errors.Is(c2.Err(), context.Canceled) {
		t.Fatalf("error after the parent ended: %v", c2.Err())
	}

	// Without a deadline of its own it is its parent's, with the request id.
	p3, cancel3 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel3()
	c3 := &requestCtx{Context: p3, id: "req-3"}
	if d, ok := c3.Deadline(); !ok || d != must(p3.Deadline()) || c3.Done() != p3.Done() || requestID(c3) != "req-3" {
		t.Fatalf("without a deadline: %v %v", d, ok)
	}
}

func must(t time.Time, _ bool) time.Time { return t }
