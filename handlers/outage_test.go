package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// flakyProxy forwards TCP connections to a database server and plays
// outages: Down drops every connection and refuses new ones (they are
// accepted and closed at once, as a restarting server does); Hang stops
// passing bytes either way and leaves new connections waiting, as a
// network partition does; Up ends either. It stands in for restarting the
// shared PostgreSQL, which other tests use.
type flakyProxy struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	down, hung bool
	conns      map[net.Conn]bool
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Down()
	})
	return p
}

func (p *flakyProxy) Addr() string { return p.ln.Addr().String() }

func (p *flakyProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

// track registers conns to be closed by Down; false when the proxy is down.
func (p *flakyProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}

func (p *flakyProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

// waitWhileHung blocks while the proxy plays a partition.
func (p *flakyProxy) waitWhileHung() {
	for {
		p.mu.Lock()
		hung := p.hung
		p.mu.Unlock()
		if !hung {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *flakyProxy) forward(c net.Conn) {
	if !p.track(c) {
		c.Close()
		return
	}
	defer p.untrack(c)
	p.waitWhileHung()
	s, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(s) {
		if s != nil {
			s.Close()
		}
		return
	}
	defer p.untrack(s)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.waitWhileHung()
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(s, c)
	go pipe(c, s)
	<-done
}

// Down drops every proxied connection and refuses new ones.
func (p *flakyProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.hung = true, false
	for c := range p.conns {
		c.Close()
	}
}

// Hang stops passing bytes and leaves new connections waiting.
func (p *flakyProxy) Hang() {
	p.mu.Lock()
	p.hung = true
	p.mu.Unlock()
}

// Up ends an outage or a partition.
func (p *flakyProxy) Up() {
	p.mu.Lock()
	p.down, p.hung = false, false
	p.mu.Unlock()
}

// proxiedPostgres returns a store on a fresh PostgreSQL schema reached
// through a flakyProxy.
func proxiedPostgres(t *testing.T) (*schema.Store, *flakyProxy) {
	t.Helper()
	u, err := url.Parse(schematest.DSN(t, schema.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	p := newFlakyProxy(t, u.Host)
	u.Host = p.Addr()
	store, err := schema.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, p
}

// proxiedEnv is a server on a proxied PostgreSQL store with the site news.
func proxiedEnv(t *testing.T, timeout time.Duration) (*env, *flakyProxy) {
	store, proxy := proxiedPostgres(t)
	if _, err := store.CreateSite(t.Context(), "news", schema.DefaultSettings(), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handlers.New(store, handlers.Config{Secret: testSecret, CaptchaTest: true, Limits: noLimits(), RequestTimeout: timeout}))
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, srv: srv}, proxy
}

// recovers waits for the server to answer a vote and /readyz again.
func recovers(e *env) bool {
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		r := e.send("PUT", "/api/v1/sites/news/articles/up/reactions/mine", `{"reaction":"like"}`, "X-Reader-Token", e.readerToken())
		if r.Status == 200 && e.send("GET", "/readyz", "").Status == 200 {
			return true
		}
	}
	return false
}

// When PostgreSQL goes away under load, requests fail fast with 503
// unavailable in the error shape, /readyz says 503, and the server
// recovers by itself when the database is back.
func TestDatabaseOutage(t *testing.T) {
	e, proxy := proxiedEnv(t, 0)

	// Load: readers vote and read while the database comes and goes.
	type result struct {
		status int
		code   string
		took   time.Duration
	}
	results := make(chan result, 10000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		tok := e.readerToken()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				var r response
				if n%2 == 0 {
					r = e.send("PUT", fmt.Sprintf("/api/v1/sites/news/articles/a%d/reactions/mine", n%5), `{"reaction":"like"}`, "X-Reader-Token", tok)
				} else {
					r = e.send("GET", fmt.Sprintf("/api/v1/sites/news/articles/a%d/comments", i), "")
				}
				results <- result{r.Status, r.errCode(), time.Since(start)}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	proxy.Down()
	// While it is down: readiness and requests say 503 unavailable, fast.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		r := e.send("GET", "/readyz", "")
		if r.Status != 503 || r.errCode() != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("readyz during the outage: %d %s", r.Status, r.Body)
		}
		start := time.Now()
		r = e.send("PUT", "/api/v1/sites/news/articles/down/reactions/mine", `{"reaction":"like"}`, "X-Reader-Token", e.readerToken())
		if r.Status != 503 || r.errCode() != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a vote during the outage: %d %s", r.Status, r.Body)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("a vote during the outage took %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	proxy.Up()

	// It recovers by itself.
	if !recovers(e) {
		t.Fatal("the server did not recover after the database came back")
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(results)
	counts := map[string]int{}
	for r := range results {
		counts[fmt.Sprint(r.status, r.code)]++
		if r.status != 200 && !(r.status == 503 && r.code == "unavailable") {
			t.Errorf("under load: %d %s", r.status, r.code)
		}
		if r.took > 10*time.Second {
			t.Errorf("a request under load took %v", r.took)
		}
	}
	t.Logf("answers under load: %v", counts)
	// Every pooled connection is good again: a burst of requests passes.
	for i := range 40 {
		if r := e.send("GET", "/api/v1/sites/news/articles/a1/reactions", ""); r.Status != 200 {
			t.Fatalf("request %d after recovery: %d %s", i, r.Status, r.Body)
		}
	}
}

// When the network to PostgreSQL stops passing packets, requests give up
// after the request timeout with 503 instead of hanging, and the server
// recovers when the network does.
func TestDatabaseHangs(t *testing.T) {
	e, proxy := proxiedEnv(t, time.Second)
	tok := e.readerToken()
	vote := func() response {
		return e.send("PUT", "/api/v1/sites/news/articles/h/reactions/mine", `{"reaction":"like"}`, "X-Reader-Token", tok)
	}
	if r := vote(); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	proxy.Hang()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			r := vote()
			if r.Status != 503 || r.errCode() != "unavailable" {
				t.Errorf("a vote while the network hangs: %d %s", r.Status, r.Body)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("a vote while the network hangs took %v", d)
			}
		}()
	}
	// The counts and the comment pages (hot routes, with a deadline of
	// their own: see hotpath.go) of articles not in memory ask the
	// database, and give up alike.
	for i, path := range []string{"/api/v1/sites/news/articles/unseen-1/reactions", "/api/v1/sites/news/articles/unseen-2/comments"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			r := e.send("GET", path, "", "X-Reader-Token", tok, "X-Request-Id", fmt.Sprint("hang-", i))
			if r.Status != 503 || r.errCode() != "unavailable" || r.Header.Get("X-Request-Id") != fmt.Sprint("hang-", i) {
				t.Errorf("GET %s while the network hangs: %d %v %s", path, r.Status, r.Header, r.Body)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("GET %s while the network hangs took %v", path, d)
			}
		}()
	}
	wg.Wait()
	if r := e.send("GET", "/readyz", ""); r.Status != 503 {
		t.Fatalf("readyz while the network hangs: %d %s", r.Status, r.Body)
	}
	proxy.Up()
	if !recovers(e) {
		t.Fatal("the server did not recover after the network came back")
	}
}

// send is do for answers that may be 5xx, safe from any goroutine: a
// transport error comes back as status 0.
func (e *env) send(method, path, body string, headers ...string) response {
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return response{}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	json.Unmarshal(b, &out.JSON)
	return out
}
