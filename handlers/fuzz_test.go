package handlers

// Fuzz targets for everything that parses outside input. `go test` runs
// their seeds (f.Add and testdata/fuzz/<target>); to search for more, run
// one at a time, for instance
//
//	go test ./handlers -run '^$' -fuzz '^FuzzHandler$' -fuzztime 10m

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

const fuzzSecret = "fuzz-secret-0123456789abcdef0123456789abcdef"

var (
	articleKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,200}$`)
	slugPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

func FuzzArticleKey(f *testing.F) {
	for _, s := range []string{"", "a", "night-buses", "a b", "é", "..", strings.Repeat("k", 200), strings.Repeat("k", 201), "a/b", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := validArticleKey(k), articleKeyPattern.MatchString(k); got != want {
			t.Fatalf("validArticleKey(%q) = %v, want %v", k, got, want)
		}
		if got, want := validSlug(k), slugPattern.MatchString(k); got != want {
			t.Fatalf("validSlug(%q) = %v, want %v", k, got, want)
		}
	})
}

func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", " ", "hello", " two\nlines ", "a\rb", "\x00", "\u0085x", "\u00a0x\u00a0", "\xff", "e\u0301", strings.Repeat("é", 81)} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		max := maxAuthor
		if multiline {
			max = maxBody
		}
		out, msg := checkText(s, 1, max, multiline)
		if msg != "" {
			if out != "" {
				t.Fatalf("checkText(%q) refused with %q but returned %q", s, msg, out)
			}
			return
		}
		if out != strings.TrimSpace(s) {
			t.Fatalf("checkText(%q) = %q, want the trimmed input", s, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("checkText(%q) accepted invalid UTF-8", s)
		}
		if n := utf8.RuneCountInString(out); n < 1 || n > max {
			t.Fatalf("checkText(%q) accepted %d characters", s, n)
		}
		for _, r := range out {
			if unicode.IsControl(r) && !(multiline && r == '\n') {
				t.Fatalf("checkText(%q, multiline=%v) accepted control character %U", s, multiline, r)
			}
		}
	})
}

func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{"", "ann@example.org", " Ann@Example.ORG ", "@x", "x@", "a b@c", "a@b@c", "<a@b>", "ünï@例え.jp", "a\x00@b", "\xff@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, msg := checkEmail(s)
		if msg != "" {
			if out != "" {
				t.Fatalf("checkEmail(%q) refused with %q but returned %q", s, msg, out)
			}
			return
		}
		if out != strings.TrimSpace(s) {
			t.Fatalf("checkEmail(%q) = %q, want the trimmed input", s, out)
		}
		h := moderation.EmailHash(fuzzSecret, out)
		if out == "" {
			if h != "" {
				t.Fatalf("empty email hashed to %q", h)
			}
			return
		}
		at := strings.LastIndexByte(out, '@')
		if at < 1 || at == len(out)-1 || strings.ContainsAny(out, " \t<>,;\"") || utf8.RuneCountInString(out) > maxEmail {
			t.Fatalf("checkEmail accepted %q", out)
		}
		if len(h) != 32 || h != moderation.EmailHash(fuzzSecret, " "+s+" ") {
			t.Fatalf("hash of %q is %q, unstable under trimming", s, h)
		}
	})
}

func FuzzReaderToken(f *testing.F) {
	k := deriveKeys(fuzzSecret)
	tok, _ := k.NewReaderToken()
	for _, s := range []string{"", tok, tok[:len(tok)-1], tok + "A", strings.Replace(tok, ".", "", 1), "." + tok, tok[:22] + "." + tok[:22],
		strings.Repeat("A", 22) + "." + strings.Repeat("A", 22), "a.b", "\x00.\x00", strings.Repeat("/", 22) + "." + strings.Repeat("+", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, ok := k.ReaderID(token)
		if !ok {
			if id != "" {
				t.Fatalf("refused token %q gave reader %q", token, id)
			}
			return
		}
		// Only the server's own signature passes: the token must be
		// exactly what the server would have issued for that id.
		want := id + "." + b64.EncodeToString(mac(k.reader, id)[:16])
		if !hmac.Equal([]byte(token), []byte(want)) {
			t.Fatalf("accepted token %q for reader %q, which the server signs as %q", token, id, want)
		}
		if _, ok := deriveKeys("another secret, another server").ReaderID(token); ok {
			t.Fatalf("token %q passes under another secret", token)
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{"", "{}", "null", "[]", `{"author":"a","body":"b","captcha_id":"c","captcha_solution":"1"}`,
		`{"parent_id":1e400}`, `{"parent_id":"1"}`, `{"x":1}`, `{} {}`, `{"body":"\ud800"}`, "{\"body\":\"\xff\"}", `{"body":`,
		strings.Repeat("[", 20000), `{"author":"a","author":"b"}`, "\ufeff{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, commentBody)
		var in commentInput
		err := decodeJSON(req, &in)
		var ae *apiError
		switch {
		case err == nil:
			if !utf8.Valid(body) || !json.Valid(body) {
				t.Fatalf("accepted %q", body)
			}
			for _, s := range []string{in.Author, in.Body, in.Email, in.CaptchaID, in.CaptchaSolution} {
				if !utf8.ValidString(s) {
					t.Fatalf("decoded invalid UTF-8 %q from %q", s, body)
				}
			}
		case errors.Is(err, errTooLarge):
			if len(body) <= commentBody {
				t.Fatalf("%d bytes called too large", len(body))
			}
		case errors.As(err, &ae):
			if ae.Status != http.StatusBadRequest || ae.Code != "bad_request" || !utf8.ValidString(ae.Message) {
				t.Fatalf("decode error %+v", ae)
			}
		default:
			t.Fatalf("decode error outside the contract: %v", err)
		}
	})
}

func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.7:1234", ""}, {"10.0.0.1:80", "203.0.113.7"}, {"10.0.0.1:80", "1.2.3.4, 203.0.113.7"},
		{"10.0.0.1:80", "203.0.113.7, 10.0.0.2"}, {"10.0.0.1:80", "garbage, 203.0.113.7"}, {"10.0.0.1:80", "203.0.113.7, garbage"},
		{"[::ffff:10.0.0.1]:80", "::ffff:203.0.113.7"}, {"[fe80::1%eth0]:1", "fe80::2%lo"}, {"no-port", "x"}, {"10.0.0.1:80", ",,,"},
	} {
		f.Add(s[0], s[1])
	}
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		ip := s.clientIP(r)
		host := remote
		if h, _, err := net.SplitHostPort(remote); err == nil {
			host = h
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			if ip != host {
				t.Fatalf("unparsable peer %q gave %q", remote, ip)
			}
			return
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			t.Fatalf("clientIP(%q, %q) = %q, not an address", remote, xff, ip)
		}
		if !s.trusted(peer.Unmap()) && a != peer.Unmap() {
			t.Fatalf("untrusted peer %q: X-Forwarded-For %q was believed (%q)", remote, xff, ip)
		}
		if a != peer.Unmap() && !namesHop(xff, a) {
			t.Fatalf("clientIP(%q, %q) = %q, which the header does not name", remote, xff, ip)
		}
	})
}

// namesHop tells whether a hop of an X-Forwarded-For value is the address a.
func namesHop(xff string, a netip.Addr) bool {
	for _, h := range strings.Split(xff, ",") {
		if b, err := netip.ParseAddr(strings.TrimSpace(h)); err == nil && b.Unmap() == a {
			return true
		}
	}
	return false
}

// fuzzServer is a real server on a real SQLite store with a site, an
// article with one comment, and that comment's edit token.
func fuzzServer(f *testing.F) (*Server, *schema.Store, int64, string) {
	store := schematest.Open(f, schema.SQLite)
	st := schema.DefaultSettings()
	st.Origins = []string{"https://news.example"}
	if _, err := store.CreateSite(context.Background(), "news", st, nil); err != nil {
		f.Fatal(err)
	}
	huge := Rate{PerMinute: 1e9, Burst: 1e9}
	s := New(store, Config{Secret: fuzzSecret, CaptchaTest: true,
		Limits: Limits{Readers: huge, Captchas: huge, Comments: huge, Edits: huge, Votes: huge, Reports: huge, Logins: huge}})
	call := func(method, path, body string) map[string]any {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code >= 300 {
			f.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return out
	}
	c := call("POST", "/api/v1/captchas", "")
	body, _ := json.Marshal(map[string]string{"author": "Ann", "body": "the fuzzed comment", "captcha_id": c["id"].(string), "captcha_solution": c["test_solution"].(string)})
	out := call("POST", "/api/v1/sites/news/articles/a/comments", string(body))
	return s, store, int64(out["comment"].(map[string]any)["id"].(float64)), out["edit_token"].(string)
}

// checkAnswer fails on a 5xx or an error outside the contract's shape.
func checkAnswer(t *testing.T, req string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: %d %s", req, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var shape struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &shape); err != nil || shape.Error.Code == "" {
			t.Fatalf("%s: %d outside the error shape: %s", req, rec.Code, rec.Body)
		}
	}
}

var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}

// FuzzHandler sends arbitrary requests to the whole server on a real
// SQLite store: no input may panic it or make it answer 5xx.
func FuzzHandler(f *testing.F) {
	s, _, _, _ := fuzzServer(f)
	for _, c := range []struct {
		m          uint8
		path, body string
		token      string
	}{
		{1, "/api/v1/readers", "", ""},
		{2, "/api/v1/sites/news/articles/a/reactions/mine", `{"reaction":"like"}`, "x.y"},
		{0, "/api/v1/sites/news/articles/a/comments?sort=top&limit=2&cursor=dC4wLjE", "", ""},
		{0, "/api/v1/sites/news/articles/a/comments?cursor=%00", "", ""},
		{1, "/api/v1/sites/news/articles/a/comments", `{"author":"a","body":"b","captcha_id":"AAAAAAAAAAAAAAAAAAAA","captcha_solution":"1"}`, ""},
		{1, "/api/v1/sites/news/articles/a/comments", `{"parent_id":-1}`, ""},
		{3, "/api/v1/comments/1", `{"body":"x"}`, ""},
		{2, "/api/v1/comments/1/vote", `{"vote":1}`, "a.b"},
		{1, "/api/v1/comments/1/reports", `{"reason":"spam","note":"\u0000"}`, ""},
		{0, "/api/v1/sites/%00/reactions?article=a", "", ""},
		{0, "/api/v1/captchas/%FF/image.png", "", ""},
		{0, "/api/v1/captchas/AAAAAAAAAAAAAAAAAAAA/audio.wav?lang=xx", "", ""},
		{0, "/api/v1/sites/news/articles/a/comments.atom", "", ""},
		{5, "/api/v1/sites/news/articles/a/reactions/mine", "", ""},
		{0, "/metrics", "", ""},
		{0, "/embed.js", "", ""},
	} {
		f.Add(c.m, c.path, []byte(c.body), c.token, "")
	}
	f.Fuzz(func(t *testing.T, m uint8, path string, body []byte, token, auth string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(fuzzMethods[int(m)%len(fuzzMethods)], "http://parley.test"+path, bytes.NewReader(body))
		if err != nil || req.URL.Host != "parley.test" {
			return // not a request net/http would parse
		}
		req.RemoteAddr = "192.0.2.1:1234"
		for k, v := range map[string]string{"X-Reader-Token": token, "Authorization": auth, "Origin": "https://news.example"} {
			if v != "" && validHeaderValue(v) {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkAnswer(t, req.Method+" "+path, rec)
	})
}

// FuzzEditToken tries Authorization headers on a comment's edit and
// delete: only its own token may change it.
func FuzzEditToken(f *testing.F) {
	s, store, id, tok := fuzzServer(f)
	for _, a := range []string{"", "Bearer ", "Bearer x", "bearer " + tok, "Bearer " + tok[:len(tok)-1], "Bearer  " + tok, "Basic " + tok, tok, "Bearer " + strings.ToUpper(tok)} {
		f.Add(a)
	}
	path := "/api/v1/comments/" + strconv.FormatInt(id, 10)
	f.Fuzz(func(t *testing.T, auth string) {
		if !validHeaderValue(auth) {
			return
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("PATCH", path, strings.NewReader(`{"body":"changed"}`))
		req.Header.Set("Authorization", auth)
		s.ServeHTTP(rec, req)
		checkAnswer(t, "PATCH "+auth, rec)
		if rec.Code < 400 && auth != "Bearer "+tok {
			t.Fatalf("Authorization %q edited the comment: %d", auth, rec.Code)
		}
		rec = httptest.NewRecorder()
		req = httptest.NewRequest("DELETE", path, nil)
		req.Header.Set("Authorization", auth)
		if auth == "Bearer "+tok {
			return // the owner may delete; keep the comment for the next input
		}
		s.ServeHTTP(rec, req)
		checkAnswer(t, "DELETE "+auth, rec)
		if c, err := store.Comment(context.Background(), id); rec.Code < 400 || err != nil || c.Status == schema.StatusDeleted {
			t.Fatalf("Authorization %q deleted the comment: %d %v", auth, rec.Code, err)
		}
	})
}

// validHeaderValue tells whether net/http would pass v on as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}
