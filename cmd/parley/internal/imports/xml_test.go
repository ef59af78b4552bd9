package imports

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

// want is one comment a hand-built fixture must give.
type want struct {
	id, parent, author, email, ip, body, status, created, article string
}

func checkWant(t *testing.T, s *schema.Store, site *schema.Site, source string, ws []want) {
	t.Helper()
	ctx := context.Background()
	for _, w := range ws {
		id, err := s.ImportedID(ctx, site.ID, source, w.id)
		if err != nil {
			t.Fatalf("%s: %v", w.id, err)
		}
		c, err := s.Comment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := s.ArticleByID(ctx, c.ArticleID)
		var parent int64
		if w.parent != "" {
			if parent, err = s.ImportedID(ctx, site.ID, source, w.parent); err != nil {
				t.Fatal(err)
			}
		}
		email, ip := "", ""
		if w.email != "" {
			email = moderation.EmailHash(testSecret, w.email)
		}
		if w.ip != "" {
			ip = moderation.IPHash(testSecret, w.ip)
		}
		created, _ := time.Parse(time.RFC3339, w.created)
		if c.Author != w.author || c.Body != w.body || c.Status != w.status || c.EmailHash != email || c.IPHash != ip ||
			c.Parent() != parent || c.CreatedMS != created.UnixMilli() || a.Key != w.article {
			t.Errorf("%s: got author %q body %q status %s email %q ip %q parent %d created %v article %s\nwant %+v",
				w.id, c.Author, c.Body, c.Status, c.EmailHash, c.IPHash, c.Parent(), c.CreatedAt(), a.Key, w)
		}
	}
}

// TestImportDisqus imports the hand-built Disqus export (see its README):
// statuses, HTML, zone-less times, merged URL variants, a missing parent
// and a loop.
func TestImportDisqus(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s)
		path := filepath.Join("testdata", "disqus", "export.xml")
		dry := runFile(t, s, site, "disqus", path, true)
		rep := runFile(t, s, site, "disqus", path, false)
		const ref = "politique_reforme-des-retraites"
		checkWant(t, s, site, "disqus", []want{
			{"5001", "", "François Lefèvre", "francois.lefevre@example.org", "2001:db8::1",
				"Enfin une réforme & un débat.\n\nSecond paragraphe\navec un saut de ligne.", "approved", "2026-12-02T05:40:02Z", ref},
			{"5002", "5001", "Guest reader", "", "198.51.100.7",
				"Voir ce lien (https://example.com/page?a=1&b=2) <script> ]]> fin", "approved", "2026-12-02T05:41:00Z", ref},
			{"5003", "", "Gone", "gone@example.org", "198.51.100.8", "", "deleted", "2026-12-02T05:42:00Z", "article.php~3Fid~3D42"},
			{"5004", "5003", "Sven", "sven@example.net", "203.0.113.9", "Reply to a deleted comment", "approved", "2026-12-02T05:43:00Z", "article.php~3Fid~3D42"},
			{"5005", "", "Cheap Watches 24", "spam@example.net", "203.0.113.66", "Cheap watches!!! http://example.net/watches", "spam", "2026-12-02T05:44:00Z", "article.php~3Fid~3D42"},
			{"5006", "", "أمينة بن علي", "amina@example.org", "192.0.2.10", "Answer to a comment this file lacks", "approved", "2026-12-02T05:45:00Z", "article.php~3Fid~3D42"},
			{"5007", "5008", "Loop", "", "192.0.2.11", "Loop A", "approved", "2026-12-02T05:46:00Z", ref},
			{"5008", "", "Loop", "", "192.0.2.11", "Loop B", "approved", "2026-12-02T05:47:00Z", ref},
		})
		if rep.Articles != 2 || len(rep.Merged) != 1 || len(rep.Merged[0].URLs) != 2 || rep.Merged[0].Key != ref {
			t.Errorf("articles %d, merged %+v", rep.Articles, rep.Merged)
		}
		if rep.Comments["approved"] != 6 || rep.Comments["deleted"] != 1 || rep.Comments["spam"] != 1 {
			t.Errorf("counts %v", rep.Comments)
		}
		repaired := func(r []Repaired) []string {
			var out []string
			for _, x := range r {
				out = append(out, x.SourceID)
			}
			slices.Sort(out)
			return out
		}
		if got := repaired(rep.Repaired); !slices.Equal(got, []string{"5006", "5008"}) {
			t.Errorf("repaired %v", rep.Repaired)
		}
		if got := repaired(dry.Repaired); len(got) != 2 || got[0] != "5006" {
			t.Errorf("dry run repaired %v", dry.Repaired)
		}
		ctx := context.Background()
		del, _ := s.ImportedID(ctx, site.ID, "disqus", "5003")
		c, _ := s.Comment(ctx, del)
		if !c.HasReplies || !c.Visible {
			t.Errorf("deleted comment with a reply is not a placeholder: %+v", c)
		}
		again := runFile(t, s, site, "disqus", path, false)
		if again.Written != 0 || again.Already != 8 || len(again.Repaired) != 0 {
			t.Errorf("second run %+v", again)
		}
		// The broken loop stays broken.
		checkWant(t, s, site, "disqus", []want{{"5008", "", "Loop", "", "192.0.2.11", "Loop B", "approved", "2026-12-02T05:47:00Z", ref}})
	})
}

// TestImportWordPress imports the WXR fixture built from WordPress's own
// exporter (see its README).
func TestImportWordPress(t *testing.T) {
	schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
		site := newSite(t, s)
		path := filepath.Join("testdata", "wordpress", "export.xml")
		rep := runFile(t, s, site, "wordpress", path, false)
		const b = "economie_budget-2027"
		checkWant(t, s, site, "wordpress", []want{
			{"101", "", "Jürgen Weiß", "juergen.weiss@example.net", "2001:db8::2",
				"Grüße aus Düsseldorf!\n\nZweiter Absatz mit fett & einem Link (https://example.org/).\nNeue Zeile.", "approved", "2026-12-02T05:40:02Z", b},
			{"102", "101", "Tom & Jerry", "", "198.51.100.4", "Waiting for moderation, with ]]> inside.", "pending", "2026-12-02T05:41:00Z", b},
			{"103", "", "Spammer", "spam@example.net", "203.0.113.66", "Cheap watches", "spam", "2026-12-02T05:42:00Z", b},
			{"104", "", "Sven", "sven@example.net", "203.0.113.9", "Trashed, with a reply.", "deleted", "2026-12-02T05:43:00Z", b},
			{"105", "104", "王芳", "wang.fang@example.org", "192.0.2.20", "同意！", "approved", "2026-12-02T05:44:00Z", b},
			{"108", "", "Zoë", "zoe@example.org", "192.0.2.40", "Old comment type left empty, reply to a comment on another post.", "approved", "2026-12-02T05:47:00Z", "about"},
		})
		var skipped []string
		for _, sk := range rep.Skipped {
			skipped = append(skipped, sk.SourceID)
		}
		if !slices.Equal(skipped, []string{"106", "107"}) || len(rep.Repaired) != 1 || rep.Repaired[0].SourceID != "108" {
			t.Errorf("skipped %v, repaired %v", rep.Skipped, rep.Repaired)
		}
		qc, _ := s.QueueCounts(context.Background(), []int64{site.ID})
		if qc["pending"] != 1 || qc["spam"] != 1 {
			t.Errorf("queues %v", qc)
		}
		a, _ := s.Article(context.Background(), site.ID, b)
		if a.ApprovedCount != 2 || a.Title != "Budget 2027 : les arbitrages" {
			t.Errorf("article %+v", a)
		}
	})
}
