package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type benchPath struct {
	id, name, url, script string
}

type result struct {
	id, name   string
	rps        float64
	p50, p99   time.Duration
	requests   int64
	errors     int64
	scriptInfo map[string]int64
	// cpu is the CPU time (user and system) the serving process spent
	// during the load.
	cpu time.Duration
}

// cpuPerRequest is the serving process's CPU time per request, 0 when
// unknown.
func (r result) cpuPerRequest() time.Duration {
	if r.requests == 0 || r.cpu <= 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

// rate is what the row's share is taken of: requests a second, or for the
// captcha + post row, posts a second (each post is one pair).
func (r result) rate() float64 {
	if strings.HasPrefix(r.id, "pairs") {
		if r.requests == 0 {
			return 0
		}
		return r.rps * float64(r.scriptInfo["posts"]) / float64(r.requests)
	}
	return r.rps
}

func wrk(o options, p benchPath, conns int) (result, error) {
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(conns), "-d", o.duration.String(), "--latency", "--timeout", "5s"}
	if p.script != "" {
		args = append(args, "-s", p.script)
	}
	args = append(args, p.url)
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(p.name, out)
	r.id = p.id
	return r, err
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
		case len(f) > 2 && f[1] == "requests" && f[2] == "in":
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

// mediaResult is the captcha media row: how fast 64 clients got images
// and sounds, and what that did to another reader's count reads.
type mediaResult struct {
	media       result
	alone, load latencies
}

type latencies struct {
	samples []time.Duration // sorted
	errors  int
}

func (l latencies) pct(p float64) time.Duration { return percentile(l.samples, p) }

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// mediaLoad measures a reader's count reads alone, then while 64 clients
// ask for captcha images and audio.
func mediaLoad(o options, p benchPath, countsURL, token string) (mediaResult, error) {
	var m mediaResult
	m.alone = readCounts(countsURL, token, min(o.duration, 2*time.Second), nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.load = readCounts(countsURL, token, 0, done)
	}()
	res, err := wrk(o, p, 64)
	close(done)
	wg.Wait()
	m.media = res
	return m, err
}

// readCounts reads counts as one reader does, one request at a time with
// 2 ms between them, for d or until stop is closed.
func readCounts(url, token string, d time.Duration, stop chan struct{}) latencies {
	var l latencies
	end := time.Now().Add(d)
	for {
		if stop != nil {
			select {
			case <-stop:
				slices.Sort(l.samples)
				return l
			default:
			}
		} else if time.Now().After(end) {
			slices.Sort(l.samples)
			return l
		}
		t := time.Now()
		if _, err := call("GET", url, "", 200, "X-Reader-Token", token); err != nil {
			l.errors++
		} else {
			l.samples = append(l.samples, time.Since(t))
		}
		time.Sleep(2 * time.Millisecond)
	}
}
