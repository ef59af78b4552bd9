package handlers

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley/parley/schema"
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

// feedSize is how many comments a feed carries, newest first.
const feedSize = 50

// commentsFeed is an Atom feed of an article's newest approved comments.
func (s *Server) commentsFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.reads.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	site, article, err := s.existingArticle(r)
	if err != nil {
		return err
	}
	key := routeVar(r, "article")
	f := newFeed(s.cfg.PublicURL+"/api/v1/sites/"+site.Slug+"/articles/"+key+"/comments.atom", "urn:parley:"+site.Slug+":"+key, "Comments on "+key)
	if article != nil {
		if article.Title != "" {
			f.Title = "Comments on " + article.Title
		}
		if article.URL != "" {
			f.Link = append(f.Link, atomLink{Href: article.URL, Rel: "alternate"})
		}
		rows, err := s.store.LatestApproved(r.Context(), article.ID, feedSize)
		if err != nil {
			return err
		}
		for _, c := range rows {
			f.add(c, article, false)
		}
	}
	return writeFeed(w, f)
}

// siteFeed is an Atom feed of a site's newest approved comments on any
// article; each entry names its article.
func (s *Server) siteFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.reads.check(limitKey(s.clientIP(r))); err != nil {
		return err
	}
	site, err := s.site(r)
	if err != nil {
		return err
	}
	f := newFeed(s.cfg.PublicURL+"/api/v1/sites/"+site.Slug+"/comments.atom", "urn:parley:"+site.Slug, "Newest comments on "+site.Slug)
	rows, err := s.store.LatestApprovedOnSite(r.Context(), site.ID, feedSize)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(rows))
	for _, c := range rows {
		ids = append(ids, c.ArticleID)
	}
	articles, err := s.store.ArticlesByID(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, c := range rows {
		if a := articles[c.ArticleID]; a != nil {
			f.add(c, a, true)
		}
	}
	return writeFeed(w, f)
}

// self is the feed's own address, from the configured public URL, never
// the Host header: a forged Host would otherwise put the attacker's site in
// the feed, and in any cache in front that keeps the answer.
func newFeed(self, id, title string) *atomFeed {
	return &atomFeed{
		ID:      id,
		Title:   title,
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Link:    []atomLink{{Href: self, Rel: "self"}},
	}
}

// add appends a comment as an entry. Its link is the article's page with
// the comment's anchor, which the widget scrolls to and highlights; an
// article whose URL Parley does not know gives the entry no link.
func (f *atomFeed) add(c schema.Comment, a *schema.Article, nameArticle bool) {
	updated := c.CreatedAt()
	if e := c.EditedAt(); e != nil {
		updated = *e
	}
	if len(f.Entries) == 0 || updated.After(mustTime(f.Updated)) {
		f.Updated = updated.Format(time.RFC3339)
	}
	title := c.Author + ": " + c.Body
	if nameArticle {
		on := a.Title
		if on == "" {
			on = a.Key
		}
		title = c.Author + " on " + on + ": " + c.Body
	}
	e := atomEntry{
		ID:        fmt.Sprintf("urn:parley:comment:%d", c.ID),
		Title:     summary(title),
		Updated:   updated.Format(time.RFC3339),
		Published: c.CreatedAt().Format(time.RFC3339),
		Author:    atomAuthor{Name: c.Author},
		Content:   atomText{Type: "text", Body: c.Body},
	}
	if a.URL != "" {
		e.Link = &atomLink{Href: fmt.Sprintf("%s#parley-comment-%d", a.URL, c.ID), Rel: "alternate"}
	}
	f.Entries = append(f.Entries, e)
}

func writeFeed(w http.ResponseWriter, f *atomFeed) error {
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
