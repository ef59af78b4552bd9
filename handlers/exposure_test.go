package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// A junk edit token gets the same answer for a held comment as for one
// that does not exist: the answer must not tell which ids are held.
func TestEditTokenIsNoExistenceOracle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "pre" })
		held, status := e.comment(post{Body: "held for review"})
		if status != "pending" {
			t.Fatalf("status %s", status)
		}
		junk := []string{"Authorization", "Bearer not-the-token"}
		for _, m := range []string{"PATCH", "DELETE"} {
			var body any
			if m == "PATCH" {
				body = map[string]string{"body": "changed"}
			}
			a := e.do(m, fmt.Sprintf("/api/v1/comments/%d", held), body, junk...)
			b := e.do(m, fmt.Sprintf("/api/v1/comments/%d", held+1000), body, junk...)
			if a.Status != b.Status || a.errCode() != b.errCode() || string(a.Body) != string(b.Body) {
				t.Fatalf("%s with a junk token: held %d %s, missing %d %s", m, a.Status, a.Body, b.Status, b.Body)
			}
			if a.Status != 403 {
				t.Fatalf("%s with a junk token: %d", m, a.Status)
			}
		}
	})
}

// The feed's self link is the configured public address, whatever Host
// the request names.
func TestFeedSelfLinkIgnoresHost(t *testing.T) {
	e := newEnv(t, schema.SQLite, relaxed)
	e.comment(post{Article: "a1", Body: "first"})
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/sites/news/articles/a1/comments.atom", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	feed := string(b)
	want := `<link href="` + e.srv.URL + `/api/v1/sites/news/articles/a1/comments.atom" rel="self"></link>`
	if resp.StatusCode != 200 || strings.Contains(feed, "evil.example") || !strings.Contains(feed, want) {
		t.Fatalf("feed: %d %s", resp.StatusCode, feed)
	}
}
