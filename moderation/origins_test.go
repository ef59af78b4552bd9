package moderation

import (
	"strings"
	"testing"
)

func TestNormalizeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://news.example":           "https://news.example",
		"HTTPS://News.Example:443/":      "https://news.example",
		"http://news.example:80":         "http://news.example",
		"http://news.example:443":        "http://news.example:443",
		"https://news.example:8443":      "https://news.example:8443",
		"http://[::1]:8080":              "http://[::1]:8080",
		"http://[::1]:80":                "http://[::1]",
		"  https://news.example  ":       "https://news.example",
		"*":                              "*",
		"http://localhost:08080":         "http://localhost:8080",
		"https://xn--bcher-kva.example/": "https://xn--bcher-kva.example",
	} {
		got, _, err := NormalizeOrigin(in)
		if err != nil || got != want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, notice, _ := NormalizeOrigin("https://news.example/"); !strings.Contains(notice, "trailing slash was removed") {
		t.Errorf("no notice for the slash: %q", notice)
	}
	for _, bad := range []string{"https://news.example:99999", "https://news.example:0", "https://news.example:", "ftp://news.example",
		"news.example", "https://news.example/path", "https://user@news.example", "https://news.example?q", "https://news.example#x", "https://"} {
		if got, _, err := NormalizeOrigin(bad); err == nil {
			t.Errorf("NormalizeOrigin(%q) = %q, want an error", bad, got)
		}
	}
	out, notices := NormalizeOrigins([]string{"https://A.example/", "https://a.example", "bad origin"})
	if strings.Join(out, " ") != "https://a.example bad origin" || len(notices) != 1 {
		t.Errorf("NormalizeOrigins: %v %v", out, notices)
	}
}
