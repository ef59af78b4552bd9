package handlers

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/parley/parley/moderation/mail"
	"github.com/parley/parley/schema"
)

// The links of emails: a reader confirms a subscription to replies, or
// unsubscribes. Opening a link shows a page whose button POSTs it; the
// unsubscribe POST is also RFC 8058's one-click unsubscribe, which mail
// clients send without a session, a cookie or a CSRF token: the unguessable
// token in the path is the only credential, and only its hash is stored.

// errEmailOff answers what needs email on a server that runs without it.
func errEmailOff(field string) *apiError {
	return errValidation(map[string]string{field: "this server sends no email (it runs without -smtp-url)"})
}

func (s *Server) mailConfirmPage(w http.ResponseWriter, r *http.Request) error {
	sub, a, err := s.store.SubscriptionByToken(r.Context(), mail.HashToken(routeVar(r, "token")), schema.TokenConfirm)
	if err != nil {
		return s.mailLinkError(w, r, err)
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": "confirm", "article": articleRef(a), "confirmed": sub.Confirmed()})
		return nil
	}
	site, err := s.store.SiteByID(r.Context(), sub.SiteID)
	if err != nil {
		return err
	}
	return s.mailPage(w, http.StatusOK, mail.Page{Lang: sub.Lang, Title: mail.PageText(sub.Lang, "confirm-title"),
		Message: mail.PageText(sub.Lang, "confirm-message", max(site.Settings.ReplyDigestMinutes, 1)),
		Button:  mail.PageText(sub.Lang, "confirm-button"), Article: cmp.Or(a.Title, a.Key), ArticleURL: a.URL})
}

func (s *Server) mailConfirm(w http.ResponseWriter, r *http.Request) error {
	sub, a, err := s.store.ConfirmSubscription(r.Context(), mail.HashToken(routeVar(r, "token")))
	if err != nil {
		return s.mailLinkError(w, r, err)
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": "confirm", "article": articleRef(a), "confirmed": true})
		return nil
	}
	return s.mailPage(w, http.StatusOK, mail.Page{Lang: sub.Lang, Title: mail.PageText(sub.Lang, "confirmed-title"),
		Message: mail.PageText(sub.Lang, "confirmed-message"), Article: cmp.Or(a.Title, a.Key), ArticleURL: a.URL})
}

func (s *Server) mailUnsubscribePage(w http.ResponseWriter, r *http.Request) error {
	sub, a, err := s.store.SubscriptionByToken(r.Context(), mail.HashToken(routeVar(r, "token")), schema.TokenUnsubscribe)
	if err != nil {
		return s.mailLinkError(w, r, err)
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": "unsubscribe", "article": articleRef(a), "unsubscribed": false})
		return nil
	}
	return s.mailPage(w, http.StatusOK, mail.Page{Lang: sub.Lang, Title: mail.PageText(sub.Lang, "unsubscribe-title"),
		Message: mail.PageText(sub.Lang, "unsubscribe-message"), Button: mail.PageText(sub.Lang, "unsubscribe-button"),
		Article: cmp.Or(a.Title, a.Key), ArticleURL: a.URL})
}

// mailUnsubscribe ends a subscription. Its body is ignored: RFC 8058 clients
// send List-Unsubscribe=One-Click, the page's button sends nothing.
func (s *Server) mailUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	sub, a, err := s.store.Unsubscribe(r.Context(), mail.HashToken(routeVar(r, "token")))
	if err != nil {
		return s.mailLinkError(w, r, err)
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": "unsubscribe", "article": articleRef(a), "unsubscribed": true})
		return nil
	}
	return s.mailPage(w, http.StatusOK, mail.Page{Lang: sub.Lang, Title: mail.PageText(sub.Lang, "unsubscribed-title"),
		Message: mail.PageText(sub.Lang, "unsubscribed-message"), Article: cmp.Or(a.Title, a.Key), ArticleURL: a.URL})
}

func articleRef(a *schema.Article) map[string]string {
	return map[string]string{"key": a.Key, "title": a.Title, "url": a.URL}
}

// mailLinkError answers a link that is unknown, used or expired with a page
// for browsers and the contract's error for others.
func (s *Server) mailLinkError(w http.ResponseWriter, r *http.Request, err error) error {
	if errors.Is(err, schema.ErrNotFound) {
		err = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "this link was used or has expired"}
	}
	ae := s.apiError(r, err)
	if !wantsHTML(r) || ae.Status >= 500 {
		return ae
	}
	lang := r.URL.Query().Get("lang")
	return s.mailPage(w, ae.Status, mail.Page{Lang: lang, Title: mail.PageText(lang, "gone-title"), Message: mail.PageText(lang, "gone-message")})
}

func (s *Server) mailPage(w http.ResponseWriter, status int, p mail.Page) error {
	texts, err := s.mailTexts()
	if err != nil {
		return err
	}
	b, err := texts.RenderPage(p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL is the credential
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(b)
	return nil
}

// mailTexts are the mailer's texts, or, on a server without email whose
// database still holds links from when it had it, the same texts loaded
// for the page.
func (s *Server) mailTexts() (*mail.Texts, error) {
	if s.cfg.Mail != nil {
		return s.cfg.Mail.Texts(), nil
	}
	return mail.LoadTexts()
}

// digestSetting is a moderator's pending digest.
type digestSetting struct {
	EveryMinutes int  `json:"every_minutes"`
	Email        bool `json:"email"`
}

// getDigest answers how often the moderator gets the pending digest.
func (s *Server) getDigest(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.ModeratorDigest(r.Context(), moderator(r).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, digestSetting{EveryMinutes: n, Email: s.cfg.Mail.Enabled()})
	return nil
}

// putDigest sets it; 0 turns it off.
func (s *Server) putDigest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		EveryMinutes *int `json:"every_minutes"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.EveryMinutes == nil || *in.EveryMinutes < 0 || *in.EveryMinutes > 7*24*60 {
		return errValidation(map[string]string{"every_minutes": "required: 0 (off) to 10080 (a week)"})
	}
	if *in.EveryMinutes > 0 && !s.cfg.Mail.Enabled() {
		return errEmailOff("every_minutes")
	}
	m := moderator(r)
	if err := s.store.SetModeratorDigest(r.Context(), m.ID, *in.EveryMinutes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, digestSetting{EveryMinutes: *in.EveryMinutes, Email: s.cfg.Mail.Enabled()})
	return nil
}
