package moderation_test

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

type civilityItem struct {
	abusive bool
	source  string
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
		items = append(items, civilityItem{abusive: fs[0] == "abusive", source: fs[1], text: unescape.Replace(fs[2])})
	}
	return items
}

// heldOut puts a third of the civility set in the held-out split, by a
// hash of the source name, as extract.go splits the corpus.
func heldOut(source string) bool {
	h := fnv.New32a()
	h.Write([]byte(source))
	return h.Sum32()%3 == 0
}

// rejectTally counts what the reject model would hold of the held-out
// comments at one threshold.
type rejectTally struct{ tp, fp, fn, tn int }

func (c *rejectTally) count(abusive, held bool) {
	switch {
	case held && abusive:
		c.tp++
	case held:
		c.fp++
	case abusive:
		c.fn++
	default:
		c.tn++
	}
}

func (c rejectTally) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c rejectTally) recall() float64 { return float64(c.tp) / float64(max(c.tp+c.fn, 1)) }

// TestRejectModelCivility measures the model of what moderators reject on
// real comments labelled civil or abusive by people (testdata/civility.tsv:
// tweets rated by crowd workers, Wikipedia talk-page comments). A site's
// reject model learns the train split the only way a newsroom can teach
// it, through the store call a decision makes (abusive ones rejected,
// civil ones approved), and the held-out split is scored at the site's
// default threshold and at 0.5. Run it with -v to read the numbers.
func TestRejectModelCivility(t *testing.T) {
	ctx := context.Background()
	items := readCivility(t)
	// The same counts in memory: what the race detector measures (the
	// pure-Go SQLite driver is slow under it), and what the store's
	// answers must equal.
	counts := map[string]moderation.TokenCount{}
	var totals moderation.Totals
	for _, it := range items {
		if heldOut(it.source) {
			continue
		}
		for _, f := range moderation.Features(it.text) {
			c := counts[f]
			if it.abusive {
				c.Rejected++
			} else {
				c.Ham++
			}
			counts[f] = c
		}
		if it.abusive {
			totals.Rejected++
		} else {
			totals.Ham++
		}
	}
	score := func(body string) (float64, error) {
		return moderation.RejectProbability(moderation.Features(body), counts, totals), nil
	}
	if !raceDetector {
		s := schematest.Open(t, schema.SQLite)
		site, err := s.CreateSite(ctx, "civility", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if heldOut(it.source) {
				continue
			}
			label := schema.LabelHam
			if it.abusive {
				label = schema.LabelReject
			}
			if err := s.Learn(ctx, site.ID, moderation.Features(it.text), label, 1); err != nil {
				t.Fatal(err)
			}
		}
		score = func(body string) (float64, error) {
			fs := moderation.Features(body)
			sc, st, err := s.ClassifierCounts(ctx, site.ID, fs)
			if err != nil {
				return 0, err
			}
			mc := make(map[string]moderation.TokenCount, len(sc))
			for k, v := range sc {
				mc[k] = moderation.TokenCount{Spam: v.Spam, Ham: v.Ham, Rejected: v.Rejected}
			}
			mt := moderation.Totals{Spam: st.Spam, Ham: st.Ham, Rejected: st.Rejected}
			// The spam model learned nothing from these decisions.
			if p := moderation.SpamProbability(fs, mc, mt); p != 0.5 {
				t.Fatalf("the spam model moved (%v) on reject decisions", p)
			}
			return moderation.RejectProbability(fs, mc, mt), nil
		}
	}

	ms := schema.DefaultSettings().Moderation
	if totals.Rejected < int64(ms.RejectMinDecisions) || totals.Ham < int64(ms.RejectMinDecisions) {
		t.Fatalf("the train split has %d rejections and %d approvals, fewer than the %d that turn the reject model on",
			totals.Rejected, totals.Ham, ms.RejectMinDecisions)
	}
	thresholds := []float64{ms.RejectHold, 0.5}
	sources := []string{"all", "davidson", "jigsaw-sample"}
	at := map[string][]rejectTally{}
	for _, src := range sources {
		at[src] = make([]rejectTally, len(thresholds))
	}
	var sum [2]float64
	var n [2]int
	var civilHeld []string
	for _, it := range items {
		if !heldOut(it.source) {
			continue
		}
		p, err := score(it.text)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := moderation.RejectProbability(moderation.Features(it.text), counts, totals), 0; m != p {
			t.Errorf("%s: %v through the store, %v in memory", it.source, p, m)
		}
		k := 0
		if it.abusive {
			k = 1
		}
		sum[k] += p
		n[k]++
		src := strings.SplitN(it.source, "/", 2)[0]
		for i, th := range thresholds {
			at["all"][i].count(it.abusive, p >= th)
			at[src][i].count(it.abusive, p >= th)
		}
		if !it.abusive && p >= ms.RejectHold {
			civilHeld = append(civilHeld, fmt.Sprintf("%s (%.2f): %.100q", it.source, p, it.text))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reject model trained on %d decisions (%d rejections, %d approvals), scored on %d held-out comments\n",
		totals.Rejected+totals.Ham, totals.Rejected, totals.Ham, n[0]+n[1])
	fmt.Fprintf(&b, "%-14s %9s %14s %12s %16s %14s %9s %7s\n", "source", "threshold", "held abusive", "held civil", "published abusive", "published civil", "precision", "recall")
	for _, src := range sources {
		for i, th := range thresholds {
			c := at[src][i]
			fmt.Fprintf(&b, "%-14s %9.2f %14d %12d %16d %14d %9.3f %7.3f\n", src, th, c.tp, c.fp, c.fn, c.tn, c.precision(), c.recall())
		}
	}
	civil, abusive := sum[0]/float64(max(n[0], 1)), sum[1]/float64(max(n[1], 1))
	fmt.Fprintf(&b, "mean probability: %.2f for abusive comments, %.2f for civil ones\n", abusive, civil)
	for _, h := range civilHeld {
		fmt.Fprintf(&b, "civil comment held: %s\n", h)
	}
	t.Log("\n" + b.String())

	// At the site's threshold a held comment must almost always be one
	// moderators would reject; at 0.5 the model must find most of them.
	if c := at["all"][0]; c.precision() < minRejectPrecision {
		t.Errorf("at the default threshold %.2f the reject model's precision is %.3f, want >= %.2f", ms.RejectHold, c.precision(), minRejectPrecision)
	}
	if c := at["all"][1]; c.recall() < minRejectRecallAtHalf {
		t.Errorf("at 0.5 the reject model finds %.3f of the abusive comments, want >= %.2f", c.recall(), minRejectRecallAtHalf)
	}
	if abusive <= civil {
		t.Errorf("the reject model rates abusive comments %.2f and civil ones %.2f on average: it learned nothing", abusive, civil)
	}
}

// Thresholds the reject model's measurement must meet.
const (
	minRejectPrecision    = 0.95
	minRejectRecallAtHalf = 0.80
)
