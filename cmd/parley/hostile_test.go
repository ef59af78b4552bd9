package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Slowloris: clients that send their headers a byte at a time are cut off
// after -header-timeout, and the server answers others meanwhile.
func TestSlowHeadersAreCutOff(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	base := startServer(t, map[string]string{"PARLEY_DB": db}, "-header-timeout", "1s")
	addr := strings.TrimPrefix(base, "http://")

	const slow = 30
	cut := make(chan time.Duration, slow)
	for range slow {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		start := time.Now()
		go func() {
			// Headers that never end, one byte every 100 ms.
			msg := "GET /healthz HTTP/1.1\r\nHost: parley\r\nX-Slow: " + strings.Repeat("a", 1000)
			for i := 0; i < len(msg); i++ {
				if _, err := conn.Write([]byte{msg[i]}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		go func() {
			// The server closes the connection: reading ends.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			io.Copy(io.Discard, conn)
			cut <- time.Since(start)
		}()
	}
	for i := range 10 {
		resp, err := http.Get(base + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d among slow clients: %v %v", i, resp, err)
		}
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	for range slow {
		// Generous: the timeout is 1 s, a loaded machine may take longer.
		d := <-cut
		if d > 20*time.Second {
			t.Fatalf("a slow client was still connected after %v", d)
		}
		if d < 500*time.Millisecond {
			t.Fatalf("a slow client was cut off after %v, before its time", d)
		}
	}
}

// Rate limits are set from the command line and the environment.
func TestRateFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	base := startServer(t, map[string]string{"PARLEY_DB": db, "PARLEY_RATE_CAPTCHAS": "1/h:1"}, "-rate-readers", "1/h:2")
	for i, want := range []int{201, 201, 429} {
		if status, body := call(t, "POST", base+"/api/v1/readers", ""); status != want {
			t.Fatalf("reader %d: %d %v", i+1, status, body)
		}
	}
	for i, want := range []int{201, 429} {
		if status, body := call(t, "POST", base+"/api/v1/captchas", ""); status != want {
			t.Fatalf("captcha %d: %d %v", i+1, status, body)
		}
	}
	if out, err := runCmd(t, "", "serve", "-rate-votes", "lots"); err != errUsage || !strings.Contains(out, "rate") {
		t.Fatalf("bad rate accepted: %v %s", err, out)
	}
}
