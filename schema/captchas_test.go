package schema_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// The captcha.Store adapter: peeking keeps a captcha, clearing uses it up.
func TestCaptchaStoreAdapter(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		cs := schema.CaptchaStore{S: s}
		digits := []byte{4, 2, 0, 9, 1, 7}
		cs.Set("adapter-id", digits)
		if got := cs.Get("adapter-id", false); !bytes.Equal(got, digits) {
			t.Fatalf("peek: %v", got)
		}
		if got := cs.Get("adapter-id", true); !bytes.Equal(got, digits) {
			t.Fatalf("use: %v", got)
		}
		if got := cs.Get("adapter-id", true); got != nil {
			t.Fatalf("a used captcha came back: %v", got)
		}
	})
}

// Issuing a captcha is one more write of the group-commit writer, not a
// transaction of its own.
func TestCreateCaptchaThroughWriter(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		before := s.WriterStats().Writes
		if _, err := s.CreateCaptcha(t.Context(), "writer-captcha-id", []byte{1, 2, 3, 4, 5, 6}); err != nil {
			t.Fatal(err)
		}
		if after := s.WriterStats().Writes; after != before+1 {
			t.Fatalf("writer carried %d writes for one captcha", after-before)
		}
		if d, err := s.CaptchaDigits(t.Context(), "writer-captcha-id"); err != nil || !bytes.Equal(d, []byte{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("stored digits %v %v", d, err)
		}
	})
}

// Captchas issued and claimed many at a time, so that batches hold many
// of each and the same captcha more than once: every one issued is
// stored, and each is claimed by exactly one caller, with its digits.
func TestCaptchasClaimedOnceInBatches(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		const captchas, claimants = 60, 6
		ctx := t.Context()
		id := func(i int) string { return fmt.Sprintf("batch-captcha-%02d", i) }
		digits := func(i int) []byte { return []byte{byte(i / 10), byte(i % 10), 1, 2, 3, 4} }
		var wg sync.WaitGroup
		for i := range captchas {
			wg.Go(func() {
				if _, err := s.CreateCaptcha(ctx, id(i), digits(i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		before := s.WriterStats()
		var won [captchas]atomic.Int32
		start := make(chan struct{})
		for i := range captchas {
			for range claimants {
				wg.Go(func() {
					<-start
					got, err := s.ConsumeCaptcha(ctx, id(i))
					switch {
					case err == nil && bytes.Equal(got, digits(i)):
						won[i].Add(1)
					case err == nil:
						t.Errorf("%s: claimed with digits %v", id(i), got)
					case !errors.Is(err, schema.ErrCaptchaUnknown):
						t.Errorf("%s: %v", id(i), err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		for i := range captchas {
			if n := won[i].Load(); n != 1 {
				t.Errorf("%s claimed %d times", id(i), n)
			}
		}
		after := s.WriterStats()
		if batches, writes := after.Batches-before.Batches, after.Writes-before.Writes; batches >= writes {
			t.Fatalf("%d claims in %d batches: none shared a batch, the test proves nothing", writes, batches)
		}
	})
}

// A statement that fails at the end of a batch (on PostgreSQL, in the
// statements sent together) fails only its own op: a captcha issued twice
// under one id is refused, and the others issued with it are stored.
func TestFailedCaptchaFailsOnlyItself(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := t.Context()
		if _, err := s.CreateCaptcha(ctx, "taken", []byte{1}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var failed atomic.Int32
		start := make(chan struct{})
		for i := range 30 {
			wg.Go(func() {
				<-start
				id := fmt.Sprint("fresh-", i)
				if i == 15 {
					id = "taken"
				}
				if _, err := s.CreateCaptcha(ctx, id, []byte{2}); err != nil {
					if id != "taken" {
						t.Errorf("%s: %v", id, err)
					}
					failed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if failed.Load() != 1 {
			t.Fatalf("%d captchas refused, want the one issued twice", failed.Load())
		}
		for i := range 30 {
			if i == 15 {
				continue
			}
			if d, err := s.CaptchaDigits(ctx, fmt.Sprint("fresh-", i)); err != nil || !bytes.Equal(d, []byte{2}) {
				t.Fatalf("fresh-%d: %v %v", i, d, err)
			}
		}
		if d, _ := s.CaptchaDigits(ctx, "taken"); !bytes.Equal(d, []byte{1}) {
			t.Fatalf("the captcha issued first was overwritten: %v", d)
		}
	})
}
