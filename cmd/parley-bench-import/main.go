// Command parley-bench-import measures parley import and parley export at
// scale: it writes a Remark42 backup of -n comments (streamed to a
// temporary file), imports it with the built parley binary into a fresh
// SQLite file and, with BENCH_POSTGRES, into a fresh PostgreSQL database
// (created through that URL and dropped after), exports the site again,
// and prints comments per second and the peak RSS of each child process.
// make bench-import runs it.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

func main() {
	n := flag.Int("n", 1_000_000, "comments to generate")
	perArticle := flag.Int("per-article", 100, "comments per article")
	bin := flag.String("parley", "bin/parley", "the parley binary to run")
	profile := flag.String("cpuprofile", "", "pass -cpuprofile to the SQLite import (a file name)")
	flag.Parse()
	if err := run(*n, *perArticle, *bin, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "bench-import:", err)
		os.Exit(1)
	}
}

type result struct {
	what    string
	seconds float64
	cpu     float64 // user + system seconds of the child
	rssMB   float64
	items   int
	load    string // the machine's load average at the end of the run
}

// loadAverage is the 1-minute load average, from /proc/loadavg: on a shared
// machine the wall-clock rates mean little without it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func run(n, perArticle int, bin, profile string) error {
	dir, err := os.MkdirTemp("", "parley-bench-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "remark42.ndjson")
	t0 := time.Now()
	size, err := generate(file, n, perArticle)
	if err != nil {
		return err
	}
	fmt.Printf("generated %d comments (%d articles) as a Remark42 backup: %.0f MB in %.1fs\n",
		n, (n+perArticle-1)/perArticle, float64(size)/1e6, time.Since(t0).Seconds())
	var results []result
	dbs := []struct{ name, dsn string }{{"SQLite", filepath.Join(dir, "bench.db")}}
	var drop func()
	if admin := os.Getenv("BENCH_POSTGRES"); admin != "" {
		dsn, d, err := freshPostgres(admin)
		if err != nil {
			return err
		}
		drop = d
		defer drop()
		dbs = append(dbs, struct{ name, dsn string }{"PostgreSQL", dsn})
	}
	for _, db := range dbs {
		if _, _, _, err := child(bin, "site", "add", "-slug", "bench", "-origin", "https://news.example", "-db", db.dsn, "-create"); err != nil {
			return err
		}
		args := []string{"import", "-db", db.dsn, "-site", "bench", "-format", "remark42", "-json", "-bulk"}
		if profile != "" && db.name == "SQLite" {
			args = append(args, "-cpuprofile", profile)
		}
		took, cpu, rss, err := child(bin, append(args, file)...)
		if err != nil {
			return err
		}
		results = append(results, result{db.name + " import", took, cpu, rss, n, loadAverage()})
		fmt.Printf("%s import: %.1fs (%.1f s of CPU), %.0f comments/s, %.0f per CPU second, peak RSS %.0f MB, load %s\n",
			db.name, took, cpu, float64(n)/took, float64(n)/cpu, rss, loadAverage())
		out := filepath.Join(dir, "export.ndjson")
		took, cpu, rss, err = child(bin, "export", "-db", db.dsn, "-site", "bench", "-o", out)
		if err != nil {
			return err
		}
		results = append(results, result{db.name + " export", took, cpu, rss, n, loadAverage()})
		fmt.Printf("%s export: %.1fs (%.1f s of CPU), %.0f comments/s, %.0f per CPU second, peak RSS %.0f MB, load %s\n",
			db.name, took, cpu, float64(n)/took, float64(n)/cpu, rss, loadAverage())
		os.Remove(out)
	}
	// CPU seconds are the child's own (the database server's are not in
	// them on PostgreSQL): on a shared machine they move less than the wall
	// time, and comments per CPU second say what an idle core would do.
	fmt.Printf("\n| run | comments | seconds | comments/s | CPU s of parley | comments per CPU s | peak RSS | load after |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Printf("| %s | %d | %.1f | %.0f | %.1f | %.0f | %.0f MB | %s |\n", r.what, r.items, r.seconds, float64(r.items)/r.seconds,
			r.cpu, float64(r.items)/r.cpu, r.rssMB, r.load)
	}
	fmt.Println("\ngoals: import on SQLite >= 50,000 comments/s, peak RSS <= 200 MB")
	return nil
}

// child runs the parley binary and returns its wall time, CPU time and
// peak RSS.
func child(bin string, args ...string) (took, cpu, rssMB float64, err error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PARLEY_SECRET=bench-import-secret-0123456789abcdef0123")
	// The child's progress (count, rate, time left) shows as it comes; the
	// tail is kept for the error message.
	var stderr strings.Builder
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	cmd.Stdout = nil
	start := time.Now()
	err = cmd.Run()
	took = time.Since(start).Seconds()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("parley %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rssMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
		cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
	}
	return took, cpu, rssMB, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

var words = strings.Fields(`le la les un une des budget réforme article débat lecteur commentaire
	question réponse gouvernement ministre économie politique culture sport école santé ville
	région Europe monde projet loi vote chiffre hausse baisse année semaine jour point avis merci`)

// generate writes a Remark42 backup: a header line, then one comment per
// line, grouped by article as Remark42 writes them; about a third are
// replies to an earlier comment of the same article.
func generate(path string, n, perArticle int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(`{"version":1,"users":[],"posts":[]}` + "\n")
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type user struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	}
	type loc struct {
		URL string `json:"url"`
	}
	type line struct {
		ID      string `json:"id"`
		PID     string `json:"pid"`
		Text    string `json:"text"`
		Orig    string `json:"orig"`
		Locator loc    `json:"locator"`
		User    user   `json:"user"`
		Score   int    `json:"score"`
		Time    string `json:"time"`
		Delete  bool   `json:"delete"`
		Title   string `json:"title"`
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var body strings.Builder
	for i := 0; i < n; i++ {
		a := i / perArticle
		j := i % perArticle
		body.Reset()
		for k, m := 0, 10+rng.IntN(60); k < m; k++ {
			if k > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(words[rng.IntN(len(words))])
		}
		l := line{ID: fmt.Sprintf("c%d", i), Orig: body.String(),
			Locator: loc{URL: fmt.Sprintf("https://news.example/%d/%02d/article-%d/", 2024+a%3, 1+a%12, a)},
			User:    user{Name: fmt.Sprintf("Reader %d", rng.IntN(50000)), ID: fmt.Sprintf("anonymous_%d", rng.IntN(50000))},
			Score:   rng.IntN(7) - 2, Time: base.Add(time.Duration(i) * 17 * time.Second).Format(time.RFC3339Nano),
			Title: fmt.Sprintf("Article %d", a), Delete: rng.IntN(100) == 0}
		if j > 0 && rng.IntN(3) == 0 {
			l.PID = fmt.Sprintf("c%d", i-1-rng.IntN(j))
		}
		if err := enc.Encode(&l); err != nil {
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// freshPostgres creates an empty database through the admin URL and
// returns its URL and a function that drops it.
func freshPostgres(admin string) (string, func(), error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("BENCH_POSTGRES %q: want a postgres:// URL", admin)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	ctx := context.Background()
	name := fmt.Sprintf("parley_bench_import_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create the bench database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		defer db.Close()
		if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			fmt.Fprintf(os.Stderr, "could not drop %s: %v\n", name, err)
		}
	}, nil
}
