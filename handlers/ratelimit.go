package handlers

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits configures the per-client token buckets: Rate events per minute
// with bursts up to Burst. Clients are told apart by address (see clientIP;
// IPv6 addresses by their /64 network). Limits are per instance: several
// instances behind a balancer each allow this much. The zero Limits stands
// for DefaultLimits.
type Limits struct {
	Readers  Rate
	Captchas Rate
	Comments Rate
	// Edits limits edits and deletions of comments, per address and per
	// the comment's reader, in buckets of their own so that fixing a typo
	// does not use up a reader's posts.
	Edits   Rate
	Votes   Rate
	Reports Rate
	Logins  Rate
}

// Rate is a sustained rate per minute and a burst. A PerMinute of zero or
// less means no limit.
type Rate struct {
	PerMinute float64
	Burst     int
}

// Off is the Rate that limits nothing.
var Off = Rate{PerMinute: -1}

// ParseRate reads a rate as the command line writes it: a count per
// second, minute or hour ("2/s", "6/m", "100/h"), optionally followed by a
// burst ("6/m:5"); without one the burst is the count. "off" is no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return Off, nil
	}
	rate, burst, hasBurst := strings.Cut(s, ":")
	count, unit, ok := strings.Cut(rate, "/")
	n, err := strconv.ParseFloat(count, 64)
	per := map[string]float64{"s": 60, "m": 1, "h": 1.0 / 60}[unit]
	if !ok || err != nil || per == 0 || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return Rate{}, fmt.Errorf("rate %q: want a count per s, m or h such as 6/m, with an optional burst as in 6/m:5, or off", s)
	}
	r := Rate{PerMinute: n * per, Burst: int(math.Ceil(n))}
	if hasBurst {
		b, err := strconv.Atoi(burst)
		if err != nil || b < 1 {
			return Rate{}, fmt.Errorf("rate %q: the burst after the colon must be a whole number of at least 1", s)
		}
		r.Burst = b
	}
	return r, nil
}

// String writes the rate as ParseRate reads it.
func (r Rate) String() string {
	if r.PerMinute <= 0 {
		return "off"
	}
	return strconv.FormatFloat(r.PerMinute, 'g', -1, 64) + "/m:" + strconv.Itoa(r.Burst)
}

// DefaultLimits suit a news site: generous for reading and voting, tight for
// writing comments.
func DefaultLimits() Limits {
	return Limits{
		Readers:  Rate{PerMinute: 30, Burst: 20},
		Captchas: Rate{PerMinute: 30, Burst: 20},
		Comments: Rate{PerMinute: 6, Burst: 5},
		Edits:    Rate{PerMinute: 6, Burst: 5},
		Votes:    Rate{PerMinute: 120, Burst: 60},
		Reports:  Rate{PerMinute: 20, Burst: 10},
		Logins:   Rate{PerMinute: 10, Burst: 10},
	}
}

// Off returns limits that never refuse, for load tests.
func (Limits) Off() Limits {
	off := Rate{PerMinute: -1}
	return Limits{Readers: off, Captchas: off, Comments: off, Edits: off, Votes: off, Reports: off, Logins: off}
}

type limiters struct {
	readers, captchas, comments, edits, votes, reports, logins *limiter
}

func newLimiters(l Limits) *limiters {
	return &limiters{
		readers: newLimiter(l.Readers), captchas: newLimiter(l.Captchas), comments: newLimiter(l.Comments),
		edits: newLimiter(l.Edits),
		votes: newLimiter(l.Votes), reports: newLimiter(l.Reports), logins: newLimiter(l.Logins),
	}
}

func (l *limiters) sweep() {
	for _, x := range []*limiter{l.readers, l.captchas, l.comments, l.edits, l.votes, l.reports, l.logins} {
		x.sweep()
	}
}

// limiter is a set of token buckets keyed by client.
type limiter struct {
	rate    Rate
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r Rate) *limiter {
	return &limiter{rate: r, buckets: map[string]*bucket{}, now: time.Now}
}

// allow takes a token from key's bucket, or says how long until one is there.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate.PerMinute <= 0 {
		return true, 0
	}
	perSec := l.rate.PerMinute / 60
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(l.rate.Burst), b.tokens+now.Sub(b.last).Seconds()*perSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / perSec * float64(time.Second))
}

// sweep forgets buckets that have refilled, so memory stays bounded by the
// clients of the last few minutes.
func (l *limiter) sweep() {
	if l.rate.PerMinute <= 0 {
		return
	}
	full := time.Duration(float64(l.rate.Burst) / (l.rate.PerMinute / 60) * float64(time.Second))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}

// limitKey is the key an address is limited by: an IPv4 address, or the
// /64 network of an IPv6 one, since a single subscriber usually holds a
// whole /64 and could otherwise take a fresh bucket per request.
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// check answers a rate_limited error when key is over its limit.
func (l *limiter) check(key string) error {
	if ok, retry := l.allow(key); !ok {
		return errRateLimited(retry)
	}
	return nil
}

// refund gives back a token allow took, for attempts that turned out fine.
func (l *limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = math.Min(float64(l.rate.Burst), b.tokens+1)
	}
}
