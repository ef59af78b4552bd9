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
