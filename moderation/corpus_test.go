package moderation_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// item is one labelled text of testdata/corpus.tsv.
type item struct {
	test, spam bool
	source     string
	text       string
}

func readCorpus(t testing.TB) []item {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unescape := strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")
	var items []item
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.SplitN(line, "\t", 4)
		if len(fs) != 4 || (fs[0] != "train" && fs[0] != "test") || (fs[1] != "ham" && fs[1] != "spam") {
			t.Fatalf("corpus.tsv: bad line %.80q", line)
		}
		items = append(items, item{test: fs[0] == "test", spam: fs[1] == "spam", source: fs[2], text: unescape.Replace(fs[3])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

// confusion counts, for one rule or the whole policy, what it held of the
// legitimate texts and of the spam.
type confusion struct {
	hamHeld, ham, spamHeld, spam int
}

func (c confusion) precision() float64 {
	if c.hamHeld+c.spamHeld == 0 {
		return 1
	}
	return float64(c.spamHeld) / float64(c.hamHeld+c.spamHeld)
}
func (c confusion) recall() float64   { return float64(c.spamHeld) / float64(max(c.spam, 1)) }
func (c confusion) hamRate() float64  { return float64(c.hamHeld) / float64(max(c.ham, 1)) }
func (c confusion) spamRate() float64 { return c.recall() }

// Thresholds the corpus measurement must meet (issue 10).
const (
	minPrecision   = 0.98 // of what the policy holds, this share must be spam
	minRecall      = 0.90 // of the spam, this share must be held
	maxRuleHamRate = 0.01 // no rule may hold more than this share of legitimate texts
)

// TestCorpusPolicy trains a site's classifier the only way a newsroom can,
// through moderator decisions on the corpus's train split, then runs the
// held-out split through the whole policy in post mode, as Assess does for
// a new comment, and checks what readers would see against the thresholds.
// Run it with -v to read the tables (make bench prints them).
func TestCorpusPolicy(t *testing.T) {
	ctx := context.Background()
	items := readCorpus(t)
	// Under the race detector the pure-Go SQLite driver needs minutes of
	// CPU for the 3,337 decisions: the same measurement then keeps the
	// counts in memory, as the store's learning keeps them in its tables,
	// and applies the policy to the facts the Assessor would gather.
	mem := assessInMemory(items)
	assess := mem
	if !raceDetector {
		s := schematest.Open(t, schema.SQLite)
		site, err := s.CreateSite(ctx, "corpus", schema.DefaultSettings(), nil)
		if err != nil {
			t.Fatal(err)
		}
		train(t, s, site, items)
		site, err = s.SiteByID(ctx, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := moderation.NewAssessor(s)
		assess = func(i int, body string) (moderation.Assessment, error) {
			// A different reader each time: the corpus measures the
			// text, not one author's posting rate.
			who := schema.Author{IPHash: fmt.Sprintf("ip%d", i), ReaderID: fmt.Sprintf("reader%d", i)}
			res, err := a.Assess(ctx, moderation.Draft{Site: site, ArticleKey: "corpus", Body: body, Author: "Reader", Who: who})
			return res.Assessment, err
		}
	}

	overall := confusion{}
	byCategory := map[string]*confusion{}
	rules := map[string]*confusion{}
	fires := map[string]*confusion{} // the rule gave a reason, held or not
	var falseHolds []string
	for i, it := range items {
		if !it.test {
			continue
		}
		res, err := assess(i, it.text)
		if err != nil {
			t.Fatal(err)
		}
		// The in-memory measurement the race detector runs must be this one.
		if !raceDetector {
			if m, _ := mem(i, it.text); m.Verdict != res.Verdict {
				t.Errorf("%s: %v through the store, %v in memory", it.source, res.Verdict, m.Verdict)
			}
		}
		held := res.Verdict >= moderation.Hold
		overall.count(it.spam, held)
		for _, c := range categories(it) {
			if byCategory[c] == nil {
				byCategory[c] = &confusion{}
			}
			byCategory[c].count(it.spam, held)
		}
		fired, noted := map[string]bool{}, map[string]bool{}
		for _, r := range res.Reasons {
			noted[r.Rule] = true
			if r.Verdict >= moderation.Hold {
				fired[r.Rule] = true
			}
		}
		for _, rule := range ruleNames {
			c := rules[rule]
			if c == nil {
				c = &confusion{}
				rules[rule] = c
			}
			c.count(it.spam, fired[rule])
			if fires[rule] == nil {
				fires[rule] = &confusion{}
			}
			fires[rule].count(it.spam, noted[rule])
		}
		if held && !it.spam {
			falseHolds = append(falseHolds, fmt.Sprintf("%s: %s", it.source, res.Reasons[0].Detail))
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "held-out split: %d legitimate, %d spam; classifier trained on %d decisions\n\n", overall.ham, overall.spam, countTrain(items))
	fmt.Fprintf(&b, "%-16s %22s %22s %22s %22s\n", "rule", "holds legitimate", "holds spam", "fires on legitimate", "fires on spam")
	for _, rule := range ruleNames {
		c, f := rules[rule], fires[rule]
		fmt.Fprintf(&b, "%-16s %6d/%-5d %6.2f %%   %6d/%-5d %6.2f %%   %6d/%-5d %6.2f %%   %6d/%-5d %6.2f %%\n", rule,
			c.hamHeld, c.ham, 100*c.hamRate(), c.spamHeld, c.spam, 100*c.spamRate(),
			f.hamHeld, f.ham, 100*f.hamRate(), f.spamHeld, f.spam, 100*f.spamRate())
	}
	fmt.Fprintf(&b, "(fires: the rule gave a reason, as evidence or as a verdict; a weak rule fires alone as a verdict until the classifier is trusted)\n")
	fmt.Fprintf(&b, "\n%-12s %8s %10s\n", "", "held", "published")
	fmt.Fprintf(&b, "%-12s %8d %10d\n", "spam", overall.spamHeld, overall.spam-overall.spamHeld)
	fmt.Fprintf(&b, "%-12s %8d %10d\n", "legitimate", overall.hamHeld, overall.ham-overall.hamHeld)
	fmt.Fprintf(&b, "\nprecision of what is held %.3f (goal >= %.2f), recall of spam %.3f (goal >= %.2f)\n",
		overall.precision(), minPrecision, overall.recall(), minRecall)
	fmt.Fprintf(&b, "\n%-34s %22s %22s\n", "held-out texts that have", "legitimate held", "spam held")
	for _, c := range categoryNames {
		if k := byCategory[c]; k != nil {
			fmt.Fprintf(&b, "%-34s %6d/%-5d %6.2f %%   %6d/%-5d %6.2f %%\n", c, k.hamHeld, k.ham, 100*k.hamRate(), k.spamHeld, k.spam, 100*k.spamRate())
		}
	}
	for _, f := range falseHolds[:min(len(falseHolds), 10)] {
		fmt.Fprintf(&b, "legitimate text held: %.160s\n", f)
	}
	t.Log("\n" + b.String())

	if p := overall.precision(); p < minPrecision {
		t.Errorf("precision of what is held %.3f, want >= %.2f", p, minPrecision)
	}
	if r := overall.recall(); r < minRecall {
		t.Errorf("recall of spam %.3f, want >= %.2f", r, minRecall)
	}
	for _, rule := range ruleNames {
		if r := rules[rule].hamRate(); r > maxRuleHamRate {
			t.Errorf("rule %s holds %.2f %% of legitimate texts, want <= %.0f %%", rule, 100*r, 100*maxRuleHamRate)
		}
	}
	// What readers write must not be what the policy silences: no kind of
	// legitimate text may be held much more often than the whole.
	for c, k := range byCategory {
		if k.ham >= 20 && k.hamHeld > 1 && k.hamRate() > maxCategoryHamRate {
			t.Errorf("%s: %d of %d legitimate texts held (%.2f %%), want <= %.0f %%", c, k.hamHeld, k.ham, 100*k.hamRate(), 100*maxCategoryHamRate)
		}
	}
}

// maxCategoryHamRate bounds the share of one kind of legitimate text
// (emoji, quotes, German...) the policy may hold; one held text is always
// tolerated, as small categories would otherwise fail on a single one.
const maxCategoryHamRate = 0.03

// Kinds of text the report breaks the held-out split into: where a text
// comes from, then what it has in it. A text is in every kind it has.
var categoryNames = []string{
	"source: mailing-list mail", "source: tweets", "source: reader comments (Reddit)", "source: web sentences",
	"source: chat and list quotes (de)", "source: sayings and jokes (es)",
	"language: German", "language: Spanish", "language: French",
	"quoted reply (> lines)", "separator line (----, ====, ***)", "signature (-- name)",
	"list (- item, * item, 1. item)", "acronym or ticker (NATO, COVID-19)", "code or command",
	"number", "link", "emoji", "@mention or #hashtag",
}

var (
	quoteLine     = regexp.MustCompile(`(?m)^[ \t]*>`)
	separatorLine = regexp.MustCompile(`(?m)^[ \t]*([-=_*~#+.])[ ]?(?:[-=_*~#+.][ ]?){3,}[ \t]*$`)
	signatureLine = regexp.MustCompile(`(?m)^[ \t]*--[ \t]*\S`)
	listLine      = regexp.MustCompile(`(?m)^[ \t]*(?:[-*+•]|\d{1,2}[.)])[ \t]+\S`)
	acronym       = regexp.MustCompile(`(?:^|[^\p{L}\p{N}])(?:\$[A-Z]{1,5}|[A-Z][A-Z0-9]{1,5}(?:-[0-9]{1,4})?)(?:$|[^\p{L}\p{N}])`)
	codeMarks     = regexp.MustCompile(`(?m)^[ \t]*(?:\$|#|%) [a-z]|[a-z_]+\([^)]*\)|[{};]\s*$|</?[a-z]+>|==|!=|&&|\|\||/usr/|/etc/|\.(?:c|h|py|pl|sh|rpm|deb|conf)\b`)
	number        = regexp.MustCompile(`\d`)
	link          = regexp.MustCompile(`(?i)https?://|www\.`)
	mention       = regexp.MustCompile(`(?:^|\s)[@#]\w`)
)

// categories says which kinds of text a corpus item is.
func categories(it item) []string {
	var cs []string
	switch src := it.source; {
	case strings.HasPrefix(src, "spamassassin/"):
		cs = append(cs, "source: mailing-list mail")
	case strings.HasPrefix(src, "davidson/"):
		cs = append(cs, "source: tweets")
	case strings.HasPrefix(src, "goemotions/"):
		cs = append(cs, "source: reader comments (Reddit)")
	case strings.HasPrefix(src, "lingua/"):
		cs = append(cs, "source: web sentences")
	case strings.HasPrefix(src, "fortunes-de/"):
		cs = append(cs, "source: chat and list quotes (de)")
	case strings.HasPrefix(src, "fortunes-es/"):
		cs = append(cs, "source: sayings and jokes (es)")
	}
	switch src := it.source; {
	case strings.HasPrefix(src, "lingua/de/"), strings.HasPrefix(src, "fortunes-de/"):
		cs = append(cs, "language: German")
	case strings.HasPrefix(src, "lingua/es/"), strings.HasPrefix(src, "fortunes-es/"):
		cs = append(cs, "language: Spanish")
	case strings.HasPrefix(src, "lingua/fr/"):
		cs = append(cs, "language: French")
	}
	has := []struct {
		name string
		ok   bool
	}{
		{"quoted reply (> lines)", quoteLine.MatchString(it.text)},
		{"separator line (----, ====, ***)", separatorLine.MatchString(it.text)},
		{"signature (-- name)", signatureLine.MatchString(it.text)},
		{"list (- item, * item, 1. item)", len(listLine.FindAllString(it.text, 2)) == 2},
		{"acronym or ticker (NATO, COVID-19)", acronym.MatchString(it.text)},
		{"code or command", codeMarks.MatchString(it.text)},
		{"number", number.MatchString(it.text)},
		{"link", link.MatchString(it.text)},
		{"emoji", hasEmoji(it.text)},
		{"@mention or #hashtag", mention.MatchString(it.text)},
	}
	for _, h := range has {
		if h.ok {
			cs = append(cs, h.name)
		}
	}
	return cs
}

// hasEmoji tells pictographs (😂, ❤, 🇬🇧) from other symbols.
func hasEmoji(s string) bool {
	for _, r := range s {
		if (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || unicode.Is(unicode.Regional_Indicator, r) {
			return true
		}
	}
	return false
}

var ruleNames = []string{
	moderation.RuleBannedWords, moderation.RuleBannedIdentity, moderation.RuleRepeatedText,
	moderation.RuleClassifier, moderation.RuleRejectModel, moderation.RuleSuspectWords, moderation.RuleLinks,
	moderation.RulePostingRate, moderation.RuleShouting, moderation.RuleMode,
}

func (c *confusion) count(spam, held bool) {
	if spam {
		c.spam++
		if held {
			c.spamHeld++
		}
		return
	}
	c.ham++
	if held {
		c.hamHeld++
	}
}

func countTrain(items []item) int {
	n := 0
	for _, it := range items {
		if !it.test {
			n++
		}
	}
	return n
}

// train teaches the site's classifier the train split as moderator
// decisions teach it: each text's features, learned as spam or ham by the
// store call a decision makes. Decisions arrive from several moderators at
// once, so they are sent concurrently, as the group-commit writer batches
// them.
func train(t *testing.T, s *schema.Store, site *schema.Site, items []item) {
	t.Helper()
	ctx := context.Background()
	work := make(chan item)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for it := range work {
				label := schema.LabelHam
				if it.spam {
					label = schema.LabelSpam
				}
				if err := s.Learn(ctx, site.ID, moderation.Features(it.text), label, 1); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, it := range items {
		if !it.test {
			work <- it
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// assessInMemory is TestCorpusPolicy's policy without a database: the
// train split learned into counts as the store learns decisions, and each
// text assessed with the default settings on the facts Assessor gathers
// for a new reader in post mode.
func assessInMemory(items []item) func(int, string) (moderation.Assessment, error) {
	counts := map[string]moderation.TokenCount{}
	var totals moderation.Totals
	for _, it := range items {
		if it.test {
			continue
		}
		for _, f := range moderation.Features(it.text) {
			c := counts[f]
			if it.spam {
				c.Spam++
			} else {
				c.Ham++
			}
			counts[f] = c
		}
		if it.spam {
			totals.Spam++
		} else {
			totals.Ham++
		}
	}
	ms := schema.DefaultSettings().Moderation
	settings := moderation.Settings{
		Mode: moderation.Mode(ms.Mode), FirstTimeApproved: ms.FirstTimeApproved,
		MaxLinks: ms.MaxLinks, MaxPerMinute: ms.MaxPerMinute,
		ClassifierMinDecisions: ms.ClassifierMinDecisions, ClassifierSpam: ms.ClassifierSpam, ClassifierHold: ms.ClassifierHold,
		RejectMinDecisions: ms.RejectMinDecisions, RejectHold: ms.RejectHold,
	}
	return func(_ int, body string) (moderation.Assessment, error) {
		fs := moderation.Features(body)
		// The counts of the comment's features only, as the store reads
		// them: the reject model copies the counts it is given.
		mine := make(map[string]moderation.TokenCount, len(fs))
		for _, f := range fs {
			if c, ok := counts[f]; ok {
				mine[f] = c
			}
		}
		return moderation.Assess(settings, moderation.Facts{
			Body: body, Author: "Reader",
			SpamProbability: moderation.SpamProbability(fs, mine, totals), SpamWords: moderation.SpamWords(fs, mine, totals, 5),
			ClassifierDecisions: int(totals.Spam + totals.Ham),
			RejectProbability:   moderation.RejectProbability(fs, mine, totals), RejectWords: moderation.RejectWords(fs, mine, totals, 5),
			RejectDecisions: int(totals.Rejected), HamDecisions: int(totals.Ham),
		}), nil
	}
}
