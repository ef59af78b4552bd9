package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// What the Insights rollups cost the vote and post paths. Throughput on
// this shared VM varies by more than 30 % between identical rows, so the
// measure is the CPU the server spends per operation — the parley
// process, and on PostgreSQL the backends serving the bench's database
// too — read from /proc before and after each row. The rows run with the
// rollups off and on in turn, on a server restarted with -rollups=false
// or without it, over several rounds whose order alternates (off then
// on, on then off, …), after a warm-up that makes every voter's reaction
// an update; the report gives each round's ratio and their median. On a
// machine shared with other work a round's ratio moves by 10 to 30 %, so
// -rollup-rounds raises the rounds (4 by default) when a median must
// resolve a few per cent.

// rollupRun is one row of one pass.
type rollupRun struct {
	row   string // vote or pairs
	round int
	on    bool
	res   result
	cpu   float64 // seconds
	ops   int64   // votes, or posts (pairs)
}

func (r rollupRun) perThousand() float64 {
	if r.ops == 0 {
		return 0
	}
	return 1000 * r.cpu / float64(r.ops)
}

// cpuMeter reads the CPU seconds of the server and of its database
// backends.
type cpuMeter struct {
	pid int
	db  *sql.DB // PostgreSQL: lists the backends of the bench's database
}

// sample returns the CPU seconds of the server and of each backend.
func (m cpuMeter) sample(ctx context.Context) map[int]float64 {
	out := map[int]float64{}
	if v := cpuSeconds(m.pid); v >= 0 {
		out[m.pid] = v
	}
	if m.db == nil {
		return out
	}
	rows, err := m.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			if v := cpuSeconds(pid); v >= 0 {
				out[pid] = v
			}
		}
	}
	return out
}

// used is the CPU spent between two samples: a backend that appeared in
// between counts from zero, one that ended is lost (the server's pool
// keeps its connections during a row).
func used(before, after map[int]float64) float64 {
	var t float64
	for pid, v := range after {
		t += v - before[pid]
	}
	return t
}

// rollupCost runs the rounds; load runs one row on a server's base URL.
func rollupCost(ctx context.Context, o options, bin, work string, postgres bool, rows []benchPath, base string, load func(benchPath) (result, error)) ([]rollupRun, error) {
	var db *sql.DB
	if postgres {
		var err error
		if db, err = sql.Open("pgx", o.dsn); err != nil {
			return nil, err
		}
		defer db.Close()
	}
	run := func(round int, on bool, warm bool) ([]rollupRun, error) {
		var flags []string
		if !on {
			flags = []string{"-rollups=false"}
		}
		step("round %d: parley serve with the rollups %s", round, map[bool]string{true: "on", false: "off"}[on])
		c, err := startServer(bin, o.dsn, filepath.Join(work, fmt.Sprintf("server-rollups-%d-%v.log", round, on)), "", flags...)
		if err != nil {
			return nil, err
		}
		defer func() {
			c.Process.Signal(os.Interrupt)
			c.Wait()
		}()
		m := cpuMeter{pid: c.Process.Pid, db: db}
		var out []rollupRun
		for _, p := range rows {
			p.url = strings.Replace(p.url, base, c.base, 1)
			before := m.sample(ctx)
			res, err := load(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			r := rollupRun{row: p.id, round: round, on: on, res: res, cpu: used(before, m.sample(ctx)), ops: res.requests - res.errors}
			if p.id == "pairs" {
				r.ops = res.scriptInfo["posts"]
			}
			if !warm {
				out = append(out, r)
			}
		}
		return out, nil
	}
	// The warm-up: every voter reacts once, so that later votes are all
	// changes of a reaction, with or without the rollups.
	if _, err := run(0, true, true); err != nil {
		return nil, err
	}
	var all []rollupRun
	for round := 1; round <= o.rounds; round++ {
		order := []bool{false, true}
		if round%2 == 0 {
			order = []bool{true, false}
		}
		for _, on := range order {
			rs, err := run(round, on, false)
			if err != nil {
				return nil, err
			}
			all = append(all, rs...)
		}
	}
	return all, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printRollupCost prints the rounds and, per row, the median ratios of
// CPU per operation and of throughput, with rollups to without.
func printRollupCost(w io.Writer, runs []rollupRun) {
	if len(runs) == 0 {
		return
	}
	rounds := 0
	for _, r := range runs {
		rounds = max(rounds, r.round)
	}
	fmt.Fprintf(w, "\nInsights rollups on the hot paths: the server restarted with the rollups off or on, %d rounds alternating the order, after a warm-up; CPU is the parley process's (and on PostgreSQL its database backends'), per 1,000 votes or posts.\n\n",
		rounds)
	fmt.Fprintln(w, "| path | round | rollups | rate | errors | server CPU | CPU per 1,000 |")
	fmt.Fprintln(w, "| --- | ---: | --- | ---: | ---: | ---: | ---: |")
	for _, r := range runs {
		rate := thousands(r.res.rps) + " req/s"
		if r.row == "pairs" {
			rate = thousands(r.res.rate()) + " pairs/s"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %d | %.2f s | %.0f ms |\n", r.row, r.round, map[bool]string{true: "on", false: "off"}[r.on], rate, r.res.errors, r.cpu, 1000*r.perThousand())
	}
	fmt.Fprintln(w)
	for _, row := range []string{"vote", "pairs"} {
		var cpu, rate []float64
		for round := 1; round <= rounds; round++ {
			var on, off *rollupRun
			for i := range runs {
				if runs[i].row == row && runs[i].round == round {
					if runs[i].on {
						on = &runs[i]
					} else {
						off = &runs[i]
					}
				}
			}
			if on == nil || off == nil || off.perThousand() == 0 || off.res.rate() == 0 {
				continue
			}
			cpu = append(cpu, on.perThousand()/off.perThousand())
			rate = append(rate, on.res.rate()/off.res.rate())
		}
		if len(cpu) == 0 {
			continue
		}
		var each []string
		for _, c := range cpu {
			each = append(each, fmt.Sprintf("%.3f", c))
		}
		mc := median(cpu)
		fmt.Fprintf(w, "- %s: CPU per operation with the rollups / without, by round %s, median **%.3f** (target ≤ %.2f: %s); throughput with / without, median %.3f.\n",
			row, strings.Join(each, ", "), mc, 1+float64(100-minRollupShare)/100, verdict(mc <= 1+float64(100-minRollupShare)/100), median(rate))
	}
}

// coldInsights asks for the Insights page over periods of a year or more
// that were never asked for before, one request at a time, for d: the
// ended days' sums are kept per period, so every request here adds its
// period up from the rollups, as the first request of a period does.
// Periods end today, then yesterday, …; each starts 364 to 399 days
// before its end.
func coldInsights(d time.Duration, base, token string) result {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var l latencies
	start := time.Now()
	n := 0
	for k := 0; k <= 30 && time.Since(start) < d; k++ {
		for j := 0; j <= 35 && time.Since(start) < d; j++ {
			to := today.AddDate(0, 0, -k)
			from := to.AddDate(0, 0, -364-j)
			u := fmt.Sprintf("%s/api/v1/mod/insights?site=insights&from=%s&to=%s", base, from.Format(time.DateOnly), to.Format(time.DateOnly))
			t := time.Now()
			if _, err := call("GET", u, "", 200, "Authorization", "Bearer "+token); err != nil {
				l.errors++
			} else {
				l.samples = append(l.samples, time.Since(t))
			}
			n++
		}
	}
	slices.Sort(l.samples)
	return result{id: "insights-cold", rps: float64(n) / time.Since(start).Seconds(), p50: l.pct(50), p99: l.pct(99),
		requests: int64(n), errors: int64(l.errors), scriptInfo: map[string]int64{"max": int64(l.pct(100))}}
}
