package handlers

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Link    []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Author    atomAuthor `xml:"author"`
	Content   atomText   `xml:"content"`
	Link      *atomLink  `xml:"link,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// commentsFeed is an Atom feed of an article's newest approved comments.
func (s *Server) commentsFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.reads.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	site, article, err := s.existingArticle(r)
	if err != nil {
		return err
	}
	key := mux.Vars(r)["article"]
	// From the configured address, never the Host header: a forged Host
	// would otherwise put the attacker's site in the feed, and in any
	// cache in front that keeps the answer.
	self := s.cfg.PublicURL + "/api/v1/sites/" + site.Slug + "/articles/" + key + "/comments.atom"
	f := atomFeed{
		ID:      "urn:parley:" + site.Slug + ":" + key,
		Title:   "Comments on " + key,
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Link:    []atomLink{{Href: self, Rel: "self"}},
	}
	if article != nil {
		if article.Title != "" {
			f.Title = "Comments on " + article.Title
		}
		if article.URL != "" {
			f.Link = append(f.Link, atomLink{Href: article.URL, Rel: "alternate"})
		}
		rows, err := s.store.LatestApproved(r.Context(), article.ID, 50)
		if err != nil {
			return err
		}
		for i, c := range rows {
			updated := c.CreatedAt()
			if e := c.EditedAt(); e != nil {
				updated = *e
			}
			if i == 0 || updated.After(mustTime(f.Updated)) {
				f.Updated = updated.Format(time.RFC3339)
			}
			e := atomEntry{
				ID:        fmt.Sprintf("urn:parley:comment:%d", c.ID),
				Title:     summary(c.Author + ": " + c.Body),
				Updated:   updated.Format(time.RFC3339),
				Published: c.CreatedAt().Format(time.RFC3339),
				Author:    atomAuthor{Name: c.Author},
				Content:   atomText{Type: "text", Body: c.Body},
			}
			if article.URL != "" {
				e.Link = &atomLink{Href: fmt.Sprintf("%s#parley-comment-%d", article.URL, c.ID), Rel: "alternate"}
			}
			f.Entries = append(f.Entries, e)
		}
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	w.Write(b)
	return nil
}

func mustTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// summary is the first line of a comment, shortened for a feed title.
func summary(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	r := []rune(s)
	if len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}
