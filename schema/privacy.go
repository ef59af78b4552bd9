package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The personal data comments hold, for its owners: an author's export and
// erasure by email hash, and the retention of IP hashes. Reactions,
// comment votes and reports are stored under anonymous reader ids and
// never with an email, so none of this can reach them.

// AuthorComment is a comment with the names of its site and article, as an
// author's export lists it.
type AuthorComment struct {
	Comment
	SiteSlug   string `db:"site_slug"`
	ArticleKey string `db:"article_key"`
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(columns, alias string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// CommentsByEmailHash returns every comment, in any status, written with
// the email whose keyed hash is given, oldest first. Comments their author
// deleted kept no email hash and are not found.
func (s *Store) CommentsByEmailHash(ctx context.Context, emailHash string) ([]AuthorComment, error) {
	if emailHash == "" {
		return nil, nil
	}
	var rows []AuthorComment
	err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+prefixed(commentColumns, "c")+`, s.slug AS site_slug, a.key AS article_key
		FROM comments c JOIN sites s ON s.id = c.site_id JOIN articles a ON a.id = c.article_id
		WHERE c.email_hash = ? ORDER BY c.id`), emailHash)
	if err != nil {
		return nil, fmt.Errorf("find comments by email: %w", err)
	}
	return rows, nil
}

// ForgetEmailHash erases what Parley holds about the author of every comment
// written with the email whose keyed hash is given: name, text, email and IP
// hashes, reader id, moderation reasons. Each comment becomes deleted, so
// that replies keep their place in the thread and counts stay right. It
// returns how many comments it erased.
func (s *Store) ForgetEmailHash(ctx context.Context, emailHash string) (int64, error) {
	if emailHash == "" {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, s.q(`SELECT id FROM comments WHERE email_hash = ? ORDER BY id`), emailHash); err != nil {
			return fmt.Errorf("find comments by email: %w", err)
		}
		for _, id := range ids {
			c, err := s.lockComment(ctx, tx, id)
			if err != nil {
				return err
			}
			if c.Status != StatusDeleted {
				if err := s.transition(ctx, tx, c, StatusDeleted); err != nil {
					return err
				}
			}
			// The public page must stop showing the author at once, in
			// the server that caches it too.
			s.changed(tx, threadChanged(c.ArticleID))
			if c.ReaderID != "" {
				s.changed(tx, shadowChanged(c.SiteID, c.ReaderID))
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET author = '', body = '', body_key = '', email_hash = '',
				ip_hash = '', reader_id = '', reasons = '[]', edit_token_hash = '', shadow = FALSE WHERE id = ?`), id); err != nil {
				return fmt.Errorf("erase comment %d: %w", id, err)
			}
			if err := s.forgetContact(ctx, tx, id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// forgetContact erases the email an author left with a comment for
// statements of reasons, and the copies statements and notices hold.
func (s *Store) forgetContact(ctx context.Context, tx sqlx.ExtContext, commentID int64) error {
	for _, q := range []string{
		`DELETE FROM comment_contacts WHERE comment_id = ?`,
		`UPDATE statements SET email = '' WHERE comment_id = ?`,
		`UPDATE notices SET author_email_hash = '' WHERE comment_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, s.q(q), commentID); err != nil {
			return fmt.Errorf("erase the author's contact: %w", err)
		}
	}
	return nil
}

// ClearExpiredIPHashes empties the IP hash of every comment older than its
// site's ip_retention_days (0 keeps them), and returns how many it cleared.
// The server runs it periodically; it is idempotent, so several instances
// may.
func (s *Store) ClearExpiredIPHashes(ctx context.Context) (int64, error) {
	sites, err := s.Sites(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, site := range sites {
		days := site.Settings.IPRetentionDays
		if days <= 0 {
			continue
		}
		cutoff := s.Now().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
		res, err := s.wdb.ExecContext(ctx, s.q(`UPDATE comments SET ip_hash = '' WHERE site_id = ? AND ip_hash <> '' AND created_at < ?`),
			site.ID, cutoff)
		if err != nil {
			return total, fmt.Errorf("clear IP hashes of site %s: %w", site.Slug, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
