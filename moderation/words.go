package moderation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxEntryLen is the longest word list entry, in characters, that
// CompileWords accepts.
const MaxEntryLen = 100

// EntryError reports a word list entry that CompileWords refused.
type EntryError struct {
	Entry  string // the entry as given
	Reason string // why it was refused, e.g. "* is only allowed at the end"
}

// Error returns the entry and the reason, e.g. `word list entry "fo*o": * is only allowed at the end`.
func (e *EntryError) Error() string {
	return fmt.Sprintf("word list entry %q: %s", e.Entry, e.Reason)
}

// A WordList is a compiled list of banned or suspect words and phrases. It is
// immutable once compiled and safe for concurrent use. A nil *WordList matches
// nothing.
type WordList struct {
	patterns []pattern
	// index maps a word, or a prefix of one, to a node in nodes. Keeping
	// both in one map lets Match look up a body word and walk its prefixes
	// with the same cheap string-keyed lookups.
	index     map[string]int32
	nodes     []node
	maxPrefix int // bytes in the longest wildcard prefix: bounds the walk
}

type pattern struct {
	entry  string   // as the admin wrote it, trimmed
	words  []string // normalized and de-leeted
	prefix bool     // the last word is a prefix (the entry ended in *)
}

type node struct {
	starts   []int32 // patterns whose first word is exactly this key
	prefixes []int32 // one-word wildcard patterns whose prefix is this key
	inner    bool    // this key is a proper prefix of some wildcard's prefix
}

// CompileWords compiles entries into a WordList. An entry is a word or a
// phrase of words, compared case- and accent-insensitively (see Normalize)
// against whole words only, so "ass" does not match "class" or "assistant".
// A trailing * makes the last word a prefix: "idiot*" matches "idiot",
// "idiots" and "idiotic". Entries that normalize to the same words as an
// earlier entry are dropped.
//
// Every invalid entry — empty, with * anywhere but at the end or not right
// after a letter or digit, longer than MaxEntryLen characters, not valid
// UTF-8, or without a letter or digit — is reported as an *EntryError; the
// errors are joined with errors.Join so that an admin sees all of them at
// once.
func CompileWords(entries []string) (*WordList, error) {
	l := &WordList{index: make(map[string]int32)}
	var errs []error
	seen := make(map[string]bool)
	for _, raw := range entries {
		p, err := compileEntry(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := strings.Join(p.words, " ")
		if p.prefix {
			key += "*"
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		l.add(p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

func compileEntry(raw string) (pattern, error) {
	refuse := func(reason string) (pattern, error) {
		return pattern{}, &EntryError{Entry: raw, Reason: reason}
	}
	entry := strings.TrimSpace(raw)
	body, prefix := strings.CutSuffix(entry, "*")
	switch {
	case entry == "":
		return refuse("empty")
	case !utf8.ValidString(entry):
		return refuse("not valid UTF-8")
	case utf8.RuneCountInString(entry) > MaxEntryLen:
		return refuse(fmt.Sprintf("longer than %d characters", MaxEntryLen))
	case strings.Contains(body, "*"):
		return refuse("* is only allowed at the end")
	}
	words := Words(body)
	if len(words) == 0 {
		return refuse("has no letters or digits")
	}
	if prefix && !endsInWord(entry) {
		// "foo *" or "foo!*" would make the wildcard match any next word.
		return refuse("* must follow a letter or digit")
	}
	for i, w := range words {
		// Compare in the de-leeted form so that an entry written in
		// leetspeak also catches the plain word, and vice versa.
		words[i], _ = deleet(w)
	}
	return pattern{entry: entry, words: words, prefix: prefix}, nil
}

// endsInWord reports whether the normalized entry has a letter or digit
// right before its final *.
func endsInWord(entry string) bool {
	r, _ := utf8.DecodeLastRuneInString(strings.TrimSuffix(Normalize(entry), "*"))
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func (l *WordList) add(p pattern) {
	id := int32(len(l.patterns))
	l.patterns = append(l.patterns, p)
	first := p.words[0]
	if !p.prefix || len(p.words) > 1 {
		n := l.node(first)
		n.starts = append(n.starts, id)
		return
	}
	n := l.node(first)
	n.prefixes = append(n.prefixes, id)
	l.maxPrefix = max(l.maxPrefix, len(first))
	// Record every shorter prefix so that Match can stop walking a body
	// word as soon as no wildcard can match it any more.
	for i := range first {
		if i > 0 {
			l.node(first[:i]).inner = true
		}
	}
}

func (l *WordList) node(key string) *node {
	i, ok := l.index[key]
	if !ok {
		i = int32(len(l.nodes))
		l.nodes = append(l.nodes, node{})
		l.index[key] = i
	}
	return &l.nodes[i]
}

// Len returns the number of distinct entries in the list.
func (l *WordList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.patterns)
}

// Match returns the entries, as written when compiled (trimmed), that occur
// in words, each once, in the order of their first occurrence; entries that
// start at the same word come in list order. Words should come from Words.
// A word that mixes letters with digits used as letters also matches in its
// de-leeted form, so "1d10t" matches "idiot".
func (l *WordList) Match(words []string) []string {
	ms := l.MatchWords(words)
	if len(ms) == 0 {
		return nil
	}
	found := make([]string, len(ms))
	for i, m := range ms {
		found[i] = m.Entry
	}
	return found
}

// WordMatch is one entry of a list found in a text: the entry and where
// it was first found, as indexes into the words searched.
type WordMatch struct {
	Entry      string
	Start, End int // words[Start:End] matched the entry
}

// MatchWords is Match with the place of each entry's first match, so that
// the moderator can be shown the words the reader wrote rather than the
// entry ("idiots" for "idiot*").
func (l *WordList) MatchWords(words []string) []WordMatch {
	if l == nil || len(l.patterns) == 0 {
		return nil
	}
	var m matches
	for i, w := range words {
		mark := len(m.ids)
		m.pos = i
		l.matchAt(words[i+1:], w, &m)
		if alt, ok := deleet(w); ok {
			l.matchAt(words[i+1:], alt, &m)
		}
		if len(m.ids)-mark > 1 {
			// Entries found at one word are listed in entry order.
			slices.Sort(m.ids[mark:])
		}
	}
	if len(m.ids) == 0 {
		return nil
	}
	found := make([]WordMatch, len(m.ids))
	for i, id := range m.ids {
		start := m.at[id]
		found[i] = WordMatch{Entry: l.patterns[id].entry, Start: start, End: min(start+len(l.patterns[id].words), len(words))}
	}
	return found
}

// matchAt adds the patterns that match at a word w followed by rest.
func (l *WordList) matchAt(rest []string, w string, m *matches) {
	if i, ok := l.index[w]; ok {
		for _, id := range l.nodes[i].starts {
			if l.patterns[id].matchRest(rest) {
				m.add(id)
			}
		}
	}
	// Walk w's prefixes, shortest first, through the prefix set; a missing
	// or final key ends the walk, so a word costs a few lookups at most.
	for end := 1; end <= len(w) && end <= l.maxPrefix; end++ {
		if end < len(w) && !utf8.RuneStart(w[end]) {
			continue
		}
		i, ok := l.index[w[:end]]
		if !ok {
			return
		}
		n := &l.nodes[i]
		for _, id := range n.prefixes {
			m.add(id)
		}
		if !n.inner {
			return
		}
	}
}

// matchRest reports whether the words after a pattern's first word match
// the start of rest.
func (p *pattern) matchRest(rest []string) bool {
	if len(rest) < len(p.words)-1 {
		return false
	}
	for k, want := range p.words[1:] {
		got := rest[k]
		last := p.prefix && k == len(p.words)-2
		if wordIs(got, want, last) {
			continue
		}
		if alt, ok := deleet(got); !ok || !wordIs(alt, want, last) {
			return false
		}
	}
	return true
}

func wordIs(got, want string, prefix bool) bool {
	if prefix {
		return strings.HasPrefix(got, want)
	}
	return got == want
}

// matches collects distinct pattern ids in order of discovery.
type matches struct {
	ids  []int32
	seen map[int32]bool // made on the first match: most comments match nothing
	pos  int            // the word being matched
	at   map[int32]int  // the word where each pattern was first found
}

func (m *matches) add(id int32) {
	if m.seen == nil {
		m.seen = make(map[int32]bool)
		m.at = make(map[int32]int)
	}
	if !m.seen[id] {
		m.seen[id] = true
		m.at[id] = m.pos
		m.ids = append(m.ids, id)
	}
}
