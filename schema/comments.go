package schema

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Comment statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusSpam     = "spam"
	StatusDeleted  = "deleted"
)

// Comment is a reader's comment under an article.
type Comment struct {
	ID            int64  `db:"id"`
	SiteID        int64  `db:"site_id"`
	ArticleID     int64  `db:"article_id"`
	ParentID      *int64 `db:"parent_id"`
	ReaderID      string `db:"reader_id"`
	Author        string `db:"author"`
	EmailHash     string `db:"email_hash"`
	IPHash        string `db:"ip_hash"`
	Body          string `db:"body"`
	BodyKey       string `db:"body_key"`
	Status        string `db:"status"`
	Version       int64  `db:"version"`
	Reasons       string `db:"reasons"` // JSON array from moderation
	EditTokenHash string `db:"edit_token_hash"`
	Upvotes       int64  `db:"upvotes"`
	Downvotes     int64  `db:"downvotes"`
	Score         int64  `db:"score"`
	ReportCount   int64  `db:"report_count"`
	Shadow        bool   `db:"shadow"`
	HasReplies    bool   `db:"has_replies"`
	Visible       bool   `db:"visible"`
	ReportedMS    *int64 `db:"reported_at"`
	CreatedMS     int64  `db:"created_at"`
	EditedMS      *int64 `db:"edited_at"`
	DecidedMS     *int64 `db:"decided_at"`
	// Queue is the moderation queue the comment is in: its status, or
	// "reported" for an approved comment whose reports reached the
	// threshold. The store derives it; see queueOf.
	Queue string `db:"queue"`
	// Priority is the number of the policy's reasons (more for a model's
	// confident reason, see reasonCount) plus open reports:
	// what sort=priority orders by.
	Priority int64 `db:"priority"`
	// Learned is what the classifier learned from the last decision on
	// the current text: "spam", "ham" or "".
	Learned string `db:"learned"`
}

// CreatedAt is when the comment was posted.
func (c *Comment) CreatedAt() time.Time { return msTime(c.CreatedMS) }

// EditedAt is when the comment was last edited, or nil.
func (c *Comment) EditedAt() *time.Time { return msTimePtr(c.EditedMS) }

// Parent returns the parent comment's id, or 0.
func (c *Comment) Parent() int64 {
	if c.ParentID == nil {
		return 0
	}
	return *c.ParentID
}

// DecidedAt is when a moderator last decided the comment, or nil.
func (c *Comment) DecidedAt() *time.Time { return msTimePtr(c.DecidedMS) }

const commentColumns = `id, site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key,
	status, version, reasons, edit_token_hash, upvotes, downvotes, score, report_count, shadow, has_replies,
	visible, reported_at, created_at, edited_at, decided_at, queue, priority, learned`

// visible is what the public thread shows: approved comments, and deleted
// ones whose replies need their place.
func visible(status string, hasReplies bool) bool {
	return status == StatusApproved || (status == StatusDeleted && hasReplies)
}

// Errors of PostComment's captcha check.
var (
	ErrCaptchaUnknown = fmt.Errorf("captcha unknown, used or expired: %w", ErrNotFound)
	ErrCaptchaWrong   = errors.New("captcha answer wrong")
)

// CreateComment stores a new comment and sets its ID. The parent, when set,
// must be a comment of the same article; ErrNotFound otherwise.
func (s *Store) CreateComment(ctx context.Context, c *Comment) error {
	return s.PostComment(ctx, c, PostOptions{})
}

// PostOptions is what the transaction of a new comment holds besides the
// comment row.
type PostOptions struct {
	// ArticleKey is the article to create, on first use, when the
	// comment's ArticleID is 0.
	ArticleKey string
	// Article, when known, spares the announcer reading it.
	Article *Article
	// CaptchaID is the captcha to use up, checked by Check; "" for none.
	CaptchaID string
	Check     func(digits []byte) bool
	// Announce builds the comment's webhook events (and one-time links).
	Announce Announcer
	// Contact is the email the author gave, kept for statements of
	// reasons (comment_contacts); "" keeps none.
	Contact string
	// Statement, when not nil, is asked once the comment is stored for
	// the statement of reasons its automated rejection or hiding owes
	// the author; nil from it means none is owed.
	Statement func(c *Comment) (*Statement, *Mail, error)
	// Subscribe, when not nil, asks for the author's reply notifications;
	// its State tells what was done.
	Subscribe *Subscribe
}

// PostComment stores a new comment in one transaction of the group-commit
// writer: the captcha is used up and checked first (a wrong answer still
// uses it up, and nothing else is written), then the article is created if
// new, the comment stored with its counters, and its webhook events and
// one-time links put in the outbox. Before anything else is written, a
// parent that is not a comment of the article fails with ErrNotFound.
func (s *Store) PostComment(ctx context.Context, c *Comment, o PostOptions) error {
	c.CreatedMS = s.nowMS()
	c.Version = 1
	c.Visible = visible(c.Status, false)
	if c.Reasons == "" {
		c.Reasons = "[]"
	}
	c.Queue = queueOf(c.Status, false)
	c.Priority = reasonCount(c.Reasons)
	if c.ArticleID == 0 && o.ArticleKey == "" {
		return errors.New("new comment: no article")
	}
	articleID := c.ArticleID
	return s.submitClaiming(ctx, o.CaptchaID, func(b *batch) error {
		// A batch replayed after a failure runs the op again from scratch.
		c.ArticleID = articleID
		if o.CaptchaID != "" {
			digits, err := b.consumeCaptcha(o.CaptchaID)
			if err != nil {
				return err
			}
			if !o.Check(digits) {
				return soft(ErrCaptchaWrong)
			}
		}
		if c.ParentID != nil {
			if c.ArticleID == 0 {
				return soft(fmt.Errorf("parent comment %d: %w", *c.ParentID, ErrNotFound))
			}
			res, err := b.exec(sqlMarkParent, *c.ParentID, c.ArticleID)
			if err != nil {
				return fmt.Errorf("mark parent: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return soft(fmt.Errorf("parent comment %d: %w", *c.ParentID, ErrNotFound))
			}
		}
		article := o.Article
		if c.ArticleID == 0 {
			a, err := s.ensureArticle(b.ctx, b.tx, c.SiteID, o.ArticleKey)
			if err != nil {
				return err
			}
			c.ArticleID, article = a.ID, a
			b.afterCommit(func() { s.state.articles.Set(articleKey{a.SiteID, a.Key}, a.ID) })
		}
		if s.dialect == Postgres {
			// Inserted with the batch's other new comments (writeComments),
			// which then runs the rest.
			b.newComments = append(b.newComments, newComment{c: c, op: b.cur, rest: func() error { return s.afterInsert(b, c, o, article) }})
			return nil
		}
		err := b.get(&c.ID, sqlInsertComment,
			c.SiteID, c.ArticleID, c.ParentID, c.ReaderID, c.Author, c.EmailHash, c.IPHash, c.Body, c.BodyKey,
			c.Status, c.Version, c.Reasons, c.EditTokenHash, c.Shadow, c.Visible, c.CreatedMS, c.Queue, c.Priority)
		if err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		return s.afterInsert(b, c, o, article)
	})
}

// afterInsert is what a new comment's transaction holds once its row is
// in: counters, caches, the author's contact and statement, reply
// notifications, the subscription and the webhook events.
func (s *Store) afterInsert(b *batch, c *Comment, o PostOptions, article *Article) error {
	b.rollPost(c)
	if c.Status == StatusApproved {
		b.approved[c.ArticleID]++
	}
	s.changed(b.tx, threadChanged(c.ArticleID))
	if c.Shadow && c.ReaderID != "" {
		s.changed(b.tx, shadowChanged(c.SiteID, c.ReaderID))
	}
	b.moveQueue(c.SiteID, "", c.Queue)
	if o.Contact != "" {
		if _, err := b.exec(`INSERT INTO comment_contacts (comment_id, email) VALUES (?, ?)`, c.ID, o.Contact); err != nil {
			return fmt.Errorf("store the author's contact: %w", err)
		}
	}
	if o.Statement != nil {
		st, m, err := o.Statement(c)
		if err != nil {
			return err
		}
		if st != nil {
			if err := s.AddStatement(b.ctx, b.tx, st, *m, By(nil, ActorPolicy)); err != nil {
				return err
			}
		}
	}
	if err := s.queueReplies(b.ctx, b.tx, c); err != nil {
		return err
	}
	if o.Subscribe != nil {
		if err := s.subscribe(b.ctx, b.tx, c, o.Subscribe); err != nil {
			return err
		}
	}
	return s.announce(b.ctx, b.tx, o.Announce, Change{After: c, Article: article})
}

// newComment is a comment a PostgreSQL batch inserts with the others, and
// the rest of its op, run once its id is known.
type newComment struct {
	c    *Comment
	op   *op
	rest func() error
}

// writeComments inserts the batch's new comments in one statement on
// PostgreSQL (each statement there is a round trip, made while the other
// lanes wait), then runs the rest of each one's op. The rows come back in
// the order given, and each is checked against its comment (article,
// author, reader, text, status, edit token and time): a mismatch fails the
// batch, whose ops then run again alone.
func (b *batch) writeComments() error {
	if len(b.newComments) == 0 {
		return nil
	}
	n := len(b.newComments)
	site, article, parent := make([]int64, n), make([]int64, n), make([]*int64, n)
	reader, author, email, ip, body, key := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	status, reasons, token, queue := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	version, created, priority := make([]int64, n), make([]int64, n), make([]int64, n)
	shadow, visible := make([]bool, n), make([]bool, n)
	for i, nc := range b.newComments {
		c := nc.c
		site[i], article[i], parent[i], reader[i], author[i], email[i], ip[i], body[i], key[i] =
			c.SiteID, c.ArticleID, c.ParentID, c.ReaderID, c.Author, c.EmailHash, c.IPHash, c.Body, c.BodyKey
		status[i], version[i], reasons[i], token[i], shadow[i], visible[i], created[i], queue[i], priority[i] =
			c.Status, c.Version, c.Reasons, c.EditTokenHash, c.Shadow, c.Visible, c.CreatedMS, c.Queue, c.Priority
	}
	var rows []struct {
		ID        int64  `db:"id"`
		ArticleID int64  `db:"article_id"`
		Token     string `db:"edit_token_hash"`
		Created   int64  `db:"created_at"`
		Reader    string `db:"reader_id"`
		Author    string `db:"author"`
		BodyKey   string `db:"body_key"`
		Status    string `db:"status"`
	}
	if err := b.tx.SelectContext(b.ctx, &rows, `INSERT INTO comments (site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key,
			status, version, reasons, edit_token_hash, shadow, visible, created_at, queue, priority)
		SELECT site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key,
			status, version, reasons, edit_token_hash, shadow, visible, created_at, queue, priority
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
			$10::text[], $11::bigint[], $12::text[], $13::text[], $14::boolean[], $15::boolean[], $16::bigint[], $17::text[], $18::bigint[])
			WITH ORDINALITY AS u(site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key,
				status, version, reasons, edit_token_hash, shadow, visible, created_at, queue, priority, n)
		ORDER BY n RETURNING id, article_id, edit_token_hash, created_at, reader_id, author, body_key, status`,
		site, article, parent, reader, author, email, ip, body, key, status, version, reasons, token, shadow, visible, created, queue, priority); err != nil {
		return fmt.Errorf("insert comments: %w", err)
	}
	if len(rows) != n {
		return fmt.Errorf("insert comments: %d rows for %d comments", len(rows), n)
	}
	for i, nc := range b.newComments {
		r := rows[i]
		if r.ArticleID != nc.c.ArticleID || r.Token != nc.c.EditTokenHash || r.Created != nc.c.CreatedMS ||
			r.Reader != nc.c.ReaderID || r.Author != nc.c.Author || r.BodyKey != nc.c.BodyKey || r.Status != nc.c.Status {
			return fmt.Errorf("insert comments: row %d came back out of order", i)
		}
		nc.c.ID = r.ID
	}
	for _, nc := range b.newComments {
		b.cur = nc.op
		// The comment is written already: any error now, a refusal too,
		// fails the whole batch (a step's error does), and the op alone
		// is then refused whole.
		if err := nc.rest(); err != nil {
			return err
		}
	}
	b.newComments = nil
	return nil
}

// The statements of the comment path, prepared once on SQLite.
const (
	sqlMarkParent     = `UPDATE comments SET has_replies = TRUE, visible = (status = 'approved' OR status = 'deleted') WHERE id = ? AND article_id = ?`
	sqlInsertComment  = `INSERT INTO comments (site_id, article_id, parent_id, reader_id, author, email_hash, ip_hash, body, body_key, status, version, reasons, edit_token_hash, shadow, visible, created_at, queue, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlBumpApproved   = `UPDATE articles SET approved_count = approved_count + ? WHERE id = ?`
	sqlConsumeCaptcha = `DELETE FROM captchas WHERE id = ? RETURNING digits, expires_at`
)

func (s *Store) bumpApproved(ctx context.Context, tx sqlx.ExtContext, articleID, by int64) error {
	_, err := tx.ExecContext(ctx, s.q(sqlBumpApproved), by, articleID)
	if err != nil {
		return fmt.Errorf("count approved: %w", err)
	}
	return nil
}

// Comment returns a comment by id.
func (s *Store) Comment(ctx context.Context, id int64) (*Comment, error) {
	// Every comment vote and report reads its comment: prepared once.
	cs, err := s.selectComments(ctx, `SELECT `+commentColumns+` FROM comments WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("comment %d: %w", id, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("comment %d: %w", id, ErrNotFound)
	}
	return &cs[0], nil
}

// lockComment reads a comment inside a write transaction, locking its row
// on PostgreSQL so that concurrent decisions take turns.
func (s *Store) lockComment(ctx context.Context, q sqlx.QueryerContext, id int64) (*Comment, error) {
	var c Comment
	if err := sqlx.GetContext(ctx, q, &c, s.q(`SELECT `+commentColumns+` FROM comments WHERE id = ?`+s.forUpdate()), id); err != nil {
		return nil, notFound(fmt.Sprintf("comment %d", id), err)
	}
	return &c, nil
}

func (s *Store) comment(ctx context.Context, q sqlx.QueryerContext, id int64) (*Comment, error) {
	var c Comment
	if err := sqlx.GetContext(ctx, q, &c, s.q(`SELECT `+commentColumns+` FROM comments WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("comment %d", id), err)
	}
	return &c, nil
}

// Sort orders of a thread.
const (
	SortOldest = "oldest"
	SortNewest = "newest"
	SortTop    = "top"
)

// Cursor is a position in a thread: the last comment of the previous page.
// It is opaque to clients.
type Cursor struct {
	Sort  string
	Score int64
	ID    int64
}

// String encodes the cursor.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Sort[:1] + "." + strconv.FormatInt(c.Score, 10) + "." + strconv.FormatInt(c.ID, 10)))
}

// ParseCursor decodes a cursor made for the given sort.
func ParseCursor(s, sort string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 48 {
		return Cursor{}, errors.New("malformed cursor")
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		return Cursor{}, errors.New("malformed cursor")
	}
	score, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id < 0 {
		return Cursor{}, errors.New("malformed cursor")
	}
	if sort == "" || parts[0] != sort[:1] {
		return Cursor{}, fmt.Errorf("the cursor belongs to another sort order than %q", sort)
	}
	return Cursor{Sort: sort, Score: score, ID: id}, nil
}

// Thread returns a page of an article's public thread after the cursor
// (nil for the first page), and the cursor of the next page if there is one.
// Pages are keyset pages over an index, so any page costs what the first does.
func (s *Store) Thread(ctx context.Context, articleID int64, sort string, after *Cursor, limit int) ([]Comment, *Cursor, error) {
	var where, order string
	args := []any{articleID}
	switch sort {
	case SortNewest:
		order = `id DESC`
		if after != nil {
			where, args = ` AND id < ?`, append(args, after.ID)
		}
	case SortTop:
		order = `score DESC, id DESC`
		if after != nil {
			where, args = ` AND (score, id) < (?, ?)`, append(args, after.Score, after.ID)
		}
	default:
		sort, order = SortOldest, `id`
		if after != nil {
			where, args = ` AND id > ?`, append(args, after.ID)
		}
	}
	args = append(args, limit+1)
	rows, err := s.selectComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE article_id = ? AND visible = TRUE`+where+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read thread: %w", err)
	}
	var next *Cursor
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = &Cursor{Sort: sort, Score: last.Score, ID: last.ID}
	}
	return rows, next, nil
}

// ShadowComments returns a reader's comments on an article that a shadow ban
// hid from everybody else, so that they can be shown to their author alone.
func (s *Store) ShadowComments(ctx context.Context, siteID, articleID int64, readerID string) ([]Comment, error) {
	rows, err := s.selectComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE site_id = ? AND reader_id = ? AND article_id = ? AND shadow = TRUE AND status IN ('pending', 'spam') ORDER BY id LIMIT 200`,
		siteID, readerID, articleID)
	if err != nil {
		return nil, fmt.Errorf("read shadow comments: %w", err)
	}
	return rows, nil
}

// LatestApproved returns the newest approved comments of an article, for feeds.
func (s *Store) LatestApproved(ctx context.Context, articleID int64, limit int) ([]Comment, error) {
	rows, err := s.selectComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE article_id = ? AND visible = TRUE AND status = 'approved' ORDER BY id DESC LIMIT ?`, articleID, limit)
	if err != nil {
		return nil, fmt.Errorf("read latest comments: %w", err)
	}
	return rows, nil
}

// EditComment replaces a comment's body and gives it the status and reasons
// of its new assessment; announce's webhook events are stored in the same
// transaction. It fails with ErrConflict when the comment changed since
// version was read, or is no longer the author's to edit.
func (s *Store) EditComment(ctx context.Context, id, version int64, body, bodyKey, status, reasons string, announce Announcer) (*Comment, error) {
	return s.EditCommentThen(ctx, id, version, body, bodyKey, status, reasons, announce, nil)
}

// EditCommentThen is EditComment with then, when not nil, run last in the
// edit's transaction with the comment before and after: the statement of
// reasons an edit the policy rejects owes is written with it.
func (s *Store) EditCommentThen(ctx context.Context, id, version int64, body, bodyKey, status, reasons string, announce Announcer,
	then func(ctx context.Context, tx sqlx.ExtContext, before, after *Comment) error) (*Comment, error) {
	var out *Comment
	err := s.writeAgain(ctx, func(tx *sqlx.Tx) error {
		c, err := s.lockComment(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Version != version || c.Status == StatusDeleted {
			return fmt.Errorf("comment %d changed: %w", id, ErrConflict)
		}
		before := *c
		if err := s.transition(ctx, tx, c, status); err != nil {
			return err
		}
		s.changed(tx, threadChanged(c.ArticleID))
		// The classifier keeps what it learned from the earlier text; a
		// decision on the new text is learned afresh, and only that one
		// may be unlearned later.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET body = ?, body_key = ?, reasons = ?, edited_at = ?,
			priority = ? + report_count, learned = '' WHERE id = ?`),
			body, bodyKey, reasons, s.nowMS(), reasonCount(reasons), id); err != nil {
			return fmt.Errorf("edit comment: %w", err)
		}
		out, err = s.comment(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.announce(ctx, tx, announce, Change{Before: &before, After: out}); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, &before, out)
		}
		return nil
	})
	return out, err
}

// DeleteComment deletes a comment for its author: the text and name are
// erased, and the row stays as "deleted" so that replies keep their place.
func (s *Store) DeleteComment(ctx context.Context, id int64) error {
	return s.writeAgain(ctx, func(tx *sqlx.Tx) error {
		c, err := s.lockComment(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status == StatusDeleted {
			return nil
		}
		if err := s.transition(ctx, tx, c, StatusDeleted); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE comments SET body = '', author = '', email_hash = '', body_key = '' WHERE id = ?`), id)
		if err != nil {
			return err
		}
		return s.forgetContact(ctx, tx, id)
	})
}

// transition moves a comment to a new status, keeping the derived columns,
// the article's approved count and the queue counts right; every status
// change goes through it.
func (s *Store) transition(ctx context.Context, tx sqlx.ExtContext, c *Comment, status string) error {
	vis := visible(status, c.HasReplies)
	queue := queueOf(status, c.ReportedMS != nil)
	_, err := tx.ExecContext(ctx, s.q(`UPDATE comments SET status = ?, visible = ?, queue = ?, version = version + 1, decided_at = ? WHERE id = ?`),
		status, vis, queue, s.nowMS(), c.ID)
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	was, is := c.Status == StatusApproved, status == StatusApproved
	switch {
	case was && !is:
		err = s.bumpApproved(ctx, tx, c.ArticleID, -1)
	case !was && is:
		err = s.bumpApproved(ctx, tx, c.ArticleID, 1)
	}
	if err != nil {
		return err
	}
	if err := s.moveQueue(ctx, tx, c.SiteID, c.Queue, queue); err != nil {
		return err
	}
	// The rollups after the counters, in the order the writer's batches
	// take them.
	if err := s.rollStatus(ctx, tx, c, status); err != nil {
		return err
	}
	c.Status, c.Visible, c.Queue, c.Version = status, vis, queue, c.Version+1
	s.changed(tx, threadChanged(c.ArticleID))
	if c.Shadow && c.ReaderID != "" {
		s.changed(tx, shadowChanged(c.SiteID, c.ReaderID))
	}
	return nil
}

// reasonCount is the priority a comment's reasons JSON gives it: one per
// reason, and more for a model that is sure.
func reasonCount(reasons string) int64 {
	var rs []struct {
		Probability *float64 `json:"probability"`
	}
	if json.Unmarshal([]byte(reasons), &rs) != nil {
		return 0
	}
	n := int64(len(rs))
	// A model's reason counts more the surer it is, up to 5 more at 1:
	// sort=priority puts what the reject model is sure of first.
	for _, r := range rs {
		if r.Probability != nil && *r.Probability > 0.5 {
			n += int64(math.Floor(min(*r.Probability, 1)*10 - 5))
		}
	}
	return n
}

// fields lists a comment's fields in the order of commentColumns.
func (c *Comment) fields() []any {
	return []any{&c.ID, &c.SiteID, &c.ArticleID, &c.ParentID, &c.ReaderID, &c.Author, &c.EmailHash, &c.IPHash,
		&c.Body, &c.BodyKey, &c.Status, &c.Version, &c.Reasons, &c.EditTokenHash, &c.Upvotes, &c.Downvotes,
		&c.Score, &c.ReportCount, &c.Shadow, &c.HasReplies, &c.Visible, &c.ReportedMS, &c.CreatedMS,
		&c.EditedMS, &c.DecidedMS, &c.Queue, &c.Priority, &c.Learned}
}

// selectComments runs a query of commentColumns and scans the rows by
// position: sqlx's reflection was half the cost of a moderator's queue page.
func (s *Store) selectComments(ctx context.Context, query string, args ...any) ([]Comment, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Comment
	for rows.Next() {
		out = append(out, Comment{})
		if err := rows.Scan(out[len(out)-1].fields()...); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// HasShadowComments tells whether a reader has comments on the site that a
// shadow ban hides from everybody but them. Every page read with a reader
// token asks, so answers are cached per reader.
func (s *Store) HasShadowComments(ctx context.Context, siteID int64, readerID string) (bool, error) {
	return s.state.shadows.Load(shadowKey{siteID, readerID}, func() (bool, error) {
		var n int
		err := s.db.GetContext(ctx, &n, s.q(`SELECT COUNT(*) FROM comments
			WHERE site_id = ? AND reader_id = ? AND shadow = TRUE AND status IN ('pending', 'spam')`), siteID, readerID)
		return n > 0, err
	})
}
