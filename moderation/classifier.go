package moderation

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// MaxFeatures bounds the features taken from one comment, so that
	// learning or scoring a long body reads and writes a bounded number of
	// counts.
	MaxFeatures = 300

	minTokenLen = 2  // shorter words are noise ("a", "i")
	maxTokenLen = 30 // longer ones are garbage or hashes and never repeat

	unknownWeight     = 1.0  // Robinson's s: how much a rare feature leans to 0.5
	minDeviation      = 0.15 // features with |p-0.5| below this carry no signal
	maxDiscriminators = 150  // the strongest features that decide; see chi2Q
)

// DomainPrefix starts the features Features makes of link domains, e.g.
// "domain:example.com". Words never contain ':', so the two cannot collide.
const DomainPrefix = "domain:"

// LanguagePrefix starts the two features Features gives every comment for
// the language it is written in: AllLanguages, and "lang:" plus the
// language Language guesses ("lang:de").
const LanguagePrefix = "lang:"

// AllLanguages is the feature of every comment whatever its language: its
// counts say how many of the learned documents carried a language feature
// (sites learned documents before there were any).
const AllLanguages = LanguagePrefix + "all"

// minLanguageDocs is how many documents of a language each class must have
// before a word is weighed against that language's documents only: fewer
// make each word's rate among them too noisy.
const minLanguageDocs = 100

// otherLanguage is the language of comments language cannot tell: a mix
// of short texts and other languages, not one whose words compare.
const otherLanguage = "other"

// Features returns the distinct features of a comment body the classifier
// learns and scores: AllLanguages and the comment's language, then
// DomainPrefix plus each linked domain, then each normalized word of 2 to
// 30 characters (those of links too: domain names often say what they
// sell), in order of first appearance and at most MaxFeatures of them.
// Domains come first because a spammer's domain is the best evidence there
// is and must not be cut off by a long body.
//
// Single words and not word pairs: on comment-sized texts pairs add little
// accuracy while they multiply the counts a site has to store.
func Features(body string) []string {
	domains := LinkDomains(body)
	words := Words(body)
	features := make([]string, 0, min(2+len(domains)+len(words), MaxFeatures))
	seen := make(map[string]bool, cap(features))
	add := func(f string) {
		if len(features) < MaxFeatures && !seen[f] {
			seen[f] = true
			features = append(features, f)
		}
	}
	add(AllLanguages)
	add(LanguagePrefix + language(words))
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

// stopwords are frequent short words of one language only (those two of
// the languages share, like "la" and "de", are left out), by which
// language tells English, German, Spanish and French apart.
var stopwords = func() map[string]string {
	m := map[string]string{}
	for lang, ws := range map[string]string{
		"en": "the and is are to of that it you for this with was have not be but what they",
		"de": "der die das und ist nicht ich sie ein eine zu den mit auf auch sich dem wie wenn war",
		"es": "el los las y por para con una del lo como pero su muy esta mas cuando hay yo tu",
		"fr": "le les et est je pas des du qui pour dans ne sur au ce il elle vous nous mais",
	} {
		for _, w := range strings.Fields(ws) {
			m[w] = lang
		}
	}
	return m
}()

// language guesses the language of a comment from its normalized words:
// the one with the most stopwords, when it has at least two and more than
// any other; "other" when none stands out.
func language(words []string) string {
	hits := map[string]int{}
	for _, w := range words {
		if lang, ok := stopwords[w]; ok {
			hits[lang]++
		}
	}
	best, n, second := otherLanguage, 1, 0
	for lang, k := range hits {
		switch {
		case k > n:
			best, n, second = lang, k, n
		case k == n:
			best, second = otherLanguage, k
		case k > second:
			second = k
		}
	}
	if n == second {
		return otherLanguage
	}
	return best
}

// byLanguage returns the totals a document's words are weighed against:
// the documents of its language, when every learned document (or nearly:
// decisions from before the language features may linger) carried a
// language and that language has enough documents in both classes. A word
// of English is then compared with the English comments of each class, so
// that the German or Spanish comments a site also approves do not make
// every English word look rarer among the approved, and so spammier.
func byLanguage(features []string, counts map[string]TokenCount, t Totals) Totals {
	all := counts[AllLanguages]
	if all.Spam*10 < t.Spam*9 || all.Ham*10 < t.Ham*9 {
		return t
	}
	for _, f := range features {
		if f == AllLanguages || f == LanguagePrefix+otherLanguage || !strings.HasPrefix(f, LanguagePrefix) {
			continue
		}
		if c := counts[f]; c.Spam >= minLanguageDocs && c.Ham >= minLanguageDocs {
			return Totals{Spam: c.Spam, Ham: c.Ham, Rejected: t.Rejected}
		}
	}
	return t
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
	t = byLanguage(features, counts, t)
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
	t = byLanguage(features, counts, t)
	for _, f := range features {
		c, ok := counts[f]
		// A language is no word the moderator could find in the text.
		if !ok || strings.HasPrefix(f, LanguagePrefix) {
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
