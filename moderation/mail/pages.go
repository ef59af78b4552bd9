package mail

import (
	"bytes"
	"fmt"
)

// Page is one of the pages a link in an email opens: what it is about and,
// when the link still has something to do, a button that POSTs it (opening
// a link changes nothing, so mail scanners that fetch every link cannot
// confirm or unsubscribe anyone).
type Page struct {
	Lang                string
	Title, Message      string
	Button              string
	Article, ArticleURL string
}

// pageTexts are the pages' words, by language and key.
var pageTexts = map[string]map[string]string{
	"en": {
		"confirm-title":        "Email me replies?",
		"confirm-message":      "Press the button to be emailed the replies to your comments on this article, at most one email per %d minutes.",
		"confirm-button":       "Yes, email me replies",
		"confirmed-title":      "Confirmed",
		"confirmed-message":    "You will be emailed the replies to your comments on this article. Every email has a link to stop them.",
		"unsubscribe-title":    "Stop the replies?",
		"unsubscribe-message":  "Press the button to stop the emails about replies on this article.",
		"unsubscribe-button":   "Stop them",
		"unsubscribed-title":   "Unsubscribed",
		"unsubscribed-message": "You will get no more replies on this article by email.",
		"gone-title":           "Nothing to do",
		"gone-message":         "This link was used or has expired. If you confirmed or unsubscribed already, there is nothing left to do.",
	},
	"fr": {
		"confirm-title":        "Recevoir les réponses par e-mail ?",
		"confirm-message":      "Appuyez sur le bouton pour recevoir par e-mail les réponses à vos commentaires sur cet article, au plus un e-mail toutes les %d minutes.",
		"confirm-button":       "Oui, m’envoyer les réponses",
		"confirmed-title":      "Confirmé",
		"confirmed-message":    "Vous recevrez par e-mail les réponses à vos commentaires sur cet article. Chaque e-mail contient un lien pour les arrêter.",
		"unsubscribe-title":    "Ne plus recevoir les réponses ?",
		"unsubscribe-message":  "Appuyez sur le bouton pour ne plus recevoir d’e-mails sur les réponses à cet article.",
		"unsubscribe-button":   "Ne plus les recevoir",
		"unsubscribed-title":   "Désinscription faite",
		"unsubscribed-message": "Vous ne recevrez plus par e-mail les réponses sur cet article.",
		"gone-title":           "Rien à faire",
		"gone-message":         "Ce lien a déjà servi ou a expiré. Si vous avez déjà confirmé ou vous êtes déjà désinscrit, il n’y a plus rien à faire.",
	},
}

// PageText is a page's text in lang (English when lang has none); args
// fill its verbs.
func PageText(lang, key string, args ...any) string {
	s, ok := pageTexts[Lang(lang)][key]
	if !ok {
		s = pageTexts["en"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// RenderPage renders a link's page in its language.
func (t *Texts) RenderPage(p Page) ([]byte, error) {
	p.Lang = Lang(p.Lang)
	ht, ok := t.html["page."+p.Lang]
	if !ok {
		ht = t.html["page.en"]
	}
	var buf bytes.Buffer
	if err := ht.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
