// Command parley-bench is `make bench`: it starts the real parley server on
// a fresh database (SQLite by default, BENCH_DB=postgres://… for
// PostgreSQL) and a bare net/http server as the ceiling, seeds the data the
// paths need, loads each path with wrk (32 connections), and prints a table
// of requests per second, p50, p99, errors and the share of the ceiling.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/schema"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	duration    time.Duration
	conns       int
	threads     int
	queueRows   int
	threadRows  int
	dsn         string
	only        string
	keepWorkDir bool
	profile     string
}

func run(ctx context.Context) error {
	var o options
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of each path's load")
	flag.IntVar(&o.conns, "c", 32, "concurrent connections")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.queueRows, "queue-rows", 1_000_000, "comments in the database for the moderator queue path")
	flag.IntVar(&o.threadRows, "thread-rows", 10_000, "comments on the big article")
	flag.StringVar(&o.only, "only", "", "comma-separated paths to run (default all)")
	flag.BoolVar(&o.keepWorkDir, "keep", false, "keep the work directory")
	flag.StringVar(&o.profile, "cpuprofile", "", "have the server write a CPU profile of the load to this file")
	flag.Parse()
	o.dsn = os.Getenv("BENCH_DB")

	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: apt-get install wrk (make bench does it)")
	}
	work, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	if !o.keepWorkDir {
		defer os.RemoveAll(work)
	}
	engine := "sqlite"
	if o.dsn == "" {
		o.dsn = filepath.Join(work, "bench.db")
	} else {
		engine = "postgres"
	}
	bin := filepath.Join(work, "parley")
	step("building the server")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/parley").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	step("seeding %s: %d comments on one article, %d in the moderation queue", engine, o.threadRows, o.queueRows)
	cursorDeep, err := seed(ctx, o, bin)
	if err != nil {
		return err
	}

	ceiling, stopCeiling, err := startCeiling()
	if err != nil {
		return err
	}
	defer stopCeiling()

	step("starting parley serve")
	base, proc, err := startServer(bin, o.dsn, filepath.Join(work, "server.log"), o.profile)
	if err != nil {
		return err
	}
	defer proc.Process.Kill()

	step("issuing reader tokens and captchas")
	nTokens, nCaptchas := 40000, 60000
	if !selected(o.only, "vote") {
		nTokens = 10
	}
	if !selected(o.only, "post a comment") {
		nCaptchas = 10
	}
	tokens, err := readerTokens(base, nTokens)
	if err != nil {
		return err
	}
	tokFile := filepath.Join(work, "tokens.txt")
	os.WriteFile(tokFile, []byte(strings.Join(tokens, "\n")+"\n"), 0o600)
	captchas, err := issueCaptchas(base, nCaptchas)
	if err != nil {
		return err
	}
	capFile := filepath.Join(work, "captchas.txt")
	os.WriteFile(capFile, []byte(strings.Join(captchas, "\n")+"\n"), 0o600)
	modToken, err := moderatorToken(bin, o.dsn, base)
	if err != nil {
		step("no moderator token, the queue path is skipped: %v", err)
	}
	// Some votes by other readers, so that counts are not all zero.
	warm, err := readerTokens(base, 200)
	if err != nil {
		return err
	}
	for _, t := range warm {
		put(base+"/api/v1/sites/bench/articles/hot/reactions/mine", t, `{"reaction":"like"}`)
	}

	bulk := "/api/v1/sites/bench/reactions?"
	for i := 0; i < 30; i++ {
		bulk += fmt.Sprintf("article=a%d&", i)
	}
	scripts, err := writeScripts(work, tokFile, capFile, modToken)
	if err != nil {
		return err
	}
	paths := []benchPath{
		{name: "ceiling: bare net/http", url: ceiling + "/hello"},
		{name: "read counts", url: base + "/api/v1/sites/bench/articles/hot/reactions"},
		{name: "bulk counts, 30 articles", url: base + strings.TrimSuffix(bulk, "&")},
		{name: "vote", url: base + "/api/v1/sites/bench/articles/hot/reactions/mine", script: scripts["vote"]},
		{name: "comments, first page", url: base + "/api/v1/sites/bench/articles/thread/comments?limit=50"},
		{name: "comments, deep page", url: base + "/api/v1/sites/bench/articles/thread/comments?limit=50&cursor=" + cursorDeep},
		{name: "post a comment", url: base + "/api/v1/sites/bench/articles/posts/comments", script: scripts["post"]},
		{name: "moderator queue page", url: base + "/api/v1/mod/queues/pending?limit=50", script: scripts["queue"]},
	}
	var results []result
	for _, p := range paths {
		if p.name == "moderator queue page" && modToken == "" {
			continue
		}
		if !selected(o.only, p.name) {
			continue
		}
		step("loading %s", p.name)
		res, err := wrk(o, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		results = append(results, res)
	}
	votesOK := checkVotes(ctx, base, o.dsn, results)
	rss := peakRSS(proc.Process.Pid)
	writer := writerStats(base)
	// A graceful stop, so that a CPU profile is written out.
	proc.Process.Signal(os.Interrupt)
	proc.Wait()
	printTable(os.Stdout, engine, o, results, rss, votesOK)
	fmt.Printf("Group commit over the whole run: %s.\n", writer)
	return nil
}

// selected tells whether a path is among -only's comma-separated words;
// the ceiling always runs.
func selected(only, name string) bool {
	if only == "" || strings.HasPrefix(name, "ceiling") {
		return true
	}
	for _, w := range strings.Split(only, ",") {
		if w != "" && strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "• "+format+"\n", args...)
}

// seed creates the bench site and articles, the big thread and the
// moderation backlog, and returns the cursor of a page 90% deep.
func seed(ctx context.Context, o options, bin string) (string, error) {
	if out, err := exec.Command(bin, "site", "add", "-slug", "bench", "-origin", "http://127.0.0.1", "-db", o.dsn).CombinedOutput(); err != nil {
		return "", fmt.Errorf("site add: %v %s", err, out)
	}
	s, err := schema.Open(ctx, o.dsn)
	if err != nil {
		return "", err
	}
	defer s.Close()
	site, err := s.Site(ctx, "bench")
	if err != nil {
		return "", err
	}
	for i := 0; i < 30; i++ {
		if _, err := s.EnsureArticle(ctx, site.ID, fmt.Sprintf("a%d", i)); err != nil {
			return "", err
		}
	}
	thread, err := s.EnsureArticle(ctx, site.ID, "thread")
	if err != nil {
		return "", err
	}
	if err := s.SeedComments(ctx, site.ID, thread.ID, o.threadRows, schema.StatusApproved, func(i int) string {
		return fmt.Sprintf("Comment number %d on the big thread, with a few words more to make it look like a real reader's comment.", i)
	}); err != nil {
		return "", err
	}
	backlog, err := s.EnsureArticle(ctx, site.ID, "backlog")
	if err != nil {
		return "", err
	}
	// Most of the million are history; the pending queue holds 20,000.
	pending := min(20000, o.queueRows)
	if err := s.SeedComments(ctx, site.ID, backlog.ID, o.queueRows-pending, schema.StatusApproved, func(i int) string {
		return fmt.Sprintf("Old approved comment %d.", i)
	}); err != nil {
		return "", err
	}
	if err := s.SeedComments(ctx, site.ID, backlog.ID, pending, schema.StatusPending, func(i int) string {
		return fmt.Sprintf("Held comment %d waiting for a moderator.", i)
	}); err != nil {
		return "", err
	}
	var after *schema.Cursor
	target := o.threadRows * 9 / 10
	for seen := 0; seen < target; {
		rows, next, err := s.Thread(ctx, thread.ID, schema.SortOldest, after, 200)
		if err != nil {
			return "", err
		}
		seen += len(rows)
		if next == nil {
			break
		}
		after = next
	}
	if after == nil {
		return "", errors.New("thread too short for a deep page")
	}
	return after.String(), nil
}

func startCeiling() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	body := []byte(`{"site":"bench","article":"hot","counts":{"dislike":0,"like":200},"total":200,"mine":null}` + "\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func startServer(bin, dsn, logPath, profile string) (string, *exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	args := []string{"serve", "-addr", "127.0.0.1:0", "-db", dsn, "-captcha-test", "-no-rate-limits", "-log-level", "warn"}
	if profile != "" {
		abs, _ := filepath.Abs(profile)
		args = append(args, "-cpuprofile", abs)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "parley listening on "); ok {
			go io.Copy(io.Discard, out)
			return u, cmd, nil
		}
	}
	cmd.Process.Kill()
	b, _ := os.ReadFile(logPath)
	return "", nil, fmt.Errorf("server did not start: %s", b)
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func post(url, body string, headers ...string) (map[string]any, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("POST %s: %d %v", url, resp.StatusCode, out)
	}
	return out, nil
}

func put(url, token, body string) {
	req, _ := http.NewRequest("PUT", url, strings.NewReader(body))
	req.Header.Set("X-Reader-Token", token)
	if resp, err := client.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// parallel runs n calls of fn on 16 goroutines.
func parallel(n int, fn func(i int) (string, error)) ([]string, error) {
	out := make([]string, n)
	errc := make(chan error, 16)
	per := (n + 15) / 16
	for g := 0; g < 16; g++ {
		go func(g int) {
			for i := g * per; i < min(n, (g+1)*per); i++ {
				v, err := fn(i)
				if err != nil {
					errc <- err
					return
				}
				out[i] = v
			}
			errc <- nil
		}(g)
	}
	for g := 0; g < 16; g++ {
		if err := <-errc; err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readerTokens(base string, n int) ([]string, error) {
	return parallel(n, func(int) (string, error) {
		r, err := post(base+"/api/v1/readers", "")
		if err != nil {
			return "", err
		}
		return r["token"].(string), nil
	})
}

// issueCaptchas returns "id solution" lines.
func issueCaptchas(base string, n int) ([]string, error) {
	return parallel(n, func(int) (string, error) {
		r, err := post(base+"/api/v1/captchas", "")
		if err != nil {
			return "", err
		}
		return r["id"].(string) + " " + r["test_solution"].(string), nil
	})
}

// moderatorToken creates an admin and an API token for the queue path.
func moderatorToken(bin, dsn, base string) (string, error) {
	cmd := exec.Command(bin, "moderator", "add", "-email", "bench@parley.example", "-role", "admin", "-db", dsn)
	cmd.Stdin = strings.NewReader("bench-password-123\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("moderator add: %v %s", err, out)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/mod/session", strings.NewReader(`{"email":"bench@parley.example","password":"bench-password-123"}`))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var login map[string]any
	json.NewDecoder(resp.Body).Decode(&login)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("moderator login: %d %v", resp.StatusCode, login)
	}
	var cookie string
	for _, c := range resp.Cookies() {
		cookie = c.Name + "=" + c.Value
	}
	csrf, _ := login["csrf_token"].(string)
	tok, err := post(base+"/api/v1/mod/tokens", `{"name":"bench"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	if err != nil {
		return "", err
	}
	return tok["token"].(string), nil
}

type benchPath struct {
	name, url, script string
}

type result struct {
	name       string
	rps        float64
	p50, p99   time.Duration
	requests   int64
	errors     int64
	scriptInfo map[string]int64
}

func wrk(o options, p benchPath) (result, error) {
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns), "-d", o.duration.String(), "--latency", "--timeout", "5s"}
	if p.script != "" {
		args = append(args, "-s", p.script)
	}
	args = append(args, p.url)
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(p.name, out)
}

func parseWrk(name string, out []byte) (result, error) {
	r := result{name: name, scriptInfo: map[string]int64{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = parseDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseDur(f[1])
		case len(f) >= 2 && f[1] == "requests" && len(f) > 2 && f[2] == "in":
			r.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case len(f) >= 4 && f[0] == "Non-2xx":
			n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			r.errors += n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			for _, x := range f[2:] {
				n, err := strconv.ParseInt(strings.TrimSuffix(x, ","), 10, 64)
				if err == nil {
					r.errors += n
				}
			}
		case len(f) >= 2 && f[0] == "BENCH":
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				r.scriptInfo[k] = n
			}
		}
	}
	if r.rps == 0 {
		return r, fmt.Errorf("could not read wrk's output:\n%s", out)
	}
	return r, nil
}

func parseDur(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}

// checkVotes compares the counts the server answers with a recount of the
// reactions table: exact, or not.
func checkVotes(ctx context.Context, base, dsn string, results []result) string {
	ran := false
	for _, r := range results {
		ran = ran || r.name == "vote"
	}
	if !ran {
		return "not run"
	}
	resp, err := client.Get(base + "/api/v1/sites/bench/articles/hot/reactions")
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer resp.Body.Close()
	var c struct {
		Counts map[string]int64 `json:"counts"`
	}
	json.NewDecoder(resp.Body).Decode(&c)
	s, err := schema.Open(ctx, dsn)
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer s.Close()
	site, _ := s.Site(ctx, "bench")
	id, err := s.ArticleID(ctx, site.ID, "hot")
	if err != nil {
		return "unknown: " + err.Error()
	}
	truth, err := s.RecountReactions(ctx, id)
	if err != nil {
		return "unknown: " + err.Error()
	}
	if c.Counts["like"] == truth["like"] && c.Counts["dislike"] == truth["dislike"] {
		return fmt.Sprintf("exact (like %d, dislike %d, equal to a recount of the reactions table)", truth["like"], truth["dislike"])
	}
	return fmt.Sprintf("MISMATCH: server like %d dislike %d, recount like %d dislike %d", c.Counts["like"], c.Counts["dislike"], truth["like"], truth["dislike"])
}

// peakRSS is the server's high-water resident set, from /proc.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return fmt.Sprintf("%.0f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}

func printTable(w io.Writer, engine string, o options, rs []result, rss, votes string) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "\n## make bench — %s, %s\n\n", engine, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Machine: %s, %d cores, %s/%s, %s. Load: wrk, %d connections, %d threads, %s per path, on the same machine.\n\n",
		host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), o.conns, o.threads, o.duration)
	fmt.Fprintln(w, "| path | req/s | p50 | p99 | errors | share of ceiling |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	var ceiling float64
	for _, r := range rs {
		if strings.HasPrefix(r.name, "ceiling") {
			ceiling = r.rps
		}
		share := "—"
		if ceiling > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.rps/ceiling)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s |\n", r.name, r.rps, fmtDur(r.p50), fmtDur(r.p99), r.errors, share)
	}
	fmt.Fprintf(w, "\nVote counts after the vote path: %s. Peak RSS of the server: %s.\n", votes, rss)
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

// writerStats reads the group-commit writer's counters from /metrics.
func writerStats(base string) string {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return "unknown"
	}
	defer resp.Body.Close()
	var batches, writes float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "parley_write_batches_total" {
			batches, _ = strconv.ParseFloat(f[1], 64)
		}
		if len(f) == 2 && f[0] == "parley_batched_writes_total" {
			writes, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if batches == 0 {
		return "no batches"
	}
	return fmt.Sprintf("%.0f writes in %.0f transactions, %.1f per transaction", writes, batches, writes/batches)
}
