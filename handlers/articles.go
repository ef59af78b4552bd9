package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/parley/parley/schema"
)

// validArticleKey tells whether k is a publisher's article key:
// [A-Za-z0-9._~-], 1 to 200 characters.
func validArticleKey(k string) bool {
	if len(k) == 0 || len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

// validSlug tells whether s can be a site's slug: 1 to 63 characters of
// a-z, 0-9 and -, as moderation.ValidateSite demands of new sites. Anything
// else names no site and is answered without asking the database. (Text
// PostgreSQL cannot hold is the store's concern: see schema.ErrInvalidText.)
func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func errArticleKey() *apiError {
	return errBadRequest("the article key must be 1 to 200 characters of A-Z a-z 0-9 . _ ~ -")
}

// site returns the {site} of the route.
func (s *Server) site(r *http.Request) (*schema.Site, error) {
	slug := routeVar(r, "site")
	if !validSlug(slug) {
		return nil, errNotFound("site " + quote(slug))
	}
	site, err := s.store.Site(r.Context(), slug)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, errNotFound("site " + quote(slug))
	}
	return site, err
}

// existingArticle returns the route's site and article, the article nil when
// it was never used; it never creates one (reads must not write).
func (s *Server) existingArticle(r *http.Request) (*schema.Site, *schema.Article, error) {
	site, err := s.site(r)
	if err != nil {
		return nil, nil, err
	}
	key := routeVar(r, "article")
	if !validArticleKey(key) {
		return nil, nil, errArticleKey()
	}
	a, err := s.store.Article(r.Context(), site.ID, key)
	if errors.Is(err, schema.ErrNotFound) {
		if site.Settings.StrictArticles {
			return nil, nil, errNotFound("article " + quote(key))
		}
		return site, nil, nil
	}
	return site, a, err
}

// quote shortens and quotes user input for error messages, without
// cutting a character in two.
func quote(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// articleID returns the route's site and article id without reading the
// article row: 0 when the article was never used (and the site is not
// strict), created first when create is true.
func (s *Server) articleID(r *http.Request, create bool) (*schema.Site, int64, error) {
	site, err := s.site(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := s.articleIDOf(r, site, create)
	return site, id, err
}

// unusedArticle is the error for a key no article was created under: none
// where any key is an article, not found where articles are registered.
func unusedArticle(site *schema.Site, key string) error {
	if site.Settings.StrictArticles {
		return errNotFound("article " + quote(key))
	}
	return nil
}

// articleIDOf is articleID for a handler that looked the site up already.
func (s *Server) articleIDOf(r *http.Request, site *schema.Site, create bool) (int64, error) {
	key := routeVar(r, "article")
	if !validArticleKey(key) {
		return 0, errArticleKey()
	}
	// A read may answer "never used" from memory; a write checks it, as
	// another instance may have just created the article.
	lookup := s.store.ArticleID
	if create || r.Method != http.MethodGet {
		lookup = s.store.ArticleIDToWrite
	}
	id, err := lookup(r.Context(), site.ID, key)
	if !errors.Is(err, schema.ErrNotFound) {
		return id, err
	}
	if err := unusedArticle(site, key); err != nil || !create {
		return 0, err
	}
	a, err := s.store.EnsureArticle(r.Context(), site.ID, key)
	if err != nil {
		return 0, err
	}
	return a.ID, nil
}
