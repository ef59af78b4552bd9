package handlers

import "golang.org/x/text/language"

// captchaLangFor picks the audio captcha's language from Accept-Language
// when the widget names none: the reader's first language the captcha
// library speaks, else English.
func captchaLangFor(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil {
		return "en"
	}
	for _, t := range tags {
		if base, _ := t.Base(); captchaLangs[base.String()] {
			return base.String()
		}
	}
	return "en"
}
