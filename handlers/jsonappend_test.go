package handlers

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/parley/parley/schema"
)

// The hand-written encoder must write exactly what encoding/json writes for
// the documented shape, for any text a site or a reader can put in it.
func TestAppendReactionsMatchesJSON(t *testing.T) {
	pieces := []string{"", "like", "dislike", "heart", "a", "zz", "é", "<b>", "&amp;", `"q"`, `back\slash`,
		"tab\there", "nl\n", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "日本", "😀", "like", "Ünïcode", "</script>"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))] }
	for trial := 0; trial < 5000; trial++ {
		site := &schema.Site{Slug: pick()}
		n := rng.IntN(20)
		site.Settings.ReactionStyles = map[string]schema.ReactionStyle{}
		counts := schema.Counts{}
		for range n {
			name := pick()
			site.Settings.Reactions = append(site.Settings.Reactions, name)
			if rng.IntN(2) == 0 {
				site.Settings.ReactionStyles[name] = schema.ReactionStyle{Label: pick(), Icon: pick()}
			}
			if rng.IntN(2) == 0 {
				counts[name] = rng.Int64N(1 << 40)
			}
		}
		if rng.IntN(3) == 0 {
			counts = nil
		}
		key, mine := pick(), ""
		if rng.IntN(2) == 0 {
			mine = pick()
		}
		cr := shape(site, counts)
		want := reactionsResponse{Site: site.Slug, Article: key, Counts: cr.Counts, Total: cr.Total, Reactions: reactionSet(site)}
		if mine != "" {
			want.Mine = &mine
		}
		wb, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := appendReactions(nil, site, key, counts, mine)
		if string(got) != string(wb) {
			t.Fatalf("trial %d:\n got %s\nwant %s", trial, got, wb)
		}
	}
}

func BenchmarkAppendReactions(b *testing.B) {
	site := &schema.Site{Slug: "news"}
	site.Settings.Reactions = []string{"like", "dislike"}
	counts := schema.Counts{"like": 1234, "dislike": 56}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendReactions(buf[:0], site, "2026/12/some-article", counts, "like")
	}
}
