package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// testPassword is every test moderator's password.
const testPassword = "correct horse battery staple"

// passwordHash is computed once per test binary: argon2id is slow on
// purpose, and more so under the race detector.
var passwordHash = sync.OnceValue(func() string {
	h, err := moderation.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// addModerator creates an account directly in the store.
func (e *env) addModerator(email, role string, sites ...int64) *schema.Moderator {
	e.t.Helper()
	m := &schema.Moderator{Email: email, PasswordHash: passwordHash(), Role: role, Sites: sites}
	if err := e.store.CreateModerator(context.Background(), m, nil); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// modClient is a logged-in moderator: a session cookie and its CSRF token,
// or an API token.
type modClient struct {
	e      *env
	id     int64
	cookie string
	csrf   string
	token  string
}

// login logs email in and fails the test unless that works.
func (e *env) login(email string) *modClient {
	e.t.Helper()
	r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": email, "password": testPassword})
	if r.Status != 200 {
		e.t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	c := &modClient{e: e, csrf: r.JSON["csrf_token"].(string), id: num(r.JSON["moderator"].(map[string]any)["id"])}
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "parley_session" {
			c.cookie = ck.Value
		}
	}
	if c.cookie == "" {
		e.t.Fatalf("login %s: no session cookie in %v", email, r.Header)
	}
	return c
}

// moderator creates an account and logs it in.
func (e *env) moderator(email, role string, sites ...int64) *modClient {
	e.t.Helper()
	e.addModerator(email, role, sites...)
	return e.login(email)
}

// withToken returns a client of the same moderator that uses a new API
// token instead of the session.
func (m *modClient) withToken() *modClient {
	m.e.t.Helper()
	r := m.do("POST", "/api/v1/mod/tokens", map[string]string{"name": "script"})
	if r.Status != 201 {
		m.e.t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	return &modClient{e: m.e, id: m.id, token: r.JSON["token"].(string)}
}

// do sends a request as the moderator, with the CSRF token on sessions.
func (m *modClient) do(method, path string, body any, headers ...string) response {
	m.e.t.Helper()
	if m.token != "" {
		return m.e.do(method, path, body, append([]string{"Authorization", "Bearer " + m.token}, headers...)...)
	}
	return m.e.do(method, path, body, append([]string{"Cookie", "parley_session=" + m.cookie, "X-CSRF-Token", m.csrf}, headers...)...)
}

// must is do that fails the test unless the answer has the status.
func (m *modClient) must(status int, method, path string, body any) response {
	m.e.t.Helper()
	r := m.do(method, path, body)
	if r.Status != status {
		m.e.t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	return r
}

// decide posts a decision and returns the answer.
func (m *modClient) decide(id int64, action, expected string) response {
	m.e.t.Helper()
	body := map[string]any{"action": action}
	if expected != "" {
		body["expected_status"] = expected
	}
	return m.do("POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", id), body)
}

// settings changes the site's settings directly in the store.
func (e *env) settings(change func(*schema.Settings)) {
	e.t.Helper()
	site, err := e.store.SiteByID(context.Background(), e.site.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	change(&site.Settings)
	if err := e.store.UpdateSiteSettings(context.Background(), e.site.ID, site.Settings, nil); err != nil {
		e.t.Fatal(err)
	}
	e.site = site
}

// post is a comment to post.
type post struct {
	Article, Author, Body, Email, Reader string // Reader: an X-Reader-Token
	Headers                              []string
}

// comment posts a comment through the public API, captcha and all, and
// returns its id and public status.
func (e *env) comment(p post) (int64, string) {
	e.t.Helper()
	r := e.postComment(p)
	if r.Status != 201 {
		e.t.Fatalf("post comment: %d %s", r.Status, r.Body)
	}
	c := r.JSON["comment"].(map[string]any)
	return num(c["id"]), c["status"].(string)
}

func (e *env) postComment(p post) response {
	e.t.Helper()
	cap := e.do("POST", "/api/v1/captchas", nil)
	if cap.Status != 201 {
		e.t.Fatalf("captcha: %d %s", cap.Status, cap.Body)
	}
	if p.Article == "" {
		p.Article = "a-1"
	}
	if p.Author == "" {
		p.Author = "Ann"
	}
	body := map[string]any{"author": p.Author, "body": p.Body, "captcha_id": cap.JSON["id"], "captcha_solution": cap.JSON["test_solution"]}
	if p.Email != "" {
		body["email"] = p.Email
	}
	headers := p.Headers
	if p.Reader != "" {
		headers = append(headers, "X-Reader-Token", p.Reader)
	}
	return e.do("POST", "/api/v1/sites/"+e.site.Slug+"/articles/"+p.Article+"/comments", body, headers...)
}

// status reads a comment's status from the store.
func (e *env) status(id int64) string {
	e.t.Helper()
	c, err := e.store.Comment(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Status
}

// items returns the comment ids of a queue page.
func items(t *testing.T, r response) []int64 {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}
	var ids []int64
	for _, it := range r.JSON["items"].([]any) {
		ids = append(ids, num(it.(map[string]any)["comment"].(map[string]any)["id"]))
	}
	return ids
}

// relaxed turns off the rate limits and lets one IP post many comments a
// minute, for tests that post a lot.
func relaxed(c *envConfig) { c.Limits = noLimits() }

func (e *env) relaxPosting() {
	e.settings(func(st *schema.Settings) { st.Moderation.MaxPerMinute = 1000 })
}

// clock is a test clock that the server's goroutines may read while the
// test moves it.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// clock puts the store on a test clock.
func (e *env) clock() *clock {
	c := &clock{}
	e.store.SetClock(c.now)
	return c
}
