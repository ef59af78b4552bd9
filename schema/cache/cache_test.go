package cache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int, string]("t", shards*2, nil) // two entries a shard
	for i := 0; i < 10_000; i++ {
		c.Set(i, "v")
	}
	st := c.Stats()
	if st.Entries > shards*2 || st.Cost > shards*2 {
		t.Fatalf("cache holds %d entries costing %d, budget %d", st.Entries, st.Cost, shards*2)
	}
	if st.Evictions != 10_000-st.Entries {
		t.Fatalf("evictions %d, want %d", st.Evictions, 10_000-st.Entries)
	}
	if _, ok := c.Get(9_999); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

func TestCostCountsKeysAndValues(t *testing.T) {
	c := New[string, []byte]("t", 16*1000, func(k string, v []byte) int64 { return int64(len(k) + len(v)) })
	for i := 0; i < 1000; i++ {
		c.Set(fmt.Sprintf("key-%04d-%s", i, string(make([]byte, 100))), make([]byte, 100))
	}
	if st := c.Stats(); st.Cost > 16*1000 {
		t.Fatalf("cost %d over budget", st.Cost)
	}
}

// A fill that began before a write must not store what it read.
func TestFillBeforeChangeIsRefused(t *testing.T) {
	for name, change := range map[string]func(c *Cache[int, int]){
		"set":        func(c *Cache[int, int]) { c.Set(1, 2) },
		"update":     func(c *Cache[int, int]) { c.Update(1, func(v int) int { return v + 1 }) },
		"invalidate": func(c *Cache[int, int]) { c.Invalidate(1) },
		"clear":      func(c *Cache[int, int]) { c.Clear() },
	} {
		t.Run(name, func(t *testing.T) {
			c := New[int, int]("t", 100, nil)
			f := c.Begin(1)
			change(c)
			if c.Put(f, 1, 1) {
				t.Fatal("a fill begun before the change was stored")
			}
			if v, ok := c.Get(1); ok && v == 1 {
				t.Fatal("the stale value is cached")
			}
			f = c.Begin(1)
			if !c.Put(f, 1, 3) {
				t.Fatal("a fill begun after the change was refused")
			}
		})
	}
}

// A fill of a key not known when it began (BeginAny) stores only if no
// key changed meanwhile: the key it finds may be the one that changed.
func TestFillOfAnyKeyRefusedAfterAnyChange(t *testing.T) {
	for name, change := range map[string]func(c *Cache[int, int]){
		"set":        func(c *Cache[int, int]) { c.Set(7, 2) },
		"update":     func(c *Cache[int, int]) { c.Update(7, func(v int) int { return v + 1 }) },
		"update if":  func(c *Cache[int, int]) { c.UpdateIf(c.Begin(7), 7, func(v int) int { return v + 1 }) },
		"invalidate": func(c *Cache[int, int]) { c.Invalidate(7) },
		"clear":      func(c *Cache[int, int]) { c.Clear() },
	} {
		t.Run(name, func(t *testing.T) {
			c := New[int, int]("t", 100, nil)
			f := c.BeginAny()
			change(c)
			for _, k := range []int{7, 8} {
				if c.Put(f, k, 1) {
					t.Fatalf("key %d: a fill begun before a change was stored", k)
				}
			}
			f = c.BeginAny()
			c.Get(7)
			c.Put(c.Begin(9), 9, 9) // a fill is no change
			if !c.Put(f, 8, 3) {
				t.Fatal("a fill with no change since it began was refused")
			}
			if v, ok := c.Get(8); !ok || v != 3 {
				t.Fatalf("got %d %v, want 3", v, ok)
			}
		})
	}
}

func TestTTLIsASafetyNet(t *testing.T) {
	c := New[int, int]("t", 100, nil)
	c.Set(1, 1)
	c.SetTTL(time.Nanosecond)
	time.Sleep(time.Millisecond)
	if _, ok := c.Get(1); ok {
		t.Fatal("an entry older than the TTL was served")
	}
	c.SetTTL(0)
	c.Set(1, 1)
	if _, ok := c.Get(1); !ok {
		t.Fatal("without a TTL the entry should stay")
	}
}

// TestRaceFillsAndWrites runs readers that fill from a "database" while
// writers change it and update the cache at commit, then checks that
// every cached value equals the database's.
func TestRaceFillsAndWrites(t *testing.T) {
	const keys = 64
	var db [keys]atomic.Int64
	var locks [keys]sync.Mutex // a writer's transaction: the change and its commit
	c := New[int, int64]("t", 1_000, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := (i*7 + w) % keys
				// The cache changes after the commit, in commit order, as
				// the store's single writer goroutine does.
				locks[k].Lock()
				n := db[k].Add(1)
				if i%2 == 0 {
					c.Update(k, func(int64) int64 { return n })
				} else {
					c.Invalidate(k)
				}
				locks[k].Unlock()
			}
		})
	}
	for r := 0; r < 8; r++ {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := (i*13 + r) % keys
				c.Load(k, func() (int64, error) {
					v := db[k].Load()
					if i%5 == 0 {
						time.Sleep(10 * time.Microsecond) // a slow query
					}
					return v, nil
				})
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	for k := 0; k < keys; k++ {
		if v, ok := c.Get(k); ok && v != db[k].Load() {
			t.Errorf("key %d: cached %d, database %d", k, v, db[k].Load())
		}
	}
}

func TestUpdateKeepsAge(t *testing.T) {
	c := New[int, int]("t", 100, nil)
	c.Set(1, 1)
	c.SetTTL(50 * time.Millisecond)
	for i := 0; i < 10; i++ {
		c.Update(1, func(v int) int { return v + 1 })
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := c.Get(1); ok {
		t.Fatal("updates kept an entry alive past the TTL")
	}
}

func TestEntryOverBudgetIsNotKept(t *testing.T) {
	c := New[int, int]("t", 160, func(_ int, v int) int64 { return int64(v) })
	for i := 0; i < 1000; i++ {
		c.Set(i, 1)
	}
	c.Set(5000, 1000)
	if st := c.Stats(); st.Cost > 160 {
		t.Fatalf("cost %d over the budget of 160", st.Cost)
	}
	if _, ok := c.Get(5000); ok {
		t.Fatal("an entry larger than a shard's budget was kept")
	}
}

func TestUpdateIfDropsWhenChangedMeanwhile(t *testing.T) {
	c := New[int, int]("t", 100, nil)
	c.Set(1, 1)
	f := c.Begin(1)
	c.Invalidate(1) // another process's newer commit
	c.Set(1, 5)     // and a reader's fill of it
	c.UpdateIf(f, 1, func(int) int { return 2 })
	if v, ok := c.Get(1); ok && v == 2 {
		t.Fatal("an older commit's value replaced a newer one")
	}
	f = c.Begin(1)
	c.Set(1, 5)
	c.UpdateIf(f, 1, func(int) int { return 6 }) // Set bumped the generation
	f = c.Begin(1)
	c.UpdateIf(f, 1, func(int) int { return 7 })
	if v, ok := c.Get(1); ok && v != 7 {
		t.Fatalf("an undisturbed update: %d", v)
	}
}
