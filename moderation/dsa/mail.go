// Package dsa holds what the EU Digital Services Act asks a comment host
// to tell people, and how it counts: the emails of notices (Art. 16),
// statements of reasons (Art. 17) and appeals (Art. 20), rendered with the
// texts of package mail (dsa_*) in the site's language, the categories of notices,
// the suggested measures against misuse (Art. 23) and the transparency
// report (Art. 15 and 24). It does no I/O: the store writes what it
// renders, in the transaction of the change that owes it.
package dsa

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/schema"
)

// Kinds of the emails queued in mail_outbox, which are also the names of
// their texts.
const (
	KindNoticeReceipt  = "dsa_notice_receipt"
	KindNoticeDecision = "dsa_notice_decision"
	KindStatement      = "dsa_statement"
	KindAppealReceipt  = "dsa_appeal_receipt"
	KindAppealDecision = "dsa_appeal_decision"
)

// Languages are the languages the emails are written in.
var Languages = mail.Languages

// Renderer renders the emails; it is safe for concurrent use.
type Renderer struct {
	texts *mail.Texts
}

// NewRenderer compiles the texts.
func NewRenderer() (*Renderer, error) {
	texts, err := mail.LoadTexts()
	if err != nil {
		return nil, err
	}
	return &Renderer{texts: texts}, nil
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

// MailAction puts a button to the appeal form under a statement of reasons.
func (d Data) MailAction() (label, url string) {
	if d.Lang == "fr" {
		return "Contester cette décision", d.AppealURL
	}
	return "Appeal this decision", d.AppealURL
}

// Render renders the email of kind to to, in the site's language.
func (r *Renderer) Render(site *schema.Site, kind, to string, d Data) (schema.Mail, error) {
	d.Site, d.Lang = site.Slug, lang(site)
	m, err := r.texts.Render(d.Lang, kind, d)
	if err != nil {
		return schema.Mail{}, err
	}
	return schema.Mail{SiteID: site.ID, Kind: kind, To: to, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
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
