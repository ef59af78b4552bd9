package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/moderation/mail/mailtest"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// buildParley builds the real binary once per test, with the race
// detector when the test has it (which also reuses the test's build cache).
func buildParley(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go" // where .ci/run and the README expect Go
	}
	bin := filepath.Join(t.TempDir(), "parley")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a `parley serve` subprocess.
type process struct {
	cmd    *exec.Cmd
	base   string
	stderr string // its log file
}

// startProcess runs `parley serve` on a free port and waits until it
// listens; the test ends it if it still runs.
func startProcess(t *testing.T, bin, dsn string, args ...string) *process {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "stderr-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-db", dsn}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: logf.Name()}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logf.Close()
		p.checkRaces(t)
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "parley listening on "); ok {
			p.base = u
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.base == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("parley serve did not start:\n%s", p.log())
	}
	return p
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.stderr)
	return string(b)
}

// checkRaces fails the test if the race detector in the server reported.
func (p *process) checkRaces(t *testing.T) {
	if log := p.log(); strings.Contains(log, "DATA RACE") {
		t.Errorf("the server reported a data race:\n%s", log)
	}
}

// kill ends the server as a crash would: SIGKILL, nothing flushed.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

// client talks JSON to a server; transport errors come back as status 0.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (c *client) do(method, path string, body any, headers ...string) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// fate is what the test knows of one reader's choice: the last value the
// server acknowledged, and the value of a request whose answer was lost
// in the crash, which may or may not have been applied.
type fate[V comparable] struct {
	acked    V
	inFlight *V
}

// possible tells whether v is a state the reader may have been left in.
func (f fate[V]) possible(v V) bool {
	return v == f.acked || (f.inFlight != nil && *f.inFlight == v)
}

// bounds returns how many readers certainly and possibly chose v.
func bounds[V comparable](fates map[string]*fate[V], v V) (certain, possible int) {
	for _, f := range fates {
		if f.acked == v && (f.inFlight == nil || *f.inFlight == v) {
			certain++
		}
		if f.possible(v) {
			possible++
		}
	}
	return certain, possible
}

// ledger records what the load did and what the server acknowledged.
type ledger struct {
	mu        sync.Mutex
	reactions map[string]*fate[string]            // by reader token
	votes     map[int64]map[string]*fate[float64] // by comment, then reader token
	comments  []int64                             // acknowledged comment ids
	held      []int64                             // acknowledged held comment ids
}

// TestCrashSafety runs the real binary under mixed load, SIGKILLs it, starts
// it again on the same database, and checks that every acknowledged write
// is there and every counter agrees with the rows it counts.
func TestCrashSafety(t *testing.T) {
	bin := buildParley(t)
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			dsn := schematest.DSN(t, d)
			prepareSite(t, dsn)
			args := []string{"-captcha-test", "-rate-readers", "off", "-rate-captchas", "off", "-rate-comments", "off", "-rate-votes", "off"}
			p := startProcess(t, bin, dsn, args...)
			c := newClient(p.base)

			var targets []int64
			for i := range 3 {
				targets = append(targets, crashPost(t, c, fmt.Sprintf("a comment to vote on, number %d", i)))
			}
			l := &ledger{reactions: map[string]*fate[string]{}, votes: map[int64]map[string]*fate[float64]{}}
			for _, id := range targets {
				l.votes[id] = map[string]*fate[float64]{}
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					switch {
					case g < 10:
						l.react(c, stop, g)
					case g < 12:
						l.post(c, stop, g)
					case g < 13:
						l.postHeld(c, stop, g)
					default:
						l.voteComments(c, stop, targets, g)
					}
				}()
			}
			// A few seconds of load, then the crash, in the middle of it.
			time.Sleep(1500 * time.Millisecond)
			p.kill(t)
			close(stop)
			wg.Wait()
			inFlight := 0
			for _, f := range l.reactions {
				if f.inFlight != nil {
					inFlight++
				}
			}
			t.Logf("before the crash: %d readers reacted (%d with a request in flight), %d comments acknowledged, %d of them held",
				len(l.reactions), inFlight, len(l.comments)+len(l.held), len(l.held))
			if len(l.reactions) < 10 || len(l.comments) < 1 || len(l.held) < 1 {
				t.Fatalf("too little load before the crash to tell anything: %d readers, %d comments, %d held",
					len(l.reactions), len(l.comments), len(l.held))
			}

			p = startProcess(t, bin, dsn, args...)
			l.check(t, newClient(p.base), dsn, targets)
		})
	}
}

// prepareSite creates the site the load uses. Every request comes from
// one address, so the posting-rate rule is off: acknowledged comments are
// published, but for those with the suspect word, which are held and
// announced to a webhook that never answers.
func prepareSite(t *testing.T, dsn string) {
	t.Helper()
	s, err := schema.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := schema.DefaultSettings()
	st.Moderation.MaxPerMinute = -1
	st.Moderation.FirstTimeApproved = 0
	st.Moderation.SuspectWords = []string{"suspicious"}
	st.Webhooks = schema.Webhooks{URLs: []string{"http://127.0.0.1:9/hook"}, Secret: "a webhook secret for the crash test"}
	if _, err := s.CreateSite(context.Background(), "news", st, nil); err != nil {
		t.Fatal(err)
	}
}

func crashPost(t *testing.T, c *client, body string) int64 {
	t.Helper()
	id, status := tryPost(c, body)
	if status != 201 {
		t.Fatalf("post: %d", status)
	}
	return id
}

// tryPost solves a captcha and posts a comment.
func tryPost(c *client, body string) (int64, int) {
	status, cap := c.do("POST", "/api/v1/captchas", nil)
	if status != 201 {
		return 0, status
	}
	status, out := c.do("POST", "/api/v1/sites/news/articles/crash/comments", map[string]any{
		"author": "Ann", "body": body, "captcha_id": cap["id"], "captcha_solution": cap["test_solution"]})
	if status != 201 {
		return 0, status
	}
	return int64(out["comment"].(map[string]any)["id"].(float64)), status
}

func crashReader(c *client) string {
	status, out := c.do("POST", "/api/v1/readers", nil)
	if status != 201 {
		return ""
	}
	return out["token"].(string)
}

// react: readers one after another, each setting, changing or retracting
// a reaction a few times.
func (l *ledger) react(c *client, stop chan struct{}, g int) {
	choices := []string{"like", "dislike", "", "like"}
	for n := 0; ; n++ {
		tok := crashReader(c)
		if tok == "" {
			return
		}
		f := &fate[string]{}
		l.mu.Lock()
		l.reactions[tok] = f
		l.mu.Unlock()
		for k := 0; k < 1+(g+n)%3; k++ {
			select {
			case <-stop:
				return
			default:
			}
			v := choices[(g+n+k)%len(choices)]
			l.mu.Lock()
			f.inFlight = &v
			l.mu.Unlock()
			var status int
			if v == "" {
				status, _ = c.do("DELETE", "/api/v1/sites/news/articles/crash/reactions/mine", nil, "X-Reader-Token", tok)
			} else {
				status, _ = c.do("PUT", "/api/v1/sites/news/articles/crash/reactions/mine", map[string]string{"reaction": v}, "X-Reader-Token", tok)
			}
			if status != 200 {
				return // lost in the crash: the in-flight value stays possible
			}
			l.mu.Lock()
			f.acked, f.inFlight = v, nil
			l.mu.Unlock()
		}
	}
}

// post writes comments, recording those acknowledged.
func (l *ledger) post(c *client, stop chan struct{}, g int) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		id, status := tryPost(c, fmt.Sprintf("comment %d from writer %d, before the crash", n, g))
		if status != 201 {
			return
		}
		l.mu.Lock()
		l.comments = append(l.comments, id)
		l.mu.Unlock()
	}
}

// postHeld writes comments the site holds, recording those acknowledged
// as held.
func (l *ledger) postHeld(c *client, stop chan struct{}, g int) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		status, cap := c.do("POST", "/api/v1/captchas", nil)
		if status != 201 {
			return
		}
		status, out := c.do("POST", "/api/v1/sites/news/articles/crash/comments", map[string]any{
			"author": "Ann", "body": fmt.Sprintf("a suspicious comment %d from writer %d", n, g),
			"captcha_id": cap["id"], "captcha_solution": cap["test_solution"]})
		if status != 201 {
			return
		}
		cm := out["comment"].(map[string]any)
		if cm["status"] != "pending" {
			panic(fmt.Sprintf("a comment with the suspect word was not held: %v", cm))
		}
		l.mu.Lock()
		l.held = append(l.held, int64(cm["id"].(float64)))
		l.mu.Unlock()
	}
}

// voteComments: readers voting up, down and retracting on a few comments.
func (l *ledger) voteComments(c *client, stop chan struct{}, targets []int64, g int) {
	for n := 0; ; n++ {
		tok := crashReader(c)
		if tok == "" {
			return
		}
		for k, id := range targets {
			select {
			case <-stop:
				return
			default:
			}
			f := &fate[float64]{}
			l.mu.Lock()
			l.votes[id][tok] = f
			l.mu.Unlock()
			for _, v := range []float64{1, -1, 0}[:1+(g+n+k)%3] {
				l.mu.Lock()
				f.inFlight = &v
				l.mu.Unlock()
				var status int
				path := fmt.Sprintf("/api/v1/comments/%d/vote", id)
				if v == 0 {
					status, _ = c.do("DELETE", path, nil, "X-Reader-Token", tok)
				} else {
					status, _ = c.do("PUT", path, map[string]float64{"vote": v}, "X-Reader-Token", tok)
				}
				if status != 200 {
					return
				}
				l.mu.Lock()
				f.acked, f.inFlight = v, nil
				l.mu.Unlock()
			}
		}
	}
}

// check verifies the restarted server against the ledger.
func (l *ledger) check(t *testing.T, c *client, dsn string, targets []int64) {
	t.Helper()
	if status, _ := c.do("GET", "/readyz", nil); status != 200 {
		t.Fatalf("readyz after restart: %d", status)
	}

	// Reactions: each reader's own is one it may have been left with, the
	// counts are exactly the readers' reactions, and within the bounds
	// the acknowledged votes imply.
	status, counts := c.do("GET", "/api/v1/sites/news/articles/crash/reactions", nil)
	if status != 200 {
		t.Fatalf("counts: %d", status)
	}
	mine := map[string]int{}
	for tok, f := range l.reactions {
		status, out := c.do("GET", "/api/v1/sites/news/articles/crash/reactions", nil, "X-Reader-Token", tok)
		got, _ := out["mine"].(string)
		if status != 200 || !f.possible(got) {
			t.Errorf("a reader's reaction after the crash is %q: acknowledged %q, in flight %v", got, f.acked, f.inFlight)
		}
		mine[got]++
	}
	for _, r := range []string{"like", "dislike"} {
		n := int(counts["counts"].(map[string]any)[r].(float64))
		lo, hi := bounds(l.reactions, r)
		if n != mine[r] || n < lo || n > hi {
			t.Errorf("%s: count %d, readers' own %d, acknowledged votes allow %d to %d", r, n, mine[r], lo, hi)
		}
	}

	// Comments: every acknowledged one is listed, and the article's count
	// agrees with the list.
	listed := map[int64]map[string]any{}
	cursor := ""
	for {
		status, page := c.do("GET", "/api/v1/sites/news/articles/crash/comments?limit=200"+cursor, nil)
		if status != 200 {
			t.Fatalf("list: %d", status)
		}
		for _, x := range page["comments"].([]any) {
			m := x.(map[string]any)
			listed[int64(m["id"].(float64))] = m
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			if n := int(page["count"].(float64)); n != len(listed) {
				t.Errorf("the article counts %d comments, %d are listed", n, len(listed))
			}
			break
		}
		cursor = "&cursor=" + next
	}
	for _, id := range l.comments {
		if listed[id] == nil {
			t.Errorf("acknowledged comment %d is gone", id)
		}
	}

	// Comment votes: the totals are exactly the stored votes, each one a
	// vote its reader may have been left with.
	s, err := schema.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Held comments: each acknowledged one has its comment.held event in
	// the outbox, written with the comment.
	for _, id := range l.held {
		c, err := s.Comment(context.Background(), id)
		if err != nil || c.Status != schema.StatusPending {
			t.Errorf("acknowledged held comment %d: %v, %v", id, c, err)
			continue
		}
		if evs, err := s.Events(context.Background(), id, "comment.held"); err != nil || len(evs) != 1 {
			t.Errorf("acknowledged held comment %d has %d comment.held events (%v), want 1", id, len(evs), err)
		}
	}
	for _, id := range targets {
		up, down := 0, 0
		for tok, f := range l.votes[id] {
			reader, _, _ := strings.Cut(tok, ".")
			v, err := s.ReaderVotes(context.Background(), reader, []int64{id})
			if err != nil {
				t.Fatal(err)
			}
			if !f.possible(float64(v[id])) {
				t.Errorf("comment %d: a reader's vote is %d: acknowledged %v, in flight %v", id, v[id], f.acked, f.inFlight)
			}
			switch v[id] {
			case 1:
				up++
			case -1:
				down++
			}
		}
		m := listed[id]
		lo, hi := bounds(l.votes[id], 1)
		if int(m["upvotes"].(float64)) != up || int(m["downvotes"].(float64)) != down || up < lo || up > hi {
			t.Errorf("comment %d: %v up, %v down; stored votes %d up, %d down; acknowledged allow %d to %d up",
				id, m["upvotes"], m["downvotes"], up, down, lo, hi)
		}
	}
}

// TestCrashMailNeverLost kills the server with SIGKILL while the SMTP
// server holds its answer to a message it already took, then starts it
// again: every queued email arrives at least once. The one in flight
// arrives twice — the server took it, but Parley never heard so and sends
// it again once its lease ends — which is the documented price of never
// losing one.
func TestCrashMailNeverLost(t *testing.T) {
	bin := buildParley(t)
	for _, d := range schematest.Engines {
		t.Run(string(d), func(t *testing.T) {
			dsn := schematest.DSN(t, d)
			prepareSite(t, dsn)
			smtp := mailtest.Start(t)
			entered := smtp.Hold()
			args := []string{"-captcha-test", "-rate-readers", "off", "-rate-captchas", "off", "-rate-comments", "off",
				"-smtp-url", smtp.URL, "-mail-from", "comments@news.example", "-smtp-timeout", "1s"}
			p := startProcess(t, bin, dsn, args...)
			c := newClient(p.base)
			const n = 8
			addr := func(i int) string { return fmt.Sprintf("reader%d@example.org", i) }
			for i := range n {
				status, cap := c.do("POST", "/api/v1/captchas", nil)
				if status != 201 {
					t.Fatalf("captcha: %d", status)
				}
				status, out := c.do("POST", "/api/v1/sites/news/articles/crash/comments", map[string]any{
					"author": "Ann", "body": fmt.Sprintf("comment %d", i), "email": addr(i), "notify_replies": true,
					"captcha_id": cap["id"], "captcha_solution": cap["test_solution"]})
				if status != 201 || out["subscription"] != "confirm_sent" {
					t.Fatalf("post %d: %d %v", i, status, out)
				}
			}
			select {
			case <-entered:
			case <-time.After(15 * time.Second):
				t.Fatalf("no email reached the SMTP server:\n%s", p.log())
			}
			// The server took the message; Parley is waiting for its 250.
			p.kill(t)
			smtp.Release()
			inFlight := smtp.Messages()[0].To[0]

			p = startProcess(t, bin, dsn, args...)
			deadline := time.Now().Add(30 * time.Second)
			for {
				missing := 0
				for i := range n {
					if len(smtp.To(addr(i))) == 0 {
						missing++
					}
				}
				if missing == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d confirmations never arrived:\n%s", missing, n, p.log())
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Every row is marked sent; only the one in flight took two
			// attempts.
			s, err := schema.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			waitUntil(t, 10*time.Second, func() bool {
				for i := range n {
					rows, err := s.MailTo(context.Background(), addr(i))
					if err != nil || len(rows) != 1 || !rows[0].SentMS.Valid {
						return false
					}
				}
				return true
			})
			if got := len(smtp.To(inFlight)); got != 2 {
				t.Errorf("the email in flight at the crash arrived %d times, want 2 (once before, once after)", got)
			}
			rows, _ := s.MailTo(context.Background(), inFlight)
			t.Logf("%d emails, %d received; the one in flight (%s) took %d attempts", n, len(smtp.Messages()), inFlight, rows[0].Attempts)
		})
	}
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not so after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
