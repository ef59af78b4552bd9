package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]handlers.Rate{
		"6/m": {PerMinute: 6, Burst: 6}, "6/m:5": {PerMinute: 6, Burst: 5}, "2/s": {PerMinute: 120, Burst: 2},
		"120/h:10": {PerMinute: 2, Burst: 10}, "0.5/m": {PerMinute: 0.5, Burst: 1}, "off": handlers.Off, " 6/m ": {PerMinute: 6, Burst: 6},
	} {
		got, err := handlers.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, err := handlers.ParseRate(got.String()); err != nil || again != got {
			t.Errorf("%+v does not survive String: %q %v", got, got.String(), err)
		}
	}
	for _, in := range []string{"", "6", "6/d", "/m", "-1/m", "0/m", "x/m", "6/m:", "6/m:0", "6/m:x", "NaN/m", "Inf/m", "6/m:5:5"} {
		if _, err := handlers.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// tight limits one kind of request to a burst of 2, and leaves the rest
// unlimited.
func tight(set func(l *handlers.Limits, r handlers.Rate)) func(*envConfig) {
	return func(c *envConfig) {
		l := noLimits()
		set(&l, handlers.Rate{PerMinute: 1, Burst: 2})
		c.Limits = l
	}
}

// limited checks that a request is refused with 429, rate_limited and a
// Retry-After of at least a second.
func limited(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != 429 || r.errCode() != "rate_limited" {
		t.Fatalf("%s: got %d %s, want 429 rate_limited", what, r.Status, r.Body)
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("%s: Retry-After %q", what, r.Header.Get("Retry-After"))
	}
}

// Every limited kind of request: a burst of 2 passes, the third is 429.
func TestRateLimits(t *testing.T) {
	cases := []struct {
		name string
		set  func(l *handlers.Limits, r handlers.Rate)
		send func(e *env, tok string, target int64) response
		ok   int
	}{
		{"readers", func(l *handlers.Limits, r handlers.Rate) { l.Readers = r },
			func(e *env, _ string, _ int64) response { return e.do("POST", "/api/v1/readers", nil) }, 201},
		{"captchas", func(l *handlers.Limits, r handlers.Rate) { l.Captchas = r },
			func(e *env, _ string, _ int64) response { return e.do("POST", "/api/v1/captchas", nil) }, 201},
		{"comments", func(l *handlers.Limits, r handlers.Rate) { l.Comments = r },
			func(e *env, _ string, _ int64) response {
				return e.post("rl", map[string]any{"body": "comment " + randomWord()})
			}, 201},
		{"reactions", func(l *handlers.Limits, r handlers.Rate) { l.Votes = r },
			func(e *env, tok string, _ int64) response {
				return e.do("PUT", "/api/v1/sites/news/articles/rl/reactions/mine", map[string]string{"reaction": "like"}, "X-Reader-Token", tok)
			}, 200},
		{"comment votes", func(l *handlers.Limits, r handlers.Rate) { l.Votes = r },
			func(e *env, tok string, id int64) response {
				return e.do("PUT", fmt.Sprintf("/api/v1/comments/%d/vote", id), map[string]int{"vote": 1}, "X-Reader-Token", tok)
			}, 200},
		{"comment pages", func(l *handlers.Limits, r handlers.Rate) { l.Reads = r },
			func(e *env, _ string, _ int64) response {
				return e.do("GET", "/api/v1/sites/news/articles/rl/comments", nil)
			}, 200},
		{"reports", func(l *handlers.Limits, r handlers.Rate) { l.Reports = r },
			func(e *env, tok string, id int64) response {
				return e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", id), map[string]string{"reason": "spam"}, "X-Reader-Token", tok)
			}, 202},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Set up through an unlimited server, then test a limited one
			// on the same store.
			setup := newEnv(t, schema.SQLite, func(c *envConfig) { c.Limits = noLimits() })
			target := commentID(setup.post("rl", map[string]any{"body": "a target"}))
			tok := setup.readerToken()
			cfg := envConfig{Config: handlers.Config{Secret: testSecret, CaptchaTest: true}}
			tight(c.set)(&cfg)
			e := *setup
			e.srv = httptest.NewServer(handlers.New(setup.store, cfg.Config))
			t.Cleanup(e.srv.Close)
			for i := range 2 {
				if r := c.send(&e, tok, target); r.Status != c.ok {
					t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Body)
				}
			}
			limited(t, c.name, c.send(&e, tok, target))
		})
	}
}

// readerFrom asks for a reader token with the given X-Forwarded-For lines.
func readerFrom(e *env, xff ...string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/readers", nil)
	for _, x := range xff {
		req.Header.Add("X-Forwarded-For", x)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// burst sends the same client's requests until the burst of 2 is spent,
// checking the third is refused.
func spend(t *testing.T, e *env, what string, xff ...[]string) {
	t.Helper()
	for i, x := range xff {
		want := 201
		if i >= 2 {
			want = 429
		}
		if got := readerFrom(e, x...); got != want {
			t.Fatalf("%s: request %d with X-Forwarded-For %q: %d, want %d", what, i+1, x, got, want)
		}
	}
}

// Limits key on the client's address: the peer's, or, behind a trusted
// proxy, the nearest untrusted hop of X-Forwarded-For.
func TestClientAddress(t *testing.T) {
	limit := tight(func(l *handlers.Limits, r handlers.Rate) { l.Readers = r })
	trust := func(cidrs ...string) func(*envConfig) {
		return func(c *envConfig) {
			for _, s := range cidrs {
				c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(s))
			}
		}
	}
	t.Run("untrusted peer", func(t *testing.T) {
		e := newEnv(t, schema.SQLite, limit)
		// A client that sends X-Forwarded-For itself gains nothing.
		spend(t, e, "rotating X-Forwarded-For", []string{"203.0.113.1"}, []string{"203.0.113.2"}, []string{"203.0.113.3"})
	})
	t.Run("trusted proxy", func(t *testing.T) {
		e := newEnv(t, schema.SQLite, limit, trust("127.0.0.1/32"))
		spend(t, e, "one client", []string{"203.0.113.1"}, []string{"203.0.113.1"}, []string{"203.0.113.1"})
		if got := readerFrom(e, "203.0.113.2"); got != 201 {
			t.Fatalf("another client behind the proxy: %d", got)
		}
		// Without the header the proxy itself is the client.
		spend(t, e, "the proxy itself", nil, nil, nil)
	})
	t.Run("spoofed chains", func(t *testing.T) {
		e := newEnv(t, schema.SQLite, limit, trust("127.0.0.1/32", "10.0.0.0/8"))
		// The client writes what it likes on the left; the proxies append
		// what they saw on the right, and only that is believed.
		spend(t, e, "spoofed hops",
			[]string{"1.1.1.1, 203.0.113.9"},
			[]string{"2.2.2.2, 3.3.3.3, 203.0.113.9, 10.1.2.3"},
			[]string{"garbage, 203.0.113.9"})
		spend(t, e, "spoofed header lines",
			[]string{"4.4.4.4", "203.0.113.10"},
			[]string{"10.9.9.9, 5.5.5.5", "203.0.113.10, 10.0.0.7"},
			[]string{"::1", "203.0.113.10"})
		// A spoofed trusted address on the left does not pass for a proxy.
		spend(t, e, "spoofed proxy", []string{"10.0.0.1, 203.0.113.11"}, []string{"203.0.113.11"}, []string{"10.6.6.6, 203.0.113.11"})
	})
	t.Run("IPv6 networks", func(t *testing.T) {
		e := newEnv(t, schema.SQLite, limit, trust("127.0.0.1/32"))
		// One subscriber's /64 is one client, whatever address it picks.
		spend(t, e, "one /64", []string{"2001:db8::1"}, []string{"2001:db8::2"}, []string{"2001:db8::ffff:1"})
		if got := readerFrom(e, "2001:db8:0:1::1"); got != 201 {
			t.Fatalf("another /64: %d", got)
		}
		if got := readerFrom(e, "::ffff:203.0.113.1"); got != 201 {
			t.Fatalf("an IPv4-mapped address: %d", got)
		}
	})
	t.Run("IP hash", func(t *testing.T) {
		e := newEnv(t, schema.SQLite, trust("127.0.0.1/32"), func(c *envConfig) { c.Limits = noLimits() })
		hash := func(xff string) string {
			r := e.post("h", map[string]any{"body": "from " + randomWord()}, "X-Forwarded-For", xff)
			c, err := e.store.Comment(t.Context(), commentID(r))
			if err != nil {
				t.Fatal(err)
			}
			return c.IPHash
		}
		a, b, c := hash("1.1.1.1, 203.0.113.20"), hash("203.0.113.20"), hash("203.0.113.21")
		if a != b || a == c || a == "" || strings.Contains(a, "203.0.113") {
			t.Fatalf("IP hashes %q %q %q", a, b, c)
		}
	})
}

// A flood from one address is refused while other clients are served.
func TestFloodFromOneAddress(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	tok := e.readerToken()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var status int
			if i%2 == 0 {
				status = readerFrom(e, "203.0.113.66")
			} else {
				r := e.do("PUT", "/api/v1/sites/news/articles/flood/reactions/mine", map[string]string{"reaction": "like"},
					"X-Reader-Token", tok, "X-Forwarded-For", "203.0.113.66")
				status = r.Status
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
		if i == 200 {
			// In the middle of the flood, someone else is answered.
			if got := readerFrom(e, "198.51.100.1"); got != 201 {
				t.Errorf("another client during the flood: %d", got)
			}
		}
	}
	wg.Wait()
	if statuses[429] < 200 || statuses[429]+statuses[200]+statuses[201] != 400 {
		t.Fatalf("flood answers: %v", statuses)
	}
	if got := readerFrom(e, "198.51.100.2"); got != 201 {
		t.Fatalf("another client after the flood: %d", got)
	}
	r := e.do("PUT", "/api/v1/sites/news/articles/flood/reactions/mine", map[string]string{"reaction": "like"},
		"X-Reader-Token", e.readerToken(), "X-Forwarded-For", "198.51.100.3")
	if r.Status != 200 {
		t.Fatalf("a vote from another client after the flood: %d %s", r.Status, r.Body)
	}
}

// Every route that takes a body refuses one over its limit with 413, both
// when the length is declared and when it is chunked.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) { c.Limits = noLimits() })
	tok := e.readerToken()
	created := e.post("bl", nil)
	id, edit := commentID(created), created.JSON["edit_token"].(string)
	small, comment := 4<<10, 32<<10
	cases := []struct {
		method, path string
		limit        int
		reads        bool // whether the handler reads the body at all
	}{
		{"POST", "/api/v1/readers", small, false},
		{"POST", "/api/v1/captchas", small, false},
		{"PUT", "/api/v1/sites/news/articles/bl/reactions/mine", small, true},
		{"PUT", fmt.Sprintf("/api/v1/comments/%d/vote", id), small, true},
		{"POST", fmt.Sprintf("/api/v1/comments/%d/reports", id), small, true},
		{"POST", "/api/v1/sites/news/articles/bl/comments", comment, true},
		{"PATCH", fmt.Sprintf("/api/v1/comments/%d", id), comment, true},
	}
	for _, c := range cases {
		for _, chunked := range []bool{false, true} {
			if chunked && !c.reads {
				continue // an unread chunked body is simply dropped
			}
			t.Run(fmt.Sprintf("%s %s chunked=%v", c.method, c.path, chunked), func(t *testing.T) {
				// A JSON string that only ends past the limit.
				body := `{"body":"` + strings.Repeat("x", c.limit) + `"}`
				var rd io.Reader = strings.NewReader(body)
				if chunked {
					rd = io.MultiReader(rd) // hides the length
				}
				req, _ := http.NewRequest(c.method, e.srv.URL+c.path, rd)
				req.Header.Set("X-Reader-Token", tok)
				req.Header.Set("Authorization", "Bearer "+edit)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 413 || !strings.Contains(string(b), `"payload_too_large"`) {
					t.Fatalf("got %d %s", resp.StatusCode, b)
				}
			})
		}
	}
}
