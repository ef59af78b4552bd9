package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

type report struct {
	o        options
	command  string
	started  time.Time
	engine   string
	postgres bool

	rows                        []result
	reactionCheck, commentCheck *check
	media                       *mediaResult
	propagation                 []propKind
	rss                         float64
	writer                      string
}

const (
	maxRSS            = 150.0 // MB
	maxPropagationP99 = 50 * time.Millisecond
	maxQueueP99       = 20 * time.Millisecond
	maxInsightsP99    = 200 * time.Millisecond
	// minRollupShare is what a hot path keeps of its rate without the
	// Insights rollups, in percent.
	minRollupShare = 95
)

// minShare is a row's target share of the ceiling, in percent; 0 means the
// row has no share target.
func (r *report) minShare(id string) float64 {
	switch id {
	case "counts-token", "counts-quiet", "counts-anon":
		return 70
	case "vote", "comment-vote":
		if r.postgres {
			return 15
		}
		return 35
	case "page":
		return 40
	case "pairs":
		if r.postgres {
			return 3
		}
		return 5
	}
	return 0
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// target says a row's target and whether this run met it.
func (r *report) target(res result, ceiling float64, first *result) (string, string) {
	var text string
	var ok bool
	switch {
	case r.minShare(res.id) > 0:
		min := r.minShare(res.id)
		text = fmt.Sprintf("≥ %.0f %%", min)
		ok = ceiling > 0 && 100*res.rate()/ceiling >= min
	case res.id == "deep":
		text = "as fast as the first page (≥ 90 % of its req/s)"
		if first == nil {
			return text, "first page not run"
		}
		ok = res.rps >= 0.9*first.rps
	case res.id == "queue":
		text = "p99 ≤ " + fmtDur(maxQueueP99)
		ok = res.p99 <= maxQueueP99
	case res.id == "insights" || res.id == "insights-year":
		text = "p99 ≤ " + fmtDur(maxInsightsP99)
		ok = res.p99 <= maxInsightsP99
	default:
		return "", ""
	}
	if res.errors > 0 {
		return text, fmt.Sprintf("**missed** (%d errors)", res.errors)
	}
	return text, verdict(ok)
}

func (r *report) print(w io.Writer) {
	o := r.o
	host, _ := os.Hostname()
	fmt.Fprintf(w, "\n## make bench — %s, %s\n\n", r.engine, r.started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Command: `%s`\n\n", r.command)
	fmt.Fprintf(w, "Machine: %s, %d cores, %s/%s, %s. Load: wrk on the same machine, %d threads, %d connections (64 for captcha media), %s per row.\n\n",
		host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), o.threads, o.conns, o.duration)

	fmt.Fprintln(w, "| row | req/s | p50 | p99 | errors | share of ceiling | CPU per request | target | |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
	var ceiling float64
	var first *result
	for i, res := range r.rows {
		if res.id == "ceiling" {
			ceiling = res.rps
		}
		if res.id == "page" {
			first = &r.rows[i]
		}
		share := "—"
		if ceiling > 0 {
			share = fmt.Sprintf("%.0f %%", 100*res.rate()/ceiling)
		}
		rate := thousands(res.rps)
		if strings.HasPrefix(res.id, "pairs") {
			rate = fmt.Sprintf("%s pairs/s (%s req/s)", thousands(res.rate()), thousands(res.rps))
		}
		cpu := "—"
		if c := res.cpuPerRequest(); c > 0 {
			cpu = fmt.Sprintf("%.1f µs", float64(c.Nanoseconds())/1000)
		}
		text, met := r.target(res, ceiling, first)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", res.name, rate, fmtDur(res.p50), fmtDur(res.p99), res.errors, share, cpu, text, met)
	}

	for off, on := range offRows {
		var with, again, without *result
		for i := range r.rows {
			switch r.rows[i].id {
			case on:
				with = &r.rows[i]
			case on + "-again":
				again = &r.rows[i]
			case off:
				without = &r.rows[i]
			}
		}
		if with != nil && again != nil && without != nil && without.rate() > 0 {
			// The first run is cold (on the vote path every voter's first
			// reaction is an insert, later ones updates): the comparison is
			// of the two warm runs, without and then with.
			keep := 100 * again.rate() / without.rate()
			fmt.Fprintf(w, "\nInsights rollups on the %s path: %s/s without them, then %s/s with them (both after the first, cold run at %s/s), on the same database; %.1f %% kept; target ≥ %d %%: %s.\n",
				on, thousands(without.rate()), thousands(again.rate()), thousands(with.rate()), keep, minRollupShare, verdict(keep >= minRollupShare))
		}
	}

	if m := r.media; m != nil {
		fmt.Fprintf(w, "\nCaptcha media under load: 64 clients asked for captcha images and audio in turn, %s answers/s (%d × 200, %d × 429, %d other; %d wrk errors, 429s and 5 s timeouts included); p50 %s, p99 %s.\n\n",
			thousands(m.media.rps), m.media.scriptInfo["ok"], m.media.scriptInfo["limited"], m.media.scriptInfo["other"], m.media.errors, fmtDur(m.media.p50), fmtDur(m.media.p99))
		fmt.Fprintln(w, "| another reader's count read (with token, 2 ms apart) | reads | p50 | p99 | max | errors | target |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | --- |")
		for _, l := range []struct {
			name string
			l    latencies
		}{{"alone", m.alone}, {"during the captcha media load", m.load}} {
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %d | none yet: reported |\n", l.name, len(l.l.samples), fmtDur(l.l.pct(50)), fmtDur(l.l.pct(99)), fmtDur(l.l.pct(100)), l.l.errors)
		}
	}

	fmt.Fprintln(w)
	if !r.postgres {
		fmt.Fprintln(w, "Propagation between two instances: n/a (one server per file).")
	} else if len(r.propagation) > 0 {
		fmt.Fprintf(w, "Propagation between two instances on the same database (change through A, B polled every %s; from A's answer to B's first answer that shows it):\n\n", pollEvery)
		fmt.Fprintln(w, "| change | trials | p50 | p99 | max | not seen in 10 s | target | |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
		for _, k := range r.propagation {
			target := "p99 ≤ " + fmtDur(maxPropagationP99)
			switch {
			case k.skipped != "":
				fmt.Fprintf(w, "| %s | — | — | — | — | — | %s | skipped: %s |\n", k.name, target, k.skipped)
			case k.err != nil:
				fmt.Fprintf(w, "| %s | %d | — | — | — | — | %s | **failed**: %v |\n", k.name, k.trials, target, k.err)
			default:
				p99 := percentile(k.samples, 99)
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %d | %s | %s |\n", k.name, k.trials, fmtDur(percentile(k.samples, 50)), fmtDur(p99),
					fmtDur(percentile(k.samples, 100)), k.timeouts, target, verdict(k.timeouts == 0 && len(k.samples) > 0 && p99 <= maxPropagationP99))
			}
		}
	}

	fmt.Fprintln(w, "\n| check | result | target | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, c := range []struct {
		name string
		c    *check
	}{{"reaction counts after the reaction votes", r.reactionCheck}, {"comment votes after the comment votes", r.commentCheck}} {
		if c.c != nil {
			fmt.Fprintf(w, "| %s | %s | equal to a recount | %s |\n", c.name, c.c.detail, verdict(c.c.ok))
		}
	}
	rss := "unknown"
	if r.rss > 0 {
		rss = fmt.Sprintf("%.0f MB", r.rss)
	}
	fmt.Fprintf(w, "| peak RSS of the server after the whole bench | %s | ≤ %.0f MB | %s |\n", rss, maxRSS, verdict(r.rss > 0 && r.rss <= maxRSS))
	fmt.Fprintf(w, "\nGroup commit over the whole run: %s. Whole run: %s.\n", r.writer, time.Since(r.started).Round(time.Second))
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

// thousands writes a whole number with commas between groups of three.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
