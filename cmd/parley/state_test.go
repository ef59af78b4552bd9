package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A reader's erasure on the command line reaches a running SQLite server's
// public pages within a second, though the server had the thread cached.
func TestForgetReachesRunningServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "forget.db")
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-demo", "-captcha-test", "-no-rate-limits")
	status, c := call(t, "POST", base+"/api/v1/captchas", `{}`)
	if status != 201 {
		t.Fatalf("captcha: %d %v", status, c)
	}
	thread := base + "/api/v1/sites/demo/articles/night-buses/comments"
	status, body := call(t, "POST", thread, `{"author":"Erin Example","email":"erin@example.org","body":"Please forget me later.","captcha_id":"`+
		c["id"].(string)+`","captcha_solution":"`+c["test_solution"].(string)+`"}`)
	if status != 201 {
		t.Fatalf("post: %d %v", status, body)
	}
	shows := func() bool {
		_, page := call(t, "GET", thread, "")
		for _, c := range page["comments"].([]any) {
			if c.(map[string]any)["author"] == "Erin Example" {
				return true
			}
		}
		return false
	}
	if !shows() || !shows() { // read twice: the page is cached now
		t.Fatal("the comment is not on the page")
	}
	var out strings.Builder
	err := run(context.Background(), []string{"parley", "reader", "forget", "-email", "erin@example.org", "-db", db},
		func(string) string { return "" }, strings.NewReader(""), &out, &out)
	if err != nil || !strings.Contains(out.String(), "1") {
		t.Fatalf("forget: %v %s", err, out.String())
	}
	start := time.Now()
	for shows() {
		if time.Since(start) > time.Second {
			t.Fatal("the erased author still shows on the public page a second later")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("erasure reached the public page after %v", time.Since(start))
}

// A second server on the same SQLite file refuses to start, and says why.
func TestSecondServeOnOneFileRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	startServer(t, map[string]string{"PARLEY_DB": db})
	var out strings.Builder
	err := run(context.Background(), []string{"parley", "serve", "-addr", "127.0.0.1:0", "-db", db},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, &out)
	if err == nil || !strings.Contains(err.Error(), "already served") || !strings.Contains(err.Error(), "one server per file") {
		t.Fatalf("second serve on one file: %v", err)
	}
}
