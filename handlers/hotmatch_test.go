package handlers

import (
	"net/http/httptest"
	"testing"
)

// The hot routes take exactly the requests gorilla would route to the
// counts and the comment pages: a GET, one segment each for {site} and
// {article}, and a clean path (gorilla redirects the others).
func TestHotRouteMatch(t *testing.T) {
	var hr hotRoutes
	for _, c := range []struct {
		method, target string
		want           *hotRoute
		site, article  string
	}{
		{"GET", "/api/v1/sites/news/articles/a-1/reactions", &hr.reactions, "news", "a-1"},
		{"GET", "/api/v1/sites/news/articles/a-1/reactions?x=1", &hr.reactions, "news", "a-1"},
		{"GET", "/api/v1/sites/news/articles/a-1/comments?limit=50&cursor=x", &hr.comments, "news", "a-1"},
		{"GET", "/api/v1/sites/N%C3%A9ws/articles/a%20b/comments", &hr.comments, "Néws", "a b"},
		{"HEAD", "/api/v1/sites/news/articles/a-1/reactions", nil, "", ""},
		{"PUT", "/api/v1/sites/news/articles/a-1/reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/a-1/reactions/", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/a-1/reactions/mine", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/a-1/comments.atom", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles//reactions", nil, "", ""},
		{"GET", "/api/v1/sites//articles/a/reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/./reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/../reactions", nil, "", ""},
		{"GET", "/api/v1/sites/../articles/a/reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/articles/a%2Fb/reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/reactions", nil, "", ""},
		{"GET", "/api/v1/sites/news/article/a/reactions", nil, "", ""},
		{"GET", "/api/v1//sites/news/articles/a/reactions", nil, "", ""},
		{"GET", "/api/v2/sites/news/articles/a/reactions", nil, "", ""},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		rt, site, article := hr.match(r)
		if rt != c.want || site != c.site || article != c.article {
			t.Errorf("%s %s: %p %q %q, want %p %q %q", c.method, c.target, rt, site, article, c.want, c.site, c.article)
		}
	}
}
