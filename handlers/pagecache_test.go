package handlers

import (
	"fmt"
	"runtime"
	"testing"
)

// Unique cursors cannot grow the page cache past its budget: it counts what
// an entry really costs, key and bookkeeping included, not only its body.
func TestPageCacheCountsEntryCost(t *testing.T) {
	p := newPageCache()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	body := []byte(`{"comments":[],"count":0}`)
	for i := 0; i < 400_000; i++ {
		p.put(pageKey{article: 1, sort: "oldest", cursor: fmt.Sprintf("cursor-%040d", i), limit: 50}, 1, body)
	}
	st := p.c.Stats()
	if st.Cost > maxPageCacheBytes {
		t.Fatalf("page cache costs %d, budget %d", st.Cost, maxPageCacheBytes)
	}
	if st.Evictions == 0 {
		t.Fatal("400,000 unique cursors evicted nothing")
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(p)
	// The real memory stays within the budget's order of magnitude.
	if grown > maxPageCacheBytes*3/2 {
		t.Fatalf("heap grew %d MB for a %d MB budget", grown>>20, maxPageCacheBytes>>20)
	}
	t.Logf("%d entries cost %d; heap grew %d MB", st.Entries, st.Cost, grown>>20)
}
