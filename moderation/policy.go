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
	RuleSuspectWords   = "suspect_words"   // a suspect word or phrase in the body or the author's name
	RuleLinks          = "links"           // more links than the site allows
	RulePostingRate    = "posting_rate"    // too many comments from the author in a minute
	RuleShouting       = "shouting"        // mostly capitals, or a character repeated many times
	RuleMode           = "mode"            // the site's moderation mode holds the comment
)

// Reason is one rule's finding: which rule, what it matched, and its verdict.
type Reason struct {
	Rule    string  `json:"rule"`
	Detail  string  `json:"detail"` // for the moderator, with what matched: "suspect word: idiot"
	Verdict Verdict `json:"verdict"`
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
	add := func(rule string, v Verdict, format string, args ...any) {
		rs = append(rs, Reason{Rule: rule, Detail: fmt.Sprintf(format, args...), Verdict: v})
	}

	body, author := Words(f.Body), Words(f.Author)
	wordRule := func(rule string, l *WordList, v Verdict, what string) {
		if m := l.Match(body); len(m) > 0 {
			add(rule, v, "%s: %s", plural(what, len(m)), strings.Join(m, ", "))
		}
		if m := l.Match(author); len(m) > 0 {
			add(rule, v, "%s in author name: %s", plural(what, len(m)), strings.Join(m, ", "))
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
		add(RuleBannedIdentity, Spam, "%s", d)
	}
	if f.SameBodyRecent {
		add(RuleRepeatedText, Spam, "same text posted in the last 24 hours")
	}

	// Show two decimals without rounding up, so that the detail never
	// claims a threshold the score did not reach.
	p := math.Floor(f.SpamProbability*100) / 100
	trusted := f.ClassifierDecisions >= s.ClassifierMinDecisions
	switch {
	case !trusted && reaches(f.SpamProbability, s.ClassifierHold, s.ClassifierSpam):
		// A young classifier is often wrong, so it does not decide yet,
		// but its opinion helps moderators judge when it becomes useful.
		add(RuleClassifier, Allow, "classifier: %.2f spam, not trusted yet (%d of %d decisions)",
			p, f.ClassifierDecisions, s.ClassifierMinDecisions)
	case trusted && reaches(f.SpamProbability, s.ClassifierSpam):
		add(RuleClassifier, Spam, "classifier: %.2f spam", p)
	case trusted && reaches(f.SpamProbability, s.ClassifierHold):
		add(RuleClassifier, Hold, "classifier: %.2f spam", p)
	}

	wordRule(RuleSuspectWords, s.SuspectWords, Hold, "suspect word")

	if n := len(Links(f.Body)); s.MaxLinks >= 0 && n > s.MaxLinks {
		add(RuleLinks, Hold, "%s, limit %d", plural(fmt.Sprintf("%d link", n), n), s.MaxLinks)
	}

	limit := s.MaxPerMinute
	if limit == 0 {
		limit = DefaultMaxPerMinute
	}
	if limit > 0 && f.RecentByAuthor >= limit {
		add(RulePostingRate, Hold, "%d comments in a minute, limit %d", f.RecentByAuthor+1, limit)
	}

	if d := shouting(f.Body); d != "" {
		add(RuleShouting, Hold, "%s", d)
	}

	switch s.Mode {
	case ModePre:
		add(RuleMode, Hold, "pre-moderation")
	case ModeFirstTime:
		if f.AuthorApproved < s.FirstTimeApproved {
			add(RuleMode, Hold, "first-time commenter (%d of %d approved comments)",
				f.AuthorApproved, s.FirstTimeApproved)
		}
	case ModePost, "":
	default:
		add(RuleMode, Hold, "unknown moderation mode %q", s.Mode)
	}

	slices.SortStableFunc(rs, func(a, b Reason) int { return int(b.Verdict - a.Verdict) })
	a := Assessment{Reasons: rs}
	for _, r := range rs {
		a.Verdict = max(a.Verdict, r.Verdict)
	}
	return a
}

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

// Shouting thresholds: below minShoutLetters a few capitals are normal
// ("OK", "NATO"), and a tenth repetition is past any emphasis people use
// in good faith.
const (
	minShoutLetters = 20
	shoutShare      = 0.7
	maxRepeat       = 10
)

// shouting describes why body shouts, or returns "".
func shouting(body string) string {
	var upper, cased, run int
	var prev rune
	for _, r := range body {
		switch {
		case unicode.IsUpper(r):
			upper++
			cased++
		case unicode.IsLower(r):
			cased++
		}
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		// Spaces and digits repeat innocently (indentation, "1000000000").
		if run == maxRepeat && !unicode.IsSpace(r) && !unicode.IsDigit(r) {
			return fmt.Sprintf("character repeated %d times: %q", maxRepeat, r)
		}
	}
	if cased >= minShoutLetters && float64(upper) >= shoutShare*float64(cased) {
		return fmt.Sprintf("mostly capitals (%d of %d letters)", upper, cased)
	}
	return ""
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
