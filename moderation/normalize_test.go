package moderation_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/parley/parley/moderation"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "idiot", "idiot"},
		{"upper", "IDIOT", "idiot"},
		{"accents", "Ìdiót", "idiot"},
		{"full width", "ｉｄｉｏｔ", "idiot"},
		{"full width upper", "ＩＤＩＯＴ", "idiot"},
		{"combining marks", "i\u0301d\u0308iot", "idiot"},
		{"zero width space", "id\u200biot", "idiot"},
		{"soft hyphen", "idi\u00adot", "idiot"},
		{"ligature", "ﬁne", "fine"},
		{"sharp s", "Straße", "strasse"},
		{"dotted capital I", "İstanbul", "istanbul"},
		{"final sigma", "ΟΔΟΣ", "οδοσ"},
		{"math bold", "𝐢𝐝𝐢𝐨𝐭", "idiot"},
		{"circled", "ⓘⓓⓘⓞⓣ", "idiot"},
		{"superscript digit", "x²", "x2"},
		{"collapse spaces", "  you \t\n idiot  ", "you idiot"},
		{"no-break and ideographic spaces", "you\u00a0\u3000idiot", "you idiot"},
		{"controls dropped", "id\x00iot\x7f", "idiot"},
		{"invalid UTF-8 dropped", "id\xffiot", "idiot"},
		{"hangul kept composed", "바보", "바보"},
		{"cyrillic", "ДУРАК", "дурак"},
		{"empty", "", ""},
		{"only spaces", " \t ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := moderation.Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"You are an IDIOT!", []string{"you", "are", "an", "idiot"}},
		{"idiot's", []string{"idiot", "s"}},
		{"f.o.o", []string{"f", "o", "o"}},
		{"1d10t, 2024", []string{"1d10t", "2024"}},
		{"naïve café—crème", []string{"naive", "cafe", "creme"}},
		{"https://www.Example.com/a", []string{"https", "www", "example", "com", "a"}},
		{"バカだ", []string{"バ", "カ", "だ"}}, // voicing marks stay: they change the word
		{"中文abc", []string{"中", "文", "abc"}},
		{"हिन्दी", []string{"हिन्दी"}}, // spacing marks (Mc) stay inside the word
		{"", []string{}},
		{"!!! ...", []string{}},
	}
	for _, tt := range tests {
		if got := moderation.Words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "idiot", "Ìdiót", "ＩＤＩＯＴ", "  a  b  ", "İ", "ß", "ς", "ﬃ", "\u0301", "a\u0301\u0302",
		"바보", "ᄀ\u1161", "हिन्दी", "ｶﾞ", "x\u00a8y", "\xff\xfe", "Ǆ", "ᾼ", "ΐ", "\u1e9e", "Ꭰꭰ",
		"id\u200biot", "\u0345", "ǰ", "ﬀ", "㎒", "ﷺ", "ﾟ", "\u0f77", "\U0001d400",
		"क\u094d\u093c", "क" + strings.Repeat("\u093c\u094d", 40), "e" + strings.Repeat("\u0301", 40),
		"가\u11a8", "ǅ\u0323\u0307", "\u0958\u093c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := moderation.Normalize(s)
		if nn := moderation.Normalize(n); nn != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize of that = %q", s, n, nn)
		}
		// Rune-by-rune decomposition must give what decomposing the whole
		// string first gives, whatever form the input is in.
		for _, form := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD} {
			if got := moderation.Normalize(form.String(s)); got != n {
				t.Fatalf("Normalize(%q) = %q, but of its %v form %q", s, n, form, got)
			}
		}
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if strings.TrimSpace(n) != n || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q: spaces not collapsed", s, n)
		}
		// The ASCII fast path must agree with the full pipeline: an accented
		// letter in front forces the slow path and must only lose its accent.
		if isASCII(s) {
			if slow, fast := moderation.Normalize("é "+s), moderation.Normalize("e "+s); slow != fast {
				t.Fatalf("fast path %q and slow path %q disagree on %q", fast, slow, s)
			}
		}
		for _, w := range moderation.Words(s) {
			if w == "" || strings.ContainsRune(w, ' ') {
				t.Fatalf("Words(%q) has word %q", s, w)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
