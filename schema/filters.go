package schema

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// The filters answer "may this exist in the database?" from memory, for
// the questions the widget asks on every page view whose answer is mostly
// no: has this reader ever reacted (most readers never do), was this
// article ever used (articles are created by their first comment or
// reaction, so most of a site's articles never are). A "no" costs no query
// and no cache entry; a "maybe" is looked up (and cached) as before. Each is
// a Bloom filter of every member in the database, built by one scan and
// kept by every change this process commits or hears of; false positives
// only cost the lookup.
type filter struct {
	seed maphash.Seed
	// scan lists every member's hash, for a rebuild.
	scan func(ctx context.Context, s *Store, add func(h uint64)) error
	mu   sync.Mutex // serialises rebuilds and the switch to a new filter
	cur  atomic.Pointer[bloom]
	// next, while a rebuild scans, receives the members seen meanwhile.
	next  atomic.Pointer[bloom]
	ready atomic.Bool
	// epoch moves whenever other processes' changes may have been missed;
	// a rebuild that began in another epoch is not trusted.
	epoch atomic.Uint64
	// rebuild asks the rebuild loop for a new scan; asks coalesce.
	rebuild chan struct{}
}

func newFilter(scan func(ctx context.Context, s *Store, add func(h uint64)) error) *filter {
	return &filter{seed: maphash.MakeSeed(), scan: scan, rebuild: make(chan struct{}, 1)}
}

// reactors holds the readers who reacted, by reader id.
func newReactors() *filter {
	f := newFilter(nil)
	f.scan = func(ctx context.Context, s *Store, add func(uint64)) error {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT reader_id FROM reactions`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var reader string
			if err := rows.Scan(&reader); err != nil {
				return err
			}
			add(f.readerHash(reader))
		}
		return rows.Err()
	}
	return f
}

func (f *filter) readerHash(reader string) uint64 { return maphash.String(f.seed, reader) }

// usedArticles holds the articles ever created, by site and key.
func newUsedArticles() *filter {
	f := newFilter(nil)
	f.scan = func(ctx context.Context, s *Store, add func(uint64)) error {
		rows, err := s.db.QueryContext(ctx, `SELECT site_id, key FROM articles`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k articleKey
			if err := rows.Scan(&k.site, &k.key); err != nil {
				return err
			}
			add(f.articleHash(k))
		}
		return rows.Err()
	}
	return f
}

func (f *filter) articleHash(k articleKey) uint64 {
	return maphash.String(f.seed, k.key) + uint64(k.site)*0x9e3779b97f4a7c15
}

// stale asks for a rebuild: after a bulk change, or once the watch is up.
func (f *filter) stale() {
	// A rebuild already scanning may have missed the change: it must not
	// be trusted when it ends.
	f.epoch.Add(1)
	f.ready.Store(false)
	select {
	case f.rebuild <- struct{}{}:
	default: // one is pending already
	}
}

// deaf stops trusting the filter until a rebuild after the watch is back.
func (f *filter) deaf() {
	f.epoch.Add(1)
	f.ready.Store(false)
}

// rebuildLoop runs the scans the serving store asks for, one at a time.
func (s *Store) rebuildLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.state.reactors.rebuild:
			s.rebuildFilter(ctx, s.state.reactors)
		case <-s.state.usedArticles.rebuild:
			s.rebuildFilter(ctx, s.state.usedArticles)
		}
	}
}

const (
	bloomBits   = 1 << 24 // 2 MB: 0.25 % false positives at a million members
	bloomHashes = 4
)

type bloom struct{ words [bloomBits / 64]atomic.Uint64 }

func positions(h uint64) [bloomHashes]uint32 {
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

// mayHave tells whether the member of hash h may exist; true whenever the
// filter is not built.
func (f *filter) mayHave(h uint64) bool {
	if !f.ready.Load() {
		return true
	}
	return f.cur.Load().has(positions(h))
}

// add records a member, committed here or elsewhere.
func (f *filter) add(h uint64) {
	pos := positions(h)
	if b := f.cur.Load(); b != nil {
		b.add(pos)
	}
	if b := f.next.Load(); b != nil {
		b.add(pos)
	}
}

// rebuildFilter scans the members into a new filter, which answers once
// the scan is complete; until then lookups go to the database.
func (s *Store) rebuildFilter(ctx context.Context, f *filter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	epoch := f.epoch.Load()
	f.ready.Store(false)
	nb := new(bloom)
	f.next.Store(nb)
	defer f.next.Store(nil)
	if f.scan(ctx, s, func(h uint64) { nb.add(positions(h)) }) != nil {
		return
	}
	f.cur.Store(nb)
	// Trusted only if nothing may have been missed since the scan began.
	if f.epoch.Load() == epoch && s.WatchStatus().Up {
		f.ready.Store(true)
	}
}
