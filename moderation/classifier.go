package moderation

import (
	"cmp"
	"math"
	"slices"
	"unicode/utf8"
)

const (
	// MaxFeatures bounds the features taken from one comment, so that
	// learning or scoring a long body reads and writes a bounded number of
	// counts.
	MaxFeatures = 300

	minTokenLen = 2  // shorter words are noise ("a", "i")
	maxTokenLen = 30 // longer ones are garbage or hashes and never repeat

	unknownWeight     = 1.0 // Robinson's s: how much a rare feature leans to 0.5
	minDeviation      = 0.1 // features with |p-0.5| below this carry no signal
	maxDiscriminators = 150 // the strongest features that decide; see chi2Q
)

// DomainPrefix starts the features Features makes of link domains, e.g.
// "domain:example.com". Words never contain ':', so the two cannot collide.
const DomainPrefix = "domain:"

// Features returns the distinct features of a comment body the classifier
// learns and scores: DomainPrefix plus each linked domain, then each
// normalized word of 2 to 30 characters (those of links too: domain names
// often say what they sell), in order of first appearance and at most
// MaxFeatures of them. Domains come first because a spammer's domain is the
// best evidence there is and must not be cut off by a long body.
//
// Single words and not word pairs: on comment-sized texts pairs add little
// accuracy while they multiply the counts a site has to store.
func Features(body string) []string {
	domains := LinkDomains(body)
	words := Words(body)
	features := make([]string, 0, min(len(domains)+len(words), MaxFeatures))
	seen := make(map[string]bool, cap(features))
	add := func(f string) {
		if len(features) < MaxFeatures && !seen[f] {
			seen[f] = true
			features = append(features, f)
		}
	}
	for _, d := range domains {
		add(DomainPrefix + d)
	}
	for _, w := range words {
		if n := utf8.RuneCountInString(w); n >= minTokenLen && n <= maxTokenLen {
			add(w)
		}
	}
	return features
}

// TokenCount is how many spam and how many ham (legitimate) documents a
// feature occurred in. To learn a moderator's decision on a comment, add one
// to Spam or Ham of each of its Features and of the Totals; to take a
// decision back, subtract the same.
type TokenCount struct {
	Spam, Ham int64
	// Rejected is the reject model's class: documents moderators
	// rejected (abuse, insults, off-topic). Its other class is Ham.
	Rejected int64
}

// Totals is how many spam, ham and rejected documents the models have
// learned.
type Totals struct {
	Spam, Ham, Rejected int64
}

// asRejectModel returns the counts with the rejected documents in the
// place of spam: the reject model is the same filter over other classes.
func asRejectModel(counts map[string]TokenCount, t Totals) (map[string]TokenCount, Totals) {
	out := make(map[string]TokenCount, len(counts))
	for f, c := range counts {
		out[f] = TokenCount{Spam: c.Rejected, Ham: c.Ham}
	}
	return out, Totals{Spam: t.Rejected, Ham: t.Ham}
}

// RejectProbability is the reject model's probability that moderators
// would reject a document: SpamProbability learned from reject decisions
// against approvals instead of spam.
func RejectProbability(features []string, counts map[string]TokenCount, t Totals) float64 {
	c, rt := asRejectModel(counts, t)
	return SpamProbability(features, c, rt)
}

// RejectWords is SpamWords for the reject model.
func RejectWords(features []string, counts map[string]TokenCount, t Totals, n int) []string {
	c, rt := asRejectModel(counts, t)
	return SpamWords(features, c, rt, n)
}

// SpamProbability returns the probability, from 0 to 1, that a document with
// the given features is spam, judged by the counts learned so far. Features
// missing from counts are ignored; until both classes have been learned
// the answer is 0.5.
// Negative or inconsistent counts, as a data layer that decays old counts
// might produce, are tolerated.
//
// It is a naive Bayes filter in the style of Gary Robinson and SpamBayes:
// each known feature gets a spam probability, drawn towards 0.5 while it has
// been seen rarely, and the strongest of them are combined with Fisher's
// chi-square method. Unlike a plain product of probabilities this gives
// scores near 0.5 when the evidence is thin or conflicting, which is what a
// hold threshold needs, and it compares rates within each class rather than
// raw counts, so a site that sees little spam is not biased by that.
func SpamProbability(features []string, counts map[string]TokenCount, t Totals) float64 {
	if t.Spam <= 0 || t.Ham <= 0 {
		// One class alone cannot be told apart from anything: a site that
		// has only approved comments has not taught that anything is spam.
		return 0.5
	}
	var probs []float64
	for _, f := range features {
		c, ok := counts[f]
		if !ok {
			continue
		}
		spam, ham := max(c.Spam, 0), max(c.Ham, 0)
		n := float64(spam + ham)
		if n == 0 {
			continue
		}
		// Compare the rates within each class, not the raw counts, so that
		// the class sizes do not matter.
		sr, hr := rate(spam, t.Spam), rate(ham, t.Ham)
		p := sr / (sr + hr)
		p = (unknownWeight*0.5 + n*p) / (unknownWeight + n)
		if math.Abs(p-0.5) >= minDeviation {
			probs = append(probs, p)
		}
	}
	if len(probs) == 0 {
		return 0.5
	}
	if len(probs) > maxDiscriminators {
		slices.SortFunc(probs, func(a, b float64) int {
			return cmp.Compare(math.Abs(b-0.5), math.Abs(a-0.5))
		})
		probs = probs[:maxDiscriminators]
	}
	// Sum logarithms rather than multiply: 150 probabilities of 0.01
	// underflow a float64. p is never 0 or 1 thanks to unknownWeight.
	var lnHam, lnSpam float64
	for _, p := range probs {
		lnHam += math.Log(p)
		lnSpam += math.Log1p(-p)
	}
	df := 2 * len(probs)
	spamminess := 1 - chi2Q(-2*lnSpam, df)
	hamminess := 1 - chi2Q(-2*lnHam, df)
	return (1 + spamminess - hamminess) / 2
}

// rate is the share of a class's documents that contained a feature.
func rate(n, total int64) float64 {
	if n >= total {
		return 1 // also when total is 0 but n is not: counts out of step
	}
	return float64(n) / float64(total)
}

// chi2Q returns the probability that a chi-square variable with df (even)
// degrees of freedom exceeds x2. exp(-m) underflows for m > 745, but then
// the sum is below 1e-100 for df <= 2*maxDiscriminators, so 0 is right.
func chi2Q(x2 float64, df int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < df/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return min(sum, 1)
}

// SpamWords returns up to n of the features that pointed most towards
// spam, strongest first, for the moderator to see why the classifier
// scored a comment as it did. Features are ranked by their spam
// probability as SpamProbability weighs them; those that lean to ham or
// carry no signal are left out.
func SpamWords(features []string, counts map[string]TokenCount, t Totals, n int) []string {
	type scored struct {
		f string
		p float64
	}
	var out []scored
	for _, f := range features {
		c, ok := counts[f]
		if !ok {
			continue
		}
		spam, ham := max(c.Spam, 0), max(c.Ham, 0)
		k := float64(spam + ham)
		if k == 0 {
			continue
		}
		sr, hr := rate(spam, t.Spam), rate(ham, t.Ham)
		if sr+hr == 0 {
			continue
		}
		p := (unknownWeight*0.5 + k*sr/(sr+hr)) / (unknownWeight + k)
		if p >= 0.5+minDeviation {
			out = append(out, scored{f, p})
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int { return cmp.Compare(b.p, a.p) })
	words := make([]string, 0, min(n, len(out)))
	for _, s := range out[:min(n, len(out))] {
		words = append(words, s.f)
	}
	return words
}
