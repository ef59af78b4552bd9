package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/schema"
)

// check is the outcome of comparing the server's counters with a recount.
type check struct {
	ok     bool
	detail string
}

// checkReactions compares the counts the server answers with a recount of
// the reactions table.
func checkReactions(ctx context.Context, base, metrics, dsn string) *check {
	settleWrites(metrics)
	var c struct {
		Counts map[string]int64 `json:"counts"`
	}
	if err := callJSON("GET", base+"/api/v1/sites/bench/articles/hot/reactions", "", 200, &c); err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	s, err := schema.Open(ctx, dsn)
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	defer s.Close()
	site, err := s.Site(ctx, "bench")
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	id, err := s.ArticleID(ctx, site.ID, "hot")
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	truth, err := s.RecountReactions(ctx, id)
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	if c.Counts["like"] == truth["like"] && c.Counts["dislike"] == truth["dislike"] {
		return &check{ok: true, detail: fmt.Sprintf("exact: like %d, dislike %d, equal to a recount of the reactions table", truth["like"], truth["dislike"])}
	}
	return &check{detail: fmt.Sprintf("MISMATCH: server like %d dislike %d, recount like %d dislike %d",
		c.Counts["like"], c.Counts["dislike"], truth["like"], truth["dislike"])}
}

// checkCommentVotes compares every comment's up and down votes as the
// public pages show them with a recount of the comment_votes table. The
// recount is the bench's own read-only query: the store has no method for
// a scan that nothing on a request path may run.
func checkCommentVotes(ctx context.Context, base, metrics, dsn string, articleID int64) *check {
	settleWrites(metrics)
	type tally struct{ up, down int64 }
	shown := map[int64]tally{}
	cursor := ""
	for {
		var page struct {
			Comments []struct {
				ID        int64 `json:"id"`
				Upvotes   int64 `json:"upvotes"`
				Downvotes int64 `json:"downvotes"`
			} `json:"comments"`
			NextCursor *string `json:"next_cursor"`
		}
		u := base + "/api/v1/sites/bench/articles/cvotes/comments?limit=200"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := callJSON("GET", u, "", 200, &page); err != nil {
			return &check{detail: "unknown: " + err.Error()}
		}
		for _, c := range page.Comments {
			shown[c.ID] = tally{c.Upvotes, c.Downvotes}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	driver, src := "pgx", dsn
	if schema.DialectOf(dsn) == schema.SQLite {
		driver, src = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	defer db.Close()
	// The article id is an integer of ours, so it is written into the query
	// rather than bound: the two drivers spell placeholders differently.
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT c.id,
		COALESCE(SUM(CASE WHEN v.vote = 1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN v.vote = -1 THEN 1 ELSE 0 END), 0)
		FROM comments c LEFT JOIN comment_votes v ON v.comment_id = c.id
		WHERE c.article_id = %d GROUP BY c.id`, articleID))
	if err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	defer rows.Close()
	var comments, votes, wrong int64
	var example string
	for rows.Next() {
		var id int64
		var t tally
		if err := rows.Scan(&id, &t.up, &t.down); err != nil {
			return &check{detail: "unknown: " + err.Error()}
		}
		comments++
		votes += t.up + t.down
		if got, ok := shown[id]; !ok || got != t {
			wrong++
			if example == "" {
				example = fmt.Sprintf("comment %d shows %d up %d down, recount %d up %d down", id, got.up, got.down, t.up, t.down)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return &check{detail: "unknown: " + err.Error()}
	}
	if wrong > 0 {
		return &check{detail: fmt.Sprintf("MISMATCH on %d of %d comments (%s)", wrong, comments, example)}
	}
	return &check{ok: true, detail: fmt.Sprintf("exact: %d votes on %d comments, each equal to a recount of the comment_votes table", votes, comments)}
}

// peakRSS is the server's high-water resident set in MB, from /proc.
// cpuTime is the user and system CPU time of process pid so far, all its
// threads together (0 when /proc cannot tell), in clock ticks of 10 ms.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted after its closing parenthesis, where utime and stime are
	// the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return float64(kb) / 1024
		}
	}
	return 0
}

// settleWrites waits until the server has committed no write for half a
// second (at most 15 s). When wrk stops, requests it sent may still be
// between the handler and the commit; a check made before they land would
// report a difference that is only a race with the check.
func settleWrites(metrics string) {
	var last float64 = -1
	quiet := 0
	for end := time.Now().Add(15 * time.Second); quiet < 5 && time.Now().Before(end); {
		_, writes := writerCounters(metrics)
		if writes == last {
			quiet++
		} else {
			quiet, last = 0, writes
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writerCounters reads the group-commit writer's counters from the
// server's metrics listener.
func writerCounters(metrics string) (batches, writes float64) {
	resp, err := client.Get(metrics + "/metrics")
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
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
	return batches, writes
}

// writerStats says how many writes each group commit carried.
func writerStats(metrics string) string {
	batches, writes := writerCounters(metrics)
	if batches <= 0 {
		return "no batches"
	}
	return fmt.Sprintf("%.0f writes in %.0f transactions, %.1f per transaction", writes, batches, writes/batches)
}
