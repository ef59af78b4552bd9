package moderation

import (
	"cmp"
	"math"
	"slices"
)

// The newsroom's insights: how readers' reactions rank articles, and what
// the desk's waiting times were. Pure arithmetic over the store's rollups.

// wilsonZ is the normal quantile of a 95 % confidence interval.
const wilsonZ = 1.959964

// Wilson is the lower bound of the 95 % Wilson score interval of the share
// yes/n: the share readers' votes support even for few votes, so that 3
// likes of 4 (0.30) ranks below 3,000 of 4,000 (0.74). 0 when n is 0.
func Wilson(yes, n int64) float64 {
	if n <= 0 {
		return 0
	}
	fn := float64(n)
	p := float64(yes) / fn
	z2 := wilsonZ * wilsonZ
	return (p + z2/(2*fn) - wilsonZ*math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))) / (1 + z2/fn)
}

// Tally is one article's votes for and against in a period.
type Tally struct {
	ID       int64
	For      int64
	Against  int64
	Share    float64 // For / (For + Against)
	LowerBnd float64 // Wilson(For, For + Against)
}

// RankWilson orders tallies by the Wilson lower bound of their share of
// votes for, highest first (ties: more votes, then lower id), and keeps
// the first limit with at least one vote. To rank by votes against, pass
// tallies with For and Against swapped.
func RankWilson(ts []Tally, limit int) []Tally {
	order := func(a, b Tally) int {
		switch {
		case a.LowerBnd != b.LowerBnd:
			return cmp.Compare(b.LowerBnd, a.LowerBnd)
		case a.For+a.Against != b.For+b.Against:
			return cmp.Compare(b.For+b.Against, a.For+a.Against)
		}
		return cmp.Compare(a.ID, b.ID)
	}
	var out []Tally
	for _, t := range ts {
		n := t.For + t.Against
		if n == 0 {
			continue
		}
		t.Share = float64(t.For) / float64(n)
		t.LowerBnd = Wilson(t.For, n)
		if limit <= 0 {
			out = append(out, t)
			continue
		}
		// The first limit only, kept in order as they come: a year's
		// page ranks ten thousand articles to show ten.
		if len(out) == limit && order(t, out[limit-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(out, t, order)
		if len(out) < limit {
			out = append(out, Tally{})
		}
		copy(out[i+1:], out[i:len(out)-1])
		out[i] = t
	}
	if limit <= 0 {
		slices.SortFunc(out, order)
	}
	if out == nil {
		out = []Tally{}
	}
	return out
}

// Quantile reads the q-quantile (0 < q ≤ 1) of a histogram of waits given
// as counts by upper bound in seconds (bounds in ascending order, the
// bound 0 standing for longer than every other one). It returns the
// bound of the bucket the quantile falls in, -1 for the open bucket, and
// ok false for an empty histogram.
func Quantile(hist map[int64]int64, bounds []int64, q float64) (bound int64, ok bool) {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return 0, false
	}
	need := int64(math.Ceil(q * float64(total)))
	var seen int64
	for _, b := range bounds {
		seen += hist[b]
		if seen >= need {
			return b, true
		}
	}
	return -1, true
}
