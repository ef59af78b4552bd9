package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
)

// runSplit runs the command line with its own environment and returns
// standard output and standard error apart.
func runSplit(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e strings.Builder
	err = run(context.Background(), append([]string{"parley"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), err
}

// A mistyped -db must not create an empty database that the server never
// reads; -create is the way to ask for one.
func TestCommandsRefuseMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "parely.db")
	cases := [][]string{
		{"site", "add", "-slug", "news", "-origin", "https://news.example", "-db", typo},
		{"reader", "export", "-email", "a@example.org", "-db", typo},
		{"reader", "forget", "-email", "a@example.org", "-db", typo},
		{"backup", "-o", filepath.Join(dir, "b.db"), "-db", typo},
		{"report", "-site", "news", "-from", "2026-01-01", "-to", "2026-06-30", "-db", typo},
		{"export", "-site", "news", "-db", typo},
		{"export", "-site", "news", "-o", filepath.Join(dir, "export.ndjson"), "-db", typo},
		{"import", "-site", "news", "-format", "parley", "-db", typo, filepath.Join("internal", "imports", "testdata", "disqus", "export.xml")},
		{"import", "-site", "news", "-format", "disqus", "-dry-run", "-db", typo, filepath.Join("internal", "imports", "testdata", "disqus", "export.xml")},
	}
	for _, args := range cases {
		_, _, err := runSplit(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "-create") {
			t.Errorf("%v: %v", args, err)
		}
		if _, serr := os.Stat(typo); serr == nil {
			t.Fatalf("%v created %s", args, typo)
		}
	}
	// moderator add reads the password first; the refusal comes before any file.
	var o strings.Builder
	err := run(context.Background(), []string{"parley", "moderator", "add", "-email", "ed@news.example", "-role", "admin", "-db", typo},
		func(string) string { return "" }, strings.NewReader("correct horse battery\n"), &o, &o)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("moderator add: %v", err)
	}
	if _, serr := os.Stat(typo); serr == nil {
		t.Fatal("moderator add created the file")
	}
	if out, _, err := runSplit(t, nil, "site", "add", "-create", "-slug", "news", "-origin", "https://news.example", "-db", typo); err != nil {
		t.Fatalf("-create: %v %s", err, out)
	}
	// migrate creates, as documented.
	fresh := filepath.Join(dir, "fresh.db")
	if _, _, err := runSplit(t, nil, "migrate", "-db", fresh); err != nil {
		t.Fatal(err)
	}
}

func TestDatabaseForms(t *testing.T) {
	for _, dsn := range []string{"mysql://u@h/db", "sqlite://x.db", "postgres://", "postgres://%zz"} {
		_, _, err := runSplit(t, nil, "migrate", "-db", dsn)
		if err == nil || !strings.Contains(err.Error(), "file:parley.db") || !strings.Contains(err.Error(), "postgres://user:password@host:5432/database") {
			t.Errorf("-db %s: %v", dsn, err)
		}
		if strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "unable to open") {
			t.Errorf("-db %s: driver error leaked: %v", dsn, err)
		}
	}
	if _, err := os.Stat("sqlite:"); err == nil {
		t.Fatal("a directory named sqlite: was created")
	}
}

func TestFlagMistakesAreNamed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"site", "add", "-origin", "https://news.example", "-db", db}, "missing required flag -slug"},
		{nil, []string{"site", "add", "-slug", "news", "-db", db}, "missing required flag -origin"},
		{nil, []string{"moderator", "add", "-db", db}, "missing required flag -email"},
		{nil, []string{"reader", "export", "-db", db}, "missing required flag -email"},
		{nil, []string{"backup", "-db", db}, "missing required flag -o"},
		{nil, []string{"serve", "-header-timeout", "5", "-db", db}, "write 5s"},
		{map[string]string{"PARLEY_REQUEST_TIMEOUT": "10"}, []string{"serve", "-db", db}, "write 10s"},
		{map[string]string{"PARLEY_DEMO": "maybe"}, []string{"serve", "-db", db}, "PARLEY_DEMO=maybe: a boolean is expected"},
		{nil, []string{"serve", "-public-url", "comments.news.example", "-db", db}, "-public-url \"comments.news.example\": want an absolute http or https URL"},
		{nil, []string{"serve", "-public-url", "https://", "-db", db}, "with a host"},
	}
	for _, c := range cases {
		out, errOut, err := runSplit(t, c.env, c.args...)
		msg := errOut
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, c.want) {
			t.Errorf("%v %v: %v, stdout %q stderr %q; want %q", c.env, c.args, err, out, errOut, c.want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("a failed command created the database")
	}
}

// Help that was asked for goes to standard output and succeeds.
func TestHelpOnStandardOutput(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"serve", "-h"}, {"migrate", "-h"}, {"site", "add", "-h"}, {"site", "-h"},
		{"moderator", "add", "-help"}, {"reader", "export", "-h"}, {"reader", "-h"}, {"backup", "-h"}} {
		out, errOut, err := runSplit(t, nil, args...)
		if err != nil || !strings.Contains(strings.ToLower(out), "usage") || errOut != "" {
			t.Errorf("%v: %v stdout %q stderr %q", args, err, out, errOut)
		}
	}
	// A mistake is not help: usage on standard error, exit 2.
	if out, errOut, err := runSplit(t, nil, "serve", "-nope"); err != errUsage || out != "" || !strings.Contains(errOut, "usage") {
		t.Errorf("bad flag: %v %q %q", err, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runSplit(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "parley dev\n") || !strings.Contains(out, "go1.") ||
		!strings.Contains(out, "sqlite (modernc.org/sqlite") || !strings.Contains(out, "postgres (github.com/jackc/pgx/v5") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestSiteAddNormalisesOrigins(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	out, errOut, err := runSplit(t, nil, "site", "add", "-create", "-slug", "news", "-db", db,
		"-origin", "HTTPS://News.Example:443/", "-origin", "https://news.example", "-origin", "http://[::1]:80", "-origin", "http://Localhost:8080")
	if err != nil {
		t.Fatalf("%v %s %s", err, out, errOut)
	}
	if !strings.Contains(out, "origins https://news.example, http://[::1], http://localhost:8080)\n") {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "notice: origin \"HTTPS://News.Example:443/\": the trailing slash was removed") {
		t.Errorf("stderr %q", errOut)
	}
	_, _, err = runSplit(t, nil, "site", "add", "-slug", "other", "-db", db, "-origin", "https://news.example:99999")
	if err == nil || !strings.Contains(err.Error(), "the port must be 1 to 65535") {
		t.Errorf("port 99999: %v", err)
	}
}

// Listening on 127.0.0.1 must not list that origin twice.
func TestDemoSiteOriginsOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	s, err := schema.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := ensureDemoSite(context.Background(), s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); err != nil {
		t.Fatal(err)
	}
	site, err := s.Site(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(site.Settings.Origins, " "); got != "http://127.0.0.1:8080 http://localhost:8080" {
		t.Fatalf("origins %q", got)
	}
}

// parley report prints the transparency report as JSON or CSV, and names
// its mistakes.
func TestReportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if _, errOut, err := runSplit(t, nil, "site", "add", "-create", "-slug", "news", "-db", db, "-origin", "https://news.example"); err != nil {
		t.Fatalf("%v %s", err, errOut)
	}
	out, errOut, err := runSplit(t, nil, "report", "-site", "news", "-from", "2026-01-01", "-to", "2026-06-30", "-db", db)
	if err != nil {
		t.Fatalf("%v %s", err, errOut)
	}
	for _, part := range []string{`"site": "news"`, `"from": "2026-01-01T00:00:00Z"`, `"to": "2026-07-01T00:00:00Z"`, `"median_hours_to_decision": 0`} {
		if !strings.Contains(out, part) {
			t.Errorf("report lacks %s:\n%s", part, out)
		}
	}
	out, _, err = runSplit(t, map[string]string{"PARLEY_DB": db}, "report", "-site", "news", "-from", "2026-01-01", "-to", "2026-06-30", "-format", "csv")
	if err != nil || !strings.HasPrefix(out, "section,item,detail,value\n") {
		t.Fatalf("csv: %v %q", err, out)
	}
	for args, want := range map[string]string{
		"-site other -from 2026-01-01 -to 2026-06-30":            `no site "other"`,
		"-site news -from 2026-13-01 -to 2026-06-30":             "-from must be a date",
		"-site news -from 2026-07-01 -to 2026-06-30":             "-to must not be before from",
		"-site news -from 2026-01-01 -to 2026-06-30 -format xml": "-format must be json or csv",
	} {
		_, _, err := runSplit(t, nil, append([]string{"report", "-db", db}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
