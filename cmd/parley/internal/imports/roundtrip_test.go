package imports

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// snapshot is what a site shows and what moderators work with: public
// threads, queues and their counts, reactions, bans and the audit trail.
type snapshot struct {
	Threads  map[string][]schema.Comment
	Counts   map[string]schema.Counts
	Approved map[string]int64
	Queues   map[string]int64
	Comments []string
	Bans     []string
	Audit    []string
}

func takeSnapshot(t *testing.T, s *schema.Store, slug string) snapshot {
	t.Helper()
	ctx := context.Background()
	site, err := s.Site(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	sn := snapshot{Threads: map[string][]schema.Comment{}, Counts: map[string]schema.Counts{}, Approved: map[string]int64{}}
	arts, err := s.SiteArticles(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		for _, sort := range []string{schema.SortOldest, schema.SortTop} {
			th, _, err := s.Thread(ctx, a.ID, sort, nil, 200)
			if err != nil {
				t.Fatal(err)
			}
			for i := range th {
				th[i].SiteID, th[i].ArticleID = 0, 0
			}
			sn.Threads[a.Key+"/"+sort] = th
		}
		c, err := s.RecountReactions(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := s.ReactionCounts(ctx, a.ID)
		if !reflect.DeepEqual(c, stored) {
			t.Errorf("%s: counters %v, rows %v", a.Key, stored, c)
		}
		sn.Counts[a.Key], sn.Approved[a.Key] = c, a.ApprovedCount
	}
	if sn.Queues, err = s.QueueCounts(ctx, []int64{site.ID}); err != nil {
		t.Fatal(err)
	}
	err = s.ExportComments(ctx, site.ID, func(c *schema.ExportedComment) error {
		cc := c.Comment
		cc.SiteID, cc.ArticleID = 0, 0
		var hist []string
		for _, a := range c.History {
			hist = append(hist, fmt.Sprint(a.AtMS, a.Actor, a.Action, a.Before, a.After, a.Detail))
		}
		sn.Comments = append(sn.Comments, fmt.Sprintf("%s %s %v %s %v", show(cc), c.ArticleKey, c.Votes, show(c.Reports), hist))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bans, _ := s.SiteBans(ctx, site.ID)
	for _, b := range bans {
		sn.Bans = append(sn.Bans, fmt.Sprint(b.Kind, b.Value, b.Reason, b.Shadow, show(b.ExpiresMS), show(b.CommentID), b.CreatedMS))
	}
	audit, _ := s.SiteAudit(ctx, site.ID)
	for _, a := range audit {
		sn.Audit = append(sn.Audit, fmt.Sprint(a.AtMS, a.Actor, a.Action, a.ObjectType, a.Before, a.After))
	}
	return sn
}

// TestExportRoundTrip fills a site through the store as the server would
// (comments in every status, replies, votes, reports, decisions,
// reactions, bans), exports it, imports the export into an empty database
// and compares everything readers and moderators see; a second import
// changes nothing.
func TestExportRoundTrip(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, src *schema.Store) {
		ctx := context.Background()
		site := newSite(t, src)
		a1, _ := src.RegisterArticle(ctx, site.ID, "budget-2027", "Budget 2027", "https://news.example/budget")
		a2, _ := src.EnsureArticle(ctx, site.ID, "weather")
		post := func(a *schema.Article, parent int64, author, body, status string) *schema.Comment {
			c := &schema.Comment{SiteID: site.ID, ArticleID: a.ID, Author: author, Body: body, BodyKey: "k" + body,
				Status: status, EmailHash: "e-" + author, IPHash: "ip-" + author, ReaderID: "r-" + author, EditTokenHash: "t-" + body}
			if parent != 0 {
				c.ParentID = new(parent)
			}
			if err := src.CreateComment(ctx, c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		c1 := post(a1, 0, "Ana", "first", schema.StatusApproved)
		c2 := post(a1, c1.ID, "Ben", "reply", schema.StatusApproved)
		post(a1, c2.ID, "Cy", "deep reply", schema.StatusApproved)
		post(a1, 0, "Dee", "held", schema.StatusPending)
		sp := post(a2, 0, "Eve", "spammy", schema.StatusPending)
		gone := post(a2, 0, "Fay", "to delete", schema.StatusApproved)
		post(a2, gone.ID, "Gus", "reply to deleted", schema.StatusApproved)
		rep := post(a2, 0, "Hal", "reported", schema.StatusApproved)
		for _, v := range []struct {
			id     int64
			reader string
			vote   int
		}{{c1.ID, "x", 1}, {c1.ID, "y", 1}, {c2.ID, "x", -1}} {
			if _, err := src.VoteComment(ctx, v.id, v.reader, v.vote); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []string{"x", "y", "z"} {
			if _, _, err := src.ReportComment(ctx, rep.ID, r, "spam", "note "+r, 2, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := src.Decide(ctx, schema.Decision{CommentID: sp.ID, Status: schema.StatusSpam, Learn: schema.LabelSpam,
			Features: func(b string) []string { return []string{b} }, Audit: schema.By(nil, "mod@news.example")}); err != nil {
			t.Fatal(err)
		}
		if err := src.DeleteComment(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"x", "y", "z"} {
			reaction := "like"
			if r == "z" {
				reaction = "dislike"
			}
			if _, err := src.SetReaction(ctx, a1.ID, r, reaction); err != nil {
				t.Fatal(err)
			}
		}
		audit := schema.By(nil, "mod@news.example")
		if _, err := src.CreateBan(ctx, &schema.Ban{SiteID: site.ID, Kind: "email", Value: "e-Eve", Reason: "spam"}, false, &audit, nil); err != nil {
			t.Fatal(err)
		}
		want := takeSnapshot(t, src, "news")
		if len(want.Comments) != 8 || want.Queues["spam"] != 1 || want.Queues["pending"] != 1 || want.Queues["reported"] != 1 ||
			len(want.Bans) != 1 || want.Counts["budget-2027"]["like"] != 2 || len(want.Threads["budget-2027/oldest"]) != 3 {
			t.Fatalf("the source site is not what the test set up: %+v", want)
		}
		var buf bytes.Buffer
		if err := Export(ctx, src, site, &buf, io.Discard); err != nil {
			t.Fatal(err)
		}
		// Into an empty database, the second time as a bulk load (foreign-key
		// checks off, indexes built at the end); running it again changes
		// nothing either way.
		for _, bulk := range []bool{false, true} {
			dst := schematest.Open(t, src.Dialect())
			for round := 1; round <= 2; round++ {
				r, err := Run(ctx, dst, &schema.Site{Slug: "news"}, bytes.NewReader(buf.Bytes()), Options{Format: "parley", Secret: testSecret, Batch: 3, Bulk: bulk})
				if err != nil {
					t.Fatal(err)
				}
				if round == 1 && (r.Written != 8 || len(r.Repaired) != 0) {
					t.Fatalf("import: %+v", r)
				}
				if round == 2 && (r.Written != 0 || r.Already != 8) {
					t.Fatalf("second import: %+v", r)
				}
				got := takeSnapshot(t, dst, "news")
				if !reflect.DeepEqual(got, want) {
					t.Errorf("bulk %v, round %d differs:\n got %+v\nwant %+v", bulk, round, got, want)
				}
			}
		}
	})
}

// show prints v as %+v does, but with the values pointer fields (a
// nullable column) point to rather than their addresses, so that two
// snapshots compare by content.
func show(v any) string {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "<nil>"
		}
		return show(rv.Elem().Interface())
	case reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = show(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.Struct:
		var parts []string
		for i := range rv.NumField() {
			if f := rv.Type().Field(i); f.IsExported() {
				parts = append(parts, f.Name+":"+show(rv.Field(i).Interface()))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprint(v)
}
