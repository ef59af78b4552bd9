package schema

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// ExportedComment is a comment with everything that hangs off it.
type ExportedComment struct {
	Comment
	ArticleKey string
	Votes      []ImportVote
	Reports    []ImportReport
	History    []Audit
}

// ExportedReaction is one reader's reaction to an article.
type ExportedReaction struct {
	ArticleKey string `json:"article"`
	ReaderID   string `json:"reader_id"`
	Reaction   string `json:"reaction"`
	UpdatedMS  int64  `json:"updated_at"`
}

// SiteArticles returns every article of a site, by id.
func (s *Store) SiteArticles(ctx context.Context, siteID int64) ([]Article, error) {
	var out []Article
	err := s.db.SelectContext(ctx, &out, s.q(`SELECT `+articleColumns+` FROM articles WHERE site_id = ? ORDER BY id`), siteID)
	return out, err
}

// SiteBans returns every ban of a site, expired ones too, by id.
func (s *Store) SiteBans(ctx context.Context, siteID int64) ([]Ban, error) {
	var out []Ban
	err := s.db.SelectContext(ctx, &out, s.q(`SELECT `+banColumns+` FROM bans WHERE site_id = ? ORDER BY id`), siteID)
	return out, err
}

// SiteAudit returns the audit entries of a site that are not about a
// comment (those travel with their comment), by id.
func (s *Store) SiteAudit(ctx context.Context, siteID int64) ([]Audit, error) {
	var out []Audit
	err := s.db.SelectContext(ctx, &out, s.q(`SELECT `+auditColumns+` FROM audit_log WHERE site_id = ? AND object_type <> 'comment' ORDER BY id`), siteID)
	return out, err
}

// ExportReactions streams a site's reactions, page by page.
func (s *Store) ExportReactions(ctx context.Context, siteID int64, fn func([]ExportedReaction) error) error {
	const page = 1000
	lastArticle, lastReader := int64(0), ""
	for {
		var rows []struct {
			ArticleID int64  `db:"article_id"`
			Key       string `db:"key"`
			ReaderID  string `db:"reader_id"`
			Reaction  string `db:"reaction"`
			UpdatedMS int64  `db:"updated_at"`
		}
		err := s.db.SelectContext(ctx, &rows, s.q(`SELECT r.article_id, a.key, r.reader_id, r.reaction, r.updated_at
			FROM reactions r JOIN articles a ON a.id = r.article_id
			WHERE a.site_id = ? AND (r.article_id > ? OR (r.article_id = ? AND r.reader_id > ?))
			ORDER BY r.article_id, r.reader_id LIMIT ?`), siteID, lastArticle, lastArticle, lastReader, page)
		if err != nil {
			return fmt.Errorf("read reactions: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		out := make([]ExportedReaction, len(rows))
		for i, r := range rows {
			out[i] = ExportedReaction{r.Key, r.ReaderID, r.Reaction, r.UpdatedMS}
		}
		if err := fn(out); err != nil {
			return err
		}
		last := rows[len(rows)-1]
		lastArticle, lastReader = last.ArticleID, last.ReaderID
	}
}

// ExportComments streams every comment of a site in id order, a page at a
// time, each with its votes, reports and audit entries: memory stays
// bounded by the page, not the site.
func (s *Store) ExportComments(ctx context.Context, siteID int64, fn func(*ExportedComment) error) error {
	const page = 1000
	keys := map[int64]string{}
	arts, err := s.SiteArticles(ctx, siteID)
	if err != nil {
		return err
	}
	for _, a := range arts {
		keys[a.ID] = a.Key
	}
	var after int64
	for {
		// The pages walk the primary key: "site_id + 0" keeps the planner
		// off the site's queue index, which PostgreSQL chose after an import
		// (its statistics still those of an empty table) to read and sort
		// every remaining comment of the site for each page of 1,000.
		rows, err := s.db.QueryxContext(ctx, s.q(`SELECT `+commentColumns+` FROM comments WHERE id > ? AND site_id + 0 = ? ORDER BY id LIMIT ?`), after, siteID, page)
		if err != nil {
			return fmt.Errorf("read comments: %w", err)
		}
		var cs []*ExportedComment
		for rows.Next() {
			c := &ExportedComment{}
			if err := rows.Scan(c.fields()...); err != nil {
				rows.Close()
				return err
			}
			c.ArticleKey = keys[c.ArticleID]
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		byID := make(map[int64]*ExportedComment, len(cs))
		ids := make([]int64, len(cs))
		for i, c := range cs {
			byID[c.ID], ids[i] = c, c.ID
		}
		if err := s.exportExtras(ctx, ids, byID); err != nil {
			return err
		}
		for _, c := range cs {
			if err := fn(c); err != nil {
				return err
			}
		}
		after = cs[len(cs)-1].ID
	}
}

func (s *Store) exportExtras(ctx context.Context, ids []int64, byID map[int64]*ExportedComment) error {
	q, args, err := s.inQuery(`SELECT comment_id, reader_id, vote FROM comment_votes WHERE comment_id IN (?) ORDER BY comment_id, reader_id`, ids)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryxContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read votes: %w", err)
	}
	for rows.Next() {
		var id int64
		var v ImportVote
		if err := rows.Scan(&id, &v.ReaderID, &v.Vote); err != nil {
			rows.Close()
			return err
		}
		byID[id].Votes = append(byID[id].Votes, v)
	}
	rows.Close()
	var reports []ImportReport
	q, args, err = s.inQuery(`SELECT comment_id, reader_id, reason, note, created_at, dismissed_at FROM reports WHERE comment_id IN (?) ORDER BY id`, ids)
	if err != nil {
		return err
	}
	if err := s.db.SelectContext(ctx, &reports, q, args...); err != nil {
		return fmt.Errorf("read reports: %w", err)
	}
	for _, r := range reports {
		byID[r.CommentID].Reports = append(byID[r.CommentID].Reports, r)
	}
	var audits []Audit
	q, args, err = s.inQuery(`SELECT `+auditColumns+` FROM audit_log WHERE object_type = 'comment' AND object_id IN (?) ORDER BY id`, ids)
	if err != nil {
		return err
	}
	if err := s.db.SelectContext(ctx, &audits, q, args...); err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	for _, a := range audits {
		if c := byID[a.ObjectID]; c != nil {
			c.History = append(c.History, a)
		}
	}
	return nil
}

// RestoreSite brings a site's settings, articles, bans and audit entries
// from an export: the site is created when missing (its settings taken
// from the export) and left as it is otherwise; articles are created or
// given the export's title, URL and open state; bans and audit entries
// already present (same kind, value and time; same action, object and
// time) are not written twice. It returns the site.
func (s *Store) RestoreSite(ctx context.Context, slug string, settings Settings, articles []Article, bans []Ban, audit []Audit) (*Site, error) {
	site, err := s.Site(ctx, slug)
	if err != nil {
		if site, err = s.CreateSite(ctx, slug, settings, nil); err != nil {
			return nil, err
		}
	}
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		for _, a := range articles {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO articles (site_id, key, title, url, comments_open, created_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (site_id, key) DO UPDATE SET title = excluded.title, url = excluded.url, comments_open = excluded.comments_open`),
				site.ID, a.Key, a.Title, a.URL, a.CommentsOpen, a.CreatedMS); err != nil {
				return fmt.Errorf("restore article %s: %w", a.Key, err)
			}
		}
		for _, b := range bans {
			var n int
			if err := tx.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM bans WHERE site_id = ? AND kind = ? AND value = ? AND created_at = ?`),
				site.ID, b.Kind, b.Value, b.CreatedMS); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO bans (site_id, kind, value, reason, shadow, expires_at, comment_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), site.ID, b.Kind, b.Value, b.Reason, b.Shadow, b.ExpiresMS, b.CommentID, b.CreatedMS); err != nil {
				return fmt.Errorf("restore ban: %w", err)
			}
		}
		for _, a := range audit {
			var n int
			if err := tx.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM audit_log WHERE site_id = ? AND action = ? AND object_type = ? AND at = ? AND actor = ?`),
				site.ID, a.Action, a.ObjectType, a.AtMS, a.Actor); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			a.SiteID = new(site.ID)
			if err := s.insertAudit(ctx, tx, &a); err != nil {
				return err
			}
		}
		s.changed(tx, change{kind: changeAll})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return site, nil
}

// RestoreReactions writes readers' reactions from an export (a reader who
// reacted since keeps the newer one) and recounts the articles' counters.
func (s *Store) RestoreReactions(ctx context.Context, siteID int64, rs []ExportedReaction) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		ids := map[string]int64{}
		var touched []int64
		var rows [][]any
		for _, r := range rs {
			id, ok := ids[r.ArticleKey]
			if !ok {
				if err := tx.GetContext(ctx, &id, s.q(`SELECT id FROM articles WHERE site_id = ? AND key = ?`), siteID, r.ArticleKey); err != nil {
					return fmt.Errorf("article %s: %w", r.ArticleKey, err)
				}
				ids[r.ArticleKey] = id
				touched = append(touched, id)
			}
			rows = append(rows, []any{id, r.ReaderID, r.Reaction, r.UpdatedMS})
		}
		// A reader who reacted since keeps the newer reaction.
		if err := s.multiInsert(ctx, tx, `INSERT INTO reactions (article_id, reader_id, reaction, updated_at)`, 4, rows,
			`ON CONFLICT (article_id, reader_id) DO NOTHING`); err != nil {
			return fmt.Errorf("restore reactions: %w", err)
		}
		for _, id := range touched {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM reaction_counts WHERE article_id = ?`), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO reaction_counts (article_id, reaction, count)
				SELECT article_id, reaction, COUNT(*) FROM reactions WHERE article_id = ? GROUP BY article_id, reaction`), id); err != nil {
				return fmt.Errorf("recount reactions: %w", err)
			}
		}
		s.changed(tx, change{kind: changeAll})
		return nil
	})
}

// SiteCommentCount counts a site's comments in every status, for an
// export's progress.
func (s *Store) SiteCommentCount(ctx context.Context, siteID int64) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM comments WHERE site_id = ?`), siteID)
	return n, err
}
