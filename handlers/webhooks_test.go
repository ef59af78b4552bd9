package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/schema"
)

const hookSecret = "a webhook secret of some length"

// receiver is a webhook endpoint that checks signatures the way the docs
// tell receivers to, and records what arrives.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	// status answers the nth request (from 1); nil answers 204.
	status func(n int) int
	delay  time.Duration
	mu     sync.Mutex
	got    []arrival
	signal chan struct{}
}

type arrival struct {
	Event, Delivery, Timestamp string
	SignatureOK                bool
	Body                       []byte
	Payload                    map[string]any
	At                         time.Time
	Status                     int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, signal: make(chan struct{}, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(hookSecret))
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		a := arrival{
			Event: r.Header.Get("X-Parley-Event"), Delivery: r.Header.Get("X-Parley-Delivery"),
			Timestamp: r.Header.Get("X-Parley-Timestamp"), Body: body, At: time.Now(),
			SignatureOK: hmac.Equal([]byte(r.Header.Get("X-Parley-Signature")), []byte(want)),
		}
		json.Unmarshal(body, &a.Payload)
		rc.mu.Lock()
		a.Status = http.StatusNoContent
		if rc.status != nil {
			a.Status = rc.status(len(rc.got) + 1)
		}
		rc.got = append(rc.got, a)
		delay := rc.delay
		rc.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(a.Status)
		rc.signal <- struct{}{}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wait returns the arrivals once there are n of them.
func (rc *receiver) wait(n int) []arrival {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]arrival(nil), rc.got...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-rc.signal:
		case <-deadline:
			rc.t.Fatalf("%d webhook deliveries arrived, want %d: %+v", len(got), n, got)
		}
	}
}

// waitFor returns the first arrival that matches.
func (rc *receiver) waitFor(match func(a arrival) bool) arrival {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]arrival(nil), rc.got...)
		rc.mu.Unlock()
		for _, a := range got {
			if match(a) {
				return a
			}
		}
		select {
		case <-rc.signal:
		case <-deadline:
			rc.t.Fatalf("no matching webhook delivery among %d", len(got))
		}
	}
}

// event matches deliveries of an event about a comment.
func event(name string, commentID int64) func(a arrival) bool {
	return func(a arrival) bool {
		c, _ := a.Payload["comment"].(map[string]any)
		return a.Event == name && num(c["id"]) == commentID
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// allowPrivateHooks lets webhooks reach the test receivers, which listen
// on 127.0.0.1.
func allowPrivateHooks(c *envConfig) { c.AllowPrivateWebhooks = true }

func (e *env) useWebhooks(urls ...string) {
	e.settings(func(st *schema.Settings) {
		st.Webhooks = schema.Webhooks{URLs: urls, Secret: hookSecret}
		st.Moderation.Mode = "pre"
		st.Moderation.ReportThreshold = 1
		st.Moderation.BannedWords = []string{"forbidden"}
	})
}

func TestWebhookEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, allowPrivateHooks)
		rc := newReceiver(t)
		e.useWebhooks(rc.srv.URL + "/hook")
		m := e.moderator("ed@news.example", schema.RoleModerator)

		id, _ := e.comment(post{Body: "A held comment"})
		held := rc.wait(1)[0]
		if held.Event != "comment.held" || !held.SignatureOK || held.Delivery == "" || held.Timestamp == "" {
			t.Fatalf("held delivery %+v", held)
		}
		p := held.Payload
		c := p["comment"].(map[string]any)
		links := p["links"].(map[string]any)
		if p["event"] != "comment.held" || p["site"] != "news" || num(c["id"]) != id || c["body"] != "A held comment" ||
			p["article"].(map[string]any)["key"] != "a-1" || len(c["reasons"].([]any)) != 1 ||
			!strings.HasPrefix(links["approve"].(string), e.srv.URL+"/api/v1/mod/act/") || links["reject"] == links["approve"] {
			t.Fatalf("held payload %s", held.Body)
		}

		m.decide(id, "approve", "pending")
		decided := rc.wait(2)[1]
		dec := decided.Payload["decision"].(map[string]any)
		if decided.Event != "comment.decided" || !decided.SignatureOK || dec["action"] != "approve" || dec["before"] != "pending" ||
			dec["after"] != "approved" || dec["by"] != "ed@news.example" {
			t.Fatalf("decided delivery %s", decided.Body)
		}

		e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", id), map[string]string{"reason": "abuse", "note": "mean"}, "X-Reader-Token", e.readerToken())
		reported := rc.wait(3)[2]
		reps := reported.Payload["reports"].([]any)
		if reported.Event != "comment.reported" || !reported.SignatureOK || len(reps) != 1 || reps[0].(map[string]any)["note"] != "mean" {
			t.Fatalf("reported delivery %s", reported.Body)
		}

		// Spam and rejected comments are not announced.
		e.comment(post{Body: "a forbidden word"})
		time.Sleep(200 * time.Millisecond)
		if n := rc.count(); n != 3 {
			t.Fatalf("%d deliveries: a rejected comment was announced", n)
		}
	})
}

// A failing receiver gets the same delivery again after each wait, until
// it accepts it or the waits run out; the request that caused the event
// never waits for any of it.
func TestWebhookRetries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		waits := []time.Duration{150 * time.Millisecond, 300 * time.Millisecond, 150 * time.Millisecond}
		e := newEnv(t, d, relaxed, allowPrivateHooks, func(c *envConfig) {
			c.Webhooks.Retries = waits
			c.Webhooks.Timeout = 300 * time.Millisecond
		})
		flaky, broken, slow := newReceiver(t), newReceiver(t), newReceiver(t)
		flaky.status = func(n int) int {
			if n <= 2 {
				return 500
			}
			return 200
		}
		broken.status = func(int) int { return 503 }
		slow.delay = time.Second
		e.useWebhooks(flaky.srv.URL, broken.srv.URL, slow.srv.URL)

		start := time.Now()
		e.comment(post{Body: "held for everybody"})
		if took := time.Since(start); took > 700*time.Millisecond {
			t.Fatalf("posting waited %v for the webhooks", took)
		}
		got := flaky.wait(3)
		for i, a := range got {
			if a.Delivery != got[0].Delivery || string(a.Body) != string(got[0].Body) || !a.SignatureOK {
				t.Fatalf("attempt %d differs: %+v", i+1, a)
			}
		}
		for i := 1; i < 3; i++ {
			if gap := got[i].At.Sub(got[i-1].At); gap < waits[i-1] {
				t.Fatalf("attempt %d came %v after the previous one, before the %v wait", i+1, gap, waits[i-1])
			}
		}
		if all := broken.wait(4); len(all) != 4 {
			t.Fatalf("broken receiver: %d attempts", len(all))
		}
		slow.wait(4)
		// Give up after the last wait: the store says so.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ds, err := e.store.Deliveries(t.Context(), e.site.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			state := map[string]schema.Delivery{}
			for _, d := range ds {
				state[d.URL] = d
			}
			f, b, s := state[flaky.srv.URL], state[broken.srv.URL], state[slow.srv.URL]
			if f.DeliveredMS != nil && b.GaveUpMS != nil && s.GaveUpMS != nil {
				if f.Attempts != 3 || b.Attempts != 4 || !strings.Contains(b.LastError, "503") || !strings.Contains(s.LastError, "Timeout") {
					t.Fatalf("deliveries: flaky %+v, broken %+v, slow %+v", f, b, s)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries never settled: flaky %+v, broken %+v, slow %+v", f, b, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := broken.count(); n != 4 {
			t.Fatalf("the broken receiver got %d attempts after giving up", n)
		}
	})
}

// The approve link of a held comment shows a confirmation page on GET and
// acts once on POST; its reject twin dies with it.
func TestActionLinks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed, allowPrivateHooks)
		e.relaxPosting()
		rc := newReceiver(t)
		e.useWebhooks(rc.srv.URL)
		m := e.moderator("ed@news.example", schema.RoleModerator)
		held := func(body string) (int64, string, string) {
			t.Helper()
			id, _ := e.comment(post{Body: body})
			l := rc.waitFor(event("comment.held", id)).Payload["links"].(map[string]any)
			return id, strings.TrimPrefix(l["approve"].(string), e.srv.URL), strings.TrimPrefix(l["reject"].(string), e.srv.URL)
		}
		html := []string{"Accept", "text/html,application/xhtml+xml"}

		id, approve, reject := held("Please <b>approve</b> me")
		r := e.do("GET", approve, nil, html...)
		page := string(r.Body)
		if r.Status != 200 || !strings.Contains(page, `<form method="post">`) || !strings.Contains(page, "Please &lt;b&gt;approve&lt;/b&gt; me") ||
			r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("confirmation page: %d %s", r.Status, page)
		}
		if r := e.do("GET", approve, nil); r.Status != 200 || r.JSON["action"] != "approve" {
			t.Fatalf("link as JSON: %d %s", r.Status, r.Body)
		}
		if e.status(id) != "pending" {
			t.Fatal("opening the link acted")
		}
		r = e.do("POST", approve, nil, html...)
		if r.Status != 200 || !strings.Contains(string(r.Body), "approved") || e.status(id) != "approved" {
			t.Fatalf("approve by link: %d %s, comment %s", r.Status, r.Body, e.status(id))
		}
		for _, link := range []string{approve, reject} {
			if r := e.do("POST", link, nil); r.Status != 404 || r.errCode() != "not_found" {
				t.Fatalf("spent link %s: %d %s", link, r.Status, r.Body)
			}
			if r := e.do("GET", link, nil, html...); r.Status != 404 || !strings.Contains(string(r.Body), "used or has expired") {
				t.Fatalf("spent link page: %d %s", r.Status, r.Body)
			}
		}
		if e.status(id) != "approved" {
			t.Fatal("the reject twin acted")
		}
		items := m.must(200, "GET", "/api/v1/mod/audit?limit=1", nil).JSON["items"].([]any)
		if a := items[0].(map[string]any); a["actor"] != "webhook link" || a["moderator"] != nil || a["action"] != "comment.approve" {
			t.Fatalf("link decision audited as %v", a)
		}
		if a := rc.waitFor(event("comment.decided", id)); a.Payload["decision"].(map[string]any)["by"] != "webhook link" {
			t.Fatalf("link decision announced as %s", a.Body)
		}

		// A moderator came first: the decision spent the links.
		id, approve, _ = held("decided elsewhere")
		m.decide(id, "reject", "pending")
		if r := e.do("POST", approve, nil); r.Status != 404 || r.errCode() != "not_found" || e.status(id) != "rejected" {
			t.Fatalf("link after a decision: %d %s, comment %s", r.Status, r.Body, e.status(id))
		}

		// Both links clicked at once: exactly one acts.
		id, approve, reject = held("clicked twice")
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, link := range []string{approve, reject} {
			wg.Go(func() { statuses[i] = e.do("POST", link, nil).Status })
		}
		wg.Wait()
		want := map[[2]int]string{{200, 404}: "approved", {404, 200}: "rejected"}[[2]int(statuses)]
		if want == "" || e.status(id) != want {
			t.Fatalf("concurrent clicks: %v, comment %s", statuses, e.status(id))
		}

		// Links expire after 7 days.
		id, approve, _ = held("too late")
		e.clock().advance(8 * 24 * time.Hour)
		if r := e.do("POST", approve, nil); r.Status != 404 || e.status(id) != "pending" {
			t.Fatalf("expired link: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/v1/mod/act/forged", nil); r.Status != 404 {
			t.Fatalf("forged link: %d", r.Status)
		}
	})
}
