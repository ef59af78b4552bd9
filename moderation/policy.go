// Package moderation decides what happens to a new comment and keeps the
// moderation queue. The policy part (Assess, word lists, the classifier) is
// pure: it sees only the facts the caller gathered and never touches the
// database or the network, so it is cheap to test and safe to share.
package moderation

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Verdict is what one rule, or the whole policy, says about a comment.
// Verdicts are ordered by strength: Allow < Hold < Spam < Reject.
type Verdict int

// The verdicts, weakest first.
const (
	Allow  Verdict = iota // publish at once
	Hold                  // wait in the pending queue for a moderator
	Spam                  // file in the spam queue
	Reject                // reject; restorable from history
)

// String returns "allow", "hold", "spam" or "reject".
func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Hold:
		return "hold"
	case Spam:
		return "spam"
	case Reject:
		return "reject"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Status returns the comment status a verdict leads to: "approved",
// "pending", "spam" or "rejected"; "" for an invalid verdict.
func (v Verdict) Status() string {
	switch v {
	case Allow:
		return "approved"
	case Hold:
		return "pending"
	case Spam:
		return "spam"
	case Reject:
		return "rejected"
	}
	return ""
}

func (v Verdict) valid() bool { return v >= Allow && v <= Reject }

// ParseVerdict returns the verdict named s, as String writes it.
func ParseVerdict(s string) (Verdict, error) {
	for v := Allow; v <= Reject; v++ {
		if s == v.String() {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q", s)
}

// MarshalJSON writes the verdict as its name, e.g. "hold", so stored
// reasons and API answers stay readable and do not depend on the order of
// the constants.
func (v Verdict) MarshalJSON() ([]byte, error) {
	if !v.valid() {
		return nil, fmt.Errorf("invalid verdict %d", int(v))
	}
	return json.Marshal(v.String())
}

// UnmarshalJSON reads a verdict name as MarshalJSON writes it.
func (v *Verdict) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("verdict: %w", err)
	}
	parsed, err := ParseVerdict(s)
	if err != nil {
		return err
	}
	*v = parsed
	return nil
}

// Rule names, as Reason.Rule carries them.
const (
	RuleBannedWords    = "banned_words"    // a banned word or phrase in the body or the author's name
	RuleBannedIdentity = "banned_identity" // the author's email, IP or reader id is banned
	RuleRepeatedText   = "repeated_text"   // the same body was posted on the site recently
	RuleClassifier     = "classifier"      // the classifier rates the comment as spam
	RuleRejectModel    = "reject_model"    // the model of what moderators reject rates the comment as likely rejected
	RuleSuspectWords   = "suspect_words"   // a suspect word or phrase in the body or the author's name
	RuleLinks          = "links"           // more links than the site allows
	RulePostingRate    = "posting_rate"    // too many comments from the author in a minute
	RuleShouting       = "shouting"        // mostly capitals, or a character repeated many times
	RuleMode           = "mode"            // the site's moderation mode holds the comment
)

// Reason is one rule's finding: which rule, what it matched, and its verdict.
type Reason struct {
	Rule    string  `json:"rule"`
	Detail  string  `json:"detail"` // for the moderator, with what matched: "suspect word: idiots (idiot*)"
	Verdict Verdict `json:"verdict"`
	// Matched is the text that made the rule fire, as the reader wrote
	// it: the words of a word list entry, the links, the shouted words,
	// or the words that weighed most towards spam for the classifier.
	Matched []string `json:"matched,omitempty"`
	// Probability is the classifier's, for its reason.
	Probability *float64 `json:"probability,omitempty"`
}

// Mode is a site's moderation mode.
type Mode string

// The moderation modes.
const (
	ModePre       Mode = "pre"        // every new comment waits in pending
	ModeFirstTime Mode = "first_time" // pending until the author has enough approved comments
	ModePost      Mode = "post"       // published at once unless a rule holds it
)

// Valid reports whether m is one of the defined modes.
func (m Mode) Valid() bool {
	return m == ModePre || m == ModeFirstTime || m == ModePost
}

// DefaultMaxPerMinute is the posting rate Settings.MaxPerMinute == 0 stands for.
const DefaultMaxPerMinute = 5

// Settings is a site's moderation policy. The zero value is usable: post
// moderation, no word lists, no links allowed, the default posting rate, and
// the classifier ignored.
type Settings struct {
	// Mode is the moderation mode; empty means ModePost. An unknown mode
	// holds every comment, so that a configuration mistake fails closed.
	Mode Mode
	// FirstTimeApproved is how many approved comments an author needs
	// before ModeFirstTime stops holding theirs.
	FirstTimeApproved int
	// BannedWords reject a comment; SuspectWords hold it. Either may be nil.
	BannedWords, SuspectWords *WordList
	// MaxLinks is how many links a comment may carry before it is held;
	// negative means no limit.
	MaxLinks int
	// MaxPerMinute is how many comments an author may post in a minute
	// before the next is held; 0 means DefaultMaxPerMinute and negative
	// means no limit.
	MaxPerMinute int
	// ClassifierMinDecisions is how many moderator decisions the
	// classifier must have learned from before its score counts.
	ClassifierMinDecisions int
	// ClassifierSpam is the spam probability from which a comment is
	// spam, e.g. 0.95; ClassifierHold the one from which it is held,
	// e.g. 0.7. Zero disables the threshold.
	ClassifierSpam, ClassifierHold float64
	// RejectMinDecisions is how many reject decisions, and as many
	// approvals, the reject model needs before it may hold a comment;
	// RejectHold the probability from which it does, 0 for never.
	RejectMinDecisions int
	RejectHold         float64
}

// BanFact describes a ban that applies to the author of a comment.
type BanFact struct {
	Kind   string // what is banned: "email", "ip" or "reader"
	Shadow bool   // the author is not to learn that their comments are hidden
	Reason string // the moderator's reason, if any
}

// Facts is what the caller found out about a new comment before asking for
// a verdict.
type Facts struct {
	Body            string
	Author          string   // the display name; word lists apply to it too
	AuthorApproved  int      // approved comments by this author identity on this site
	SameBodyRecent  bool     // the same normalized body was posted on the site within 24 hours
	RecentByAuthor  int      // comments by this author or IP in the last minute, not counting this one
	Ban             *BanFact // nil if the author is not banned
	SpamProbability float64  // from SpamProbability, for this site
	// ClassifierDecisions is how many decisions the site's classifier
	// has learned from.
	ClassifierDecisions int
	// SpamWords are the features that weighed most towards spam, from
	// SpamWords, shown with the classifier's reason.
	SpamWords []string
	// RejectProbability is the reject model's (RejectProbability), with
	// how many reject decisions and approvals it learned from and the
	// words that weighed most (RejectWords).
	RejectProbability             float64
	RejectDecisions, HamDecisions int
	RejectWords                   []string
}

// Assessment is the policy's answer: the strongest verdict of any rule and
// every reason given, strongest first.
type Assessment struct {
	Verdict Verdict
	Reasons []Reason
}

// Assess applies the site's settings to the facts about a new comment. Each
// rule that fires adds a Reason; the strongest verdict wins and every reason
// is kept, strongest first, so that the moderator sees all of them.
func Assess(s Settings, f Facts) Assessment {
	var rs []Reason
	add := func(rule string, v Verdict, matched []string, format string, args ...any) *Reason {
		rs = append(rs, Reason{Rule: rule, Detail: fmt.Sprintf(format, args...), Verdict: v, Matched: matched})
		return &rs[len(rs)-1]
	}

	body, bodyWritten := WrittenWords(f.Body)
	author, authorWritten := WrittenWords(f.Author)
	wordRule := func(rule string, l *WordList, v Verdict, what string) {
		for _, in := range []struct {
			words, written []string
			where          string
		}{{body, bodyWritten, ""}, {author, authorWritten, " in author name"}} {
			ms := l.MatchWords(in.words)
			if len(ms) == 0 {
				continue
			}
			shown := make([]string, len(ms))
			matched := make([]string, len(ms))
			for i, m := range ms {
				matched[i] = strings.Join(in.written[m.Start:m.End], " ")
				shown[i] = matched[i]
				if !strings.EqualFold(matched[i], m.Entry) {
					shown[i] += " (" + m.Entry + ")"
				}
			}
			add(rule, v, matched, "%s%s: %s", plural(what, len(ms)), in.where, strings.Join(shown, ", "))
		}
	}
	wordRule(RuleBannedWords, s.BannedWords, Reject, "banned word")

	if b := f.Ban; b != nil {
		d := "banned " + cmp.Or(b.Kind, "identity")
		if b.Shadow {
			d += " (shadow)"
		}
		if b.Reason != "" {
			d += ": " + b.Reason
		}
		add(RuleBannedIdentity, Spam, nil, "%s", d)
	}
	if f.SameBodyRecent {
		add(RuleRepeatedText, Spam, nil, "same text posted in the last 24 hours")
	}

	// Show two decimals without rounding up, so that the detail never
	// claims a threshold the score did not reach.
	p := math.Floor(f.SpamProbability*100) / 100
	trusted := f.ClassifierDecisions >= s.ClassifierMinDecisions
	words := ""
	if len(f.SpamWords) > 0 {
		words = "; words: " + strings.Join(f.SpamWords, ", ")
	}
	var cr *Reason
	switch {
	case !trusted && reaches(f.SpamProbability, s.ClassifierHold, s.ClassifierSpam):
		// A young classifier is often wrong, so it does not decide yet,
		// but its opinion helps moderators judge when it becomes useful.
		cr = add(RuleClassifier, Allow, f.SpamWords, "classifier: %.2f spam, not trusted yet (%d of %d decisions)%s",
			p, f.ClassifierDecisions, s.ClassifierMinDecisions, words)
	case trusted && reaches(f.SpamProbability, s.ClassifierSpam):
		cr = add(RuleClassifier, Spam, f.SpamWords, "classifier: %.2f spam%s", p, words)
	case trusted && reaches(f.SpamProbability, s.ClassifierHold):
		cr = add(RuleClassifier, Hold, f.SpamWords, "classifier: %.2f spam%s", p, words)
	}
	if cr != nil {
		prob := f.SpamProbability
		cr.Probability = &prob
	}

	// The reject model speaks once it has learned from both sides; it is
	// shown whenever it leans to rejection, so the moderator sees its
	// probability and words, and holds only from its threshold once it has
	// learned enough.
	if f.RejectDecisions > 0 && f.HamDecisions > 0 && f.RejectProbability >= 0.5 {
		rp := math.Floor(f.RejectProbability*100) / 100
		words := ""
		if len(f.RejectWords) > 0 {
			words = "; words: " + strings.Join(f.RejectWords, ", ")
		}
		v, note := Allow, ""
		switch {
		case f.RejectDecisions < s.RejectMinDecisions || f.HamDecisions < s.RejectMinDecisions:
			note = fmt.Sprintf(", not trusted yet (%d rejected and %d approved of %d each)", f.RejectDecisions, f.HamDecisions, s.RejectMinDecisions)
		case reaches(f.RejectProbability, s.RejectHold):
			v = Hold
		}
		r := add(RuleRejectModel, v, f.RejectWords, "reject model: %.2f likely rejected%s%s", rp, note, words)
		prob := f.RejectProbability
		r.Probability = &prob
	}

	wordRule(RuleSuspectWords, s.SuspectWords, Hold, "suspect word")

	// The weak rules: each is common in good faith (a reply with three
	// links, a regular who writes fast, a newcomer, an angry line in
	// capitals), so each is evidence rather than a verdict. Until the
	// classifier is trusted they hold; then they add to its score.
	var weak []int
	addWeak := func(rule string, matched []string, format string, args ...any) {
		add(rule, Hold, matched, format, args...)
		weak = append(weak, len(rs)-1)
	}
	if links := Links(f.Body); s.MaxLinks >= 0 && len(links) > s.MaxLinks {
		addWeak(RuleLinks, links, "%s, limit %d", plural(fmt.Sprintf("%d link", len(links)), len(links)), s.MaxLinks)
	}

	limit := s.MaxPerMinute
	if limit == 0 {
		limit = DefaultMaxPerMinute
	}
	if limit > 0 && f.RecentByAuthor >= limit {
		addWeak(RulePostingRate, nil, "%d comments in a minute, limit %d", f.RecentByAuthor+1, limit)
	}

	if d, matched := shouting(f.Body); d != "" {
		addWeak(RuleShouting, matched, "%s", d)
	}

	switch s.Mode {
	case ModePre:
		add(RuleMode, Hold, nil, "pre-moderation")
	case ModeFirstTime:
		if f.AuthorApproved < s.FirstTimeApproved {
			addWeak(RuleMode, nil, "first-time commenter (%d of %d approved comments)",
				f.AuthorApproved, s.FirstTimeApproved)
		}
	case ModePost, "":
	default:
		add(RuleMode, Hold, nil, "unknown moderation mode %q", s.Mode)
	}
	if len(weak) > 0 && trusted && s.ClassifierHold > 0 {
		// The trusted classifier weighs the evidence: each weak rule adds
		// WeakWeight to its spam probability, and the comment is held
		// when the sum reaches the hold threshold.
		score := f.SpamProbability + WeakWeight*float64(len(weak))
		if score < s.ClassifierHold {
			for _, i := range weak {
				rs[i].Verdict = Allow
				rs[i].Detail += fmt.Sprintf("; not held: the classifier rates it %.2f spam", p)
			}
		}
	}

	slices.SortStableFunc(rs, func(a, b Reason) int { return int(b.Verdict - a.Verdict) })
	a := Assessment{Reasons: rs}
	for _, r := range rs {
		a.Verdict = max(a.Verdict, r.Verdict)
	}
	return a
}

// WeakWeight is what one weak rule adds to a trusted classifier's spam
// probability: a comment the classifier rates below the hold threshold
// minus WeakWeight (0.65 at the default 0.9) is not held by one weak rule
// alone, and one it is confident is legitimate (under 0.3) not even by two.
const WeakWeight = 0.25

// reaches reports whether p reaches any of the enabled (non-zero) thresholds.
func reaches(p float64, thresholds ...float64) bool {
	for _, t := range thresholds {
		if t > 0 && p >= t {
			return true
		}
	}
	return false
}

func plural(s string, n int) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// Shouting thresholds: the share of capitals counts from minShoutLetters
// letters on, so that a short "GOOD POINT" is not a verdict; and a letter,
// '!' or '?' typed maxRepeat times is past any emphasis people use in good
// faith ("soooo", "!!!").
const (
	minShoutLetters = 30
	shoutShare      = 0.7
	maxRepeat       = 10
	maxAcronym      = 5 // letters of an all-capitals word that may be an acronym or ticker
)

// shouting describes why body shouts, with the shouted words, or returns
// "". Only letters count, and only the reader's own lines: a quoted line
// (starting with '>') is someone else's, and a line of dashes, stars or
// equals signs has no letters. An acronym or a ticker (NATO, COVID-19,
// AAPL: all capitals, at most maxAcronym letters, between words that are
// not) counts neither way.
func shouting(body string) (string, []string) {
	var upper, letters int
	var loud []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), ">") {
			continue
		}
		if r, n := repeated(line); n >= maxRepeat {
			return fmt.Sprintf("%q repeated %d times", r, n), []string{string(r)}
		}
		words := strings.FieldsFunc(line, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\'' })
		for i, w := range words {
			u, l := 0, 0
			for _, r := range w {
				switch {
				case unicode.IsUpper(r):
					u++
				case unicode.IsLower(r):
					l++
				}
			}
			caps := func(j int) bool { return j >= 0 && j < len(words) && allCaps(words[j]) }
			if l == 0 && u >= 2 && u <= maxAcronym && !caps(i-1) && !caps(i+1) {
				continue // an acronym or a ticker
			}
			upper += u
			letters += u + l
			if l == 0 && u >= 2 && len(loud) < 10 {
				loud = append(loud, w)
			}
		}
	}
	if letters >= minShoutLetters && float64(upper) >= shoutShare*float64(letters) {
		return fmt.Sprintf("mostly capitals (%d of %d letters)", upper, letters), loud
	}
	return "", nil
}

// allCaps reports whether w has two or more letters, all capitals.
func allCaps(w string) bool {
	n := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			n++
		}
	}
	return n >= 2
}

// repeated returns the letter, '!' or '?' repeated most in a row in line,
// and how many times. Other characters (separators, digits, spaces,
// quoting marks) repeat innocently and are not counted.
func repeated(line string) (rune, int) {
	var best, prev rune
	most, run := 0, 0
	for _, r := range line {
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if (unicode.IsLetter(r) || r == '!' || r == '?') && run > most {
			best, most = r, run
		}
	}
	return best, most
}

// Links returns the links in body, in order: everything that starts with
// http://, https:// or www. (in any case) up to white space or a character
// that cannot end a link in text, without trailing punctuation.
func Links(body string) []string {
	var links []string
	for i := 0; i < len(body); {
		n := linkStart(body, i)
		if n == 0 {
			i++
			continue
		}
		end := i + n
		for end < len(body) && !isLinkStop(body[end]) {
			end++
		}
		// A sentence's full stop or a closing bracket is not part of a link.
		for end > i+n && strings.IndexByte(".,;:!?'\")]}>", body[end-1]) >= 0 {
			end--
		}
		if end > i+n {
			links = append(links, body[i:end])
		}
		i = max(end, i+n)
	}
	return links
}

// linkStart returns the length of the link prefix at body[i:], or 0.
func linkStart(body string, i int) int {
	if i > 0 && continuesWord(body[i-1]) {
		// Inside a word or a link already counted ("xwww.", "//www.").
		return 0
	}
	for _, p := range [...]string{"https://", "http://", "www."} {
		if len(body)-i >= len(p) && strings.EqualFold(body[i:i+len(p)], p) {
			return len(p)
		}
	}
	return 0
}

func continuesWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("/.-_@", c) >= 0
}

func isLinkStop(c byte) bool {
	return c <= ' ' || strings.IndexByte("<>\"'`()[]{}", c) >= 0
}

// LinkDomains returns the distinct host names the links in body point to,
// lower-cased and without a leading "www.", in order of first appearance.
func LinkDomains(body string) []string {
	var domains []string
	for _, link := range Links(body) {
		host := link
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		host, _, _ = strings.Cut(host, "/")
		host, _, _ = strings.Cut(host, "?")
		host, _, _ = strings.Cut(host, "#")
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:] // user info: "http://bank.com@evil.example"
		}
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		host = strings.ToLower(strings.Trim(host, "."))
		host = strings.TrimPrefix(host, "www.")
		if host != "" && !slices.Contains(domains, host) {
			domains = append(domains, host)
		}
	}
	return domains
}
