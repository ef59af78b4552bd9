package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/handlers"
	"github.com/parley/parley/moderation/webhooks"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// env is a real server on a real store behind httptest.
type env struct {
	t     *testing.T
	store *schema.Store
	srv   *httptest.Server
	site  *schema.Site
	h     *handlers.Server
}

const testSecret = "test-secret-0123456789abcdef0123456789abcdef"

// envConfig is what a test may change of the server's configuration and of
// its webhook delivery worker's.
type envConfig struct {
	handlers.Config
	Webhooks webhooks.Config
}

func newEnv(t *testing.T, d schema.Dialect, opts ...func(*envConfig)) *env {
	t.Helper()
	return newEnvOn(t, schematest.Open(t, d), opts...)
}

// newEnvOn is newEnv on a store the test opened.
func newEnvOn(t *testing.T, store *schema.Store, opts ...func(*envConfig)) *env {
	t.Helper()
	// Started first, so that one-time links in webhooks point at it.
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := envConfig{
		Config:   handlers.Config{Secret: testSecret, CaptchaTest: true, PublicURL: srv.URL, Logger: log},
		Webhooks: webhooks.Config{Poll: 20 * time.Millisecond, Logger: log},
	}
	for _, o := range opts {
		o(&cfg)
	}
	// As in serve: the settings and the worker allow the same addresses.
	cfg.Webhooks.AllowPrivate = cfg.AllowPrivateWebhooks
	hooks := webhooks.New(store, cfg.Webhooks)
	cfg.WakeWebhooks = hooks.Wake
	h := handlers.New(store, cfg.Config)
	// srv checks each exchange against docs/openapi.yaml; e.h is the
	// server behind it.
	srv.Config.Handler = validating(t, h)
	// The delivery worker runs as in production (the serve command's
	// runner starts it) and stops before the store closes.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hooks.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close()
	})
	st := schema.DefaultSettings()
	st.Origins = []string{"https://news.example"}
	site, err := store.CreateSite(context.Background(), "news", st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, srv: srv, site: site, h: h}
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (r response) errCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) field(name string) string {
	e, _ := r.JSON["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	v, _ := f[name].(string)
	return v
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.JSON); err != nil {
			e.t.Fatalf("%s %s: invalid JSON %q: %v", method, path, b, err)
		}
	}
	// Pages for people (one-time links) answer errors in HTML.
	html := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
	if resp.StatusCode >= 400 && out.errCode() == "" && !html {
		e.t.Fatalf("%s %s: %d without the error shape: %s", method, path, resp.StatusCode, b)
	}
	if resp.StatusCode >= 500 {
		e.t.Fatalf("%s %s: server error %d: %s", method, path, resp.StatusCode, b)
	}
	return out
}

// metrics reads the server's metrics as the operator's scraper does,
// through the handler serve puts on its own listener.
func (e *env) metrics(headers ...string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.MetricsHandler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (e *env) readerToken() string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/readers", nil)
	if r.Status != 201 {
		e.t.Fatalf("reader token: %d %s", r.Status, r.Body)
	}
	return r.JSON["token"].(string)
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func forEachEngine(t *testing.T, fn func(t *testing.T, d schema.Dialect)) {
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

// noLimits turns rate limits off for load-style tests.
func noLimits() handlers.Limits {
	return handlers.Limits{}.Off()
}

// testLog sends the server's log to the test's, so a failing test shows
// what the server said.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
