package handlers_test

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
)

// One client asking for one captcha's media over and over gets 429 past
// its limit, and what it does get is rendered once and served again.
func TestCaptchaMediaLimitedAndRenderedOnce(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	burst := handlers.DefaultLimits().CaptchaMedia.Burst
	cap := e.do("POST", "/api/v1/captchas", nil)
	id := cap.JSON["id"].(string)
	renders := func(kind string) int {
		t.Helper()
		_, body := e.metrics()
		m := regexp.MustCompile(`parley_captcha_renders_total\{kind="` + kind + `"\} (\d+)`).FindStringSubmatch(body)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	// The bucket refills while the loop runs (slowly under -race): what
	// was answered 200 is bounded by the burst plus the refill.
	var first []byte
	ok, limited := 0, 0
	start := time.Now()
	for i := 0; i < 120; i++ {
		r := e.do("GET", "/api/v1/captchas/"+id+"/audio.wav", nil, "X-Forwarded-For", "198.51.100.7")
		switch r.Status {
		case 200:
			if first != nil && !bytes.Equal(r.Body, first) {
				t.Fatalf("render %d: other bytes", i)
			}
			first = r.Body
			ok++
		case 429:
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %v", r.Header)
			}
			limited++
		default:
			t.Fatalf("render %d: %d %s", i, r.Status, r.Body)
		}
	}
	rate := handlers.DefaultLimits().CaptchaMedia.PerMinute / 60
	if max := burst + int(time.Since(start).Seconds()*rate) + 1; limited == 0 || ok > max || ok < burst {
		t.Fatalf("120 renders from one address: %d answered, %d limited (burst %d, at most %d)", ok, limited, burst, max)
	}
	if n := renders("audio"); n != 1 {
		t.Fatalf("%d audio renders for one captcha", n)
	}

	// Many clients at once (IPv6 ones by /64, as the other limiters):
	// still one image render.
	var wg sync.WaitGroup
	statuses := make([]int, 64)
	for i := range statuses {
		wg.Go(func() {
			ip := "203.0.113." + strconv.Itoa(i+1)
			statuses[i] = e.do("GET", "/api/v1/captchas/"+id+"/image.png", nil, "X-Forwarded-For", ip).Status
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Fatalf("client %d: %d", i, st)
		}
	}
	if n := renders("image"); n != 1 {
		t.Fatalf("%d image renders for one captcha", n)
	}
	limited = 0
	for i := 0; i < burst+20; i++ {
		if r := e.do("GET", "/api/v1/captchas/"+id+"/image.png", nil, "X-Forwarded-For", "2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16)); r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("fresh addresses in one /64 each got a bucket of their own")
	}

	// A used captcha shows nothing, cached or not.
	e.do("POST", "/api/v1/sites/news/articles/a/comments", map[string]any{"author": "Ann", "body": "hello",
		"captcha_id": id, "captcha_solution": cap.JSON["test_solution"]}, "X-Forwarded-For", "198.51.100.99")
	if r := e.do("GET", "/api/v1/captchas/"+id+"/image.png", nil, "X-Forwarded-For", "198.51.100.98"); r.Status != 404 || !strings.Contains(r.errCode(), "not_found") {
		t.Fatalf("used captcha's image: %d %s", r.Status, r.Body)
	}
}
