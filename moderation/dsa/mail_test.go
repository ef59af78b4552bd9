package dsa_test

import (
	"strings"
	"testing"

	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
)

// Every email renders in every language, with a subject, text and HTML,
// and the HTML part escapes what readers wrote.
func TestEveryMailRendersInEveryLanguage(t *testing.T) {
	r := dsa.MustRenderer()
	kinds := []string{dsa.KindNoticeReceipt, dsa.KindNoticeDecision, dsa.KindStatement, dsa.KindAppealReceipt, dsa.KindAppealDecision}
	for _, lang := range dsa.Languages {
		st := schema.DefaultSettings()
		st.Language = lang
		site := &schema.Site{ID: 1, Slug: "news", Settings: st}
		for _, kind := range kinds {
			m, err := r.Render(site, kind, "a@example.com", dsa.Data{NoticeID: 7, AppealID: 8, CommentID: 9,
				Excerpt: "<script>alert(1)</script>", Explanation: "<b>why</b>", AppealURL: "https://c.example/appeal/#tok"})
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			if m.Kind != kind || m.To != "a@example.com" || m.Subject == "" || strings.Contains(m.Subject, "\n") || m.Text == "" {
				t.Errorf("%s %s: %+v", lang, kind, m)
			}
			if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>why") {
				t.Errorf("%s %s: unescaped HTML:\n%s", lang, kind, m.HTML)
			}
			if button := `href="https://c.example/appeal/#tok"`; !strings.Contains(m.HTML, button) || !strings.Contains(m.HTML, `lang="`+lang+`"`) {
				t.Errorf("%s %s: the HTML part has no appeal button or language:\n%s", lang, kind, m.HTML)
			}
			if !strings.Contains(m.Text, "news") {
				t.Errorf("%s %s: the site is not named:\n%s", lang, kind, m.Text)
			}
		}
	}
}

func TestCategoriesHaveLabels(t *testing.T) {
	for _, c := range dsa.Categories {
		for _, lang := range dsa.Languages {
			if l := dsa.CategoryLabel(c, lang); l == c || l == "" {
				t.Errorf("%s has no %s label", c, lang)
			}
		}
	}
}
