// Command parley-bench is `make bench`: it starts the real parley server on
// a fresh database (SQLite by default; with BENCH_DB=postgres://… a fresh
// PostgreSQL database created through that URL and dropped afterwards) and
// a bare net/http server as the ceiling, seeds the data the paths need,
// loads each path with wrk, checks that the counters are exact, measures
// how fast a change on one instance shows on a second one (PostgreSQL), and
// prints a table of requests per second, latencies and shares of the
// ceiling next to their targets.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	trials      int
	trialBudget time.Duration
	dsn         string
	only        string
	keepWorkDir bool
	profile     string
	rounds      int // of the rollups' off and on rows
}

// The ids -only takes, in the order the rows run.
var rowIDs = []string{"counts-token", "counts-quiet", "counts-anon", "bulk", "vote", "comment-vote",
	"page", "deep", "pairs", "queue", "insights", "insights-year", "insights-cold", "media", "propagation", "vote-off", "pairs-off"}

// offRows run last, on servers restarted with the rollups off and on in
// turn (rollups.go): the paths of their namesakes, to measure what the
// Insights rollups cost them.
var offRows = map[string]string{"vote-off": "vote", "pairs-off": "pairs"}

func run(ctx context.Context) error {
	var o options
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of each path's load")
	flag.IntVar(&o.conns, "c", 32, "concurrent connections")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.queueRows, "queue-rows", 1_000_000, "comments in the database for the moderator queue path")
	flag.IntVar(&o.threadRows, "thread-rows", 10_000, "comments on the big article")
	flag.IntVar(&o.trials, "trials", 50, "propagation trials per kind (half for bans, a fifth for erasures)")
	flag.DurationVar(&o.trialBudget, "trial-budget", 20*time.Second, "time after which a propagation kind stops (having run at least 10 trials)")
	flag.StringVar(&o.only, "only", "", "comma-separated rows to run (default all): "+strings.Join(rowIDs, ", "))
	flag.BoolVar(&o.keepWorkDir, "keep", false, "keep the work directory (and the PostgreSQL database)")
	flag.StringVar(&o.profile, "cpuprofile", "", "have the server write a CPU profile of the load to this file")
	flag.IntVar(&o.rounds, "rollup-rounds", 4, "rounds of the rollups' off and on rows (vote-off, pairs-off), the order alternating; even, so that each order runs as often")
	flag.Parse()
	if o.rounds < 2 || o.rounds%2 != 0 {
		return fmt.Errorf("-rollup-rounds is %d: give an even number of rounds, at least 2", o.rounds)
	}
	for _, w := range strings.Split(o.only, ",") {
		if w != "" && !contains(rowIDs, w) {
			return fmt.Errorf("-only: unknown row %q; the rows are %s", w, strings.Join(rowIDs, ", "))
		}
	}

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
	rep := report{o: o, command: commandLine(), started: time.Now().UTC()}
	if admin := os.Getenv("BENCH_DB"); admin != "" {
		dsn, version, drop, err := freshPostgres(ctx, admin, o.keepWorkDir)
		if err != nil {
			return err
		}
		defer drop()
		o.dsn, rep.engine, rep.postgres = dsn, version, true
	} else {
		o.dsn, rep.engine = filepath.Join(work, "bench.db"), "SQLite (modernc.org/sqlite)"
	}
	bin := filepath.Join(work, "parley")
	step("building the server")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/parley").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	step("seeding %s: %d comments on one article, %d in the moderation queue", rep.engine, o.threadRows, o.queueRows)
	sd, err := seed(ctx, o, bin, rep.postgres)
	if err != nil {
		return err
	}
	if selected(o.only, "insights") || selected(o.only, "insights-year") || selected(o.only, "insights-cold") {
		step("seeding the insights site: %d articles, a year of hourly history", insightArticles)
		if err := seedInsights(ctx, o, bin); err != nil {
			return err
		}
	}

	ceiling, stopCeiling, err := startCeiling()
	if err != nil {
		return err
	}
	defer stopCeiling()

	step("starting parley serve")
	a, err := startServer(bin, o.dsn, filepath.Join(work, "server.log"), o.profile)
	if err != nil {
		return err
	}
	defer a.Process.Kill()
	base := a.base

	step("issuing reader tokens")
	nVoters := 10
	if selected(o.only, "vote") || selected(o.only, "comment-vote") || selected(o.only, "vote-off") {
		nVoters = 40000
	}
	voters, err := readerTokens(base, nVoters)
	if err != nil {
		return err
	}
	// The widget's readers: one in four has reacted to the article.
	nReaders := 10000
	if !selected(o.only, "counts-token") && !selected(o.only, "counts-quiet") {
		nReaders = 4
	}
	readers, err := readerTokens(base, nReaders)
	if err != nil {
		return err
	}
	if _, err := parallel(len(readers)/4, func(i int) (string, error) {
		r := []string{"like", "dislike"}[i%2]
		_, err := call("PUT", base+"/api/v1/sites/bench/articles/hot/reactions/mine", `{"reaction":"`+r+`"}`, 200,
			"X-Reader-Token", readers[4*i], "Content-Type", "application/json")
		return "", err
	}); err != nil {
		return err
	}
	modToken, err := moderatorToken(bin, o.dsn, base)
	if err != nil {
		step("no moderator token, the queue path and the moderator kinds of propagation are skipped: %v", err)
	}

	files := map[string][]string{"voters.txt": voters, "readers.txt": readers, "quiet.txt": sd.quietKeys,
		"cvotes.txt": sd.voteComments}
	paths := map[string]string{}
	for name, items := range files {
		if paths[name], err = writeLines(work, name, items); err != nil {
			return err
		}
	}
	sc := map[string]string{}
	for name, s := range map[string]struct {
		vars map[string]string
		body string
	}{
		"counts-token": {map[string]string{"TOKENS": paths["readers.txt"]}, countsToken},
		"counts-quiet": {map[string]string{"TOKENS": paths["readers.txt"], "KEYS": paths["quiet.txt"], "PREFIX": "/api/v1/sites/bench/articles/"}, countsQuiet},
		"vote":         {map[string]string{"TOKENS": paths["voters.txt"]}, reactionVote},
		"comment-vote": {map[string]string{"TOKENS": paths["voters.txt"], "IDS": paths["cvotes.txt"]}, commentVote},
		"pairs":        {nil, pairs},
		"media":        {map[string]string{"CAPTCHAS": filepath.Join(work, "captchas.txt")}, media},
		"queue":        {map[string]string{"MODTOKEN": modToken}, queue},
	} {
		if sc[name], err = luaScript(work, name, o.threads, s.vars, s.body); err != nil {
			return err
		}
	}
	bulk := "/api/v1/sites/bench/reactions?"
	for i := 0; i < 30; i++ {
		bulk += fmt.Sprintf("article=a%d&", i)
	}
	counts := base + "/api/v1/sites/bench/articles/hot/reactions"
	rows := []benchPath{
		{id: "ceiling", name: "ceiling: bare net/http", url: ceiling + "/hello"},
		{id: "counts-token", name: "counts as the widget reads them (reader token, 10,000 readers)", url: counts, script: sc["counts-token"]},
		{id: "counts-quiet", name: "counts, articles nobody reacted to (5,000 keys, half never created)", url: base + "/api/v1/sites/bench/articles/quiet-0/reactions", script: sc["counts-quiet"]},
		{id: "counts-anon", name: "counts without a token", url: counts},
		{id: "bulk", name: "bulk counts, 30 articles", url: base + strings.TrimSuffix(bulk, "&")},
		{id: "vote", name: "reaction vote (every request a change)", url: counts + "/mine", script: sc["vote"]},
		{id: "comment-vote", name: fmt.Sprintf("comment vote (%s readers over %s comments)", thousands(float64(len(voters))), thousands(float64(len(sd.voteComments)))), url: base + "/api/v1/comments/1/vote", script: sc["comment-vote"]},
		{id: "page", name: fmt.Sprintf("comments, first page (50 of %s)", thousands(float64(o.threadRows))), url: base + "/api/v1/sites/bench/articles/thread/comments?limit=50"},
		{id: "deep", name: fmt.Sprintf("comments, deep page (at %s)", thousands(float64(o.threadRows*9/10))), url: base + "/api/v1/sites/bench/articles/thread/comments?limit=50&cursor=" + sd.deepCursor},
		{id: "pairs", name: "captcha + post pairs (pairs/s)", url: base + "/api/v1/sites/bench/articles/posts/comments", script: sc["pairs"]},
		{id: "queue", name: fmt.Sprintf("moderator queue page (%s comments)", thousands(float64(o.queueRows))), url: base + "/api/v1/mod/queues/pending?limit=50", script: sc["queue"]},
		{id: "insights", name: fmt.Sprintf("Insights page, last 7 days (%s articles, a year of hourly history; one client)", thousands(insightArticles)), url: base + "/api/v1/mod/insights?site=insights", script: sc["queue"]},
		{id: "insights-year", name: "Insights page, last 365 days, the same period every time: the first request adds it up, the others read its kept sums (one client)", url: base + "/api/v1/mod/insights?site=insights&from=" + time.Now().UTC().AddDate(0, 0, -364).Format(time.DateOnly), script: sc["queue"]},
		{id: "insights-cold", name: "Insights page, a year never asked for before at every request (365–400 days ending in the last month; one client)"},
	}
	load := func(p benchPath) (result, error) {
		if p.id == "insights-cold" {
			r := coldInsights(o.duration, base, modToken)
			r.name = p.name
			return r, nil
		}
		if strings.HasPrefix(p.id, "insights") {
			// One client, one request at a time: the latency is the
			// server's time to answer the page.
			one := o
			one.threads = 1
			return wrk(one, p, 1)
		}
		return wrk(o, p, o.conns)
	}
	for _, p := range rows {
		if (p.id == "queue" || strings.HasPrefix(p.id, "insights")) && modToken == "" || p.id != "ceiling" && !selected(o.only, p.id) {
			continue
		}
		step("loading %s", p.name)
		before, ceilingCPU := measureServer(a), cpuSeconds(os.Getpid())
		res, err := load(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if p.id == "ceiling" {
			// The ceiling is served by this process: its CPU per request
			// is what a server's is compared with.
			res.server = serverWork{measured: ceilingCPU >= 0, cpu: cpuSeconds(os.Getpid()) - ceilingCPU}
		} else {
			res.server = measureServer(a).since(before)
		}
		rep.rows = append(rep.rows, res)
		if p.id == "vote" {
			rep.reactionCheck = checkReactions(ctx, base, a.metrics, o.dsn)
		}
		if p.id == "comment-vote" {
			rep.commentCheck = checkCommentVotes(ctx, base, a.metrics, o.dsn, sd.voteArticle)
		}
	}
	if selected(o.only, "media") {
		// Issued now, so that none expires before its images are asked for.
		caps, err := issueCaptchas(base, 1000)
		if err != nil {
			return err
		}
		var ids []string
		for _, c := range caps {
			ids = append(ids, c.id)
		}
		if _, err := writeLines(work, "captchas.txt", ids); err != nil {
			return err
		}
		step("loading captcha media with 64 clients while a reader reads counts")
		m, err := mediaLoad(o, benchPath{id: "media", name: "captcha media", url: base + "/api/v1/captchas", script: sc["media"]},
			counts, readers[0])
		if err != nil {
			return err
		}
		rep.media = &m
	}
	if selected(o.only, "propagation") && rep.postgres {
		step("starting a second server on the same database for propagation")
		b, err := startServer(bin, o.dsn, filepath.Join(work, "server-b.log"), "")
		if err != nil {
			return err
		}
		rep.propagation = propagation(ctx, o, bin, o.dsn, a.base, b.base, modToken, sd.modComments)
		b.Process.Signal(os.Interrupt)
		b.Wait()
	}
	rep.rss = peakRSS(a.Process.Pid)
	rep.writer = writerStats(a.metrics)
	// A graceful stop, so that a CPU profile is written out.
	a.Process.Signal(os.Interrupt)
	a.Wait()
	// What the rollups cost the vote and post paths: servers restarted
	// with them off and on in turn (rollups.go).
	var hot []benchPath
	for _, p := range rows {
		for id, of := range offRows {
			if of == p.id && selected(o.only, id) {
				hot = append(hot, p)
			}
		}
	}
	if len(hot) > 0 {
		slices.SortFunc(hot, func(a, b benchPath) int { return strings.Compare(b.id, a.id) }) // vote, then pairs
		if rep.rollups, err = rollupCost(ctx, o, bin, work, rep.postgres, hot, base, load); err != nil {
			return err
		}

	}
	rep.print(os.Stdout)
	return nil
}

// measureServer reads a server's CPU time and writer counters, to take
// what one row cost the server: these move far less with the machine's
// other load than the rates do.
func measureServer(s *server) serverWork {
	cpu := cpuSeconds(s.Process.Pid)
	batches, writes := writerCounters(s.metrics)
	return serverWork{measured: cpu >= 0 && batches >= 0, cpu: cpu, writes: writes, batches: batches}
}

func (w serverWork) since(before serverWork) serverWork {
	return serverWork{measured: w.measured && before.measured, cpu: w.cpu - before.cpu,
		writes: w.writes - before.writes, batches: w.batches - before.batches}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// selected tells whether a row is among -only's words (all when empty);
// the ceiling always runs, as every share is taken of it.
func selected(only, id string) bool {
	return only == "" || contains(strings.Split(only, ","), id)
}

// began is when the run started, for the progress lines' times.
var began = time.Now()

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "• %4.0fs  "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
}

// commandLine is how this run was started, for the report; a password in
// BENCH_DB is not printed.
func commandLine() string {
	cmd := "go run ./cmd/parley-bench"
	if len(os.Args) > 1 {
		cmd += " " + strings.Join(os.Args[1:], " ")
	}
	if v := os.Getenv("BENCH_DB"); v != "" {
		if u, err := url.Parse(v); err == nil {
			v = u.Redacted()
		}
		cmd = "BENCH_DB=" + v + " " + cmd
	}
	return cmd
}

// freshPostgres creates an empty database through the admin URL and
// returns its URL and a function that drops it, so that runs never pile
// data up in the database the URL names.
func freshPostgres(ctx context.Context, admin string, keep bool) (string, string, func(), error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, fmt.Errorf("BENCH_DB %q: want a postgres:// URL", admin)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", "", nil, err
	}
	var version string
	if err := db.QueryRowContext(ctx, `SHOW server_version`).Scan(&version); err != nil {
		db.Close()
		return "", "", nil, fmt.Errorf("BENCH_DB: %w", err)
	}
	name := fmt.Sprintf("parley_bench_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		return "", "", nil, fmt.Errorf("create the bench database: %w", err)
	}
	step("created PostgreSQL database %s", name)
	u.Path = "/" + name
	drop := func() {
		defer db.Close()
		if keep {
			step("kept PostgreSQL database %s", name)
			return
		}
		// FORCE: a server killed on an error path may leave sessions behind.
		if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			step("could not drop %s: %v", name, err)
		}
	}
	return u.String(), "PostgreSQL " + strings.Fields(version)[0], drop, nil
}

type seeded struct {
	deepCursor   string
	quietKeys    []string
	voteArticle  int64
	voteComments []string
	modComments  []int64
}

// seed creates the bench site and articles, the big thread, the comments
// readers vote on, the moderation backlog and, on PostgreSQL, the site the
// propagation trials change.
func seed(ctx context.Context, o options, bin string, postgres bool) (seeded, error) {
	var sd seeded
	sites := []string{"bench"}
	if postgres {
		sites = append(sites, "prop")
	}
	for _, slug := range sites {
		if out, err := exec.Command(bin, "site", "add", "-slug", slug, "-origin", "http://127.0.0.1", "-db", o.dsn, "-create").CombinedOutput(); err != nil {
			return sd, fmt.Errorf("site add: %v %s", err, out)
		}
	}
	s, err := schema.Open(ctx, o.dsn)
	if err != nil {
		return sd, err
	}
	defer s.Close()
	site, err := s.Site(ctx, "bench")
	if err != nil {
		return sd, err
	}
	for i := 0; i < 30; i++ {
		if _, err := s.EnsureArticle(ctx, site.ID, fmt.Sprintf("a%d", i)); err != nil {
			return sd, err
		}
	}
	// Articles nobody reacted to: even keys exist, odd ones were never
	// created (a new article's widget reads counts before anyone reacts).
	// In parallel, so that the group-commit writer batches them.
	if sd.quietKeys, err = parallel(5000, func(i int) (string, error) {
		if i%2 == 1 {
			return fmt.Sprintf("never-%d", i), nil
		}
		key := fmt.Sprintf("quiet-%d", i)
		_, err := s.EnsureArticle(ctx, site.ID, key)
		return key, err
	}); err != nil {
		return sd, err
	}
	thread, err := s.EnsureArticle(ctx, site.ID, "thread")
	if err != nil {
		return sd, err
	}
	if err := s.SeedComments(ctx, site.ID, thread.ID, o.threadRows, schema.StatusApproved, func(i int) string {
		return fmt.Sprintf("Comment number %d on the big thread, with a few words more to make it look like a real reader's comment.", i)
	}); err != nil {
		return sd, err
	}
	votes, err := s.EnsureArticle(ctx, site.ID, "cvotes")
	if err != nil {
		return sd, err
	}
	sd.voteArticle = votes.ID
	if err := s.SeedComments(ctx, site.ID, votes.ID, 1000, schema.StatusApproved, func(i int) string {
		return fmt.Sprintf("Comment %d that readers vote on.", i)
	}); err != nil {
		return sd, err
	}
	ids, err := threadIDs(ctx, s, votes.ID)
	if err != nil {
		return sd, err
	}
	for _, id := range ids {
		sd.voteComments = append(sd.voteComments, fmt.Sprint(id))
	}
	backlog, err := s.EnsureArticle(ctx, site.ID, "backlog")
	if err != nil {
		return sd, err
	}
	// Most of the million are history; the pending queue holds 20,000.
	pending := min(20000, o.queueRows)
	if err := s.SeedComments(ctx, site.ID, backlog.ID, o.queueRows-pending, schema.StatusApproved, func(i int) string {
		return fmt.Sprintf("Old approved comment %d.", i)
	}); err != nil {
		return sd, err
	}
	if err := s.SeedComments(ctx, site.ID, backlog.ID, pending, schema.StatusPending, func(i int) string {
		return fmt.Sprintf("Held comment %d waiting for a moderator.", i)
	}); err != nil {
		return sd, err
	}
	var after *schema.Cursor
	target := o.threadRows * 9 / 10
	for seen := 0; seen < target; {
		rows, next, err := s.Thread(ctx, thread.ID, schema.SortOldest, after, 200)
		if err != nil {
			return sd, err
		}
		seen += len(rows)
		if next == nil {
			break
		}
		after = next
	}
	if after == nil {
		return sd, errors.New("thread too short for a deep page")
	}
	sd.deepCursor = after.String()
	if postgres {
		prop, err := s.Site(ctx, "prop")
		if err != nil {
			return sd, err
		}
		for _, key := range []string{"p-vote", "p-settings", "p-ban", "p-erase"} {
			if _, err := s.EnsureArticle(ctx, prop.ID, key); err != nil {
				return sd, err
			}
		}
		mod, err := s.EnsureArticle(ctx, prop.ID, "p-mod")
		if err != nil {
			return sd, err
		}
		if err := s.SeedComments(ctx, prop.ID, mod.ID, max(o.trials/2+1, 1), schema.StatusApproved, func(i int) string {
			return fmt.Sprintf("Comment %d that moderators reject and restore.", i)
		}); err != nil {
			return sd, err
		}
		if sd.modComments, err = threadIDs(ctx, s, mod.ID); err != nil {
			return sd, err
		}
	}
	return sd, nil
}

// insightArticles is the size of the Insights page's site.
const insightArticles = 10_000

// seedInsights creates the insights site with its articles and a year of
// hourly history, each article active for three days after it appeared,
// and folds the months that have ended.
func seedInsights(ctx context.Context, o options, bin string) error {
	if out, err := exec.Command(bin, "site", "add", "-slug", "insights", "-origin", "http://127.0.0.1", "-db", o.dsn).CombinedOutput(); err != nil {
		return fmt.Errorf("site add: %v %s", err, out)
	}
	s, err := schema.Open(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	site, err := s.Site(ctx, "insights")
	if err != nil {
		return err
	}
	if err := s.SeedInsightHistory(ctx, site.ID, insightArticles, 365, 72, time.Now()); err != nil {
		return err
	}
	// The ended months summed, as a serving instance's hourly job would
	// have done as each ended.
	_, err = s.FoldInsightMonths(ctx, 400*24*time.Hour)
	return err
}

// threadIDs lists the ids of an article's public comments.
func threadIDs(ctx context.Context, s *schema.Store, articleID int64) ([]int64, error) {
	var ids []int64
	var after *schema.Cursor
	for {
		rows, next, err := s.Thread(ctx, articleID, schema.SortOldest, after, 200)
		if err != nil {
			return nil, err
		}
		for _, c := range rows {
			ids = append(ids, c.ID)
		}
		if next == nil {
			return ids, nil
		}
		after = next
	}
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

type server struct {
	*exec.Cmd
	base    string
	metrics string // the metrics listener, apart from the public address
}

// noLimits turns off, one by one, the rate limits that would stop a load
// from one address. -no-rate-limits is not used: it would also turn off a
// limit added later (such as one on captcha media), whose effect the
// bench should show.
var noLimits = []string{"-rate-readers", "off", "-rate-captchas", "off", "-rate-comments", "off",
	"-rate-votes", "off", "-rate-reports", "off", "-rate-logins", "off", "-rate-reads", "off"}

func startServer(bin, dsn, logPath, profile string, extra ...string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-db", dsn, "-captcha-test", "-log-level", "warn"}, noLimits...)
	if profile != "" {
		abs, _ := filepath.Abs(profile)
		args = append(args, "-cpuprofile", abs)
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	metrics := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "parley metrics on "); ok {
			metrics = strings.TrimSuffix(u, "/metrics")
		}
		if u, ok := strings.CutPrefix(sc.Text(), "parley listening on "); ok {
			go io.Copy(io.Discard, out)
			return &server{Cmd: cmd, base: u, metrics: metrics}, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	b, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("server did not start: %s", b)
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// call makes a request and returns the answer's body; an answer other
// than want is an error.
func call(method, url, body string, want int, headers ...string) ([]byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return b, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// callJSON is call with a JSON answer decoded into out.
func callJSON(method, url, body string, want int, out any, headers ...string) error {
	b, err := call(method, url, body, want, append([]string{"Content-Type", "application/json"}, headers...)...)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
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
	var first error
	for g := 0; g < 16; g++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

func readerTokens(base string, n int) ([]string, error) {
	return parallel(n, func(int) (string, error) {
		var r struct{ Token string }
		err := callJSON("POST", base+"/api/v1/readers", "", 201, &r)
		return r.Token, err
	})
}

type captchaAnswer struct{ id, solution string }

func newCaptcha(base string) (captchaAnswer, error) {
	var r struct {
		ID           string `json:"id"`
		TestSolution string `json:"test_solution"`
	}
	if err := callJSON("POST", base+"/api/v1/captchas", "", 201, &r); err != nil {
		return captchaAnswer{}, err
	}
	if r.TestSolution == "" {
		return captchaAnswer{}, errors.New("the server gave no test_solution: is it running with -captcha-test?")
	}
	return captchaAnswer{r.ID, r.TestSolution}, nil
}

func issueCaptchas(base string, n int) ([]captchaAnswer, error) {
	out := make([]captchaAnswer, n)
	_, err := parallel(n, func(i int) (string, error) {
		c, err := newCaptcha(base)
		out[i] = c
		return "", err
	})
	return out, err
}

// moderatorToken creates an admin and an API token for the queue path and
// the moderator actions of the propagation trials.
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
	var tok struct{ Token string }
	if err := callJSON("POST", base+"/api/v1/mod/tokens", `{"name":"bench"}`, 201, &tok, "Cookie", cookie, "X-CSRF-Token", csrf); err != nil {
		return "", err
	}
	return tok.Token, nil
}
