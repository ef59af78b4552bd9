package moderation_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/moderation"
)

func mustCompile(tb testing.TB, entries ...string) *moderation.WordList {
	tb.Helper()
	l, err := moderation.CompileWords(entries)
	if err != nil {
		tb.Fatalf("CompileWords(%q): %v", entries, err)
	}
	return l
}

func TestWordListMatch(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		body    string
		want    []string
	}{
		// Evasions normalization must catch.
		{"exact", []string{"idiot"}, "you idiot", []string{"idiot"}},
		{"case", []string{"idiot"}, "You IDIOT!", []string{"idiot"}},
		{"entry case", []string{"IdIoT"}, "idiot", []string{"IdIoT"}},
		{"accents", []string{"idiot"}, "Ìdiót", []string{"idiot"}},
		{"accented entry", []string{"crétin"}, "CRETIN", []string{"crétin"}},
		{"full width", []string{"idiot"}, "ｉｄｉｏｔ", []string{"idiot"}},
		{"zero width", []string{"idiot"}, "id\u200biot", []string{"idiot"}},
		{"punctuation around", []string{"idiot"}, "(idiot), \"idiot\"...", []string{"idiot"}},
		{"possessive", []string{"idiot"}, "the idiot's plan", []string{"idiot"}},
		{"leetspeak", []string{"idiot"}, "1d10t", []string{"idiot"}},
		{"leet entry", []string{"b1tch"}, "bitch", []string{"b1tch"}},
		{"leet phrase", []string{"shut up"}, "5hut up", []string{"shut up"}},
		{"numbers stay numbers", []string{"ios"}, "105", nil},
		// Innocent words that must not match.
		{"ass in class", []string{"ass"}, "a class act, my assistant, passing", nil},
		{"ass alone", []string{"ass"}, "what an ass", []string{"ass"}},
		{"hell in hello", []string{"hell"}, "hello from the shell, Michelle", nil},
		{"hell alone", []string{"hell"}, "go to hell", []string{"hell"}},
		{"wildcard is a prefix, not infix", []string{"ass*"}, "a class act", nil},
		// Wildcards.
		{"wildcard plural", []string{"idiot*"}, "idiots", []string{"idiot*"}},
		{"wildcard adjective", []string{"idiot*"}, "idiotic", []string{"idiot*"}},
		{"wildcard word itself", []string{"idiot*"}, "idiot", []string{"idiot*"}},
		{"wildcard leet", []string{"idiot*"}, "1d10ts", []string{"idiot*"}},
		{"wildcard non-ASCII", []string{"дура*"}, "ДУРАК", []string{"дура*"}},
		{"wildcard and word both listed", []string{"idiot", "idiot*"}, "idiot", []string{"idiot", "idiot*"}},
		{"short wildcard inside longer", []string{"id*", "idiot*"}, "idiotic", []string{"id*", "idiot*"}},
		// Phrases.
		{"phrase", []string{"shut up"}, "Just SHUT   UP already", []string{"shut up"}},
		{"phrase across punctuation", []string{"shut up"}, "shut. up", []string{"shut up"}},
		{"phrase incomplete", []string{"shut up"}, "shut the door", nil},
		{"phrase at end cut short", []string{"shut up"}, "please shut", nil},
		{"phrase with wildcard", []string{"you idiot*"}, "you idiots", []string{"you idiot*"}},
		{"phrase wildcard needs first word exact", []string{"you idiot*"}, "yours idiots", nil},
		{"phrase overlapping word entry", []string{"you idiot", "idiot"}, "you idiot", []string{"you idiot", "idiot"}},
		{"CJK phrase", []string{"バカ"}, "お前はバカだ", []string{"バカ"}},
		// Results.
		{"order of first appearance", []string{"a1", "b1", "c1"}, "c1 a1 c1 b1", []string{"c1", "a1", "b1"}},
		{"same start in list order", []string{"idiot*", "idiot"}, "idiot", []string{"idiot*", "idiot"}},
		{"duplicates compile to one", []string{"idiot", "IDIOT", " idiot "}, "idiot", []string{"idiot"}},
		{"trimmed as written", []string{"  Idiot  "}, "idiot", []string{"Idiot"}},
		{"empty body", []string{"idiot"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustCompile(t, tt.entries...)
			if got := l.Match(moderation.Words(tt.body)); !slices.Equal(got, tt.want) {
				t.Errorf("entries %q, body %q: Match = %q, want %q", tt.entries, tt.body, got, tt.want)
			}
		})
	}
}

func TestNilWordList(t *testing.T) {
	var l *moderation.WordList
	if got := l.Match([]string{"idiot"}); got != nil {
		t.Errorf("nil list matched %q", got)
	}
	if l.Len() != 0 {
		t.Errorf("nil list Len = %d", l.Len())
	}
}

func TestCompileWordsInvalid(t *testing.T) {
	long := strings.Repeat("a", moderation.MaxEntryLen+1)
	tests := []struct {
		entry, reason string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"*", "has no letters or digits"},
		{"**", "* is only allowed at the end"},
		{"*idiot", "* is only allowed at the end"},
		{"id*iot", "* is only allowed at the end"},
		{"idiot**", "* is only allowed at the end"},
		{"you *", "* must follow a letter or digit"},
		{"idiot.*", "* must follow a letter or digit"},
		{"!!!", "has no letters or digits"},
		{long, "longer than 100 characters"},
		{"id\xffiot", "not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := moderation.CompileWords([]string{"fine", tt.entry})
		var e *moderation.EntryError
		if !errors.As(err, &e) {
			t.Errorf("CompileWords(%q) = %v, want an *EntryError", tt.entry, err)
			continue
		}
		if e.Entry != tt.entry || e.Reason != tt.reason {
			t.Errorf("CompileWords(%q): error for %q %q, want reason %q", tt.entry, e.Entry, e.Reason, tt.reason)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.entry)) {
			t.Errorf("error %q does not name the entry %q", err, tt.entry)
		}
	}

	// Every bad entry is reported, not only the first.
	_, err := moderation.CompileWords([]string{"*a", "ok", "b*c"})
	if err == nil || !strings.Contains(err.Error(), `"*a"`) || !strings.Contains(err.Error(), `"b*c"`) {
		t.Errorf("two bad entries: error %v, want both named", err)
	}
	// The limit counts characters, not bytes.
	if _, err := moderation.CompileWords([]string{strings.Repeat("é", moderation.MaxEntryLen)}); err != nil {
		t.Errorf("%d accented letters: %v", moderation.MaxEntryLen, err)
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("idiot\nidiot*\nshut up", "You IDIOT, shut up!")
	f.Add("ass\nhell*", "a class act from the shell")
	f.Add("you idiot*\n1d10t", "y0u 1d10ts")
	f.Add("バカ\nдура*", "お前はバカだ ДУРАК")
	f.Add("*\na*b\n \n!!", "")
	f.Add("é*\nß", "ÉTÉ STRASSE ẞ")
	f.Fuzz(func(t *testing.T, list, body string) {
		entries := strings.Split(list, "\n")
		l, err := moderation.CompileWords(entries)
		if err != nil {
			return // invalid lists are refused with an error, which is all we need
		}
		got := l.Match(moderation.Words(body))
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m] || !containsTrimmed(entries, m) {
				t.Fatalf("Match returned %q: duplicate or not an entry of %q", m, entries)
			}
			seen[m] = true
		}
		// Every entry matches its own text.
		for _, e := range entries {
			e = strings.TrimSpace(e)
			if got := l.Match(moderation.Words(strings.TrimSuffix(e, "*"))); len(got) == 0 {
				t.Fatalf("entry %q does not match its own text", e)
			}
		}
	})
}

func containsTrimmed(entries []string, m string) bool {
	return slices.ContainsFunc(entries, func(e string) bool { return strings.TrimSpace(e) == m })
}

// benchList returns n generated entries, a tenth of them wildcards and a
// tenth phrases, and a comment body of about size bytes that contains a few
// of them among ordinary words.
func benchList(n, size int) (entries []string, body string) {
	r := rand.New(rand.NewPCG(1, 2))
	syllables := strings.Fields("ba ko ri su te mo na pi lu de ga vo zi ta ne ro ki")
	word := func() string {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		return b.String()
	}
	for i := range n {
		switch i % 10 {
		case 0:
			entries = append(entries, word()+"*")
		case 1:
			entries = append(entries, word()+" "+word())
		default:
			entries = append(entries, word())
		}
	}
	text := strings.Fields(`I think the council has made the wrong decision here. The new bus
		lanes will not help anyone who lives outside the centre, and the article does not say
		where the money comes from. My neighbours and I wrote to the mayor twice last year
		and never got an answer. Classes at the school were cancelled again because of the
		heating, and the assistant head said there is no budget left. Hello to everyone who
		came to the meeting on Tuesday; the shell of the old library is still standing empty.`)
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		if i%50 == 49 {
			b.WriteString(strings.TrimSuffix(entries[r.IntN(n)], "*"))
		} else {
			b.WriteString(text[i%len(text)])
		}
		b.WriteByte(' ')
	}
	return entries, b.String()[:size]
}

func BenchmarkWordListMatch(b *testing.B) {
	entries, _ := benchList(10_000, 0)
	l := mustCompile(b, entries...)
	for _, size := range []int{1_000, 5_000} {
		_, body := benchList(10_000, size)
		words := moderation.Words(body)
		b.Run(fmt.Sprintf("match/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				l.Match(words)
			}
		})
		// What Assess pays per list: splitting the body into normalized
		// words (done once for both lists) and matching.
		b.Run(fmt.Sprintf("words+match/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				l.Match(moderation.Words(body))
			}
		})
		accented := strings.NewReplacer("e", "é", "a", "à").Replace(body)
		b.Run(fmt.Sprintf("words+match/accented/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(len(accented)))
			for b.Loop() {
				l.Match(moderation.Words(accented))
			}
		})
	}
}

func BenchmarkCompileWords(b *testing.B) {
	entries, _ := benchList(10_000, 0)
	for b.Loop() {
		if _, err := moderation.CompileWords(entries); err != nil {
			b.Fatal(err)
		}
	}
}
