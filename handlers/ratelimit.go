package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/moderation"
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
	// Logins limits login attempts per address; successes are given back.
	// Per account, its burst is a ceiling past which guesses from
	// addresses that failed on the account are delayed, never refused.
	Logins Rate
	// LoginHashers bounds how many password hashes run at once on the
	// instance, whoever asks: each takes 19 MiB (argon2id), so this bounds
	// the memory logins can take. A login that finds every hasher busy for
	// a second is answered 503 with Retry-After before any hashing. Zero or
	// less means DefaultLoginHashers().
	LoginHashers int
	// CaptchaMedia counts captcha images and audio served.
	CaptchaMedia Rate
	// Reads limits comment pages and feeds read: generous for readers, a
	// bound for a crawler walking every cursor.
	Reads Rate
}

// DefaultLoginHashers is min(GOMAXPROCS, 4): a hash is single-threaded,
// so more hashers than processors add memory but no throughput.
func DefaultLoginHashers() int { return min(runtime.GOMAXPROCS(0), 4) }

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
		// A reader needs an image per captcha, perhaps a redraw or the
		// audio: twice the captchas' own rate.
		CaptchaMedia: Rate{PerMinute: 60, Burst: 30},
		// A page view reads one page; a reader scrolling a long thread a
		// few more.
		Reads: Rate{PerMinute: 600, Burst: 300},
	}
}

// Off returns limits that never refuse, for load tests. Password hashing
// stays bounded: that bound protects memory, not fairness.
func (Limits) Off() Limits {
	off := Rate{PerMinute: -1}
	return Limits{Readers: off, Captchas: off, Comments: off, Edits: off, Votes: off, Reports: off, Logins: off, CaptchaMedia: off, Reads: off}
}

type limiters struct {
	readers, captchas, comments, edits, votes, reports, logins *limiter
	captchaMedia, reads                                        *limiter
	// accounts counts login attempts per account (successes are given
	// back); failed remembers which addresses failed on which account.
	accounts *limiter
	failed   *failureLog
	hashers  *hashGate
}

func newLimiters(l Limits) *limiters {
	n := l.LoginHashers
	if n <= 0 {
		n = DefaultLoginHashers()
	}
	return &limiters{
		readers: newLimiter(l.Readers), captchas: newLimiter(l.Captchas), comments: newLimiter(l.Comments),
		edits: newLimiter(l.Edits),
		votes: newLimiter(l.Votes), reports: newLimiter(l.Reports), logins: newLimiter(l.Logins),
		accounts: newLimiter(l.Logins), failed: newFailureLog(), hashers: newHashGate(n),
		captchaMedia: newLimiter(l.CaptchaMedia), reads: newLimiter(l.Reads),
	}
}

func (l *limiters) sweep() {
	for _, x := range []*limiter{l.readers, l.captchas, l.comments, l.edits, l.votes, l.reports, l.logins, l.accounts, l.captchaMedia, l.reads} {
		x.sweep()
	}
	l.failed.sweep()
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

// refill returns key's bucket with the tokens earned since it was last
// used; l.mu must be held.
func (l *limiter) refill(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(float64(l.rate.Burst), b.tokens+now.Sub(b.last).Seconds()*l.rate.PerMinute/60)
	b.last = now
	return b
}

// allow takes a token from key's bucket, or says how long until one is there.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate.PerMinute <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / (l.rate.PerMinute / 60) * float64(time.Second))
}

// sweep forgets buckets that have refilled, so memory stays bounded by the
// clients of the last few minutes.
func (l *limiter) sweep() {
	if l.rate.PerMinute <= 0 {
		return
	}
	perSec := l.rate.PerMinute / 60
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		// Buckets may be in debt (see owe): forgotten only once refilled.
		if b.tokens+now.Sub(b.last).Seconds()*perSec >= float64(l.rate.Burst) {
			delete(l.buckets, k)
		}
	}
}

// limitKey is the key an address is limited by: its group (an IPv6 /64),
// which a single subscriber could otherwise use for a fresh bucket per
// request; the stored IP hash covers the same group.
func limitKey(ip string) string { return moderation.IPGroup(ip) }

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

// owe takes a token from key's bucket even when there is none, going into
// debt down to -Burst, and returns the debt: 0 within the burst, then 1, 2…
func (l *limiter) owe(key string) int {
	if l.rate.PerMinute <= 0 {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	b.tokens = math.Max(-float64(l.rate.Burst), b.tokens-1)
	if b.tokens >= 0 {
		return 0
	}
	return int(math.Ceil(-b.tokens))
}

// Login failures are remembered per (account, address) this long: an
// address that failed on an account within it is slowed down once the
// account is past its ceiling; others are not.
const (
	failureMemory = 15 * time.Minute
	// maxFailures bounds the memory of failureLog (an entry is at most a
	// few hundred bytes). Once it is full, unknown pairs count as failed:
	// everyone is slowed down, nobody is refused.
	maxFailures = 50_000
)

// failureLog remembers when a key (an account and an address) last failed.
type failureLog struct {
	mu  sync.Mutex
	at  map[string]time.Time
	now func() time.Time
}

func newFailureLog() *failureLog { return &failureLog{at: map[string]time.Time{}, now: time.Now} }

// attempt tells whether key failed within failureMemory, and records this
// attempt as a failure until forget says otherwise: concurrent attempts
// from one address thus count the ones still running.
func (f *failureLog) attempt(key string) bool {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	last, ok := f.at[key]
	if !ok && len(f.at) >= maxFailures {
		return true
	}
	f.at[key] = now
	return ok && now.Sub(last) < failureMemory
}

// forget clears key after a successful login.
func (f *failureLog) forget(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.at, key)
}

func (f *failureLog) sweep() {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.at {
		if now.Sub(t) >= failureMemory {
			delete(f.at, k)
		}
	}
}

// loginDelay is the wait before checking a password of an account in
// debt (see owe), from an address that failed on it: 250 ms, doubling with
// each guess past the ceiling, at most max.
func loginDelay(debt int, max time.Duration) time.Duration {
	if debt <= 0 {
		return 0
	}
	return min(max, 250*time.Millisecond<<min(debt-1, 10))
}

// hashWait is how long a login waits for a free hasher before it is
// answered 503.
const hashWait = time.Second

// hashGate bounds the password hashes running at once. Waiting for it
// costs a goroutine, not the hash's memory.
type hashGate struct {
	slots chan struct{}
	mu    sync.Mutex
	busy  int
	// ran counts hashes since memory was last handed back to the system.
	ran      int
	lastFree time.Time
}

func newHashGate(n int) *hashGate { return &hashGate{slots: make(chan struct{}, n)} }

var errHashersBusy = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
	Message: "too many logins at once: try again in a second", RetryAfter: time.Second}

// run runs fn (a password hash) once a hasher is free, or answers 503
// after hashWait.
func (g *hashGate) run(ctx context.Context, fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(hashWait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return errHashersBusy
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errHashersBusy
			}
			return ctx.Err()
		}
	}
	g.mu.Lock()
	g.busy++
	g.mu.Unlock()
	defer g.release()
	fn()
	return nil
}

// release frees the hasher. When the last one goes idle after a burst,
// the hashes' memory is handed back to the system at once rather than when
// the runtime gets to it (minutes later), at most every 10 s.
func (g *hashGate) release() {
	<-g.slots
	g.mu.Lock()
	g.busy--
	g.ran++
	free := g.busy == 0 && g.ran > cap(g.slots) && time.Since(g.lastFree) > 10*time.Second
	if free {
		g.ran, g.lastFree = 0, time.Now()
	}
	g.mu.Unlock()
	if free {
		go debug.FreeOSMemory()
	}
}
