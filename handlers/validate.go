package handlers

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text limits, in characters (code points); docs/api.md lists them for clients.
const (
	maxBody   = 5000
	maxAuthor = 80
	maxEmail  = 254
	maxNote   = 500
)

// checkText trims s and checks it is valid UTF-8 of min to max characters
// without control characters (newlines allowed when multiline). It returns
// the trimmed text or a message for the field.
func checkText(s string, min, max int, multiline bool) (string, string) {
	if !utf8.ValidString(s) {
		return "", "must be valid UTF-8 text"
	}
	s = strings.TrimSpace(s)
	for _, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if unicode.IsControl(r) {
			if multiline {
				return "", fmt.Sprintf("must not contain control characters such as U+%04X (newlines are fine)", r)
			}
			return "", fmt.Sprintf("must not contain control characters such as U+%04X", r)
		}
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && min == 1:
		return "", "required"
	case n < min:
		return "", fmt.Sprintf("at least %d characters", min)
	case n > max:
		return "", fmt.Sprintf("too long: %d characters, at most %d", n, max)
	}
	return s, ""
}

// checkEmail accepts an empty or plausible address: the address is never
// shown or mailed, only its keyed hash kept to recognise returning authors.
func checkEmail(s string) (string, string) {
	s, msg := checkText(s, 0, maxEmail, false)
	if msg != "" || s == "" {
		return s, msg
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t<>,;\"") {
		return "", "not an email address"
	}
	return s, ""
}
