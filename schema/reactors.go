package schema

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// reactors answers "has this reader ever reacted?" from memory. The widget
// asks for the reader's own reaction on every page view, and most readers
// never react: a reader the filter has never seen has no reaction, without
// a query and without a cache entry. A reader it may have seen is looked up
// (and cached) per reader. It is a Bloom filter of every reader id in the
// reactions table, built by one scan and kept by every reaction this
// process commits or hears of; false positives only cost the lookup.
type reactors struct {
	seed maphash.Seed
	mu   sync.Mutex // serialises rebuilds and the switch to a new filter
	cur  atomic.Pointer[bloom]
	// next, while a rebuild scans, receives the readers seen meanwhile.
	next  atomic.Pointer[bloom]
	ready atomic.Bool
	// epoch moves whenever other processes' changes may have been missed;
	// a rebuild that began in another epoch is not trusted.
	epoch atomic.Uint64
	// rebuild asks the rebuild loop for a new scan; asks coalesce.
	rebuild chan struct{}
}

// stale asks for a rebuild: after a bulk change, or once the watch is up.
func (r *reactors) stale() {
	r.ready.Store(false)
	select {
	case r.rebuild <- struct{}{}:
	default: // one is pending already
	}
}

// deaf stops trusting the filter until a rebuild after the watch is back.
func (r *reactors) deaf() {
	r.epoch.Add(1)
	r.ready.Store(false)
}

// rebuildLoop runs the scans the serving store asks for, one at a time.
func (s *Store) rebuildLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.state.reactors.rebuild:
			s.rebuildReactors(ctx)
		}
	}
}

const (
	bloomBits   = 1 << 24 // 2 MB: 0.25 % false positives at a million readers
	bloomHashes = 4
)

type bloom struct{ words [bloomBits / 64]atomic.Uint64 }

func (r *reactors) positions(reader string) [bloomHashes]uint32 {
	h := maphash.String(r.seed, reader)
	lo, hi := uint32(h), uint32(h>>32)
	var out [bloomHashes]uint32
	for i := range out {
		out[i] = (lo + uint32(i)*hi) % bloomBits
	}
	return out
}

func (b *bloom) add(pos [bloomHashes]uint32) {
	for _, p := range pos {
		w := &b.words[p/64]
		bit := uint64(1) << (p % 64)
		for {
			old := w.Load()
			if old&bit != 0 || w.CompareAndSwap(old, old|bit) {
				break
			}
		}
	}
}

func (b *bloom) has(pos [bloomHashes]uint32) bool {
	for _, p := range pos {
		if b.words[p/64].Load()&(uint64(1)<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// mayHave tells whether reader may have reactions; true whenever the
// filter is not built.
func (r *reactors) mayHave(reader string) bool {
	if !r.ready.Load() {
		return true
	}
	return r.cur.Load().has(r.positions(reader))
}

// add records a reader who reacted, committed here or elsewhere.
func (r *reactors) add(reader string) {
	pos := r.positions(reader)
	if b := r.cur.Load(); b != nil {
		b.add(pos)
	}
	if b := r.next.Load(); b != nil {
		b.add(pos)
	}
}

// rebuild scans the readers who reacted into a new filter, which answers
// once the scan is complete; until then lookups go to the database.
func (s *Store) rebuildReactors(ctx context.Context) {
	r := &s.state.reactors
	r.mu.Lock()
	defer r.mu.Unlock()
	epoch := r.epoch.Load()
	r.ready.Store(false)
	nb := new(bloom)
	r.next.Store(nb)
	defer r.next.Store(nil)
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT reader_id FROM reactions`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var reader string
		if rows.Scan(&reader) != nil {
			return
		}
		nb.add(r.positions(reader))
	}
	if rows.Err() != nil {
		return
	}
	r.cur.Store(nb)
	// Trusted only if nothing may have been missed since the scan began.
	if r.epoch.Load() == epoch && s.WatchStatus().Up {
		r.ready.Store(true)
	}
}
