package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// The texts of every email and of the pages their links open, one file per
// message and language: NAME.LANG.txt (text/template, which defines
// "subject" too) and NAME.LANG.html (html/template, escaped for HTML).
//
//go:embed templates
var templateFS embed.FS

// Languages are those with texts; any other falls back to English.
var Languages = []string{"en", "fr"}

// Lang picks the language of the texts for a language tag such as fr-CA or
// de: its primary subtag when there are texts for it, English otherwise.
func Lang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	for _, l := range Languages {
		if l == tag {
			return l
		}
	}
	return "en"
}

// Texts are the compiled templates; New makes them once, and Render is safe
// for concurrent use.
type Texts struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

var funcs = map[string]any{
	// date formats a time in the language's usual way, in UTC.
	"date": func(lang string, t time.Time) string {
		if lang == "fr" {
			return t.UTC().Format("02/01/2006 15:04") + " UTC"
		}
		return t.UTC().Format("2 Jan 2006 15:04") + " UTC"
	},
	"quote": func(s string) string { return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ") },
}

// LoadTexts compiles every embedded template; an error is a bug in a
// template file, caught by the tests.
func LoadTexts() (*Texts, error) {
	t := &Texts{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		b, err := templateFS.ReadFile("templates/" + name)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasSuffix(name, ".txt"):
			tt, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return nil, err
			}
			t.text[strings.TrimSuffix(name, ".txt")] = tt
		case strings.HasSuffix(name, ".html"):
			ht, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return nil, err
			}
			t.html[strings.TrimSuffix(name, ".html")] = ht
		}
	}
	return t, nil
}

// Rendered is a message's texts.
type Rendered struct {
	Subject, Text, HTML string
}

// Render renders message name (such as "reply_digest") in lang (see Lang)
// with data: the subject and text part from NAME.LANG.txt, the HTML part
// from NAME.LANG.html when there is one. A message without texts in the
// language uses the English ones.
func (t *Texts) Render(lang, name string, data any) (Rendered, error) {
	lang = Lang(lang)
	key := name + "." + lang
	tt, ok := t.text[key]
	if !ok {
		key = name + ".en"
		if tt, ok = t.text[key]; !ok {
			return Rendered{}, fmt.Errorf("no email texts named %q", name)
		}
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", key, err)
	}
	if err := tt.Execute(&text, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s: %w", key, err)
	}
	if ht, ok := t.html[key]; ok {
		if err := ht.Execute(&html, data); err != nil {
			return Rendered{}, fmt.Errorf("render %s html: %w", key, err)
		}
	}
	return Rendered{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}
