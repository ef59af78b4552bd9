package moderation

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley/parley/schema"
)

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	reactionPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

// MaxReactions is how many reactions a site may offer.
const MaxReactions = 8

// builtinIcons are the icons the widget draws itself, as SVG.
var builtinIcons = map[string]bool{"like": true, "dislike": true, "heart": true, "star": true,
	"laugh": true, "wow": true, "sad": true, "angry": true}

// BuiltinIcon tells whether the widget has an icon of this name.
func BuiltinIcon(name string) bool { return builtinIcons[name] }

// validReactionIcon accepts a built-in icon's name, or an emoji: at most 8
// code points, none of them a letter, digit, space or control character
// (the joiner and variation selectors of emoji sequences are allowed).
func validReactionIcon(icon string) bool {
	if builtinIcons[icon] {
		return true
	}
	if icon == "" || !utf8.ValidString(icon) || utf8.RuneCountInString(icon) > 8 {
		return false
	}
	for _, r := range icon {
		if r < 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ValidateSite checks a site's slug and settings and returns a problem per
// field, named as in the settings JSON; none means valid.
func ValidateSite(slug string, st schema.Settings) map[string]string {
	p := map[string]string{}
	if !slugPattern.MatchString(slug) {
		p["slug"] = "1 to 63 characters of a-z, 0-9 and -, starting with a letter or digit"
	}
	for _, o := range st.Origins {
		if _, _, err := NormalizeOrigin(o); err != nil {
			p["origins"] = err.Error()
			break
		}
	}
	if len(st.Reactions) == 0 || len(st.Reactions) > MaxReactions {
		p["reactions"] = fmt.Sprintf("name 1 to %d reactions", MaxReactions)
	}
	seen := map[string]bool{}
	for _, r := range st.Reactions {
		if !reactionPattern.MatchString(r) {
			p["reactions"] = fmt.Sprintf("%q: a reaction is 1 to 32 characters of a-z, 0-9, _ and -", r)
			break
		}
		if seen[r] {
			p["reactions"] = fmt.Sprintf("%q is listed twice", r)
			break
		}
		seen[r] = true
	}
	for _, name := range slices.Sorted(maps.Keys(st.ReactionStyles)) {
		style := st.ReactionStyles[name]
		label := strings.TrimSpace(style.Label)
		switch {
		case !seen[name]:
			p["reaction_styles"] = fmt.Sprintf("%q is not one of the reactions", name)
		case label != style.Label || utf8.RuneCountInString(label) > 40 || strings.IndexFunc(label, unicode.IsControl) >= 0 || !utf8.ValidString(label):
			p["reaction_styles"] = fmt.Sprintf("%q: a label is at most 40 characters, without control characters or surrounding spaces", name)
		case style.Icon != "" && !validReactionIcon(style.Icon):
			p["reaction_styles"] = fmt.Sprintf("%q: an icon is an emoji or one of like, dislike, heart, star, laugh, wow, sad, angry", name)
		}
	}
	if st.EditWindowSeconds < 0 || st.EditWindowSeconds > 7*24*3600 {
		p["edit_window_seconds"] = "between 0 and 604800 (a week)"
	}
	if st.IPRetentionDays < 0 || st.IPRetentionDays > 3650 {
		p["ip_retention_days"] = "between 0 (keep) and 3650"
	}
	if len(st.TermsGrounds) == 0 || len(st.TermsGrounds) > 50 {
		p["terms_grounds"] = "name 1 to 50 grounds from your terms: a statement of reasons cites one"
	}
	for _, g := range st.TermsGrounds {
		if strings.TrimSpace(g) != g || g == "" || utf8.RuneCountInString(g) > 200 || !plainText(g) || strings.ContainsAny(g, "\n\r") {
			p["terms_grounds"] = fmt.Sprintf("%q: a ground is one line of 1 to 200 characters, without surrounding spaces", g)
			break
		}
	}
	m := st.Moderation
	if !Mode(m.Mode).Valid() {
		p["moderation.mode"] = "one of pre, first_time, post"
	}
	if m.FirstTimeApproved < 0 || m.FirstTimeApproved > 100 {
		p["moderation.first_time_approved"] = "between 0 and 100"
	}
	if m.MaxLinks < 0 || m.MaxLinks > 100 {
		p["moderation.max_links"] = "between 0 and 100"
	}
	if m.ReportThreshold < 1 || m.ReportThreshold > 1000 {
		p["moderation.report_threshold"] = "between 1 and 1000"
	}
	if m.MaxPerMinute < -1 || m.MaxPerMinute > 1000 {
		p["moderation.max_per_minute"] = "between 1 and 1000, 0 for the default of 5, or -1 for no limit"
	}
	if m.ClassifierMinDecisions < 0 {
		p["moderation.classifier_min_decisions"] = "0 or more"
	}
	if m.ClassifierSpam <= 0 || m.ClassifierSpam > 1 || m.ClassifierHold <= 0 || m.ClassifierHold > m.ClassifierSpam {
		p["moderation.classifier_hold_threshold"] = "thresholds in (0, 1] with hold ≤ spam"
	}
	if m.RejectMinDecisions < 0 {
		p["moderation.reject_min_decisions"] = "0 or more"
	}
	if m.RejectHold < 0 || m.RejectHold > 1 {
		p["moderation.reject_hold_threshold"] = "between 0 and 1; 0 never holds"
	}
	for field, words := range map[string][]string{"moderation.banned_words": m.BannedWords, "moderation.suspect_words": m.SuspectWords} {
		if len(words) > 20000 {
			p[field] = "at most 20000 entries"
		} else if _, err := CompileWords(words); err != nil {
			p[field] = err.Error()
		}
	}
	for _, u := range st.Webhooks.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			p["webhooks.urls"] = fmt.Sprintf("%q is not an http(s) URL", u)
			break
		}
	}
	if len(st.Webhooks.URLs) > 0 && len(strings.TrimSpace(st.Webhooks.Secret)) < 16 {
		p["webhooks.secret"] = "at least 16 characters when webhook URLs are set"
	}
	if !languagePattern.MatchString(st.Language) {
		p["language"] = "a language tag such as en or fr (emails are written in English and French; others fall back to English)"
	}
	if st.ReplyDigestMinutes < 0 || st.ReplyDigestMinutes > 7*24*60 {
		p["reply_digest_minutes"] = "between 0 (each reply at once) and 10080 (a week)"
	}
	return p
}

// languagePattern is a BCP 47 tag as sites write it: en, fr, pt-BR.
var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
