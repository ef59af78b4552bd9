package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Propagation trials: a change is made through instance A, and instance B,
// a second server process on the same PostgreSQL database, is polled every
// millisecond until it shows the change. The time runs from A's answer
// (or the end of the command) to B's first answer that shows it.
const (
	pollEvery    = time.Millisecond
	trialTimeout = 10 * time.Second
)

var errTimeout = fmt.Errorf("not seen within %s", trialTimeout)

type propKind struct {
	name     string
	trials   int
	samples  []time.Duration // sorted
	timeouts int
	err      error
	skipped  string
}

// poll calls seen every millisecond until it reports true, and returns the
// time since start at that answer.
func poll(start time.Time, seen func() (bool, error)) (time.Duration, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		ok, err := seen()
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > trialTimeout {
			return 0, errTimeout
		}
		<-t.C
	}
}

// settle waits, unmeasured, until B shows the state a trial starts from.
func settle(seen func() (bool, error)) error {
	if _, err := poll(time.Now(), seen); err != nil {
		return fmt.Errorf("B did not show the state before the change: %w", err)
	}
	return nil
}

// minTrials is how many trials a kind runs even past its time budget.
const minTrials = 10

// runKind runs up to n trials of a kind, and stops early (after minTrials)
// once the kind has taken budget: while changes take a second to show,
// fifty trials of each would take most of the run.
func runKind(name string, n int, budget time.Duration, trial func(i int) (time.Duration, error)) propKind {
	step("propagation: %s, up to %d trials", name, n)
	k := propKind{name: name}
	start := time.Now()
	for i := 0; i < n && (i < minTrials || time.Since(start) < budget); i++ {
		k.trials++
		d, err := trial(i)
		switch {
		case errors.Is(err, errTimeout):
			k.timeouts++
		case err != nil:
			k.err = fmt.Errorf("trial %d: %w", i+1, err)
			return k
		default:
			k.samples = append(k.samples, d)
		}
		// A pause of random length, so that trials do not fall into step
		// with a cache's expiry.
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	}
	slices.Sort(k.samples)
	return k
}

type countsAnswer struct {
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
}

type pageAnswer struct {
	Comments []struct {
		ID     int64  `json:"id"`
		Author string `json:"author"`
		Body   string `json:"body"`
	} `json:"comments"`
}

// captchaPool keeps solved captchas ready, issued by base, until stop.
func captchaPool(base string, stop chan struct{}) <-chan captchaAnswer {
	ch := make(chan captchaAnswer, 512)
	for w := 0; w < 4; w++ {
		go func() {
			for {
				c, err := newCaptcha(base)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				select {
				case ch <- c:
				case <-stop:
					return
				}
			}
		}()
	}
	return ch
}

// postComment posts on site prop and returns the comment's public status,
// or "refused" when the server would not take it.
func postComment(base, article, token, author, email, body string, c captchaAnswer) (string, int64, error) {
	in, _ := json.Marshal(map[string]string{"author": author, "email": email, "body": body, "captcha_id": c.id, "captcha_solution": c.solution})
	req, err := http.NewRequest("POST", base+"/api/v1/sites/prop/articles/"+article+"/comments", strings.NewReader(string(in)))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Reader-Token", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == 201:
		var out struct {
			Comment struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"comment"`
		}
		err := json.Unmarshal(b, &out)
		return out.Comment.Status, out.Comment.ID, err
	case resp.StatusCode == 403:
		return "refused", 0, nil
	}
	return "", 0, fmt.Errorf("post a comment: %d %s", resp.StatusCode, b)
}

func propagation(ctx context.Context, o options, bin, dsn, a, b, modToken string, modComments []int64) []propKind {
	bearer := []string{"Authorization", "Bearer " + modToken}
	kinds := []string{"vote (counts)", "moderator decision (public page)", "site settings (reactions list)", "ban (post refused or held)", "erasure (`parley reader forget`)"}
	var out []propKind
	fail := func(err error) []propKind {
		for _, name := range kinds[len(out):] {
			out = append(out, propKind{name: name, err: err})
		}
		return out
	}
	if modToken != "" {
		// Posts from one address in quick succession, and an untrained
		// classifier, must not hold the trials' comments.
		if _, err := call("PUT", a+"/api/v1/mod/sites/prop", `{"moderation":{"mode":"post","max_per_minute":-1,"classifier_min_decisions":1000000}}`,
			200, append([]string{"Content-Type", "application/json"}, bearer...)...); err != nil {
			return fail(err)
		}
	}

	// A vote through A; B's counts for the article.
	voters, err := readerTokens(a, o.trials)
	if err != nil {
		return fail(err)
	}
	counts := "/api/v1/sites/prop/articles/p-vote/reactions"
	out = append(out, runKind(kinds[0], o.trials, o.trialBudget, func(i int) (time.Duration, error) {
		var before, after countsAnswer
		if err := callJSON("GET", b+counts, "", 200, &before); err != nil {
			return 0, err
		}
		if err := callJSON("PUT", a+counts+"/mine", `{"reaction":"like"}`, 200, &after, "X-Reader-Token", voters[i]); err != nil {
			return 0, err
		}
		return poll(time.Now(), func() (bool, error) {
			var now countsAnswer
			err := callJSON("GET", b+counts, "", 200, &now)
			return now.Total >= after.Total, err
		})
	}))
	if modToken == "" {
		for _, name := range kinds[1:] {
			out = append(out, propKind{name: name, skipped: "no moderator token"})
		}
		return out
	}

	// A moderator rejects a comment through A and it leaves B's page; then
	// restores it and it comes back.
	page := b + "/api/v1/sites/prop/articles/p-mod/comments?limit=200"
	shows := func(id int64) (bool, error) {
		var p pageAnswer
		if err := callJSON("GET", page, "", 200, &p); err != nil {
			return false, err
		}
		for _, c := range p.Comments {
			if c.ID == id {
				return true, nil
			}
		}
		return false, nil
	}
	out = append(out, runKind(kinds[1], o.trials, o.trialBudget, func(i int) (time.Duration, error) {
		id := modComments[(i/2)%len(modComments)]
		action, want := "reject", false
		if i%2 == 1 {
			action, want = "restore", true
		}
		if err := settle(func() (bool, error) { v, err := shows(id); return v != want, err }); err != nil {
			return 0, err
		}
		if _, err := call("POST", fmt.Sprintf("%s/api/v1/mod/comments/%d/decision", a, id), `{"action":"`+action+`"}`, 200,
			append([]string{"Content-Type", "application/json"}, bearer...)...); err != nil {
			return 0, err
		}
		return poll(time.Now(), func() (bool, error) { v, err := shows(id); return v == want, err })
	}))

	// An admin adds a reaction to the site's list through A, then takes it
	// away; B's counts list the site's reactions.
	settingsCounts := b + "/api/v1/sites/prop/articles/p-settings/reactions"
	hasWow := func() (bool, error) {
		var c countsAnswer
		err := callJSON("GET", settingsCounts, "", 200, &c)
		_, ok := c.Counts["wow"]
		return ok, err
	}
	out = append(out, runKind(kinds[2], o.trials, o.trialBudget, func(i int) (time.Duration, error) {
		want, list := i%2 == 0, `["like","dislike"]`
		if want {
			list = `["like","dislike","wow"]`
		}
		if err := settle(func() (bool, error) { v, err := hasWow(); return v != want, err }); err != nil {
			return 0, err
		}
		if _, err := call("PUT", a+"/api/v1/mod/sites/prop", `{"reactions":`+list+`}`, 200,
			append([]string{"Content-Type", "application/json"}, bearer...)...); err != nil {
			return 0, err
		}
		return poll(time.Now(), func() (bool, error) { v, err := hasWow(); return v == want, err })
	}))

	// A reader posts on B, a moderator bans them through A, and the reader
	// posts on B again until the post is refused or held. Every poll is a
	// post, with a captcha of its own.
	stop := make(chan struct{})
	defer close(stop)
	pool := captchaPool(a, stop)
	nBans := max(1, o.trials/2)
	banned, err := readerTokens(a, nBans)
	if err != nil {
		return fail(err)
	}
	out = append(out, runKind(kinds[3], nBans, o.trialBudget, func(i int) (time.Duration, error) {
		author := fmt.Sprintf("Ban trial %d", i)
		status, id, err := postComment(b, "p-ban", banned[i], author, "", fmt.Sprintf("Ban trial %d, first post: the library should open on Sundays.", i), <-pool)
		if err != nil {
			return 0, err
		}
		if status != "approved" {
			return 0, fmt.Errorf("the first post of a reader was %s, not approved", status)
		}
		if _, err := call("POST", a+"/api/v1/mod/bans", fmt.Sprintf(`{"comment_id":%d,"kind":"reader","reason":"bench propagation"}`, id), 201,
			append([]string{"Content-Type", "application/json"}, bearer...)...); err != nil {
			return 0, err
		}
		j := 0
		return poll(time.Now(), func() (bool, error) {
			j++
			status, _, err := postComment(b, "p-ban", banned[i], author, "", fmt.Sprintf("Ban trial %d, post %d: the library should open on Sundays.", i, j), <-pool)
			return status != "approved", err
		})
	}))

	// A comment with an email address is on B's page; `parley reader
	// forget` erases it; B's page stops showing its author and text.
	erasePage := b + "/api/v1/sites/prop/articles/p-erase/comments?limit=200"
	showsText := func(author, body string) (bool, error) {
		var p pageAnswer
		if err := callJSON("GET", erasePage, "", 200, &p); err != nil {
			return false, err
		}
		for _, c := range p.Comments {
			if c.Author == author || c.Body == body {
				return true, nil
			}
		}
		return false, nil
	}
	run := time.Now().UnixNano()
	out = append(out, runKind(kinds[4], max(1, o.trials/5), o.trialBudget, func(i int) (time.Duration, error) {
		email := fmt.Sprintf("erase-%d-%d@bench.example", run, i)
		author, body := fmt.Sprintf("Erasable Author %d", i), fmt.Sprintf("Erasure trial %d: this text must disappear.", i)
		status, _, err := postComment(a, "p-erase", "", author, email, body, <-pool)
		if err != nil {
			return 0, err
		}
		if status != "approved" {
			return 0, fmt.Errorf("the comment to erase was %s, not approved", status)
		}
		if err := settle(func() (bool, error) { return showsText(author, body) }); err != nil {
			return 0, err
		}
		cmd := exec.CommandContext(ctx, bin, "reader", "forget", "-email", email, "-db", dsn)
		if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "erased 1 comment") {
			return 0, fmt.Errorf("parley reader forget: %v %s", err, b)
		}
		return poll(time.Now(), func() (bool, error) { v, err := showsText(author, body); return !v, err })
	}))
	return out
}
