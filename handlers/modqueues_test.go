package handlers_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley/parley/schema"
)

func counts(t *testing.T, m *modClient, query string) map[string]int64 {
	t.Helper()
	r := m.must(200, "GET", "/api/v1/mod/queues"+query, nil)
	out := map[string]int64{}
	for k, v := range r.JSON["queues"].(map[string]any) {
		out[k] = num(v)
	}
	return out
}

func TestQueues(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) { st.Moderation.Mode = "pre" })
		m := e.moderator("ed@news.example", schema.RoleModerator)
		if _, err := e.store.RegisterArticle(t.Context(), e.site.ID, "a-1", "Night buses", "https://news.example/a-1"); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := 0; i < 5; i++ {
			id, status := e.comment(post{Body: fmt.Sprintf("Comment number %d about buses", i), Email: "ann@example.org"})
			if status != "pending" {
				t.Fatalf("pre-moderated comment is %s", status)
			}
			ids = append(ids, id)
		}
		if c := counts(t, m, "?site=news"); c["pending"] != 5 || c["reported"] != 0 || c["spam"] != 0 {
			t.Fatalf("counts %v", c)
		}

		// Oldest first, in pages with a cursor.
		r := m.must(200, "GET", "/api/v1/mod/queues/pending?site=news&limit=2", nil)
		got := items(t, r)
		for r.JSON["next_cursor"] != nil {
			r = m.must(200, "GET", "/api/v1/mod/queues/pending?site=news&limit=2&cursor="+r.JSON["next_cursor"].(string), nil)
			got = append(got, items(t, r)...)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("pending pages %v, want %v", got, ids)
		}
		// The item's shape.
		r = m.must(200, "GET", "/api/v1/mod/queues/pending?limit=1", nil)
		it := r.JSON["items"].([]any)[0].(map[string]any)
		c := it["comment"].(map[string]any)
		if c["status"] != "pending" || num(c["version"]) != 1 || c["email_hash"] == "" || c["ip_hash"] == "" || c["author"] != "Ann" {
			t.Fatalf("item comment: %v", c)
		}
		a := it["article"].(map[string]any)
		if a["site"] != "news" || a["key"] != "a-1" || a["title"] != "Night buses" || a["url"] != "https://news.example/a-1" {
			t.Fatalf("item article: %v", a)
		}
		reasons := it["reasons"].([]any)
		if len(reasons) != 1 || reasons[0].(map[string]any)["rule"] != "mode" || reasons[0].(map[string]any)["verdict"] != "hold" {
			t.Fatalf("item reasons: %v", reasons)
		}
		if len(it["reports"].([]any)) != 0 {
			t.Fatalf("item reports: %v", it["reports"])
		}

		// Decisions move comments between queues; history is newest first.
		m.decide(ids[0], "approve", "pending")
		m.decide(ids[1], "approve", "pending")
		m.decide(ids[2], "reject", "pending")
		m.decide(ids[3], "spam", "pending")
		if c := counts(t, m, ""); c["pending"] != 1 || c["spam"] != 1 {
			t.Fatalf("counts after decisions %v", c)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/approved?site=news", nil)); !slices.Equal(got, []int64{ids[1], ids[0]}) {
			t.Fatalf("approved history %v", got)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/approved?site=news&sort=oldest", nil)); !slices.Equal(got, []int64{ids[0], ids[1]}) {
			t.Fatalf("approved history, oldest first %v", got)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/rejected", nil)); !slices.Equal(got, []int64{ids[2]}) {
			t.Fatalf("rejected history %v", got)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/spam", nil)); !slices.Equal(got, []int64{ids[3]}) {
			t.Fatalf("spam queue %v", got)
		}
		// One article only.
		e.storeComment("a-2", "elsewhere", schema.StatusPending)
		if got := items(t, m.do("GET", "/api/v1/mod/queues/pending?site=news&article=a-1", nil)); !slices.Equal(got, []int64{ids[4]}) {
			t.Fatalf("article filter %v", got)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/pending?site=news&article=never", nil)); len(got) != 0 {
			t.Fatalf("unknown article %v", got)
		}
		for _, bad := range []string{"?article=a-1", "?sort=top", "?limit=0", "?limit=201", "?cursor=not-a-cursor", "?sort=priority&cursor=" + r.JSON["next_cursor"].(string)} {
			if r := m.do("GET", "/api/v1/mod/queues/pending"+bad, nil); r.Status != 400 {
				t.Errorf("queue %s: %d %s", bad, r.Status, r.Body)
			}
		}
		if r := m.do("GET", "/api/v1/mod/queues/nonsense", nil); r.Status != 404 {
			t.Errorf("unknown queue: %d", r.Status)
		}
		if r := m.do("GET", "/api/v1/mod/queues?site=nope", nil); r.Status != 404 {
			t.Errorf("unknown site: %d", r.Status)
		}
	})
}

// A published comment enters the reported queue when distinct readers'
// reports reach the threshold; approving it dismisses them, and new
// reports by other readers open it again.
func TestReportedQueue(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.settings(func(st *schema.Settings) { st.Moderation.ReportThreshold = 2 })
		m := e.moderator("ed@news.example", schema.RoleModerator)
		id, status := e.comment(post{Body: "A perfectly ordinary opinion"})
		if status != "approved" {
			t.Fatalf("status %s", status)
		}
		report := func(reader string) {
			t.Helper()
			r := e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", id), map[string]string{"reason": "abuse", "note": "rude"}, "X-Reader-Token", reader)
			if r.Status != 202 {
				t.Fatalf("report: %d %s", r.Status, r.Body)
			}
		}
		first := e.readerToken()
		report(first)
		report(first) // a repeat is not counted
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported", nil)); len(got) != 0 {
			t.Fatalf("reported below threshold: %v", got)
		}
		report(e.readerToken())
		r := m.must(200, "GET", "/api/v1/mod/queues/reported?site=news", nil)
		if got := items(t, r); !slices.Equal(got, []int64{id}) {
			t.Fatalf("reported queue %v", got)
		}
		it := r.JSON["items"].([]any)[0].(map[string]any)
		reps := it["reports"].([]any)
		if len(reps) != 2 || reps[0].(map[string]any)["reason"] != "abuse" || reps[0].(map[string]any)["note"] != "rude" {
			t.Fatalf("reports %v", reps)
		}
		if c := it["comment"].(map[string]any); c["status"] != "approved" || num(c["report_count"]) != 2 {
			t.Fatalf("reported comment %v", c)
		}
		if c := counts(t, m, ""); c["reported"] != 1 {
			t.Fatalf("counts %v", c)
		}
		// Approving dismisses the reports: the comment leaves the queue.
		if r := m.decide(id, "approve", "approved"); r.Status != 200 {
			t.Fatalf("approve reported: %d %s", r.Status, r.Body)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported", nil)); len(got) != 0 {
			t.Fatalf("reported after approval: %v", got)
		}
		if c := counts(t, m, ""); c["reported"] != 0 {
			t.Fatalf("counts after approval %v", c)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/approved", nil)); !slices.Equal(got, []int64{id}) {
			t.Fatalf("approved history %v", got)
		}
		// The dismissed readers cannot reopen it; two new ones can.
		report(first)
		report(e.readerToken())
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported", nil)); len(got) != 0 {
			t.Fatalf("one new report reopened the queue: %v", got)
		}
		report(e.readerToken())
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported", nil)); !slices.Equal(got, []int64{id}) {
			t.Fatalf("reported queue not reopened: %v", got)
		}
		// Rejecting a reported comment takes it out of the queue too.
		m.decide(id, "reject", "approved")
		if c := counts(t, m, ""); c["reported"] != 0 {
			t.Fatalf("counts after rejection %v", c)
		}
	})
}

// sort=priority puts the comments with the most reasons and reports first,
// oldest first among equals, across pages.
func TestQueuePriority(t *testing.T) {
	forEachEngine(t, func(t *testing.T, d schema.Dialect) {
		e := newEnv(t, d, relaxed)
		e.relaxPosting()
		e.settings(func(st *schema.Settings) {
			st.Moderation.Mode = "pre"
			st.Moderation.SuspectWords = []string{"idiot"}
			st.Moderation.MaxLinks = 0
		})
		m := e.moderator("ed@news.example", schema.RoleModerator)
		bodies := []string{
			"plain one",                       // mode: 1
			"you idiot see https://x.example", // mode, suspect, links: 3
			"plain two",                       // 1
			"idiot",                           // mode, suspect: 2
			"YOU IDIOT, READ https://X.EXAMPLE BEFORE YOU WRITE ANOTHER WORD!", // mode, suspect, links, shouting: 4
			"plain three", // 1
		}
		var ids []int64
		for _, b := range bodies {
			id, _ := e.comment(post{Body: b})
			ids = append(ids, id)
		}
		want := []int64{ids[4], ids[1], ids[3], ids[0], ids[2], ids[5]}
		var got []int64
		path := "/api/v1/mod/queues/pending?sort=priority&limit=2"
		r := m.must(200, "GET", path, nil)
		got = append(got, items(t, r)...)
		var priorities []int64
		for r.JSON["next_cursor"] != nil {
			r = m.must(200, "GET", path+"&cursor="+r.JSON["next_cursor"].(string), nil)
			got = append(got, items(t, r)...)
		}
		if !slices.Equal(got, want) {
			r = m.must(200, "GET", "/api/v1/mod/queues/pending?sort=priority", nil)
			for _, it := range r.JSON["items"].([]any) {
				priorities = append(priorities, num(it.(map[string]any)["comment"].(map[string]any)["priority"]))
			}
			t.Fatalf("priority order %v, want %v (priorities %v)", got, want, priorities)
		}
		// Reports raise priority: a reported comment's reports count.
		e.settings(func(st *schema.Settings) { st.Moderation.ReportThreshold = 1 })
		for _, id := range []int64{ids[0], ids[2]} {
			m.decide(id, "approve", "pending")
		}
		for i := 0; i < 3; i++ {
			e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", ids[2]), map[string]string{"reason": "spam"}, "X-Reader-Token", e.readerToken())
		}
		e.do("POST", fmt.Sprintf("/api/v1/comments/%d/reports", ids[0]), map[string]string{"reason": "spam"}, "X-Reader-Token", e.readerToken())
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported?sort=priority", nil)); !slices.Equal(got, []int64{ids[2], ids[0]}) {
			t.Fatalf("reported by priority %v", got)
		}
		if got := items(t, m.do("GET", "/api/v1/mod/queues/reported", nil)); !slices.Equal(got, []int64{ids[0], ids[2]}) {
			t.Fatalf("reported oldest first %v", got)
		}
	})
}
