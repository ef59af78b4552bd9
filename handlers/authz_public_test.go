package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// The public half of the authorization matrix (the moderator half is
// TestModeratorAuthorization): every public route, called by an anonymous
// client, a reader with a valid token, and a client with a forged one.
func TestPublicAuthorization(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, func(c *envConfig) { c.Limits = noLimits() })
		// Many posts from one address would trip the posting-rate rule.
		st := e.site.Settings
		st.Moderation.MaxPerMinute = -1
		if err := e.store.UpdateSiteSettings(t.Context(), e.site.ID, st, nil); err != nil {
			t.Fatal(err)
		}
		reader := e.readerToken()
		forged := reader[:len(reader)-3] + "xyz"
		const (
			anonymous = iota
			withReader
			withForged
		)
		// Each case is built fresh for every caller: captchas and edit
		// tokens are single use.
		type call struct {
			method, path string
			body         any
			headers      []string
		}
		routes := []struct {
			name string
			make func() call
			want [3]int // anonymous, reader, forged
		}{
			{"POST /readers", func() call { return call{"POST", "/api/v1/readers", nil, nil} }, [3]int{201, 201, 201}},
			{"GET reactions", func() call { return call{"GET", "/api/v1/sites/news/articles/a/reactions", nil, nil} }, [3]int{200, 200, 401}},
			{"PUT reactions/mine", func() call {
				return call{"PUT", "/api/v1/sites/news/articles/a/reactions/mine", map[string]string{"reaction": "like"}, nil}
			}, [3]int{401, 200, 401}},
			{"DELETE reactions/mine", func() call { return call{"DELETE", "/api/v1/sites/news/articles/a/reactions/mine", nil, nil} }, [3]int{401, 200, 401}},
			{"GET bulk reactions", func() call { return call{"GET", "/api/v1/sites/news/reactions?article=a", nil, nil} }, [3]int{200, 200, 200}},
			{"POST captchas", func() call { return call{"POST", "/api/v1/captchas", nil, nil} }, [3]int{201, 201, 201}},
			{"GET captcha image", func() call {
				id, _ := e.captcha()
				return call{"GET", "/api/v1/captchas/" + id + "/image.png", nil, nil}
			}, [3]int{200, 200, 200}},
			{"GET captcha audio", func() call {
				id, _ := e.captcha()
				return call{"GET", "/api/v1/captchas/" + id + "/audio.wav", nil, nil}
			}, [3]int{200, 200, 200}},
			{"GET comments", func() call { return call{"GET", "/api/v1/sites/news/articles/a/comments", nil, nil} }, [3]int{200, 200, 401}},
			{"GET comments.atom", func() call { return call{"GET", "/api/v1/sites/news/articles/a/comments.atom", nil, nil} }, [3]int{200, 200, 200}},
			{"POST comments", func() call {
				id, sol := e.captcha()
				return call{"POST", "/api/v1/sites/news/articles/a/comments", map[string]any{
					"author": "Ann", "body": "authz " + id, "captcha_id": id, "captcha_solution": sol}, nil}
			}, [3]int{201, 201, 401}},
			{"PUT comment vote", func() call {
				return call{"PUT", fmt.Sprintf("/api/v1/comments/%d/vote", commentID(e.post("a", nil))), map[string]int{"vote": 1}, nil}
			}, [3]int{401, 200, 401}},
			{"DELETE comment vote", func() call {
				return call{"DELETE", fmt.Sprintf("/api/v1/comments/%d/vote", commentID(e.post("a", nil))), nil, nil}
			}, [3]int{401, 200, 401}},
			{"POST report", func() call {
				return call{"POST", fmt.Sprintf("/api/v1/comments/%d/reports", commentID(e.post("a", nil))), map[string]string{"reason": "spam"}, nil}
			}, [3]int{401, 202, 401}},
			// Edit tokens, not reader tokens, guard a comment's own changes:
			// the comment's token works for anyone holding it, another's never.
			{"PATCH comment, its own edit token", func() call {
				r := e.post("a", nil)
				return call{"PATCH", fmt.Sprintf("/api/v1/comments/%d", commentID(r)), map[string]string{"body": "edited"},
					[]string{"Authorization", "Bearer " + r.JSON["edit_token"].(string)}}
			}, [3]int{200, 200, 200}},
			{"PATCH comment, another's edit token", func() call {
				other := e.post("a", nil)
				return call{"PATCH", fmt.Sprintf("/api/v1/comments/%d", commentID(e.post("a", nil))), map[string]string{"body": "edited"},
					[]string{"Authorization", "Bearer " + other.JSON["edit_token"].(string)}}
			}, [3]int{403, 403, 403}},
			{"DELETE comment, no edit token", func() call {
				return call{"DELETE", fmt.Sprintf("/api/v1/comments/%d", commentID(e.post("a", nil))), nil, nil}
			}, [3]int{401, 401, 401}},
		}
		for _, rt := range routes {
			for who, name := range []string{"anonymous", "reader", "forged reader token"} {
				t.Run(rt.name+"/"+name, func(t *testing.T) {
					c := rt.make()
					headers := c.headers
					switch who {
					case withReader:
						headers = append(headers, "X-Reader-Token", reader)
					case withForged:
						headers = append(headers, "X-Reader-Token", forged)
					}
					r := e.do(c.method, c.path, c.body, headers...)
					if r.Status != rt.want[who] {
						t.Fatalf("%s %s as %s: %d %s, want %d", c.method, c.path, name, r.Status, r.Body, rt.want[who])
					}
				})
			}
		}
	})
}

// No moderator route answers a cross-origin request from an article page:
// no preflight is allowed and no answer carries CORS headers, even for an
// origin the site lists.
func TestModeratorRoutesRefuseCORS(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	paths := []string{"/api/v1/mod/session", "/api/v1/mod/queues", "/api/v1/mod/queues/pending", "/api/v1/mod/decisions",
		"/api/v1/mod/comments/1/decision", "/api/v1/mod/bans", "/api/v1/mod/audit", "/api/v1/mod/sites", "/api/v1/mod/sites/news",
		"/api/v1/mod/moderators", "/api/v1/mod/tokens", "/api/v1/mod/act/x"}
	for _, p := range paths {
		for _, method := range []string{"OPTIONS", "GET", "POST"} {
			headers := []string{"Origin", "https://news.example"}
			if method == "OPTIONS" {
				headers = append(headers, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-csrf-token, content-type")
			}
			r := e.do(method, p, nil, headers...)
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("%s %s from an article origin answered %s: %v", method, p, k, r.Header)
				}
			}
		}
	}
}
