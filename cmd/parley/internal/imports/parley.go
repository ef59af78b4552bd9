package imports

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parley/parley/schema"
)

// exportProgress writes a line of an export's progress: the count, the
// rate and the time left.
func exportProgress(w io.Writer, done, total int64, took time.Duration) {
	rate := float64(done) / max(took.Seconds(), 0.001)
	line := fmt.Sprintf("%d comments exported, %.0f/s", done, rate)
	if total > 0 && done <= total {
		left := time.Duration(float64(total-done) / max(rate, 1) * float64(time.Second))
		line += fmt.Sprintf(", %.0f%%, about %s left", 100*float64(done)/float64(total), left.Round(time.Second))
	}
	fmt.Fprintln(w, line)
}

// ExportVersion is the version of Parley's export format, in its header
// line. A reader refuses versions it does not know.
const ExportVersion = 1

// The export is newline-delimited JSON: a header line, then lines of
// reactions, then one line per comment. Times are Unix milliseconds, as
// the database keeps them, so that nothing is rounded on the way.
type exportHeader struct {
	Format     string          `json:"format"`
	Version    int             `json:"version"`
	ExportedAt time.Time       `json:"exported_at"`
	Site       exportSite      `json:"site"`
	Articles   []exportArticle `json:"articles"`
	Bans       []exportBan     `json:"bans"`
	Audit      []exportAudit   `json:"audit"`
}

type exportSite struct {
	Slug      string          `json:"slug"`
	Settings  schema.Settings `json:"settings"`
	CreatedAt int64           `json:"created_at"`
}

type exportArticle struct {
	Key          string `json:"key"`
	Title        string `json:"title"`
	URL          string `json:"url"`
	CommentsOpen bool   `json:"comments_open"`
	CreatedAt    int64  `json:"created_at"`
}

type exportBan struct {
	Kind      string `json:"kind"`
	Value     string `json:"value"`
	Reason    string `json:"reason"`
	Shadow    bool   `json:"shadow"`
	ExpiresAt *int64 `json:"expires_at"`
	CommentID *int64 `json:"comment_id"`
	CreatedAt int64  `json:"created_at"`
}

type exportAudit struct {
	At          int64  `json:"at"`
	ModeratorID *int64 `json:"moderator_id"`
	Actor       string `json:"actor"`
	Action      string `json:"action"`
	ObjectType  string `json:"object_type"`
	ObjectID    int64  `json:"object_id"`
	Before      string `json:"before"`
	After       string `json:"after"`
	Detail      string `json:"detail"`
}

type exportReport struct {
	ReaderID    string `json:"reader_id"`
	Reason      string `json:"reason"`
	Note        string `json:"note"`
	CreatedAt   int64  `json:"created_at"`
	DismissedAt *int64 `json:"dismissed_at"`
}

type exportComment struct {
	Type          string              `json:"type"`
	ID            int64               `json:"id"`
	Article       string              `json:"article"`
	ParentID      *int64              `json:"parent_id"`
	ReaderID      string              `json:"reader_id"`
	Author        string              `json:"author"`
	EmailHash     string              `json:"email_hash"`
	IPHash        string              `json:"ip_hash"`
	Body          string              `json:"body"`
	BodyKey       string              `json:"body_key"`
	Status        string              `json:"status"`
	Version       int64               `json:"version"`
	Reasons       json.RawMessage     `json:"reasons"`
	EditTokenHash string              `json:"edit_token_hash"`
	Upvotes       int64               `json:"upvotes"`
	Downvotes     int64               `json:"downvotes"`
	Score         int64               `json:"score"`
	ReportCount   int64               `json:"report_count"`
	Shadow        bool                `json:"shadow"`
	Learned       string              `json:"learned"`
	ReportedAt    *int64              `json:"reported_at"`
	CreatedAt     int64               `json:"created_at"`
	EditedAt      *int64              `json:"edited_at"`
	DecidedAt     *int64              `json:"decided_at"`
	Votes         []schema.ImportVote `json:"votes"`
	Reports       []exportReport      `json:"reports"`
	History       []exportAudit       `json:"history"`
}

type exportReactions struct {
	Type      string                    `json:"type"`
	Reactions []schema.ExportedReaction `json:"reactions"`
}

func toExportAudit(a schema.Audit) exportAudit {
	return exportAudit{At: a.AtMS, ModeratorID: a.ModeratorID, Actor: a.Actor, Action: a.Action, ObjectType: a.ObjectType,
		ObjectID: a.ObjectID, Before: a.Before, After: a.After, Detail: a.Detail}
}

func fromExportAudit(a exportAudit) schema.Audit {
	return schema.Audit{AtMS: a.At, ModeratorID: a.ModeratorID, Actor: a.Actor, Action: a.Action, ObjectType: a.ObjectType,
		ObjectID: a.ObjectID, Before: a.Before, After: a.After, Detail: a.Detail}
}

// Export writes a site as newline-delimited JSON, streaming: the header
// (settings, articles, bans, the site's audit entries), the reactions,
// then one line per comment with its votes, reports and history.
func Export(ctx context.Context, store *schema.Store, site *schema.Site, out io.Writer, progress io.Writer) error {
	start := time.Now()
	var total int64
	if progress != nil {
		var err error
		if total, err = store.SiteCommentCount(ctx, site.ID); err != nil {
			return err
		}
	}
	done, last := int64(0), start
	w := bufio.NewWriterSize(out, 1<<16)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	h := exportHeader{Format: "parley", Version: ExportVersion, ExportedAt: store.Now().UTC().Truncate(time.Second),
		Site:     exportSite{Slug: site.Slug, Settings: site.Settings, CreatedAt: site.CreatedAt.UnixMilli()},
		Articles: []exportArticle{}, Bans: []exportBan{}, Audit: []exportAudit{}}
	arts, err := store.SiteArticles(ctx, site.ID)
	if err != nil {
		return err
	}
	for _, a := range arts {
		h.Articles = append(h.Articles, exportArticle{a.Key, a.Title, a.URL, a.CommentsOpen, a.CreatedMS})
	}
	bans, err := store.SiteBans(ctx, site.ID)
	if err != nil {
		return err
	}
	for _, b := range bans {
		h.Bans = append(h.Bans, exportBan{b.Kind, b.Value, b.Reason, b.Shadow, b.ExpiresMS, b.CommentID, b.CreatedMS})
	}
	audit, err := store.SiteAudit(ctx, site.ID)
	if err != nil {
		return err
	}
	for _, a := range audit {
		h.Audit = append(h.Audit, toExportAudit(a))
	}
	if err := enc.Encode(h); err != nil {
		return err
	}
	err = store.ExportReactions(ctx, site.ID, func(rs []schema.ExportedReaction) error {
		return enc.Encode(exportReactions{Type: "reactions", Reactions: rs})
	})
	if err != nil {
		return err
	}
	err = store.ExportComments(ctx, site.ID, func(c *schema.ExportedComment) error {
		e := exportComment{Type: "comment", ID: c.ID, Article: c.ArticleKey, ParentID: c.ParentID, ReaderID: c.ReaderID,
			Author: c.Author, EmailHash: c.EmailHash, IPHash: c.IPHash, Body: c.Body, BodyKey: c.BodyKey, Status: c.Status,
			Version: c.Version, Reasons: json.RawMessage(c.Reasons), EditTokenHash: c.EditTokenHash, Upvotes: c.Upvotes,
			Downvotes: c.Downvotes, Score: c.Score, ReportCount: c.ReportCount, Shadow: c.Shadow, Learned: c.Learned,
			ReportedAt: c.ReportedMS, CreatedAt: c.CreatedMS, EditedAt: c.EditedMS, DecidedAt: c.DecidedMS,
			Votes: c.Votes}
		if !json.Valid(e.Reasons) {
			e.Reasons = json.RawMessage("[]")
		}
		for _, r := range c.Reports {
			e.Reports = append(e.Reports, exportReport{r.ReaderID, r.Reason, r.Note, r.CreatedMS, r.DismissedMS})
		}
		for _, a := range c.History {
			e.History = append(e.History, toExportAudit(a))
		}
		done++
		if progress != nil && done%1000 == 0 && time.Since(last) >= time.Second {
			last = time.Now()
			exportProgress(progress, done, total, last.Sub(start))
		}
		return enc.Encode(e)
	})
	if err != nil {
		return err
	}
	if progress != nil {
		exportProgress(progress, done, total, time.Since(start))
	}
	return w.Flush()
}

// restorer applies a Parley export's header and reactions to the site;
// for the other formats it only holds the site.
type restorer struct {
	store  *schema.Store
	site   *schema.Site
	dryRun bool
}

func readParley(in io.Reader, h *restorer, emit func(*Comment) error) error {
	ctx := context.Background()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			var hd exportHeader
			if err := json.Unmarshal(b, &hd); err != nil || hd.Format != "parley" {
				return errors.New("parley export: the first line is not an export header")
			}
			if hd.Version != ExportVersion {
				return fmt.Errorf("parley export: version %d, this Parley reads version %d", hd.Version, ExportVersion)
			}
			if h.dryRun {
				continue
			}
			var arts []schema.Article
			for _, a := range hd.Articles {
				arts = append(arts, schema.Article{Key: a.Key, Title: a.Title, URL: a.URL, CommentsOpen: a.CommentsOpen, CreatedMS: a.CreatedAt})
			}
			var bans []schema.Ban
			for _, x := range hd.Bans {
				bans = append(bans, schema.Ban{Kind: x.Kind, Value: x.Value, Reason: x.Reason, Shadow: x.Shadow,
					ExpiresMS: x.ExpiresAt, CommentID: x.CommentID, CreatedMS: x.CreatedAt})
			}
			var audit []schema.Audit
			for _, a := range hd.Audit {
				audit = append(audit, fromExportAudit(a))
			}
			site, err := h.store.RestoreSite(ctx, h.site.Slug, hd.Site.Settings, arts, bans, audit)
			if err != nil {
				return err
			}
			h.site = site
			continue
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			return fmt.Errorf("parley export line %d: %w", line, err)
		}
		switch kind.Type {
		case "reactions":
			var r exportReactions
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("parley export line %d: %w", line, err)
			}
			if !h.dryRun {
				if err := h.store.RestoreReactions(ctx, h.site.ID, r.Reactions); err != nil {
					return err
				}
			}
		case "comment":
			var e exportComment
			if err := json.Unmarshal(b, &e); err != nil {
				return fmt.Errorf("parley export line %d: %w", line, err)
			}
			ic := &schema.ImportComment{Article: schema.ImportArticle{Key: e.Article}, ReaderID: e.ReaderID, Author: e.Author,
				EmailHash: e.EmailHash, IPHash: e.IPHash, Body: e.Body, BodyKey: e.BodyKey, Status: e.Status, Version: e.Version,
				Reasons: string(e.Reasons), EditTokenHash: e.EditTokenHash, Learned: e.Learned, Upvotes: e.Upvotes, Downvotes: e.Downvotes,
				Score: e.Score, ReportCount: e.ReportCount, Shadow: e.Shadow, CreatedMS: e.CreatedAt, EditedMS: e.EditedAt,
				DecidedMS: e.DecidedAt, ReportedMS: e.ReportedAt, WantID: e.ID, Votes: e.Votes}
			for _, r := range e.Reports {
				ic.Reports = append(ic.Reports, schema.ImportReport{ReaderID: r.ReaderID, Reason: r.Reason, Note: r.Note,
					CreatedMS: r.CreatedAt, DismissedMS: r.DismissedAt})
			}
			for _, a := range e.History {
				ic.History = append(ic.History, fromExportAudit(a))
			}
			c := &Comment{SourceID: strconv.FormatInt(e.ID, 10), Status: e.Status, Parley: ic}
			if e.ParentID != nil {
				c.ParentID = strconv.FormatInt(*e.ParentID, 10)
			}
			if err := emit(c); err != nil {
				return err
			}
		default:
			return fmt.Errorf("parley export line %d: unknown type %q", line, kind.Type)
		}
	}
	return sc.Err()
}
