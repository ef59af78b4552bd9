package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

// A site limit does nothing for an admin: the command refuses it rather
// than accept a promise it does not keep.
func TestModeratorAddAdminWithSite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if out, err := runCmd(t, "", "site", "add", "-create", "-slug", "news", "-origin", "https://news.example", "-db", db); err != nil {
		t.Fatalf("site add: %v %s", err, out)
	}
	out, err := runCmd(t, "correct horse battery\n", "moderator", "add", "-email", "ed@news.example", "-role", "admin", "-site", "news", "-db", db)
	if err == nil || !strings.Contains(err.Error(), "-site") || !strings.Contains(err.Error(), "admins moderate every site") {
		t.Fatalf("admin with -site: %v %s", err, out)
	}
	if out, err := runCmd(t, "correct horse battery\n", "moderator", "add", "-email", "ann@news.example", "-role", "moderator", "-site", "news", "-db", db); err != nil {
		t.Fatalf("moderator with -site: %v %s", err, out)
	}
	s, err := schema.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ModeratorByEmail(context.Background(), "ed@news.example"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("the refused admin exists: %v", err)
	}
	if m, err := s.ModeratorByEmail(context.Background(), "ann@news.example"); err != nil || len(m.Sites) != 1 {
		t.Fatalf("ann: %+v %v", m, err)
	}
}

// lockedBuffer is a log both the server and the test touch.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveLog starts `parley serve`, stops it once it listens, and returns
// what it logged.
func serveLog(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var log lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"parley", "serve", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, strings.NewReader(""), pw, &log)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "parley listening on ") {
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	return log.String()
}

// With the server secret in the database, a copy of the database reverses
// its IP hashes: the server says so once at start-up, and not when the
// secret is kept apart (PARLEY_SECRET).
func TestSecretInDatabaseWarning(t *testing.T) {
	const warning = "the server secret is kept in the database"
	dir := t.TempDir()
	log := serveLog(t, map[string]string{"PARLEY_DB": filepath.Join(dir, "in-db.db")})
	if n := strings.Count(log, warning); n != 1 {
		t.Fatalf("secret in the database: the warning was logged %d times:\n%s", n, log)
	}
	if !strings.Contains(log, `"level":"WARN"`) || !strings.Contains(log, "PARLEY_SECRET") {
		t.Fatalf("the warning is not a WARN naming PARLEY_SECRET:\n%s", log)
	}
	log = serveLog(t, map[string]string{"PARLEY_DB": filepath.Join(dir, "apart.db"), "PARLEY_SECRET": strings.Repeat("k", 40)})
	if strings.Contains(log, warning) {
		t.Fatalf("PARLEY_SECRET set, yet warned:\n%s", log)
	}
	if !strings.Contains(log, "listening") {
		t.Fatalf("no start-up log:\n%s", log)
	}
}
