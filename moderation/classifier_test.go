package moderation_test

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/moderation"
)

func TestFeatures(t *testing.T) {
	got := moderation.Features("Win BIG at https://www.Casino.example/win — win, WIN! a 1234567890123456789012345678901")
	want := []string{"lang:all", "lang:other", "domain:casino.example", "win", "big", "at", "https", "www", "casino", "example"}
	if !slices.Equal(got, want) {
		t.Errorf("Features = %q, want %q", got, want)
	}
	long := strings.Repeat("word ", 10) + strings.Repeat("x", 20)
	for i := range 1000 {
		long += " w" + strings.Repeat("z", i%20) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	if n := len(moderation.Features(long)); n != moderation.MaxFeatures {
		t.Errorf("%d features from a long body, want %d", n, moderation.MaxFeatures)
	}
}

// classifier is the in-memory store a test trains: what the data layer keeps
// in its tables.
type classifier struct {
	counts map[string]moderation.TokenCount
	totals moderation.Totals
}

func (c *classifier) learn(body string, spam bool) {
	for _, f := range moderation.Features(body) {
		tc := c.counts[f]
		if spam {
			tc.Spam++
		} else {
			tc.Ham++
		}
		c.counts[f] = tc
	}
	if spam {
		c.totals.Spam++
	} else {
		c.totals.Ham++
	}
}

func (c *classifier) score(body string) float64 {
	return moderation.SpamProbability(moderation.Features(body), c.counts, c.totals)
}

func TestSpamProbability(t *testing.T) {
	c := &classifier{counts: map[string]moderation.TokenCount{}}
	if p := c.score("free casino bonus"); p != 0.5 {
		t.Errorf("untrained: %v, want 0.5", p)
	}
	c.learn("free casino bonus spins", true)
	c.learn("great article about the council", false)
	if p := c.score("nothing known here"); p != 0.5 {
		t.Errorf("unknown words: %v, want 0.5", p)
	}
	if p := c.score("casino bonus"); p <= 0.5 {
		t.Errorf("spam words after one spam: %v, want > 0.5", p)
	}
	if p := c.score("the council article"); p >= 0.5 {
		t.Errorf("ham words after one ham: %v, want < 0.5", p)
	}

	// Inconsistent or negative counts, as a data layer might produce, must
	// still give a probability.
	odd := map[string]moderation.TokenCount{"a": {Spam: 10, Ham: -3}, "b": {Spam: 0, Ham: 7}, "c": {}}
	for _, totals := range []moderation.Totals{{}, {Spam: 1}, {Ham: 1}, {Spam: -5, Ham: 2}, {Spam: math.MaxInt64, Ham: math.MaxInt64}} {
		p := moderation.SpamProbability([]string{"a", "b", "c", "d"}, odd, totals)
		if math.IsNaN(p) || p < 0 || p > 1 {
			t.Errorf("totals %+v: probability %v", totals, p)
		}
	}

	// Many strong features must not underflow into NaN or leave [0, 1].
	many := map[string]moderation.TokenCount{}
	var features []string
	for i := range 400 {
		f := "f" + strings.Repeat("x", i%30) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		features = append(features, f)
		many[f] = moderation.TokenCount{Spam: 1000}
	}
	if p := moderation.SpamProbability(features, many, moderation.Totals{Spam: 1000, Ham: 1000}); !(p > 0.99 && p <= 1) {
		t.Errorf("400 spam features: %v, want near 1", p)
	}
}

type example struct {
	spam bool
	text string
}

func readLabelled(t testing.TB) []example {
	t.Helper()
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var examples []example
	s := bufio.NewScanner(f)
	for s.Scan() {
		label, text, ok := strings.Cut(s.Text(), "\t")
		if !ok || label != "spam" && label != "ham" {
			t.Fatalf("bad line %q", s.Text())
		}
		examples = append(examples, example{label == "spam", text})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return examples
}

type scores struct{ accuracy, precision, recall float64 }

// evaluate classifies test as spam from threshold on.
func evaluate(c *classifier, test []example, threshold float64) scores {
	var tp, fp, fn, right int
	for _, e := range test {
		spam := c.score(e.text) >= threshold
		switch {
		case spam && e.spam:
			tp++
		case spam && !e.spam:
			fp++
		case !spam && e.spam:
			fn++
		}
		if spam == e.spam {
			right++
		}
	}
	s := scores{accuracy: float64(right) / float64(len(test))}
	if tp+fp > 0 {
		s.precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		s.recall = float64(tp) / float64(tp+fn)
	}
	return s
}

// TestClassifierLearns feeds moderator decisions from a labelled corpus of
// 150 ham and 150 spam comments to a classifier and checks that it gets
// better at the held-out third as it learns.
func TestClassifierLearns(t *testing.T) {
	examples := readLabelled(t)
	var train, test []example
	for i, e := range examples {
		if i%3 == 0 {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	// Moderators decide in no particular order: shuffle, reproducibly.
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })

	const hold, spam = 0.7, 0.95 // the thresholds a site would use
	c := &classifier{counts: map[string]moderation.TokenCount{}}
	untrained := evaluate(c, test, hold)
	t.Logf("%3d decisions: accuracy %.2f", 0, untrained.accuracy)
	prev := untrained
	for fed := 0; fed < len(train); {
		next := min(len(train), max(2*fed, 10))
		for _, e := range train[fed:next] {
			c.learn(e.text, e.spam)
		}
		fed = next
		s := evaluate(c, test, hold)
		t.Logf("%3d decisions: accuracy %.2f, precision %.2f, recall %.2f (score >= %.2f)",
			fed, s.accuracy, s.precision, s.recall, hold)
		if fed >= 40 && s.accuracy < prev.accuracy-0.05 {
			t.Errorf("%d decisions: accuracy fell from %.2f to %.2f", fed, prev.accuracy, s.accuracy)
		}
		prev = s
	}

	held := evaluate(c, test, hold)
	sure := evaluate(c, test, spam)
	t.Logf("trained on %d, tested on %d: held (>= %.2f) precision %.2f recall %.2f; spam (>= %.2f) precision %.2f recall %.2f",
		len(train), len(test), hold, held.precision, held.recall, spam, sure.precision, sure.recall)
	if held.accuracy < untrained.accuracy+0.35 {
		t.Errorf("accuracy %.2f after training, %.2f before: too little gained", held.accuracy, untrained.accuracy)
	}
	if held.precision < 0.9 || held.recall < 0.85 {
		t.Errorf("held: precision %.2f, recall %.2f; want >= 0.90 and >= 0.85", held.precision, held.recall)
	}
	// A spam verdict files a comment away unseen: it must almost never hit
	// a legitimate comment.
	if sure.precision < 0.97 || sure.recall < 0.6 {
		t.Errorf("spam: precision %.2f, recall %.2f; want >= 0.97 and >= 0.60", sure.precision, sure.recall)
	}
}

func BenchmarkSpamProbability(b *testing.B) {
	c := &classifier{counts: map[string]moderation.TokenCount{}}
	examples := readLabelled(b)
	for _, e := range examples {
		c.learn(e.text, e.spam)
	}
	_, body := benchList(10, 5_000)
	body += " " + examples[len(examples)-1].text
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c.score(body)
	}
}
