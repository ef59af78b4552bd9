package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// startServer runs `parley serve` through run() on port 0 and returns its
// base URL once /healthz answers; the server stops when the test ends.
func startServer(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	base, _ := startServerMetrics(t, env, args...)
	return base
}

// startServerMetrics is startServer that also returns the URL of /metrics,
// served on a port 0 of its own unless args say otherwise ("" when off).
func startServerMetrics(t *testing.T, env map[string]string, args ...string) (base, metrics string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"parley", "serve", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not shut down")
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "parley metrics on "); ok {
			metrics = u
		}
		if u, ok := strings.CutPrefix(lines.Text(), "parley listening on "); ok {
			base = u
			break
		}
	}
	if base == "" {
		t.Fatal("server did not start")
	}
	go io.Copy(io.Discard, pr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, metrics
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func call(t *testing.T, method, url, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), append([]string{"parley"}, args...), func(string) string { return "" }, strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

// End to end through run(): the demo site, a reader token, votes, counts.
func TestServeEndToEnd(t *testing.T) {
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			dsn := schematest.DSN(t, d)
			base := startServer(t, map[string]string{"PARLEY_DB": dsn}, "-demo")
			status, body := call(t, "POST", base+"/api/v1/readers", "")
			if status != 201 {
				t.Fatalf("reader: %d %v", status, body)
			}
			tok := body["token"].(string)
			status, body = call(t, "PUT", base+"/api/v1/sites/demo/articles/night-buses/reactions/mine", `{"reaction":"like"}`, "X-Reader-Token", tok)
			if status != 200 || body["mine"] != "like" {
				t.Fatalf("vote: %d %v", status, body)
			}
			status, body = call(t, "GET", base+"/api/v1/sites/demo/reactions?article=night-buses", "")
			a := body["articles"].(map[string]any)["night-buses"].(map[string]any)
			if status != 200 || a["total"].(float64) != 1 {
				t.Fatalf("bulk: %d %v", status, body)
			}
			resp, err := http.Get(base + "/demo/")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("demo page: %v %v", resp, err)
			}
			resp.Body.Close()
			if status, _ := call(t, "GET", base+"/readyz", ""); status != 200 {
				t.Fatalf("readyz %d", status)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if out, err := runCmd(t, "", "migrate", "-db", db); err != nil || !strings.Contains(out, "version ") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, err := runCmd(t, "", "site", "add", "-slug", "news", "-origin", "https://news.example", "-db", db); err != nil {
		t.Fatalf("site add: %v %s", err, out)
	}
	if _, err := runCmd(t, "", "site", "add", "-slug", "news", "-origin", "https://news.example", "-db", db); err == nil {
		t.Fatal("duplicate site accepted")
	}
	if out, err := runCmd(t, "", "site", "add", "-slug", "Bad Slug", "-origin", "ftp://x", "-db", db); err == nil || !strings.Contains(out+err.Error(), "origin") {
		t.Fatalf("invalid site: %v %s", err, out)
	}
	if out, err := runCmd(t, "correct horse battery\n", "moderator", "add", "-email", "Ed@News.example", "-role", "admin", "-db", db); err != nil {
		t.Fatalf("moderator add: %v %s", err, out)
	}
	if _, err := runCmd(t, "short\n", "moderator", "add", "-email", "x@news.example", "-role", "moderator", "-db", db); err == nil {
		t.Fatal("short password accepted")
	}
	if _, err := runCmd(t, "correct horse battery\n", "moderator", "add", "-email", "y@news.example", "-role", "boss", "-db", db); err == nil {
		t.Fatal("unknown role accepted")
	}
	for _, args := range [][]string{{"serve", "-h"}, {"migrate", "-h"}, {"site", "add", "-h"}, {"moderator", "add", "-h"}} {
		out, err := runCmd(t, "", args...)
		if err != nil || !strings.Contains(out, "usage: parley") {
			t.Fatalf("%v: %v %q", args, err, out)
		}
	}
	s, err := schema.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.ModeratorByEmail(context.Background(), "ed@news.example")
	if err != nil || m.Role != "admin" || !strings.HasPrefix(m.PasswordHash, "$argon2id$") {
		t.Fatalf("stored moderator %+v %v", m, err)
	}
}

func TestEnvironmentFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	var out strings.Builder
	env := map[string]string{"PARLEY_DB": db, "PARLEY_CREATE": "true", "PARLEY_SLUG": "envsite", "PARLEY_ORIGIN": "https://a.example,https://b.example"}
	err := run(context.Background(), []string{"parley", "site", "add"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
	if err != nil || !strings.Contains(out.String(), "https://a.example, https://b.example") {
		t.Fatalf("env flags: %v %s", err, out.String())
	}
}

// The first admin, made on the command line, logs in to the server and
// works the queues; one-time links in webhooks start with -public-url.
func TestModeratorEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "mod.db")
	if out, err := runCmd(t, "", "site", "add", "-create", "-slug", "news", "-origin", "https://news.example", "-db", db); err != nil {
		t.Fatalf("site add: %v %s", err, out)
	}
	if out, err := runCmd(t, "correct horse battery\n", "moderator", "add", "-email", "ed@news.example", "-role", "admin", "-db", db); err != nil {
		t.Fatalf("moderator add: %v %s", err, out)
	}
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-public-url", "https://comments.news.example")
	status, body := call(t, "POST", base+"/api/v1/mod/session", `{"email":"ed@news.example","password":"correct horse battery"}`)
	if status != 200 || body["csrf_token"] == nil {
		t.Fatalf("login: %d %v", status, body)
	}
	status, body = call(t, "POST", base+"/api/v1/mod/session", `{"email":"ed@news.example","password":"wrong"}`)
	if status != 401 {
		t.Fatalf("wrong password: %d %v", status, body)
	}
	status, body = call(t, "GET", base+"/api/v1/mod/queues", "")
	if status != 401 {
		t.Fatalf("queues without a session: %d %v", status, body)
	}
	// The command line's changes are in the audit log.
	s, err := schema.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log, _, err := s.AuditLog(context.Background(), schema.AuditQuery{})
	if err != nil || len(log) != 2 || log[0].Action != "moderator.create" || log[0].Actor != schema.ActorCLI || log[1].Action != "site.create" {
		t.Fatalf("audit log %+v %v", log, err)
	}
}

// /metrics is served on its own loopback listener, behind -metrics-token
// when set, and not on the public address; both listeners stop with the
// server (startServer's cleanup checks the clean return).
func TestMetricsListener(t *testing.T) {
	db := filepath.Join(t.TempDir(), "metrics.db")
	base, metrics := startServerMetrics(t, map[string]string{"PARLEY_DB": db, "PARLEY_METRICS_TOKEN": "a token for the scraper"})
	if !strings.HasPrefix(metrics, "http://127.0.0.1:") || strings.HasPrefix(metrics, base) {
		t.Fatalf("metrics at %q, public at %q", metrics, base)
	}
	if status, _ := call(t, "GET", base+"/metrics", ""); status != 404 {
		t.Fatalf("public /metrics: %d", status)
	}
	if status, _ := call(t, "GET", metrics, ""); status != 401 {
		t.Fatalf("metrics without the token: %d", status)
	}
	req, _ := http.NewRequest("GET", metrics, nil)
	req.Header.Set("Authorization", "Bearer a token for the scraper")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `parley_http_requests_total{method="GET",route="/healthz",status="200"}`) {
		t.Fatalf("metrics: %d %s", resp.StatusCode, body)
	}
	if status, _ := call(t, "GET", strings.TrimSuffix(metrics, "/metrics")+"/api/v1/readers", ""); status != 404 {
		t.Fatalf("the metrics listener serves the API: %d", status)
	}

	// Empty disables it.
	_, metrics = startServerMetrics(t, map[string]string{"PARLEY_DB": filepath.Join(t.TempDir(), "off.db")}, "-metrics-addr", "")
	if metrics != "" {
		t.Fatalf("-metrics-addr \"\" still serves metrics at %s", metrics)
	}
}
