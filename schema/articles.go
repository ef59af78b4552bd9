package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/schema/cache"
)

// Article is a publisher's article on a site, known by the publisher's key.
type Article struct {
	ID            int64     `db:"id"`
	SiteID        int64     `db:"site_id"`
	Key           string    `db:"key"`
	Title         string    `db:"title"`
	URL           string    `db:"url"`
	CommentsOpen  bool      `db:"comments_open"`
	ApprovedCount int64     `db:"approved_count"`
	CreatedAt     time.Time `db:"-"`
	CreatedMS     int64     `db:"created_at"`
}

const articleColumns = `id, site_id, key, title, url, comments_open, approved_count, created_at`

// Article returns the article key of a site; ErrNotFound if it was never used.
func (s *Store) Article(ctx context.Context, siteID int64, key string) (*Article, error) {
	// Every post reads its article: prepared once.
	st, err := s.readStmt(ctx, `SELECT `+articleColumns+` FROM articles WHERE site_id = ? AND key = ?`)
	if err != nil {
		return nil, fmt.Errorf("article %s: %w", key, err)
	}
	var a Article
	err = st.QueryRowContext(ctx, siteID, key).Scan(&a.ID, &a.SiteID, &a.Key, &a.Title, &a.URL, &a.CommentsOpen, &a.ApprovedCount, &a.CreatedMS)
	if err != nil {
		return nil, notFound("article "+key, err)
	}
	a.CreatedAt = msTime(a.CreatedMS)
	return &a, nil
}

func (s *Store) article(ctx context.Context, q sqlx.QueryerContext, siteID int64, key string) (*Article, error) {
	var a Article
	err := sqlx.GetContext(ctx, q, &a, s.q(`SELECT `+articleColumns+` FROM articles WHERE site_id = ? AND key = ?`), siteID, key)
	if err != nil {
		return nil, notFound("article "+key, err)
	}
	a.CreatedAt = msTime(a.CreatedMS)
	return &a, nil
}

// ArticleByID returns an article by id.
func (s *Store) ArticleByID(ctx context.Context, id int64) (*Article, error) {
	return s.articleByID(ctx, s.db, id)
}

func (s *Store) articleByID(ctx context.Context, q sqlx.QueryerContext, id int64) (*Article, error) {
	var a Article
	if err := sqlx.GetContext(ctx, q, &a, s.q(`SELECT `+articleColumns+` FROM articles WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("article %d", id), err)
	}
	a.CreatedAt = msTime(a.CreatedMS)
	return &a, nil
}

// EnsureArticle returns the article, creating it on first use.
func (s *Store) EnsureArticle(ctx context.Context, siteID int64, key string) (*Article, error) {
	if a, err := s.Article(ctx, siteID, key); err == nil || !errors.Is(err, ErrNotFound) {
		return a, err
	}
	var a *Article
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var err error
		a, err = s.ensureArticle(ctx, tx, siteID, key)
		return err
	})
	return a, err
}

func (s *Store) ensureArticle(ctx context.Context, tx sqlx.ExtContext, siteID int64, key string) (*Article, error) {
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, s.q(`INSERT INTO articles (site_id, key, created_at) VALUES (?, ?, ?)
		ON CONFLICT (site_id, key) DO NOTHING RETURNING id`), siteID, key, s.nowMS())
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("create article: %w", err)
	}
	if err == nil {
		s.changed(tx, articleCreated(siteID, key))
	}
	return s.article(ctx, tx, siteID, key)
}

// RegisterArticle creates or updates an article with its title and URL;
// sites in strict mode accept only registered articles.
func (s *Store) RegisterArticle(ctx context.Context, siteID int64, key, title, url string) (*Article, error) {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, s.q(`INSERT INTO articles (site_id, key, title, url, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (site_id, key) DO UPDATE SET title = excluded.title, url = excluded.url RETURNING id`), siteID, key, title, url, s.nowMS())
		if err != nil {
			return fmt.Errorf("register article: %w", err)
		}
		s.changed(tx, articleCreated(siteID, key), threadChanged(id))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Article(ctx, siteID, key)
}

// SetArticleOpen opens or closes an article for comments.
func (s *Store) SetArticleOpen(ctx context.Context, articleID int64, open bool) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE articles SET comments_open = ? WHERE id = ?`), open, articleID)
		s.changed(tx, threadChanged(articleID))
		return err
	})
}

// articleKey names an article in the id cache.
type articleKey struct {
	site int64
	key  string
}

// ArticleID returns the id of a site's article; ErrNotFound if the
// article was never used. Both answers come from memory after the first
// lookup, and "never used" on the first too when the filter of used
// articles knows it: most page views are of articles nobody reacted to.
func (s *Store) ArticleID(ctx context.Context, siteID int64, key string) (int64, error) {
	if !s.mayBeUsed(articleKey{siteID, key}) {
		return 0, fmt.Errorf("article %s: %w", key, ErrNotFound)
	}
	id, err := s.state.articles.Load(articleKey{siteID, key}, func() (int64, error) {
		return s.lookupArticleID(ctx, siteID, key)
	})
	if err != nil {
		return 0, fmt.Errorf("article %s: %w", key, err)
	}
	if id == 0 {
		return 0, fmt.Errorf("article %s: %w", key, ErrNotFound)
	}
	return id, nil
}

// mayBeUsed tells whether k may name an article: false only when the
// filter of used articles knows it never did.
func (s *Store) mayBeUsed(k articleKey) bool {
	return s.state.usedArticles.mayHave(s.state.usedArticles.articleHash(k))
}

func (s *Store) lookupArticleID(ctx context.Context, siteID int64, key string) (int64, error) {
	var id int64
	st, err := s.readStmt(ctx, `SELECT id FROM articles WHERE site_id = ? AND key = ?`)
	if err == nil {
		err = st.QueryRowContext(ctx, siteID, key).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrInvalidText) {
		return 0, nil
	}
	return id, err
}

// ArticleIDToWrite is ArticleID for a write that must not act on a stale
// "never used": another instance may have created the article a moment
// ago, before its change reached this one. A cached id is trusted (ids
// never change); a cached absence is checked in the database.
func (s *Store) ArticleIDToWrite(ctx context.Context, siteID int64, key string) (int64, error) {
	if id, ok := s.state.articles.Get(articleKey{siteID, key}); ok && id != 0 {
		return id, nil
	}
	f := s.state.articles.Begin(articleKey{siteID, key})
	id, err := s.lookupArticleID(ctx, siteID, key)
	if err != nil {
		return 0, fmt.Errorf("article %s: %w", key, err)
	}
	s.state.articles.Put(f, articleKey{siteID, key}, id)
	if id == 0 {
		return 0, fmt.Errorf("article %s: %w", key, ErrNotFound)
	}
	return id, nil
}

// ArticleIDs returns the ids of those of the keys that name articles.
func (s *Store) ArticleIDs(ctx context.Context, siteID int64, keys []string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	var missing []string
	fills := map[string]cache.Fill{}
	for _, k := range keys {
		if !s.mayBeUsed(articleKey{siteID, k}) {
			continue
		}
		if id, ok := s.state.articles.Get(articleKey{siteID, k}); ok {
			if id != 0 {
				out[k] = id
			}
		} else if _, dup := fills[k]; !dup {
			missing = append(missing, k)
			fills[k] = s.state.articles.Begin(articleKey{siteID, k})
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT key, id FROM articles WHERE site_id = ? AND key IN (?)`, siteID, missing)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryxContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read articles: %w", err)
	}
	defer rows.Close()
	found := map[string]int64{}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, err
		}
		out[k], found[k] = id, id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, k := range missing {
		s.state.articles.Put(fills[k], articleKey{siteID, k}, found[k])
	}
	return out, nil
}

// ArticlesByID returns the articles with the given ids; missing ones are
// absent from the map.
func (s *Store) ArticlesByID(ctx context.Context, ids []int64) (map[int64]*Article, error) {
	out := make(map[int64]*Article, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT `+articleColumns+` FROM articles WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []Article
	if err := s.db.SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return nil, fmt.Errorf("read articles: %w", err)
	}
	for i := range rows {
		a := &rows[i]
		a.CreatedAt = msTime(a.CreatedMS)
		out[a.ID] = a
	}
	return out, nil
}
