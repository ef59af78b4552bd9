package handlers_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/parley/parley/schema"
)

// The widget, dashboard and demo go over the wire compressed, chosen by
// Accept-Encoding; the widget has an immutable, content-hashed URL whose
// integrity hash the manifest gives.
func TestWebAssetsCompressedAndVersioned(t *testing.T) {
	e := newEnv(t, schema.SQLite, func(c *envConfig) { c.Demo = true })
	plain := e.do("GET", "/embed.js", nil, "Accept-Encoding", "identity")
	if plain.Status != 200 || plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("identity: %d %v", plain.Status, plain.Header)
	}
	for _, path := range []string{"/embed.js", "/mod/mod.js", "/mod/", "/demo/", "/demo/demo.css"} {
		for enc, unpack := range map[string]func(io.Reader) io.Reader{
			"br": func(r io.Reader) io.Reader { return brotli.NewReader(r) },
			"gzip": func(r io.Reader) io.Reader {
				z, err := gzip.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				return z
			},
		} {
			r := e.do("GET", path, nil, "Accept-Encoding", "gzip, deflate, "+enc+";q=1.0, zstd;q=0.1")
			if enc == "gzip" {
				r = e.do("GET", path, nil, "Accept-Encoding", "gzip, br;q=0")
			}
			if r.Status != 200 || r.Header.Get("Content-Encoding") != enc || r.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("%s with %s: %d %v", path, enc, r.Status, r.Header)
			}
			raw := e.do("GET", path, nil, "Accept-Encoding", "identity")
			got, err := io.ReadAll(unpack(bytes.NewReader(r.Body)))
			if err != nil || !bytes.Equal(got, raw.Body) {
				t.Fatalf("%s with %s: does not unpack to the plain body (%v)", path, enc, err)
			}
			if len(r.Body) >= len(raw.Body) {
				t.Errorf("%s with %s: %d bytes, plain %d", path, enc, len(r.Body), len(raw.Body))
			}
			if r.Header.Get("ETag") == raw.Header.Get("ETag") {
				t.Errorf("%s: the same ETag for %s and the plain body", path, enc)
			}
			again := e.do("GET", path, nil, "Accept-Encoding", enc, "If-None-Match", r.Header.Get("ETag"))
			if again.Status != 304 {
				t.Errorf("%s: If-None-Match: %d", path, again.Status)
			}
		}
	}

	m := e.do("GET", "/embed.json", nil)
	src, _ := m.JSON["src"].(string)
	integrity, _ := m.JSON["integrity"].(string)
	if m.Status != 200 || !strings.HasPrefix(src, "/embed.") || !strings.HasPrefix(integrity, "sha384-") ||
		!strings.Contains(m.JSON["tag"].(string), `integrity="`+integrity+`"`) {
		t.Fatalf("manifest: %d %s", m.Status, m.Body)
	}
	pinned := e.do("GET", src, nil, "Accept-Encoding", "identity")
	if pinned.Status != 200 || pinned.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		pinned.Header.Get("Access-Control-Allow-Origin") != "*" || !bytes.Equal(pinned.Body, plain.Body) {
		t.Fatalf("pinned: %d %v", pinned.Status, pinned.Header)
	}
	sum := sha512.Sum384(pinned.Body)
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); want != integrity {
		t.Fatalf("integrity %s, the body hashes to %s", integrity, want)
	}
	if r := e.do("GET", "/embed.000000000000.js", nil); r.Status != 404 {
		t.Fatalf("an unknown version: %d", r.Status)
	}
	if r := e.do("GET", "/favicon.ico", nil); r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("favicon: %d %v", r.Status, r.Header)
	}

	// Each translation the widget names is served, hashed and immutable,
	// and matches the integrity the widget will check.
	for _, lang := range []string{"fr", "ar", "ja"} {
		url := regexp.MustCompile(`/lang/` + lang + `\.[0-9a-f]{12}\.json`).FindString(string(plain.Body))
		if url == "" {
			t.Fatalf("the widget names no %s translation", lang)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+url, nil)
		req.Header.Set("Accept-Encoding", "br")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "br" || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: %d %v", url, resp.StatusCode, resp.Header)
		}
	}
}
