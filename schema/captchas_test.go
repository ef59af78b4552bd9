package schema_test

import (
	"bytes"
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
