package schema_test

import (
	"encoding/base64"
	"testing"

	"github.com/parley/parley/schema"
)

// FuzzParseCursor feeds arbitrary cursors, as a client may send them: a
// cursor either parses into one that encodes back to itself, or is refused.
// Longer runs: go test ./schema -run '^$' -fuzz '^FuzzParseCursor$' -fuzztime 5m
func FuzzParseCursor(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{"", "x", "=", enc([]byte("o.0.12")), enc([]byte("t.-5.9")), enc([]byte("n.0.-1")),
		enc([]byte("o.0.99999999999999999999")), enc([]byte("o.0.1.2")), enc([]byte("..")), enc([]byte("o.+1.1")),
		enc([]byte("\x00.0.0")), "%00", "dC4wLjE=", enc(make([]byte, 49))} {
		f.Add(s, uint8(0))
	}
	sorts := []string{schema.SortOldest, schema.SortNewest, schema.SortTop}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		sort := sorts[int(which)%len(sorts)]
		c, err := schema.ParseCursor(s, sort)
		if err != nil {
			if c != (schema.Cursor{}) {
				t.Fatalf("refused %q but returned %+v", s, c)
			}
			return
		}
		if c.Sort != sort || c.ID < 0 {
			t.Fatalf("ParseCursor(%q, %q) = %+v", s, sort, c)
		}
		again, err := schema.ParseCursor(c.String(), sort)
		if err != nil || again != c {
			t.Fatalf("cursor %+v from %q does not survive encoding: %+v %v", c, s, again, err)
		}
	})
}
