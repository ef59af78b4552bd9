package schema

import (
	"net/url"
	"testing"
)

func TestConnectTimeoutDefault(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@h:5432/db":                          "5",
		"postgres://u@h/db?sslmode=disable&search_path=x": "5",
		"postgres://u@h/db?connect_timeout=30":            "30",
	} {
		u, err := url.Parse(withConnectTimeout(in))
		if err != nil || u.Query().Get("connect_timeout") != want {
			t.Errorf("withConnectTimeout(%q) = %v %v, want connect_timeout=%s", in, u, err, want)
		}
		if in != "postgres://u@h:5432/db" && u.Query().Get("sslmode") == "" && u.Query().Get("connect_timeout") == "5" {
			t.Errorf("withConnectTimeout(%q) lost parameters: %v", in, u)
		}
	}
}

// A URL without a host (the local socket, pgx's defaults) keeps its "//":
// url.String would write "postgres:?…", which pgx reads as garbage.
func TestConnectTimeoutWithoutHost(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://":                           "postgres://?connect_timeout=5",
		"postgres:///parley?host=/run/postgres": "postgres:///parley?host=/run/postgres&connect_timeout=5",
	} {
		if got := withConnectTimeout(in); got != want {
			t.Errorf("withConnectTimeout(%q) = %q, want %q", in, got, want)
		}
	}
}
