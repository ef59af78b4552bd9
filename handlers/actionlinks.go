package handlers

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// actionPageHTML is the page of a one-time link. Opening the link only
// shows it; the button POSTs the decision, so the previews chat apps fetch
// of every link they see cannot approve or reject anything.
var actionPageHTML = template.Must(template.New("act").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{.Title}} · Parley</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
blockquote{border-left:3px solid #ccc;margin:1rem 0;padding:.25rem 1rem;white-space:pre-wrap;color:#444}
button{font:inherit;padding:.5rem 1.25rem;border-radius:.3rem;border:1px solid #888;cursor:pointer}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Comment}}<p>Comment #{{.Comment.ID}} by <strong>{{.Comment.Author}}</strong>:</p><blockquote>{{.Comment.Body}}</blockquote>{{end}}
<p>{{.Message}}</p>
{{if .Button}}<form method="post"><button type="submit">{{.Button}}</button></form>{{end}}
</body></html>
`))

type actionPage struct {
	Title, Message, Button string
	Comment                *schema.Comment
}

// wantsHTML tells a browser from an API client: people click these links.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func writeActionPage(w http.ResponseWriter, status int, p actionPage) {
	var buf bytes.Buffer
	actionPageHTML.Execute(&buf, p)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL is the credential
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// actionLinkPage shows what a one-time link would do, with a button to do it.
func (s *Server) actionLinkPage(w http.ResponseWriter, r *http.Request) error {
	l, c, err := s.queue.LinkInfo(r.Context(), routeVar(r, "token"))
	if err != nil {
		return s.actionLinkError(w, r, err)
	}
	verb := map[string]string{"approve": "Approve", "reject": "Reject"}[l.Action]
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": l.Action, "comment": toModComment(c), "expires_at": l.ExpiresAt()})
		return nil
	}
	p := actionPage{Title: verb + " this comment?", Comment: c, Button: verb,
		Message: "This link works once; its " + map[string]string{"approve": "reject", "reject": "approve"}[l.Action] + " link stops working with it."}
	if c.Status != schema.StatusPending {
		p = actionPage{Title: "Already decided", Comment: c, Message: "This comment is " + c.Status + " now: nothing left to do here."}
	}
	writeActionPage(w, http.StatusOK, p)
	return nil
}

// actByLink carries out a one-time link's decision, once.
func (s *Server) actByLink(w http.ResponseWriter, r *http.Request) error {
	c, action, err := s.queue.DecideByLink(r.Context(), routeVar(r, "token"))
	if err != nil {
		return s.actionLinkError(w, r, err)
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{"action": action, "comment": toModComment(c)})
		return nil
	}
	writeActionPage(w, http.StatusOK, actionPage{Title: "Done", Comment: c, Message: "The comment is " + c.Status + " now."})
	return nil
}

// actionLinkError answers browsers with a page and API clients with the
// contract's error.
func (s *Server) actionLinkError(w http.ResponseWriter, r *http.Request, err error) error {
	ae := s.apiError(r, err)
	if !wantsHTML(r) || ae.Status >= 500 {
		return ae
	}
	p := actionPage{Title: "Nothing to do", Message: ae.Message}
	var conflict *moderation.ConflictError
	if errors.As(err, &conflict) {
		p.Comment = conflict.Comment
	}
	writeActionPage(w, ae.Status, p)
	return nil
}
