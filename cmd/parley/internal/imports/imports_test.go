package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/moderation"
	"github.com/parley/parley/schema"
	"github.com/parley/parley/schema/schematest"
)

const testSecret = "0123456789abcdef0123456789abcdef-test"

// manifest is the part of a fixture's MANIFEST.json the tests compare.
type manifest struct {
	Articles []struct {
		URL      string `json:"url"`
		Title    string `json:"title"`
		Comments []struct {
			SourceID string  `json:"source_id"`
			Parent   *string `json:"parent_source_id"`
			Author   *string `json:"author_name"`
			Email    *string `json:"email"`
			Body     string  `json:"body"`
			Status   string  `json:"status"`
			Created  string  `json:"created"`
			Likes    int64   `json:"likes"`
			Dislikes int64   `json:"dislikes"`
			Score    int64   `json:"score"`
		} `json:"comments"`
	} `json:"articles"`
}

func newSite(t *testing.T, s *schema.Store) *schema.Site {
	t.Helper()
	site, err := s.CreateSite(context.Background(), "news", schema.DefaultSettings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func runFile(t *testing.T, s *schema.Store, site *schema.Site, format, path string, dry bool) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The first import into a fresh database is a bulk load, as parley import
	// -bulk would run it; an import again is not (the table holds comments).
	rep, err := Run(context.Background(), s, site, f, Options{Format: format, Secret: testSecret, DryRun: dry, Batch: 7, Bulk: true})
	if err != nil {
		t.Fatalf("import %s: %v", format, err)
	}
	return rep
}

// TestImportFixtures imports the real exports of Remark42, Commento and
// Isso and compares every comment with what the program held (its
// MANIFEST.json), then imports again and checks nothing changed.
func TestImportFixtures(t *testing.T) {
	for _, fx := range []struct{ format, file string }{
		{"remark42", "remark42/remark42-news-backup.gz"},
		{"commento", "commento/news.example-export.json.gz"},
		{"isso", "isso/comments.db"},
	} {
		t.Run(fx.format, func(t *testing.T) {
			var m manifest
			b, err := os.ReadFile(filepath.Join("testdata", fx.format, "MANIFEST.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			schematest.ForEachDB(t, func(t *testing.T, s *schema.Store) {
				ctx := context.Background()
				site := newSite(t, s)
				path := filepath.Join("testdata", fx.file)
				dry := runFile(t, s, site, fx.format, path, true)
				rep := runFile(t, s, site, fx.format, path, false)
				want := map[string]int{}
				total := 0
				for _, a := range m.Articles {
					for _, c := range a.Comments {
						want[c.Status]++
						total++
					}
				}
				if rep.Written != total || len(rep.Skipped) != 0 || rep.Articles != len(m.Articles) {
					t.Fatalf("report: written %d of %d, skipped %v, %d articles", rep.Written, total, rep.Skipped, rep.Articles)
				}
				for st, n := range want {
					if rep.Comments[st] != n || dry.Comments[st] != n {
						t.Errorf("%s: report %d, dry run %d, manifest %d", st, rep.Comments[st], dry.Comments[st], n)
					}
				}
				if len(rep.Repaired) != 0 || len(dry.Repaired) != 0 {
					t.Errorf("repaired parents: %v / dry %v", rep.Repaired, dry.Repaired)
				}
				check := func() {
					for _, a := range m.Articles {
						for _, mc := range a.Comments {
							id, err := s.ImportedID(ctx, site.ID, fx.format, mc.SourceID)
							if err != nil {
								t.Fatalf("%s: %v", mc.SourceID, err)
							}
							c, err := s.Comment(ctx, id)
							if err != nil {
								t.Fatal(err)
							}
							art, err := s.ArticleByID(ctx, c.ArticleID)
							if err != nil {
								t.Fatal(err)
							}
							if art.Key != ArticleKey(NormalizeURL(a.URL)) {
								t.Errorf("%s: article %q, want the key of %s", mc.SourceID, art.Key, a.URL)
							}
							if fx.format != "commento" && art.Title != a.Title {
								t.Errorf("%s: title %q, want %q", mc.SourceID, art.Title, a.Title)
							}
							if c.Status != mc.Status {
								t.Errorf("%s: status %s, want %s", mc.SourceID, c.Status, mc.Status)
							}
							wantBody, wantAuthor := mc.Body, ""
							if mc.Author != nil {
								wantAuthor = html.UnescapeString(*mc.Author) // Isso stores names escaped
							}
							wantEmail := ""
							if mc.Email != nil {
								wantEmail = moderation.EmailHash(testSecret, html.UnescapeString(*mc.Email))
							}
							if mc.Status == schema.StatusDeleted {
								if fx.format == "commento" {
									wantBody = "" // "[deleted]" is Commento's mark, not text
								}
								if fx.format == "isso" {
									wantEmail = "" // kept by Isso, dropped with the comment
								}
							} else if wantAuthor == "" {
								wantAuthor = "Anonymous"
							}
							if c.Body != wantBody {
								t.Errorf("%s: body %q, want %q", mc.SourceID, c.Body, wantBody)
							}
							if c.Author != wantAuthor {
								t.Errorf("%s: author %q, want %q", mc.SourceID, c.Author, wantAuthor)
							}
							if c.EmailHash != wantEmail {
								t.Errorf("%s: email hash %q, want %q", mc.SourceID, c.EmailHash, wantEmail)
							}
							created, err := time.Parse(time.RFC3339Nano, mc.Created)
							if err != nil {
								t.Fatal(err)
							}
							if c.CreatedMS != created.UnixMilli() {
								t.Errorf("%s: created %v, want %v", mc.SourceID, c.CreatedAt(), created.UTC())
							}
							switch fx.format {
							case "isso":
								if c.Upvotes != mc.Likes || c.Downvotes != mc.Dislikes || c.Score != mc.Likes-mc.Dislikes {
									t.Errorf("%s: votes %d/%d, want %d/%d", mc.SourceID, c.Upvotes, c.Downvotes, mc.Likes, mc.Dislikes)
								}
							default:
								if c.Score != mc.Score || c.Upvotes-c.Downvotes != mc.Score {
									t.Errorf("%s: score %d (%d-%d), want %d", mc.SourceID, c.Score, c.Upvotes, c.Downvotes, mc.Score)
								}
							}
							if mc.Parent == nil {
								if c.ParentID != nil {
									t.Errorf("%s: parent %d, want none", mc.SourceID, *c.ParentID)
								}
							} else {
								pid, err := s.ImportedID(ctx, site.ID, fx.format, *mc.Parent)
								if err != nil {
									t.Fatal(err)
								}
								if c.Parent() != pid {
									t.Errorf("%s: parent %d, want %d", mc.SourceID, c.Parent(), pid)
								}
								p, _ := s.Comment(ctx, pid)
								if !p.HasReplies {
									t.Errorf("%s: parent not marked as having replies", mc.SourceID)
								}
							}
							if vis := c.Status == schema.StatusApproved || (c.Status == schema.StatusDeleted && c.HasReplies); c.Visible != vis {
								t.Errorf("%s: visible %v", mc.SourceID, c.Visible)
							}
						}
					}
					qc, err := s.QueueCounts(ctx, []int64{site.ID})
					if err != nil {
						t.Fatal(err)
					}
					if qc["pending"] != int64(want["pending"]) || qc["spam"] != int64(want["spam"]) {
						t.Errorf("queue counts %v, want pending %d spam %d", qc, want["pending"], want["spam"])
					}
				}
				check()
				again := runFile(t, s, site, fx.format, path, false)
				if again.Written != 0 || again.Already != total || len(again.Repaired) != 0 {
					t.Errorf("second run: written %d, already %d, repaired %v", again.Written, again.Already, again.Repaired)
				}
				check()
			})
		})
	}
}

func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"<p>One &amp; two</p><p>Three<br>four</p>":                        "One & two\n\nThree\nfour",
		`<p>See <a href="https://example.com/x?a=1&amp;b=2">this</a></p>`: "See this (https://example.com/x?a=1&b=2)",
		`<a href="https://example.com/">https://example.com/</a>`:         "https://example.com/",
		"a &lt;script&gt; b &#233; &eacute;":                              "a <script> b é é",
		"x < y and <b>bold</b>":                                           "x < y and bold",
		"  lots   of\n\n  space  ":                                        "lots of space",
	} {
		if got := htmlText(in, false); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := htmlText("Line one\nline two\n\nPara <i>two</i>", true); got != "Line one\nline two\n\nPara two" {
		t.Errorf("keepNewlines: %q", got)
	}
}

func TestNormalizeURL(t *testing.T) {
	same := []string{
		"https://www.news.example/politique/reforme/",
		"http://news.example/politique/reforme",
		"https://NEWS.example/politique/reforme?utm_source=x&fbclid=y",
		"https://news.example/politique/reforme#comments",
	}
	for _, u := range same {
		if got := NormalizeURL(u); got != "news.example/politique/reforme" {
			t.Errorf("NormalizeURL(%q) = %q", u, got)
		}
	}
	if NormalizeURL("https://news.example/%C3%A9conomie/budget") != NormalizeURL("/économie/budget")[0:0]+"news.example/économie/budget" {
		t.Errorf("percent-encoded and raw paths differ: %q", NormalizeURL("https://news.example/%C3%A9conomie/budget"))
	}
	if ArticleKey(NormalizeURL("/article.php?id=42")) == ArticleKey(NormalizeURL("/article.php?id=43")) {
		t.Error("query strings that name articles merged")
	}
	if ArticleKey(NormalizeURL("https://a.example/x/y")) == ArticleKey(NormalizeURL("https://a.example/x_y")) {
		t.Error("/ and _ share a key")
	}
	long := ArticleKey("/" + strings.Repeat("é", 300))
	if len(long) > 200 {
		t.Errorf("key of %d characters", len(long))
	}
	_ = bytes.MinRead
}
