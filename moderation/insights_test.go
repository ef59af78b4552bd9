package moderation

import (
	"math"
	"testing"
)

// The Wilson lower bounds below were worked out by hand from
// (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96.
func TestWilsonHandChecked(t *testing.T) {
	for _, c := range []struct {
		yes, n int64
		want   float64
	}{
		{3, 4, 0.3006},       // p .75: .75 + .4802 − .6409, over 1.9604
		{3000, 4000, 0.7363}, // p .75: .75 + .00048 − .01343, over 1.00096
		{1, 1, 0.2065},
		{10, 10, 0.7225},
		{5, 10, 0.2366},
		{90, 100, 0.8256},
		{0, 10, 0},
		{0, 0, 0},
	} {
		if got := Wilson(c.yes, c.n); math.Abs(got-c.want) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %.5f, want %.4f", c.yes, c.n, got, c.want)
		}
	}
}

// 3 likes of 4 has the better share but not the better evidence: it ranks
// below 3,000 of 4,000 and below 90 of 100; one lone like ranks last.
func TestRankWilson(t *testing.T) {
	ts := []Tally{
		{ID: 1, For: 3, Against: 1},
		{ID: 2, For: 3000, Against: 1000},
		{ID: 3, For: 90, Against: 10},
		{ID: 4, For: 1, Against: 0},
		{ID: 5}, // no votes: not ranked
	}
	got := RankWilson(ts, 0)
	want := []int64{3, 2, 1, 4}
	if len(got) != len(want) {
		t.Fatalf("ranked %+v", got)
	}
	for i, id := range want {
		if got[i].ID != id {
			t.Fatalf("rank %d: article %d, want %d (%+v)", i, got[i].ID, id, got)
		}
	}
	if got[2].Share != 0.75 {
		t.Errorf("share of 3 of 4: %v", got[2].Share)
	}
	// Most disliked: the same ranking with the votes swapped.
	swapped := make([]Tally, len(ts))
	for i, t := range ts {
		swapped[i] = Tally{ID: t.ID, For: t.Against, Against: t.For}
	}
	if d := RankWilson(swapped, 1); len(d) != 1 || d[0].ID != 2 {
		t.Errorf("most disliked: %+v, want article 2 (1,000 of 4,000)", d)
	}
}

func TestQuantile(t *testing.T) {
	bounds := []int64{60, 300, 900}
	hist := map[int64]int64{60: 5, 300: 4, 0: 1}
	if b, ok := Quantile(hist, bounds, 0.5); !ok || b != 60 {
		t.Errorf("median: %d %v", b, ok)
	}
	if b, _ := Quantile(hist, bounds, 0.9); b != 300 {
		t.Errorf("p90: %d", b)
	}
	if b, _ := Quantile(hist, bounds, 1); b != -1 {
		t.Errorf("max: %d", b)
	}
	if _, ok := Quantile(map[int64]int64{}, bounds, 0.5); ok {
		t.Error("an empty histogram has a median")
	}
}

// A limited ranking is the full ranking's beginning, whatever the order
// the tallies come in (ties included).
func TestRankWilsonLimitIsPrefix(t *testing.T) {
	var ts []Tally
	for i := range 2000 {
		ts = append(ts, Tally{ID: int64(i), For: int64(i*7919) % 13, Against: int64(i*104729) % 7})
	}
	all := RankWilson(ts, 0)
	for _, limit := range []int{1, 10, 100, 5000} {
		got := RankWilson(ts, limit)
		if len(got) != min(limit, len(all)) {
			t.Fatalf("limit %d: %d ranked", limit, len(got))
		}
		for i := range got {
			if got[i] != all[i] {
				t.Fatalf("limit %d, rank %d: %+v, want %+v", limit, i, got[i], all[i])
			}
		}
	}
}
