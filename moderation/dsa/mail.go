// Package dsa holds what the EU Digital Services Act asks a comment host
// to tell people, and how it counts: the emails of notices (Art. 16),
// statements of reasons (Art. 17) and appeals (Art. 20), rendered from the
// templates in mail/ in the site's language, the categories of notices,
// the suggested measures against misuse (Art. 23) and the transparency
// report (Art. 15 and 24). It does no I/O: the store writes what it
// renders, in the transaction of the change that owes it.
package dsa

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/schema"
)

// Kinds of the emails queued in mail_outbox.
const (
	KindNoticeReceipt  = "dsa_notice_receipt"
	KindNoticeDecision = "dsa_notice_decision"
	KindStatement      = "dsa_statement"
	KindAppealReceipt  = "dsa_appeal_receipt"
	KindAppealDecision = "dsa_appeal_decision"
)

// Languages are the languages the emails are written in.
var Languages = []string{"en", "fr"}

//go:embed mail
var files embed.FS

// Renderer renders the emails; it is safe for concurrent use.
type Renderer struct {
	text   map[string]*template.Template
	layout *htmltemplate.Template
}

// NewRenderer parses the embedded templates.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{text: map[string]*template.Template{}}
	for _, lang := range Languages {
		t, err := template.ParseFS(files, "mail/"+lang+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail templates %s: %w", lang, err)
		}
		r.text[lang] = t
	}
	var err error
	if r.layout, err = htmltemplate.ParseFS(files, "mail/layout.html"); err != nil {
		return nil, fmt.Errorf("mail layout: %w", err)
	}
	return r, nil
}

// MustRenderer is NewRenderer for templates that are part of the binary.
func MustRenderer() *Renderer {
	r, err := NewRenderer()
	if err != nil {
		panic(err)
	}
	return r
}

// Data is what the templates read.
type Data struct {
	Site     string
	Lang     string
	Date     string
	NoticeID int64
	AppealID int64
	// The comment.
	CommentID   int64
	CommentDate string
	Excerpt     string
	// A notice.
	Notice       bool
	Category     string
	Explanation  string
	NotifierName string
	Trusted      bool
	Actioned     bool
	// A statement.
	Decision           string
	Facts              string
	Ground             string
	AutomatedDetection bool
	AutomatedDecision  bool
	Reasons            []string
	AppealURL          string
	AppealUntil        string
	// An outcome.
	Reversed bool
	Reason   string
}

func lang(site *schema.Site) string {
	if site.Settings.Language == "fr" {
		return "fr"
	}
	return "en"
}

// Render renders the email of kind (without its "dsa_" prefix in the
// template names) to to, in the site's language.
func (r *Renderer) Render(site *schema.Site, kind, to string, d Data) (schema.Mail, error) {
	l := lang(site)
	d.Site, d.Lang = site.Slug, l
	name := strings.TrimPrefix(kind, "dsa_")
	t := r.text[l]
	var subject, text bytes.Buffer
	if err := t.ExecuteTemplate(&subject, name+".subject", d); err != nil {
		return schema.Mail{}, fmt.Errorf("render %s subject: %w", kind, err)
	}
	if err := t.ExecuteTemplate(&text, name, d); err != nil {
		return schema.Mail{}, fmt.Errorf("render %s: %w", kind, err)
	}
	label := map[string]string{"en": "Appeal this decision", "fr": "Contester cette décision"}[l]
	var html bytes.Buffer
	if err := r.layout.Execute(&html, map[string]any{
		"Lang": l, "Subject": subject.String(), "Text": text.String(), "AppealURL": d.AppealURL, "AppealLabel": label,
	}); err != nil {
		return schema.Mail{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	return schema.Mail{SiteID: site.ID, Kind: kind, To: to, Subject: strings.TrimSpace(subject.String()),
		Text: text.String(), HTML: html.String()}, nil
}

// Day formats a date as the emails show it.
func Day(t time.Time, site *schema.Site) string {
	if lang(site) == "fr" {
		return t.UTC().Format("02/01/2006")
	}
	return t.UTC().Format("2 January 2006")
}

// Excerpt is the start of a comment's text, as an email quotes it.
func Excerpt(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(body) <= 200 {
		return body
	}
	return string([]rune(body)[:200]) + "…"
}
