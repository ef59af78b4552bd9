package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
)

// Two moderators decide the same comments at the same moment, each naming
// the status they saw: exactly one wins each time, the other gets 409 and
// changes nothing.
func TestDecisionRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		ann := e.moderator("ann@news.example", schema.RoleModerator)
		bob := e.moderator("bob@news.example", schema.RoleModerator)
		const n = 25
		var ids []int64
		for i := 0; i < n; i++ {
			ids = append(ids, e.storeComment("a", fmt.Sprintf("racing comment %d", i), schema.StatusPending).ID)
		}
		results := make([][2]int, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			for j, m := range []*modClient{ann, bob} {
				action := []string{"approve", "reject"}[j]
				wg.Go(func() {
					results[i][j] = m.decide(id, action, "pending").Status
				})
			}
		}
		wg.Wait()
		approved := 0
		for i, id := range ids {
			r := results[i]
			if !(r == [2]int{200, 409} || r == [2]int{409, 200}) {
				t.Fatalf("comment %d: statuses %v, want one 200 and one 409", id, r)
			}
			want := "approved"
			if r[1] == 200 {
				want = "rejected"
			} else {
				approved++
			}
			c, _ := e.store.Comment(context.Background(), id)
			if c.Status != want || c.Version != 2 {
				t.Fatalf("comment %d is %s v%d, want %s v2", id, c.Status, c.Version, want)
			}
		}
		// One audit entry per comment, and exact counters.
		r := ann.must(200, "GET", fmt.Sprintf("/api/v1/mod/audit?limit=%d", 2*n), nil)
		if got := len(r.JSON["items"].([]any)); got != n {
			t.Fatalf("%d audit entries for %d decisions", got, n)
		}
		a, _ := e.store.Article(context.Background(), e.site.ID, "a")
		if a.ApprovedCount != int64(approved) {
			t.Fatalf("approved count %d, want %d", a.ApprovedCount, approved)
		}
		if c := counts(t, ann, ""); c["pending"] != 0 {
			t.Fatalf("pending count %v", c)
		}
	})
}

func TestDecisions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d)
		m := e.moderator("ed@news.example", schema.RoleModerator)
		c := e.storeComment("a", "first comment", schema.StatusPending)

		r := m.decide(c.ID, "spam", "")
		if r.Status != 200 {
			t.Fatalf("spam: %d %s", r.Status, r.Body)
		}
		got := r.JSON["comment"].(map[string]any)
		if got["status"] != "spam" || num(got["version"]) != 2 || num(got["id"]) != c.ID {
			t.Fatalf("decided comment %v", got)
		}
		// 409 with nothing changed when the expected status is stale.
		r = m.decide(c.ID, "approve", "pending")
		if r.Status != 409 || r.errCode() != "conflict" || !strings.Contains(string(r.Body), "spam now") {
			t.Fatalf("stale expectation: %d %s", r.Status, r.Body)
		}
		if cc, _ := e.store.Comment(context.Background(), c.ID); cc.Status != "spam" || cc.Version != 2 {
			t.Fatalf("a conflict changed the comment: %+v", cc)
		}
		// Restore brings rejected and spam comments back, nothing else.
		if r := m.decide(c.ID, "restore", "spam"); r.Status != 200 || e.status(c.ID) != "approved" {
			t.Fatalf("restore: %d %s", r.Status, r.Body)
		}
		if r := m.decide(c.ID, "restore", ""); r.Status != 409 {
			t.Fatalf("restore of an approved comment: %d %s", r.Status, r.Body)
		}
		if r := m.decide(c.ID, "reject", "approved"); r.Status != 200 || e.status(c.ID) != "rejected" {
			t.Fatalf("reject: %d %s", r.Status, r.Body)
		}
		// A decision that changes nothing is accepted and not recorded.
		before := len(m.must(200, "GET", "/api/v1/mod/audit", nil).JSON["items"].([]any))
		if r := m.decide(c.ID, "reject", "rejected"); r.Status != 200 {
			t.Fatalf("repeat: %d %s", r.Status, r.Body)
		}
		if after := len(m.must(200, "GET", "/api/v1/mod/audit", nil).JSON["items"].([]any)); after != before {
			t.Fatalf("a decision that changed nothing was audited: %d -> %d entries", before, after)
		}

		// Deleted by its author: 409.
		gone := e.storeComment("a", "regret", schema.StatusApproved)
		e.store.DeleteComment(context.Background(), gone.ID)
		if r := m.decide(gone.ID, "approve", ""); r.Status != 409 {
			t.Fatalf("deleted comment: %d %s", r.Status, r.Body)
		}
		for name, body := range map[string]any{
			"unknown action":   map[string]any{"action": "destroy"},
			"unknown expected": map[string]any{"action": "approve", "expected_status": "maybe"},
			"long reason":      map[string]any{"action": "approve", "reason": strings.Repeat("x", 501)},
		} {
			if r := m.do("POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", c.ID), body); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := m.do("POST", "/api/v1/mod/comments/999999/decision", map[string]any{"action": "approve"}); r.Status != 404 {
			t.Errorf("unknown comment: %d %s", r.Status, r.Body)
		}
		if r := m.do("POST", "/api/v1/mod/comments/abc/decision", map[string]any{"action": "approve"}); r.Status != 404 {
			t.Errorf("malformed id: %d %s", r.Status, r.Body)
		}
		if r := m.do("POST", fmt.Sprintf("/api/v1/mod/comments/%d/decision", c.ID), `{"action":`); r.Status != 400 {
			t.Errorf("malformed JSON: %d %s", r.Status, r.Body)
		}

		// Bulk: a result per id, in order.
		p1 := e.storeComment("a", "bulk one", schema.StatusPending)
		p2 := e.storeComment("a", "bulk two", schema.StatusPending)
		sp := e.storeComment("a", "bulk spam", schema.StatusSpam)
		r = m.must(200, "POST", "/api/v1/mod/decisions", map[string]any{"ids": []int64{p1.ID, 424242, sp.ID, p2.ID}, "action": "approve", "expected_status": "pending"})
		res := r.JSON["results"].([]any)
		want := []struct {
			ok     bool
			status string
			code   string
		}{{true, "approved", ""}, {false, "", "not_found"}, {false, "spam", "conflict"}, {true, "approved", ""}}
		if len(res) != len(want) {
			t.Fatalf("bulk results %s", r.Body)
		}
		for i, w := range want {
			x := res[i].(map[string]any)
			code := ""
			if e, ok := x["error"].(map[string]any); ok {
				code = e["code"].(string)
			}
			st, _ := x["status"].(string)
			if x["ok"] != w.ok || st != w.status || code != w.code {
				t.Fatalf("bulk result %d: %v, want %+v", i, x, w)
			}
		}
		many := make([]int64, 201)
		for i := range many {
			many[i] = int64(i + 1)
		}
		if r := m.do("POST", "/api/v1/mod/decisions", map[string]any{"ids": many, "action": "approve"}); r.Status != 422 || r.field("ids") == "" {
			t.Fatalf("201 ids: %d %s", r.Status, r.Body)
		}
		if r := m.do("POST", "/api/v1/mod/decisions", map[string]any{"ids": []int64{}, "action": "approve"}); r.Status != 422 {
			t.Fatalf("no ids: %d %s", r.Status, r.Body)
		}
	})
}

type labelled struct {
	spam bool
	text string
}

func readLabelled(t *testing.T) []labelled {
	t.Helper()
	f, err := os.Open("../moderation/testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	s := bufio.NewScanner(f)
	for s.Scan() {
		label, text, _ := strings.Cut(s.Text(), "\t")
		out = append(out, labelled{label == "spam", text})
	}
	return out
}

// The classifier learns from the decisions moderators make through the
// API: after 200 decisions it files most new spam away and leaves ham be.
func TestClassifierLearnsFromDecisions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) {
			st.Moderation.Mode = "pre"
			st.Moderation.MaxLinks = 10
			st.Moderation.ClassifierMinDecisions = 50
		})
		m := e.moderator("ed@news.example", schema.RoleModerator)
		examples := readLabelled(t)
		var train, test []labelled
		for i, x := range examples {
			if i%3 == 0 {
				test = append(test, x)
			} else {
				train = append(train, x)
			}
		}
		// flagged is the share of spam and of ham test comments posted now
		// that the classifier holds or files as spam.
		flagged := func(xs []labelled) (spam, ham float64) {
			var ns, nh, fs, fh int
			for i, x := range xs {
				r := e.postComment(post{Body: x.text, Article: fmt.Sprintf("t-%d-%d", len(xs), i)})
				if r.Status != 201 {
					t.Fatalf("post: %d %s", r.Status, r.Body)
				}
				c, _ := e.store.Comment(context.Background(), num(r.JSON["comment"].(map[string]any)["id"]))
				var reasons []moderation.Reason
				json.Unmarshal([]byte(c.Reasons), &reasons)
				hit := slices.ContainsFunc(reasons, func(r moderation.Reason) bool {
					return r.Rule == moderation.RuleClassifier && r.Verdict >= moderation.Hold
				})
				if x.spam {
					ns++
					if hit {
						fs++
					}
				} else {
					nh++
					if hit {
						fh++
					}
				}
			}
			return float64(fs) / float64(ns), float64(fh) / float64(nh)
		}
		// The corpus lists ham first, then spam: take some of each.
		before, beforeHam := flagged(append(slices.Clone(test[:10]), test[len(test)-10:]...))

		// Moderators decide the training comments: spam as spam, ham
		// approved; in bulk and one by one.
		var spamIDs, hamIDs []int64
		for _, x := range train {
			c := e.storeComment("train", x.text, schema.StatusPending)
			if x.spam {
				spamIDs = append(spamIDs, c.ID)
			} else {
				hamIDs = append(hamIDs, c.ID)
			}
		}
		m.must(200, "POST", "/api/v1/mod/decisions", map[string]any{"ids": spamIDs[:len(spamIDs)/2], "action": "spam"})
		for _, id := range spamIDs[len(spamIDs)/2:] {
			if r := m.decide(id, "spam", "pending"); r.Status != 200 {
				t.Fatalf("spam: %d %s", r.Status, r.Body)
			}
		}
		m.must(200, "POST", "/api/v1/mod/decisions", map[string]any{"ids": hamIDs, "action": "approve"})
		// A rejection teaches the reject model, not the spam filter.
		rejected := e.storeComment("train", "Only a moron would write this, shut up", schema.StatusPending)
		if r := m.decide(rejected.ID, "reject", "pending"); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Body)
		}
		_, totals, _ := e.store.ClassifierCounts(context.Background(), e.site.ID, nil)
		if totals != (schema.TokenCount{Spam: int64(len(spamIDs)), Ham: int64(len(hamIDs)), Rejected: 1}) {
			t.Fatalf("learned %+v from %d spam, %d ham and 1 reject decisions", totals, len(spamIDs), len(hamIDs))
		}
		after, afterHam := flagged(test[10 : len(test)-10])
		t.Logf("spam flagged: %.2f before, %.2f after %d decisions; ham flagged: %.2f before, %.2f after",
			before, after, len(train), beforeHam, afterHam)
		if before != 0 || after < 0.7 || afterHam > 0.1 {
			t.Fatalf("the classifier did not learn: spam flagged %.2f -> %.2f, ham %.2f", before, after, afterHam)
		}

		// Reversing a decision unlearns it: restore a spam decision, and the
		// totals move from spam to ham.
		if r := m.decide(spamIDs[0], "restore", "spam"); r.Status != 200 {
			t.Fatalf("restore: %d %s", r.Status, r.Body)
		}
		_, totals2, _ := e.store.ClassifierCounts(context.Background(), e.site.ID, nil)
		if totals2 != (schema.TokenCount{Spam: totals.Spam - 1, Ham: totals.Ham + 1, Rejected: 1}) {
			t.Fatalf("after restore %+v, before %+v", totals2, totals)
		}
		// And repeating a decision teaches nothing twice.
		m.decide(spamIDs[0], "approve", "")
		if _, totals3, _ := e.store.ClassifierCounts(context.Background(), e.site.ID, nil); totals3 != totals2 {
			t.Fatalf("a repeated approval was learned again: %+v -> %+v", totals2, totals3)
		}
	})
}
