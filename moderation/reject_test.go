package moderation_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

type civilityItem struct {
	abusive bool
	text    string
}

func readCivility(t *testing.T) []civilityItem {
	t.Helper()
	f, err := os.Open("testdata/civility.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unescape := strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")
	var items []civilityItem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fs := strings.SplitN(sc.Text(), "\t", 3)
		if len(fs) != 3 || (fs[0] != "abusive" && fs[0] != "civil") {
			t.Fatalf("civility.tsv: bad line %.80q", sc.Text())
		}
		items = append(items, civilityItem{abusive: fs[0] == "abusive", text: unescape.Replace(fs[2])})
	}
	return items
}

// TestRejectModelCivility measures the reject model on real talk-page
// comments labelled civil or abusive (testdata/civility.tsv), each scored
// by a model that learned all the others as a newsroom's decisions would
// teach it (abusive ones rejected, civil ones approved), and checks what
// it would hold at the site's default threshold. The set is small (13
// abusive comments): the numbers say the model works, not how well it
// would do on a site's thousands of decisions.
func TestRejectModelCivility(t *testing.T) {
	items := readCivility(t)
	threshold := schema.DefaultSettings().Moderation.RejectHold
	type tally struct{ tp, fp, fn, tn int }
	at := map[float64]*tally{threshold: {}, 0.5: {}}
	var sum [2]float64
	var n [2]int
	for i, it := range items {
		counts := map[string]moderation.TokenCount{}
		var totals moderation.Totals
		for j, other := range items {
			if j == i {
				continue
			}
			for _, f := range moderation.Features(other.text) {
				c := counts[f]
				if other.abusive {
					c.Rejected++
				} else {
					c.Ham++
				}
				counts[f] = c
			}
			if other.abusive {
				totals.Rejected++
			} else {
				totals.Ham++
			}
		}
		p := moderation.RejectProbability(moderation.Features(it.text), counts, totals)
		// The spam model learned nothing from these decisions.
		if s := moderation.SpamProbability(moderation.Features(it.text), counts, totals); s != 0.5 {
			t.Fatalf("the spam model moved (%v) on reject decisions", s)
		}
		k := 0
		if it.abusive {
			k = 1
		}
		sum[k] += p
		n[k]++
		for th, c := range at {
			held := p >= th
			switch {
			case held && it.abusive:
				c.tp++
			case held:
				c.fp++
			case it.abusive:
				c.fn++
			default:
				c.tn++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reject model, leave-one-out on %d civil/abusive comments:\n", len(items))
	for _, th := range []float64{threshold, 0.5} {
		c := at[th]
		prec := "- (nothing held)"
		if c.tp+c.fp > 0 {
			prec = fmt.Sprintf("%.2f", float64(c.tp)/float64(c.tp+c.fp))
		}
		rec := float64(c.tp) / float64(max(c.tp+c.fn, 1))
		fmt.Fprintf(&b, "  threshold %.2f: held %d abusive and %d civil, published %d abusive and %d civil; precision %s, recall %.2f\n",
			th, c.tp, c.fp, c.fn, c.tn, prec, rec)
	}
	civil, abusive := sum[0]/float64(max(n[0], 1)), sum[1]/float64(max(n[1], 1))
	fmt.Fprintf(&b, "  mean probability: %.2f for abusive comments, %.2f for civil ones\n", abusive, civil)
	t.Log("\n" + b.String())
	if c := at[threshold]; c.fp > 0 {
		t.Errorf("at the default threshold %.2f the reject model held %d civil comments, want none", threshold, c.fp)
	}
	if abusive <= civil {
		t.Errorf("the reject model rates abusive comments %.2f and civil ones %.2f on average: it learned nothing", abusive, civil)
	}
}
