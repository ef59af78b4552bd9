package moderation

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns s in the form the word lists, the classifier and the
// repeated-text check compare: compatibility-normalized (NFKC, so full-width
// "ｉｄｉｏｔ" and ligatures like "ﬁ" become plain letters), case-folded,
// without accents, without invisible format characters (zero-width spaces,
// soft hyphens), and with every run of white space turned into one space and
// none at either end. Invalid UTF-8 bytes are dropped.
//
// Accents are stripped in Latin, Greek and Cyrillic, and vowel points in
// Arabic and Hebrew, where writers commonly omit them. Marks in other scripts
// (the virama of Devanagari, Thai vowels) are part of the spelling and stay.
//
// The result is meant for matching only, never for display: "Ìdiót",
// "ＩＤＩＯＴ" and "id\u200biot" all normalize to "idiot", and
// Normalize(Normalize(s)) == Normalize(s) for every s.
//
// Normalize does not undo leetspeak ("1d10t"): digits are meaningful in
// ordinary text, so that mapping is applied only where a word list compares
// words (see WordList.Match).
func Normalize(s string) string {
	n := normalizer{b: make([]byte, 0, len(s))}
	if isASCII(s) {
		// Most comments are plain ASCII, for which NFKC is the identity and
		// case folding is lower-casing: skip x/text altogether.
		for i := 0; i < len(s); i++ {
			n.ascii(s[i])
		}
		return string(n.b)
	}
	s = strings.ToValidUTF8(s, "")
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			n.ascii(c)
			i++
			continue
		}
		// Decompose so that accents become separate marks we can drop and
		// compatibility characters (full width, ligatures) plain letters.
		// Rune by rune, from the table norm.NFKD.String would use, because
		// that is several times faster; the canonical reordering of marks
		// it would also do is left to the NFC pass below, since the order
		// of marks we drop does not matter.
		r, size := utf8.DecodeRuneInString(s[i:])
		if d := norm.NFKD.PropertiesString(s[i:]).Decomposition(); d != nil {
			for len(d) > 0 {
				dr, n2 := utf8.DecodeRune(d)
				n.rune(dr)
				d = d[n2:]
			}
		} else {
			n.rune(r)
		}
		i += size
	}
	// Recompose what is left (Hangul, the marks kept), so that the output is
	// NFKC and unchanged by a second pass.
	return norm.NFC.String(string(n.b))
}

// maxMarks is how many combining marks one letter may keep, as in Unicode's
// Stream-Safe Text Format. Beyond it x/text inserts U+034F (combining
// grapheme joiner) at places that depend on the form of its input, which
// would make Normalize depend on it too.
const maxMarks = 30

// normalizer builds the output of Normalize from decomposed runes.
type normalizer struct {
	b       []byte
	space   bool // a space is pending: written only before the next kept rune
	base    rune // the last rune written, to which a combining mark attaches
	baseEnd int  // len(b) after base: where its marks begin
	marks   int  // marks seen after base
}

func (n *normalizer) ascii(c byte) {
	switch {
	case c == ' ' || '\t' <= c && c <= '\r':
		n.space = len(n.b) > 0
		n.base = ' '
		return
	case c < ' ' || c == 0x7f:
		return // control characters: invisible, they only serve evasion
	case 'A' <= c && c <= 'Z':
		c += 'a' - 'A'
	}
	n.write(rune(c))
}

func (n *normalizer) rune(r rune) {
	switch {
	case r < utf8.RuneSelf:
		n.ascii(byte(r))
	case unicode.IsSpace(r):
		n.ascii(' ')
	case r == '\u034f' || unicode.In(r, unicode.Cf, unicode.Cc):
		// Invisible (zero-width space, soft hyphen, grapheme joiner):
		// they only serve to split a word for evasion.
	case unicode.In(r, unicode.Mn, unicode.Me):
		n.mark(r)
	default:
		// ToLower(ToUpper(r)) is simple case folding ("ς" and "Σ" both
		// become "σ"). cases.Fold of x/text is not used: it maps Cherokee
		// U+13A0 and U+AB70 to each other, so it is not idempotent.
		f := unicode.ToLower(unicode.ToUpper(r))
		if f == 'ß' {
			// The one full case folding that NFKD has not already done
			// by splitting ligatures.
			n.write('s')
			f = 's'
		}
		n.write(f)
	}
}

func (n *normalizer) write(r rune) {
	if n.space {
		n.b = append(n.b, ' ')
		n.space = false
	}
	n.b = utf8.AppendRune(n.b, r)
	n.base, n.baseEnd, n.marks = r, len(n.b), 0
}

// mark writes a combining mark unless it is optional. A letter with more
// than maxMarks marks is garbage ("Zalgo" text) and loses all of them, not
// only the last: which ones come first depends on the form of the input.
func (n *normalizer) mark(r rune) {
	if n.optionalMark() {
		return
	}
	if n.marks++; n.marks > maxMarks {
		n.b = n.b[:n.baseEnd]
		return
	}
	n.b = utf8.AppendRune(n.b, r) // after a letter, so no space is pending
}

// optionalMark reports whether a combining mark after the last rune written
// is an accent to drop: one on a letter of a script whose readers omit
// accents, or one attached to no letter at all ("Zalgo" text on spaces).
func (n *normalizer) optionalMark() bool {
	return !unicode.IsLetter(n.base) ||
		unicode.In(n.base, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Words returns the words of Normalize(s): maximal runs of letters, digits
// and the combining marks Normalize keeps, in order, duplicates kept. Punctuation and spaces
// separate words, so "idiot's" gives "idiot" and "s", and "f.o.o" gives
// "f", "o" and "o". Chinese and Japanese are written without spaces, so every
// Han, Hiragana or Katakana character is a word of its own; a word list entry
// in those scripts then matches as a phrase of characters.
func Words(s string) []string {
	s = Normalize(s)
	words := make([]string, 0, len(s)/5+1)
	start := -1 // where the current word began, or -1 between words
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case isSingleRuneWord(r):
			if start >= 0 {
				words = append(words, s[start:i])
			}
			words = append(words, s[i:i+size])
			start = -1
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0:
			words = append(words, s[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func isSingleRuneWord(r rune) bool {
	return r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// deleet maps the digits leetspeak uses for letters ("1d10t", "b1tch") to
// those letters. It applies only to words that mix letters and such digits:
// numbers stay numbers, and the few real words it changes ("mp3", "4th")
// matter only if the changed form is itself on a list. 1 becomes i, not l,
// because that is the commoner substitution in abuse.
func deleet(w string) (string, bool) {
	letter, digit := false, false
	for _, r := range w {
		switch {
		case leet(r) != r:
			digit = true
		case unicode.IsLetter(r):
			letter = true
		}
	}
	if !letter || !digit {
		return w, false
	}
	return strings.Map(leet, w), true
}

func leet(r rune) rune {
	switch r {
	case '0':
		return 'o'
	case '1':
		return 'i'
	case '3':
		return 'e'
	case '4':
		return 'a'
	case '5':
		return 's'
	case '7':
		return 't'
	}
	return r
}

// WrittenWords returns Words(s) and, for each word, the text the writer
// typed for it ("Idiots!" → "idiots" written "Idiots"), so that a
// moderator is shown what the reader wrote rather than its normal form.
// Where a word cannot be traced to one piece of s (normalizing joined or
// split it), its normal form stands in.
func WrittenWords(s string) (words, written []string) {
	words = Words(s)
	written = slices.Clone(words)
	var traced []string
	var from []string
	for _, tok := range strings.Fields(s) {
		ws := Words(tok)
		for _, w := range ws {
			traced = append(traced, w)
			if len(ws) == 1 {
				from = append(from, strings.TrimFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }))
			} else {
				from = append(from, w)
			}
		}
	}
	if slices.Equal(traced, words) {
		for i, f := range from {
			if f != "" {
				written[i] = f
			}
		}
	}
	return words, written
}
