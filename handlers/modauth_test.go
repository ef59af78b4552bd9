package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

func TestLoginAndSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		e.addModerator("ed@news.example", schema.RoleAdmin)

		r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": " Ed@News.example ", "password": testPassword})
		if r.Status != 200 || r.JSON["csrf_token"] == "" {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		mod := r.JSON["moderator"].(map[string]any)
		if mod["email"] != "ed@news.example" || mod["role"] != "admin" {
			t.Fatalf("moderator: %s", r.Body)
		}
		cookies := (&http.Response{Header: r.Header}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies %v", cookies)
		}
		ck := cookies[0]
		if ck.Name != "parley_session" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || len(ck.Value) < 43 {
			t.Fatalf("session cookie %+v", ck)
		}
		// Only the hash of the cookie is stored.
		if _, _, err := e.store.SessionModerator(context.Background(), ck.Value); err == nil {
			t.Fatal("the session is found by its raw token: it must be stored hashed")
		}
		csrf := r.JSON["csrf_token"].(string)
		cookie := "parley_session=" + ck.Value

		r = e.do("GET", "/api/v1/mod/session", nil, "Cookie", cookie)
		if r.Status != 200 || r.JSON["csrf_token"] != csrf {
			t.Fatalf("current session: %d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/api/v1/mod/session", nil, "Cookie", cookie); r.Status != 403 || r.errCode() != "forbidden" {
			t.Fatalf("logout without CSRF token: %d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/api/v1/mod/session", nil, "Cookie", cookie, "X-CSRF-Token", csrf+"x"); r.Status != 403 {
			t.Fatalf("logout with a wrong CSRF token: %d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/api/v1/mod/session", nil, "Cookie", cookie, "X-CSRF-Token", csrf); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/v1/mod/session", nil, "Cookie", cookie); r.Status != 401 {
			t.Fatalf("after logout: %d %s", r.Status, r.Body)
		}

		wrong := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": "not the password"})
		if wrong.Status != 401 || wrong.errCode() != "unauthorized" {
			t.Fatalf("wrong password: %d %s", wrong.Status, wrong.Body)
		}
		if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "nobody@news.example", "password": testPassword}); r.Status != 401 || string(r.Body) != string(wrong.Body) {
			t.Fatalf("unknown email: %d %s, want the answer to a wrong password", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": ""}); r.Status != 422 || r.field("password") == "" {
			t.Fatalf("empty login: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": testPassword}, "Sec-Fetch-Site", "cross-site"); r.Status != 403 {
			t.Fatalf("cross-site login: %d %s", r.Status, r.Body)
		}

		m, _ := e.store.ModeratorByEmail(context.Background(), "ed@news.example")
		m.Disabled = true
		if err := e.store.UpdateModerator(context.Background(), m, nil); err != nil {
			t.Fatal(err)
		}
		// A disabled account answers its right password as a wrong one, so
		// that answers do not tell which passwords are right.
		for _, pw := range []string{testPassword, "not the password"} {
			if r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": pw}); r.Status != 401 || string(r.Body) != string(wrong.Body) {
				t.Fatalf("disabled account, password %q: %d %s, want the answer to a wrong password", pw, r.Status, r.Body)
			}
		}
	})
}

func TestSecureCookie(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) { c.SecureCookies = true })
	e.addModerator("ed@news.example", schema.RoleModerator)
	r := e.do("POST", "/api/v1/mod/session", map[string]string{"email": "ed@news.example", "password": testPassword})
	if ck := (&http.Response{Header: r.Header}).Cookies(); len(ck) != 1 || !ck[0].Secure {
		t.Fatalf("cookie not Secure behind a TLS proxy: %v", r.Header)
	}
}

// Sessions slide: each use within 12 hours keeps them alive; 12 idle hours
// end them, and so do 7 days whatever the use.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, schema.SQLite)
	clk := e.clock()
	m := e.moderator("ed@news.example", schema.RoleModerator)
	for i := 1; i <= 16; i++ { // 16 × 11 h is past the 7-day cap
		clk.advance(11 * time.Hour)
		r := m.do("GET", "/api/v1/mod/session", nil)
		if alive := time.Duration(i)*11*time.Hour < 7*24*time.Hour; (r.Status == 200) != alive {
			t.Fatalf("after %d × 11 h: %d, want alive=%v", i, r.Status, alive)
		}
	}
	m = e.login("ed@news.example")
	clk.advance(12*time.Hour + time.Minute)
	if r := m.do("GET", "/api/v1/mod/session", nil); r.Status != 401 {
		t.Fatalf("after 12 idle hours: %d", r.Status)
	}
}

// Failed logins are limited per address (IPv6 per /64); successes are
// not counted. Per account, failures slow guessers down but never refuse
// (see TestStrangersCannotLockOwnerOut).
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.Limits = handlers.DefaultLimits()
		c.Limits.Logins = handlers.Rate{PerMinute: 1, Burst: 3}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	e.addModerator("ed@news.example", schema.RoleModerator)
	login := func(email, password, ip string) response {
		return e.do("POST", "/api/v1/mod/session", map[string]string{"email": email, "password": password}, "X-Forwarded-For", ip)
	}
	for i := 0; i < 5; i++ {
		if r := login("ed@news.example", testPassword, "10.0.0.1"); r.Status != 200 {
			t.Fatalf("good login %d: %d %s", i, r.Status, r.Body)
		}
	}
	// Per address: three unknown accounts from one address.
	for i := 0; i < 3; i++ {
		if r := login(fmt.Sprintf("x%d@news.example", i), "whatever else", "10.0.2.1"); r.Status != 401 {
			t.Fatalf("unknown account %d: %d", i, r.Status)
		}
	}
	r := login("y@news.example", "whatever else", "10.0.2.1")
	if r.Status != 429 || r.errCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth attempt from the address: %d %s %v", r.Status, r.Body, r.Header)
	}
	if r := login("ed@news.example", testPassword, "10.0.2.1"); r.Status != 429 {
		t.Fatalf("the right password from a limited address: %d %s", r.Status, r.Body)
	}
	if r := login("y@news.example", "whatever else", "10.0.2.2"); r.Status != 401 {
		t.Fatalf("another address is not limited: %d %s", r.Status, r.Body)
	}
	// An IPv6 subscriber holds a /64: its addresses share one limit.
	for i := 0; i < 3; i++ {
		if r := login("y@news.example", "whatever else", fmt.Sprintf("2001:db8:1:2::%x", i+1)); r.Status != 401 {
			t.Fatalf("IPv6 attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := login("y@news.example", "whatever else", "2001:db8:1:2:ffff::9"); r.Status != 429 {
		t.Fatalf("fourth attempt from the same /64: %d %s", r.Status, r.Body)
	}
	if r := login("y@news.example", "whatever else", "2001:db8:1:3::1"); r.Status != 401 {
		t.Fatalf("another /64 is not limited: %d %s", r.Status, r.Body)
	}
}

func TestAPITokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		ed := e.moderator("ed@news.example", schema.RoleModerator)
		ann := e.moderator("ann@news.example", schema.RoleModerator)
		if r := ed.do("POST", "/api/v1/mod/tokens", map[string]string{"name": ""}); r.Status != 422 || r.field("name") == "" {
			t.Fatalf("nameless token: %d %s", r.Status, r.Body)
		}
		r := ed.must(201, "POST", "/api/v1/mod/tokens", map[string]string{"name": "nightly report"})
		token, id := r.JSON["token"].(string), num(r.JSON["id"])
		if r.JSON["last_used_at"] != nil || len(token) < 40 {
			t.Fatalf("created token: %s", r.Body)
		}
		bearer := &modClient{e: e, token: token}
		// No CSRF token needed, and last_used_at is recorded.
		bearer.must(201, "POST", "/api/v1/mod/tokens", map[string]string{"name": "made by a token"})
		if r := bearer.must(200, "GET", "/api/v1/mod/session", nil); r.JSON["csrf_token"] != nil {
			t.Fatalf("token session has a CSRF token: %s", r.Body)
		}
		r = ed.must(200, "GET", "/api/v1/mod/tokens", nil)
		list := r.JSON["tokens"].([]any)
		if len(list) != 2 {
			t.Fatalf("tokens: %s", r.Body)
		}
		for _, x := range list {
			tk := x.(map[string]any)
			if tk["token"] != nil {
				t.Fatalf("listing shows a token: %s", r.Body)
			}
			if num(tk["id"]) == id && tk["last_used_at"] == nil {
				t.Fatalf("last_used_at not recorded: %s", r.Body)
			}
		}
		if r := ann.must(200, "GET", "/api/v1/mod/tokens", nil); len(r.JSON["tokens"].([]any)) != 0 {
			t.Fatalf("another moderator sees ed's tokens: %s", r.Body)
		}
		ann.must(404, "DELETE", fmt.Sprintf("/api/v1/mod/tokens/%d", id), nil)
		ed.must(204, "DELETE", fmt.Sprintf("/api/v1/mod/tokens/%d", id), nil)
		bearer.must(401, "GET", "/api/v1/mod/session", nil)
		bad := &modClient{e: e, token: "parley_nope"}
		bad.must(401, "GET", "/api/v1/mod/queues", nil)
		if r := e.do("GET", "/api/v1/mod/queues", nil, "Authorization", "Basic eDp5"); r.Status != 401 {
			t.Fatalf("basic auth: %d", r.Status)
		}

		// A disabled account's tokens stop working.
		other := ann.withToken()
		other.must(200, "GET", "/api/v1/mod/queues", nil)
		m, _ := e.store.ModeratorByEmail(context.Background(), "ann@news.example")
		m.Disabled = true
		e.store.UpdateModerator(context.Background(), m, nil)
		other.must(401, "GET", "/api/v1/mod/queues", nil)
		ann.must(401, "GET", "/api/v1/mod/queues", nil)
	})
}
