package schema_test

import (
	"errors"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// Text PostgreSQL cannot hold names nothing, on both engines, wherever it
// is looked up; it never fails the statement.
func TestInvalidTextNamesNothing(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		for _, v := range []string{"\x00", "news\x00", "\xff\xfe", "é\xc0"} {
			if _, err := s.Site(t.Context(), v); !errors.Is(err, schema.ErrNotFound) {
				t.Errorf("site %q: %v", v, err)
			}
			if _, err := s.ModeratorByEmail(t.Context(), v); !errors.Is(err, schema.ErrNotFound) {
				t.Errorf("moderator %q: %v", v, err)
			}
			if _, err := s.CaptchaDigits(t.Context(), v); !errors.Is(err, schema.ErrNotFound) {
				t.Errorf("captcha %q: %v", v, err)
			}
		}
	})
}
