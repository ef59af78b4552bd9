package schema

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
)

// The writer's one connection is the server's too: a bulk import's batch
// runs with SQLite's foreign-key checks off, and the connection has them on
// again afterwards, whether the batch committed or failed.
func TestWriteUncheckedRestoresForeignKeys(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checks := func(q sqlx.QueryerContext) int {
		t.Helper()
		var on int
		if err := sqlx.GetContext(ctx, q, &on, `PRAGMA foreign_keys`); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if got := checks(s.wdb); got != 1 {
		t.Fatalf("foreign_keys on the writer before: %d", got)
	}
	boom := errors.New("boom")
	for _, fail := range []bool{false, true} {
		err := s.writeUnchecked(ctx, func(tx *sqlx.Tx) error {
			if got := checks(tx); got != 0 {
				t.Errorf("foreign_keys inside the batch (fail %v): %d", fail, got)
			}
			if fail {
				return boom
			}
			return nil
		})
		if fail != errors.Is(err, boom) {
			t.Fatalf("fail %v: %v", fail, err)
		}
		if got := checks(s.wdb); got != 1 {
			t.Fatalf("foreign_keys on the writer after the batch (fail %v): %d", fail, got)
		}
	}
}

// The bulk load's set of written ids finds every id added, in batches of
// any size, and no other; its runs stay few.
func TestHashSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h hashSet
	in := map[uint64]bool{}
	for _, n := range []int{5000, 5000, 1, 5000, 0, 300, 5000, 5000, 5000, 17, 5000, 12000} {
		b := make([]uint64, n)
		for i := range b {
			b[i] = rng.Uint64()
			in[b[i]] = true
		}
		h.add(b)
	}
	for x := range in {
		if !h.has(x) {
			t.Fatalf("%d added, not found", x)
		}
	}
	for range 100000 {
		if x := rng.Uint64(); !in[x] && h.has(x) {
			t.Fatalf("%d found, never added", x)
		}
	}
	total := 0
	for i, r := range h.runs {
		total += len(r)
		if i > 0 && len(h.runs[i-1]) <= 2*len(r) {
			t.Errorf("run %d holds %d, the one before it %d", i, len(r), len(h.runs[i-1]))
		}
	}
	if total != len(in) || len(h.runs) > 6 {
		t.Fatalf("%d runs holding %d ids; want %d ids", len(h.runs), total, len(in))
	}
}
