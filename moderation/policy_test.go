package moderation_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parley/parley/moderation"
)

func TestAssess(t *testing.T) {
	base := moderation.Settings{
		Mode:                   moderation.ModePost,
		FirstTimeApproved:      1,
		BannedWords:            mustCompile(t, "idiot", "shut up", "moron*"),
		SuspectWords:           mustCompile(t, "stupid", "liar*"),
		MaxLinks:               2,
		ClassifierMinDecisions: 50,
		ClassifierSpam:         0.95,
		ClassifierHold:         0.7,
		RejectMinDecisions:     30,
	}
	with := func(f func(*moderation.Settings)) moderation.Settings {
		s := base
		f(&s)
		return s
	}
	const ok = "I enjoyed this article, thank you."
	reason := func(rule string, v moderation.Verdict, detail string) moderation.Reason {
		return moderation.Reason{Rule: rule, Detail: detail, Verdict: v}
	}
	tests := []struct {
		name     string
		settings moderation.Settings
		facts    moderation.Facts
		verdict  moderation.Verdict
		reasons  []moderation.Reason
	}{
		{"nothing holds it", base, moderation.Facts{Body: ok}, moderation.Allow, nil},
		{"zero settings allow", moderation.Settings{}, moderation.Facts{Body: ok}, moderation.Allow, nil},

		{"banned word", base, moderation.Facts{Body: "You IDIOT."}, moderation.Reject,
			[]moderation.Reason{reason(moderation.RuleBannedWords, moderation.Reject, "banned word: IDIOT")}},
		{"banned words listed in order", base, moderation.Facts{Body: "morons, shut up, you idiot"}, moderation.Reject,
			[]moderation.Reason{reason(moderation.RuleBannedWords, moderation.Reject, "banned words: morons (moron*), shut up, idiot")}},
		{"banned word in author name", base, moderation.Facts{Body: ok, Author: "Idiot Detector"}, moderation.Reject,
			[]moderation.Reason{reason(moderation.RuleBannedWords, moderation.Reject, "banned word in author name: Idiot")}},
		{"banned word evaded with accents and width", base, moderation.Facts{Body: "ｙｏｕ Ìdiót"}, moderation.Reject,
			[]moderation.Reason{reason(moderation.RuleBannedWords, moderation.Reject, "banned word: Ìdiót (idiot)")}},
		{"innocent words", with(func(s *moderation.Settings) {
			s.BannedWords = mustCompile(t, "ass", "hell")
		}), moderation.Facts{Body: "Hello, my assistant missed the class in the shell company."}, moderation.Allow, nil},

		{"banned email", base, moderation.Facts{Body: ok, Ban: &moderation.BanFact{Kind: "email", Reason: "abuse"}}, moderation.Spam,
			[]moderation.Reason{reason(moderation.RuleBannedIdentity, moderation.Spam, "banned email: abuse")}},
		{"shadow banned ip", base, moderation.Facts{Body: ok, Ban: &moderation.BanFact{Kind: "ip", Shadow: true}}, moderation.Spam,
			[]moderation.Reason{reason(moderation.RuleBannedIdentity, moderation.Spam, "banned ip (shadow)")}},

		{"repeated text", base, moderation.Facts{Body: ok, SameBodyRecent: true}, moderation.Spam,
			[]moderation.Reason{reason(moderation.RuleRepeatedText, moderation.Spam, "same text posted in the last 24 hours")}},

		{"classifier sure", base, moderation.Facts{Body: ok, SpamProbability: 0.978, ClassifierDecisions: 50}, moderation.Spam,
			[]moderation.Reason{reason(moderation.RuleClassifier, moderation.Spam, "classifier: 0.97 spam")}},
		{"classifier unsure", base, moderation.Facts{Body: ok, SpamProbability: 0.949, ClassifierDecisions: 80}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleClassifier, moderation.Hold, "classifier: 0.94 spam")}},
		{"classifier at hold threshold", base, moderation.Facts{Body: ok, SpamProbability: 0.7, ClassifierDecisions: 80}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleClassifier, moderation.Hold, "classifier: 0.70 spam")}},
		{"classifier below thresholds", base, moderation.Facts{Body: ok, SpamProbability: 0.69, ClassifierDecisions: 80}, moderation.Allow, nil},
		{"classifier still learning", base, moderation.Facts{Body: ok, SpamProbability: 0.99, ClassifierDecisions: 12}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleClassifier, moderation.Allow, "classifier: 0.99 spam, not trusted yet (12 of 50 decisions)")}},
		{"classifier learning and calm", base, moderation.Facts{Body: ok, SpamProbability: 0.5, ClassifierDecisions: 12}, moderation.Allow, nil},
		{"classifier disabled", moderation.Settings{}, moderation.Facts{Body: ok, SpamProbability: 1}, moderation.Allow, nil},

		{"suspect word", base, moderation.Facts{Body: "What a stupid idea."}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleSuspectWords, moderation.Hold, "suspect word: stupid")}},
		{"suspect wildcard in name", base, moderation.Facts{Body: ok, Author: "Liars Club"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleSuspectWords, moderation.Hold, "suspect word in author name: Liars (liar*)")}},

		{"links at the limit", base, moderation.Facts{Body: "See https://a.example and www.b.example."}, moderation.Allow, nil},
		{"too many links", base, moderation.Facts{Body: "https://a.example http://b.example www.c.example"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleLinks, moderation.Hold, "3 links, limit 2")}},
		{"no links allowed", with(func(s *moderation.Settings) { s.MaxLinks = 0 }), moderation.Facts{Body: "www.a.example"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleLinks, moderation.Hold, "1 link, limit 0")}},
		{"links unlimited", with(func(s *moderation.Settings) { s.MaxLinks = -1 }), moderation.Facts{Body: strings.Repeat("www.a.example ", 9)}, moderation.Allow, nil},

		{"posting rate default", base, moderation.Facts{Body: ok, RecentByAuthor: 5}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RulePostingRate, moderation.Hold, "6 comments in a minute, limit 5")}},
		{"posting rate under default", base, moderation.Facts{Body: ok, RecentByAuthor: 4}, moderation.Allow, nil},
		{"posting rate custom", with(func(s *moderation.Settings) { s.MaxPerMinute = 2 }), moderation.Facts{Body: ok, RecentByAuthor: 2}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RulePostingRate, moderation.Hold, "3 comments in a minute, limit 2")}},
		{"posting rate unlimited", with(func(s *moderation.Settings) { s.MaxPerMinute = -1 }), moderation.Facts{Body: ok, RecentByAuthor: 99}, moderation.Allow, nil},

		{"shouting", base, moderation.Facts{Body: "THIS IS THE WORST ARTICLE I HAVE EVER READ"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleShouting, moderation.Hold, "mostly capitals (34 of 34 letters)")}},
		{"short caps are fine", base, moderation.Facts{Body: "NATO and the EU agree. OK?"}, moderation.Allow, nil},
		{"some caps are fine", base, moderation.Facts{Body: "The BBC and the NHS said THE SAME THING yesterday."}, moderation.Allow, nil},
		{"repeated character", base, moderation.Facts{Body: "Wow!!!!!!!!!!"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleShouting, moderation.Hold, `'!' repeated 10 times`)}},
		{"repeated letter", base, moderation.Facts{Body: "Nooooooooooo"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleShouting, moderation.Hold, `'o' repeated 11 times`)}},
		{"separators are not shouting", base, moderation.Facts{Body: "Agreed.\n----------------------\n=====================\n*********************\n____________________\n~~~~~~~~~~~~~~~~~~~~\n-- \nAnna"}, moderation.Allow, nil},
		{"quoting is not shouting", base, moderation.Facts{Body: ">>>>>>>>>>>> WHO WROTE THIS HEADLINE AND WHY IS IT IN CAPITALS\n>>>>>>>>>> THE EDITOR\nNobody, it is the house style."}, moderation.Allow, nil},
		{"acronyms and tickers are not shouting", base, moderation.Facts{Body: "NATO, the EU, the WHO and the CDC on COVID-19; AAPL, MSFT and TSLA fell, GOOG rose: USA, UK, DE, FR, ES."}, moderation.Allow, nil},
		{"capitals past the acronyms", base, moderation.Facts{Body: "NATO SHOULD NEVER HAVE AGREED TO THIS TERRIBLE DEAL"}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleShouting, moderation.Hold, "mostly capitals (43 of 43 letters)")}},
		{"one weak rule does not hold what the classifier trusts", base, moderation.Facts{Body: "https://a.example http://b.example www.c.example", SpamProbability: 0.3, ClassifierDecisions: 100}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleLinks, moderation.Allow, "3 links, limit 2; not held: the classifier rates it 0.30 spam")}},
		{"one weak rule holds what the classifier doubts", base, moderation.Facts{Body: "https://a.example http://b.example www.c.example", SpamProbability: 0.5, ClassifierDecisions: 100}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleLinks, moderation.Hold, "3 links, limit 2")}},
		{"two weak rules hold more", base, moderation.Facts{Body: "https://a.example http://b.example www.c.example", RecentByAuthor: 5, SpamProbability: 0.3, ClassifierDecisions: 100}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleLinks, moderation.Hold, "3 links, limit 2"), reason(moderation.RulePostingRate, moderation.Hold, "6 comments in a minute, limit 5")}},
		{"first-time commenter the classifier trusts", with(func(s *moderation.Settings) { s.Mode = moderation.ModeFirstTime }), moderation.Facts{Body: ok, SpamProbability: 0.01, ClassifierDecisions: 100}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleMode, moderation.Allow, "first-time commenter (0 of 1 approved comments); not held: the classifier rates it 0.01 spam")}},
		{"nine repeats are fine", base, moderation.Facts{Body: "Sooooooooo good"}, moderation.Allow, nil},
		{"repeated digits and spaces are fine", base, moderation.Facts{Body: "It cost 10000000000 euros.            Really."}, moderation.Allow, nil},

		{"reject model learning", base, moderation.Facts{Body: ok, RejectProbability: 0.97, RejectDecisions: 3, HamDecisions: 40, RejectWords: []string{"moron"}}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleRejectModel, moderation.Allow, "reject model: 0.97 likely rejected, not trusted yet (3 rejected and 40 approved of 30 each); words: moron")}},
		{"reject model sure", with(func(s *moderation.Settings) { s.RejectHold = 0.9 }), moderation.Facts{Body: ok, RejectProbability: 0.93, RejectDecisions: 30, HamDecisions: 30, RejectWords: []string{"moron", "shut"}}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleRejectModel, moderation.Hold, "reject model: 0.93 likely rejected; words: moron, shut")}},
		{"reject model below its threshold", with(func(s *moderation.Settings) { s.RejectHold = 0.95 }), moderation.Facts{Body: ok, RejectProbability: 0.93, RejectDecisions: 30, HamDecisions: 30}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleRejectModel, moderation.Allow, "reject model: 0.93 likely rejected")}},
		{"reject model off", base, moderation.Facts{Body: ok, RejectProbability: 0.99, RejectDecisions: 300, HamDecisions: 300}, moderation.Allow,
			[]moderation.Reason{reason(moderation.RuleRejectModel, moderation.Allow, "reject model: 0.99 likely rejected")}},
		{"reject model calm", base, moderation.Facts{Body: ok, RejectProbability: 0.2, RejectDecisions: 300, HamDecisions: 300}, moderation.Allow, nil},

		{"pre-moderation", with(func(s *moderation.Settings) { s.Mode = moderation.ModePre }), moderation.Facts{Body: ok, AuthorApproved: 40}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleMode, moderation.Hold, "pre-moderation")}},
		{"first-time commenter", with(func(s *moderation.Settings) { s.Mode = moderation.ModeFirstTime }), moderation.Facts{Body: ok}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleMode, moderation.Hold, "first-time commenter (0 of 1 approved comments)")}},
		{"returning commenter", with(func(s *moderation.Settings) { s.Mode = moderation.ModeFirstTime }), moderation.Facts{Body: ok, AuthorApproved: 1}, moderation.Allow, nil},
		{"unknown mode fails closed", with(func(s *moderation.Settings) { s.Mode = "later" }), moderation.Facts{Body: ok}, moderation.Hold,
			[]moderation.Reason{reason(moderation.RuleMode, moderation.Hold, `unknown moderation mode "later"`)}},

		{"strongest wins, every reason kept, strongest first", with(func(s *moderation.Settings) { s.Mode = moderation.ModePre }), moderation.Facts{
			Body:            "STUPID IDIOT, BUY NOW AT HTTPS://A.EXAMPLE HTTPS://B.EXAMPLE WWW.C.EXAMPLE!!!!!!!!!!",
			SameBodyRecent:  true,
			SpamProbability: 0.8, ClassifierDecisions: 100,
		}, moderation.Reject, []moderation.Reason{
			reason(moderation.RuleBannedWords, moderation.Reject, "banned word: IDIOT"),
			reason(moderation.RuleRepeatedText, moderation.Spam, "same text posted in the last 24 hours"),
			reason(moderation.RuleClassifier, moderation.Hold, "classifier: 0.80 spam"),
			reason(moderation.RuleSuspectWords, moderation.Hold, "suspect word: STUPID"),
			reason(moderation.RuleLinks, moderation.Hold, "3 links, limit 2"),
			reason(moderation.RuleShouting, moderation.Hold, `'!' repeated 10 times`),
			reason(moderation.RuleMode, moderation.Hold, "pre-moderation"),
		}},
		{"spam beats hold", with(func(s *moderation.Settings) { s.Mode = moderation.ModePre }), moderation.Facts{Body: ok, Ban: &moderation.BanFact{Kind: "reader"}}, moderation.Spam,
			[]moderation.Reason{
				reason(moderation.RuleBannedIdentity, moderation.Spam, "banned reader"),
				reason(moderation.RuleMode, moderation.Hold, "pre-moderation"),
			}},
		{"informational reason does not hold", with(func(s *moderation.Settings) { s.Mode = moderation.ModePre }), moderation.Facts{
			Body: ok, SpamProbability: 0.99, ClassifierDecisions: 1,
		}, moderation.Hold, []moderation.Reason{
			reason(moderation.RuleMode, moderation.Hold, "pre-moderation"),
			reason(moderation.RuleClassifier, moderation.Allow, "classifier: 0.99 spam, not trusted yet (1 of 50 decisions)"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := moderation.Assess(tt.settings, tt.facts)
			if got.Verdict != tt.verdict || !slices.Equal(brief(got.Reasons), brief(tt.reasons)) {
				t.Errorf("Assess = %v %q\nwant     %v %q", got.Verdict, brief(got.Reasons), tt.verdict, brief(tt.reasons))
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		v            moderation.Verdict
		name, status string
	}{
		{moderation.Allow, "allow", "approved"},
		{moderation.Hold, "hold", "pending"},
		{moderation.Spam, "spam", "spam"},
		{moderation.Reject, "reject", "rejected"},
	}
	for i, tt := range tests {
		if tt.v != moderation.Verdict(i) {
			t.Errorf("%s = %d, want the order allow < hold < spam < reject", tt.name, tt.v)
		}
		if tt.v.String() != tt.name || tt.v.Status() != tt.status {
			t.Errorf("%d: String %q Status %q, want %q %q", int(tt.v), tt.v, tt.v.Status(), tt.name, tt.status)
		}
		if p, err := moderation.ParseVerdict(tt.name); err != nil || p != tt.v {
			t.Errorf("ParseVerdict(%q) = %v, %v", tt.name, p, err)
		}
	}
	if s := moderation.Verdict(9).String(); s != "Verdict(9)" {
		t.Errorf("invalid verdict String = %q", s)
	}
	if _, err := moderation.ParseVerdict("approve"); err == nil {
		t.Error("ParseVerdict(approve) succeeded")
	}
}

func TestReasonJSON(t *testing.T) {
	in := []moderation.Reason{{Rule: moderation.RuleSuspectWords, Detail: "suspect word: idiot", Verdict: moderation.Hold}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"rule":"suspect_words","detail":"suspect word: idiot","verdict":"hold"}]`
	if string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
	var out []moderation.Reason
	if err := json.Unmarshal(data, &out); err != nil || !slices.Equal(brief(out), brief(in)) {
		t.Errorf("Unmarshal = %v, %v, want %v", out, err, in)
	}
	for _, bad := range []string{`{"verdict":"maybe"}`, `{"verdict":1}`} {
		var r moderation.Reason
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("Unmarshal(%s) succeeded: %+v", bad, r)
		}
	}
	if _, err := json.Marshal(moderation.Verdict(-1)); err == nil {
		t.Error("Marshal of an invalid verdict succeeded")
	}
}

func TestMode(t *testing.T) {
	for _, mode := range []moderation.Mode{moderation.ModePre, moderation.ModeFirstTime, moderation.ModePost} {
		if !mode.Valid() {
			t.Errorf("%q not valid", mode)
		}
	}
	for _, mode := range []moderation.Mode{"", "Post", "never"} {
		if mode.Valid() {
			t.Errorf("%q valid", mode)
		}
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		body    string
		links   []string
		domains []string
	}{
		{"no links here, just a.example", nil, nil},
		{"see https://news.example/a?b=c#d.", []string{"https://news.example/a?b=c#d"}, []string{"news.example"}},
		{"HTTP://Shout.Example and www.Casino.example/x", []string{"HTTP://Shout.Example", "www.Casino.example/x"},
			[]string{"shout.example", "casino.example"}},
		{"https://www.x.example counts once", []string{"https://www.x.example"}, []string{"x.example"}},
		{"(www.a.example), <http://b.example:8080/>", []string{"www.a.example", "http://b.example:8080/"},
			[]string{"a.example", "b.example"}},
		{"two to one host: https://a.example/1 https://A.example/2", []string{"https://a.example/1", "https://A.example/2"},
			[]string{"a.example"}},
		{"user info tricks: http://bank.example@evil.example/", []string{"http://bank.example@evil.example/"},
			[]string{"evil.example"}},
		{"inside words: awww.nope, xhttp://nope, a/www.nope", nil, nil},
		{"after punctuation:https://a.example ,www.b.example", []string{"https://a.example", "www.b.example"},
			[]string{"a.example", "b.example"}},
		{"bare prefixes: http:// www. https://", nil, nil},
	}
	for _, tt := range tests {
		if got := moderation.Links(tt.body); !slices.Equal(got, tt.links) {
			t.Errorf("Links(%q) = %q, want %q", tt.body, got, tt.links)
		}
		if got := moderation.LinkDomains(tt.body); !slices.Equal(got, tt.domains) {
			t.Errorf("LinkDomains(%q) = %q, want %q", tt.body, got, tt.domains)
		}
	}
}

// TestAssessPure checks that Assess leaves its inputs alone, so one Settings
// can serve every request.
func TestAssessPure(t *testing.T) {
	s := moderation.Settings{BannedWords: mustCompile(t, "idiot")}
	f := moderation.Facts{Body: "idiot"}
	a, b := moderation.Assess(s, f), moderation.Assess(s, f)
	if !reflect.DeepEqual(a.Reasons, b.Reasons) || a.Verdict != b.Verdict {
		t.Errorf("two calls differ: %v, %v", a, b)
	}
}

// BenchmarkAssess is the whole policy on a 5,000-character and a
// 1,000-character comment against 10,000 listed words (5,000 banned,
// 5,000 suspect): the target is 50 µs per KB.
func BenchmarkAssess(b *testing.B) {
	for _, size := range []int{1_000, 5_000} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchAssess(b, size) })
	}
}

func benchAssess(b *testing.B, size int) {
	entries, body := benchList(10_000, size)
	s := moderation.Settings{
		BannedWords:  mustCompile(b, entries[:5_000]...),
		SuspectWords: mustCompile(b, entries[5_000:]...),
		MaxLinks:     2,
	}
	f := moderation.Facts{Body: body, Author: "A. Reader"}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		moderation.Assess(s, f)
	}
}

// brief is what a test compares of reasons: rule, verdict and detail.
func brief(rs []moderation.Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Rule + " " + r.Verdict.String() + ": " + r.Detail
	}
	return out
}

// TestReasonMatched checks that a reason carries the text the reader wrote,
// not the list's entry, and the classifier's reason its strongest words.
func TestReasonMatched(t *testing.T) {
	s := moderation.Settings{SuspectWords: mustCompile(t, "idiot*", "shut up"), MaxLinks: 0, ClassifierMinDecisions: 1, ClassifierHold: 0.5}
	a := moderation.Assess(s, moderation.Facts{
		Body: "Only IDIOTS would say that. Shut   Up! See https://example.org/x.", Author: "Idiotic Name",
		SpamProbability: 0.9, ClassifierDecisions: 10, SpamWords: []string{"idiots", "domain:example.org"},
	})
	got := map[string][]string{}
	for _, r := range a.Reasons {
		got[r.Rule+" "+r.Detail] = r.Matched
	}
	want := map[string][]string{
		"suspect_words suspect words: IDIOTS (idiot*), Shut Up":       {"IDIOTS", "Shut Up"},
		"suspect_words suspect word in author name: Idiotic (idiot*)": {"Idiotic"},
		"links 1 link, limit 0": {"https://example.org/x"},
		"classifier classifier: 0.90 spam; words: idiots, domain:example.org": {"idiots", "domain:example.org"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reasons and matched text:\n got %q\nwant %q", got, want)
	}
	for _, r := range a.Reasons {
		if r.Rule == moderation.RuleClassifier && (r.Probability == nil || *r.Probability != 0.9) {
			t.Errorf("classifier reason probability = %v, want 0.9", r.Probability)
		}
	}
}
