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
// A file whose name starts with "_" is shared: _NAME.LANG.txt defines
// templates (a footer) that every text of that language may call, and
// _layout.html is the HTML part of a message that has no NAME.LANG.html
// of its own: its text, preformatted, and an optional button (see Action).
//
//go:embed templates/*
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
	text   map[string]*texttemplate.Template
	html   map[string]*htmltemplate.Template
	layout *htmltemplate.Template
}

// Action is implemented by the data of a message whose HTML part comes from
// the shared layout and ends with a button, such as "Appeal this decision".
type Action interface {
	MailAction() (label, url string)
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
	// Shared text templates by language, added to each message's template.
	shared := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "_") || !strings.HasSuffix(name, ".txt") {
			continue
		}
		b, err := templateFS.ReadFile("templates/" + name)
		if err != nil {
			return nil, err
		}
		lang := langOf(strings.TrimSuffix(name, ".txt"))
		shared[lang] = append(shared[lang], string(b))
	}
	for _, e := range entries {
		name := e.Name()
		b, err := templateFS.ReadFile("templates/" + name)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "_layout.html":
			if t.layout, err = htmltemplate.New(name).Parse(string(b)); err != nil {
				return nil, err
			}
		case strings.HasPrefix(name, "_"):
		case strings.HasSuffix(name, ".txt"):
			key := strings.TrimSuffix(name, ".txt")
			tt, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return nil, err
			}
			for _, part := range shared[langOf(key)] {
				if _, err := tt.New("").Parse(part); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
			}
			t.text[key] = tt
		case strings.HasSuffix(name, ".html"):
			ht, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return nil, err
			}
			t.html[strings.TrimSuffix(name, ".html")] = ht
		}
	}
	if t.layout == nil {
		return nil, fmt.Errorf("templates/_layout.html is missing")
	}
	return t, nil
}

// langOf is the language of a template named NAME.LANG.
func langOf(key string) string { return key[strings.LastIndexByte(key, '.')+1:] }

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
	r := Rendered{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
	}
	if ht, ok := t.html[key]; ok {
		if err := ht.Execute(&html, data); err != nil {
			return Rendered{}, fmt.Errorf("render %s html: %w", key, err)
		}
	} else {
		page := struct{ Lang, Subject, Text, ActionLabel, ActionURL string }{
			Lang: langOf(key), Subject: r.Subject, Text: r.Text}
		if a, ok := data.(Action); ok {
			page.ActionLabel, page.ActionURL = a.MailAction()
		}
		if err := t.layout.Execute(&html, page); err != nil {
			return Rendered{}, fmt.Errorf("render %s html: %w", key, err)
		}
	}
	r.HTML = html.String()
	return r, nil
}
