package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// TestImportParentsAcrossBatches writes a generated Remark42 backup in
// batches of ten, so that parents are met earlier in the batch, in an
// earlier batch, later in the file, under another article, missing, or in
// a loop, and checks each comment's parent, the answered marks and the
// report against what the file says; a dry run must report the same.
func TestImportParentsAcrossBatches(t *testing.T) {
	const n, perArticle = 600, 60
	type line struct {
		ID      string            `json:"id"`
		PID     string            `json:"pid"`
		Orig    string            `json:"orig"`
		Locator map[string]string `json:"locator"`
		User    map[string]string `json:"user"`
		Time    string            `json:"time"`
		Delete  bool              `json:"delete"`
	}
	id := func(i int) string { return fmt.Sprintf("c%d", i) }
	parents := make([]int, n) // -1: top level
	var wantRepaired []string
	for i := range parents {
		a, j := i/perArticle, i%perArticle
		switch {
		case j == 0 || i%5 == 0:
			parents[i] = -1
		case i%7 == 0 && j+3 < perArticle && (i+3)%5 == 0: // a parent later in the file, top level
			parents[i] = i + 3
		case i%11 == 0 && a > 0: // a parent under another article
			parents[i] = i - perArticle
			wantRepaired = append(wantRepaired, id(i))
		case i%13 == 0:
			parents[i] = n + i // not in the file
			wantRepaired = append(wantRepaired, id(i))
		default: // an earlier comment: the one before, or one batches back
			parents[i] = i - 1 - (i*31)%j
		}
	}
	// Two loops closed by a forward link: the later comment of each is cut.
	for _, l := range [][2]int{{122, 124}, {307, 344}} {
		parents[l[0]], parents[l[1]] = l[1], l[0]
		wantRepaired = append(wantRepaired, id(l[1]))
	}
	// A comment answering itself.
	parents[450] = 450
	wantRepaired = append(wantRepaired, id(450))
	slices.Sort(wantRepaired)
	var file bytes.Buffer
	file.WriteString(`{"version":1,"users":[],"posts":[]}` + "\n")
	enc := json.NewEncoder(&file)
	for i := range n {
		l := line{ID: id(i), Orig: "comment " + id(i), Locator: map[string]string{"url": fmt.Sprintf("https://news.example/a%d", i/perArticle)},
			User: map[string]string{"name": "R"}, Time: "2026-12-02T05:40:02Z", Delete: i%17 == 0}
		if p := parents[i]; p >= 0 {
			l.PID = id(p)
		}
		if err := enc.Encode(&l); err != nil {
			t.Fatal(err)
		}
	}
	// Batches of ten meet every case; batches of a thousand write full-size
	// (prepared) INSERTs too. A bulk load finds the parents of earlier
	// batches through the ids it knows it wrote.
	for _, batch := range []int{10, 1000} {
		for _, bulk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d bulk=%v", batch, bulk), func(t *testing.T) { checkParents(t, file.Bytes(), batch, bulk, n, parents, wantRepaired) })
		}
	}
}

func checkParents(t *testing.T, file []byte, batch int, bulk bool, n int, parents []int, wantRepaired []string) {
	id := func(i int) string { return fmt.Sprintf("c%d", i) }
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		ctx := context.Background()
		site := newSite(t, s)
		run := func(dry bool) *Report {
			rep, err := Run(ctx, s, site, bytes.NewReader(file), Options{Format: "remark42", Secret: testSecret, DryRun: dry, Batch: batch, Bulk: bulk})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		repaired := func(rep *Report) []string {
			var out []string
			for _, r := range rep.Repaired {
				out = append(out, r.SourceID)
			}
			slices.Sort(out)
			return out
		}
		if got := repaired(run(true)); !slices.Equal(got, wantRepaired) {
			t.Errorf("dry run repaired %v, want %v", got, wantRepaired)
		}
		rep := run(false)
		if got := repaired(rep); !slices.Equal(got, wantRepaired) || rep.Written != n {
			t.Errorf("repaired %v, want %v; written %d", got, wantRepaired, rep.Written)
		}
		commentIDs := make([]int64, n)
		for i := range n {
			var err error
			if commentIDs[i], err = s.ImportedID(ctx, site.ID, "remark42", id(i)); err != nil {
				t.Fatal(err)
			}
		}
		cut := map[string]bool{}
		for _, r := range wantRepaired {
			cut[r] = true
		}
		answered := map[int64]bool{}
		got := make([]*schema.Comment, n)
		for i := range n {
			c, err := s.Comment(ctx, commentIDs[i])
			if err != nil {
				t.Fatal(err)
			}
			got[i] = c
			var want int64
			if p := parents[i]; p >= 0 && !cut[id(i)] {
				want = commentIDs[p]
			}
			var parent int64
			if c.ParentID != nil {
				parent = *c.ParentID
				answered[parent] = true
			}
			if parent != want {
				t.Errorf("%s: parent %d, want %d", id(i), parent, want)
			}
		}
		for i, c := range got {
			if c.HasReplies != answered[c.ID] || c.Visible != (c.Status == schema.StatusApproved || (c.Status == schema.StatusDeleted && answered[c.ID])) {
				t.Errorf("%s: has replies %v, visible %v, status %s; answered %v", id(i), c.HasReplies, c.Visible, c.Status, answered[c.ID])
			}
		}
		if again := run(false); again.Written != 0 || again.Already != n || len(again.Repaired) != 0 {
			t.Errorf("second run: written %d, already %d, repaired %v", again.Written, again.Already, again.Repaired)
		}
	})
}
