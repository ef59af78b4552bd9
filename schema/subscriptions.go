package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Reply notifications: a reader who left an email with a comment may ask
// to be emailed the replies to their comments on that article. The
// subscription waits for the link of a confirmation email (double opt-in);
// once confirmed, every reply published under one of the reader's comments
// on the article is queued in reply_pending, and the mail worker sends the
// queued replies as one digest at most once per the site's interval.

// Subscription states a new comment's answer reports.
const (
	// SubscribeConfirmSent: a confirmation email is on its way.
	SubscribeConfirmSent = "confirm_sent"
	// SubscribePending: a confirmation sent in the last day still waits;
	// no second one is sent.
	SubscribePending = "confirm_pending"
	// SubscribeLimited: the address was sent too many confirmations today
	// (someone may be using it without its owner knowing); none is sent.
	SubscribeLimited = "confirm_limited"
	// SubscribeActive: the address is subscribed to the article already.
	SubscribeActive = "active"
)

// Token purposes of mail_tokens.
const (
	TokenConfirm     = "confirm"
	TokenUnsubscribe = "unsubscribe"
)

// confirmResend is how long a confirmation is waited for before another
// may be sent for the same article, and the window of maxConfirmations.
const confirmResend = 24 * time.Hour

// maxConfirmations bounds the confirmation emails one address is sent per
// site per day, whatever the number of articles.
const maxConfirmations = 3

// Subscription is a reader's request to be emailed replies on an article.
type Subscription struct {
	ID          int64  `db:"id"`
	SiteID      int64  `db:"site_id"`
	ArticleID   int64  `db:"article_id"`
	Email       string `db:"email"`
	EmailHash   string `db:"email_hash"`
	Lang        string `db:"lang"`
	ConfirmedMS *int64 `db:"confirmed_at"`
	LastSentMS  *int64 `db:"last_sent_at"`
	DueMS       *int64 `db:"due_at"`
	CreatedMS   int64  `db:"created_at"`
}

// Confirmed tells whether the confirmation link was followed.
func (s *Subscription) Confirmed() bool { return s.ConfirmedMS != nil }

// CreatedAt is when the subscription was asked for.
func (s *Subscription) CreatedAt() time.Time { return msTime(s.CreatedMS) }

// ConfirmedAt is when the confirmation link was followed, or nil.
func (s *Subscription) ConfirmedAt() *time.Time { return msTimePtr(s.ConfirmedMS) }

const subscriptionColumns = `id, site_id, article_id, email, email_hash, lang, confirmed_at, last_sent_at, due_at, created_at`

// Subscribe is a new comment's request for reply notifications, carried
// by PostOptions and stored in the comment's transaction.
type Subscribe struct {
	Email     string
	EmailHash string
	Lang      string
	// ConfirmHash is the hash of the confirmation link's token, valid for
	// ConfirmTTL.
	ConfirmHash string
	ConfirmTTL  time.Duration
	// Mail is the confirmation email, with the link; queued only when a
	// confirmation is due (State SubscribeConfirmSent).
	Mail Mail
	// State is what PostComment did: one of the Subscribe… constants.
	State string
}

// subscribe stores a new comment's subscription request in its transaction
// and queues the confirmation email when one is due.
func (s *Store) subscribe(ctx context.Context, tx sqlx.ExtContext, c *Comment, sub *Subscribe) error {
	now := s.nowMS()
	var old Subscription
	err := sqlx.GetContext(ctx, tx, &old, s.q(`SELECT `+subscriptionColumns+` FROM reply_subscriptions WHERE article_id = ? AND email_hash = ?`),
		c.ArticleID, sub.EmailHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("read subscription: %w", err)
	case old.Confirmed():
		sub.State = SubscribeActive
		return nil
	case old.CreatedMS > now-confirmResend.Milliseconds():
		sub.State = SubscribePending
		return nil
	default:
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM reply_subscriptions WHERE id = ?`), old.ID); err != nil {
			return fmt.Errorf("replace subscription: %w", err)
		}
	}
	var recent int
	if err := sqlx.GetContext(ctx, tx, &recent, s.q(`SELECT COUNT(*) FROM reply_subscriptions
		WHERE site_id = ? AND email_hash = ? AND confirmed_at IS NULL AND created_at > ?`),
		c.SiteID, sub.EmailHash, now-confirmResend.Milliseconds()); err != nil {
		return fmt.Errorf("count confirmations: %w", err)
	}
	if recent >= maxConfirmations {
		sub.State = SubscribeLimited
		return nil
	}
	var id int64
	if err := sqlx.GetContext(ctx, tx, &id, s.q(`INSERT INTO reply_subscriptions (site_id, article_id, email, email_hash, lang, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), c.SiteID, c.ArticleID, sub.Email, sub.EmailHash, sub.Lang, now); err != nil {
		return fmt.Errorf("store subscription: %w", err)
	}
	if err := s.insertMailToken(ctx, tx, sub.ConfirmHash, id, TokenConfirm, now+sub.ConfirmTTL.Milliseconds()); err != nil {
		return err
	}
	m := sub.Mail
	m.SiteID = c.SiteID
	if err := s.QueueMail(ctx, tx, m); err != nil {
		return err
	}
	sub.State = SubscribeConfirmSent
	return nil
}

func (s *Store) insertMailToken(ctx context.Context, tx sqlx.ExtContext, hash string, subID int64, purpose string, expiresMS int64) error {
	var expires any
	if expiresMS > 0 {
		expires = expiresMS
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO mail_tokens (token_hash, subscription_id, purpose, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`),
		hash, subID, purpose, expires, s.nowMS()); err != nil {
		return fmt.Errorf("store %s link: %w", purpose, err)
	}
	return nil
}

// SubscriptionByToken finds the subscription a live link of the purpose
// belongs to; ErrNotFound for a link unknown, used or expired.
func (s *Store) SubscriptionByToken(ctx context.Context, tokenHash, purpose string) (*Subscription, *Article, error) {
	return s.subscriptionByToken(ctx, s.db, tokenHash, purpose, false)
}

func (s *Store) subscriptionByToken(ctx context.Context, q sqlx.QueryerContext, tokenHash, purpose string, lock bool) (*Subscription, *Article, error) {
	var sub Subscription
	lockSQL := ""
	if lock {
		lockSQL = s.forUpdate()
	}
	err := sqlx.GetContext(ctx, q, &sub, s.q(`SELECT `+prefixed(subscriptionColumns, "r")+` FROM mail_tokens t
		JOIN reply_subscriptions r ON r.id = t.subscription_id
		WHERE t.token_hash = ? AND t.purpose = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`+lockSQL),
		tokenHash, purpose, s.nowMS())
	if err != nil {
		return nil, nil, notFound("link", err)
	}
	a, err := s.articleByID(ctx, q, sub.ArticleID)
	if err != nil {
		return nil, nil, err
	}
	return &sub, a, nil
}

// ConfirmSubscription follows a confirmation link: the subscription starts
// and the link is spent. ErrNotFound for a link unknown, used or expired.
func (s *Store) ConfirmSubscription(ctx context.Context, tokenHash string) (*Subscription, *Article, error) {
	var sub *Subscription
	var a *Article
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var err error
		if sub, a, err = s.subscriptionByToken(ctx, tx, tokenHash, TokenConfirm, true); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM mail_tokens WHERE token_hash = ?`), tokenHash); err != nil {
			return fmt.Errorf("spend confirm link: %w", err)
		}
		if sub.Confirmed() {
			return nil
		}
		now := s.nowMS()
		sub.ConfirmedMS = &now
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE reply_subscriptions SET confirmed_at = ? WHERE id = ?`), now, sub.ID); err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		return nil
	})
	return sub, a, err
}

// Unsubscribe follows an unsubscribe link: the subscription, its links and
// its waiting replies are deleted. ErrNotFound once that is done.
func (s *Store) Unsubscribe(ctx context.Context, tokenHash string) (*Subscription, *Article, error) {
	var sub *Subscription
	var a *Article
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var err error
		if sub, a, err = s.subscriptionByToken(ctx, tx, tokenHash, TokenUnsubscribe, true); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM reply_subscriptions WHERE id = ?`), sub.ID); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return nil
	})
	return sub, a, err
}

// queueReplies puts a reply that was just published in the digest of each
// confirmed subscriber whose comment it answers, and schedules their next
// digest. A reply to oneself is not announced. It runs in the transaction
// that publishes the comment: a post that is approved at once, or the
// decision that approves a held one.
func (s *Store) queueReplies(ctx context.Context, tx sqlx.ExtContext, c *Comment) error {
	if c.ParentID == nil || c.Status != StatusApproved || c.Shadow {
		return nil
	}
	now := s.nowMS()
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO reply_pending (subscription_id, comment_id, created_at)
		SELECT r.id, ?, ? FROM comments p
		JOIN reply_subscriptions r ON r.article_id = p.article_id AND r.email_hash = p.email_hash
		WHERE p.id = ? AND r.confirmed_at IS NOT NULL AND r.email_hash <> ?
		ON CONFLICT DO NOTHING`), c.ID, now, *c.ParentID, c.EmailHash)
	if err != nil {
		return fmt.Errorf("queue reply notification: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE reply_subscriptions SET due_at = ?
		WHERE due_at IS NULL AND id IN (SELECT subscription_id FROM reply_pending WHERE comment_id = ?)`), now, c.ID); err != nil {
		return fmt.Errorf("schedule reply digest: %w", err)
	}
	return nil
}

// DueReplyDigests lists up to limit subscriptions whose digest is due,
// the longest waiting first.
func (s *Store) DueReplyDigests(ctx context.Context, limit int) ([]Subscription, error) {
	var rows []Subscription
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+subscriptionColumns+` FROM reply_subscriptions
		WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?`), s.nowMS(), limit); err != nil {
		return nil, fmt.Errorf("find due reply digests: %w", err)
	}
	return rows, nil
}

// Reply is a published reply and the subscriber's comment it answers.
type Reply struct {
	Comment Comment
	Parent  Comment
}

// ReplyDigest is what one digest email reports.
type ReplyDigest struct {
	Subscription Subscription
	Article      Article
	Replies      []Reply
}

// SendReplyDigest queues the digest of a subscription whose digest is due,
// in one transaction: build renders the email from the waiting replies
// that are still published (it is given them oldest first, at most 50)
// and returns it with the hash of the unsubscribe link it carries; the
// replies are then cleared and the next digest may go no earlier than gap
// from now. A subscription whose last digest is less than gap old is
// rescheduled instead. It tells whether an email was queued.
func (s *Store) SendReplyDigest(ctx context.Context, subID int64, gap time.Duration,
	build func(d *ReplyDigest) (m Mail, unsubscribeHash string, err error)) (bool, error) {
	sent := false
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		sent = false
		now := s.nowMS()
		var sub Subscription
		err := tx.GetContext(ctx, &sub, s.q(`SELECT `+subscriptionColumns+` FROM reply_subscriptions WHERE id = ?`+s.forUpdate()), subID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // unsubscribed meanwhile
		}
		if err != nil {
			return fmt.Errorf("read subscription: %w", err)
		}
		if sub.DueMS == nil || *sub.DueMS > now {
			return nil // another instance sent it
		}
		if sub.LastSentMS != nil && *sub.LastSentMS+gap.Milliseconds() > now {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE reply_subscriptions SET due_at = ? WHERE id = ?`), *sub.LastSentMS+gap.Milliseconds(), sub.ID)
			return err
		}
		d := ReplyDigest{Subscription: sub}
		a, err := s.articleByID(ctx, tx, sub.ArticleID)
		if err != nil {
			return err
		}
		d.Article = *a
		var rows []struct {
			Comment
			P Comment `db:"p"`
		}
		// Still published: a reply rejected or deleted since is dropped.
		if err := tx.SelectContext(ctx, &rows, s.q(`SELECT `+prefixed(commentColumns, "c")+`, `+aliased(commentColumns, "p")+`
			FROM reply_pending q JOIN comments c ON c.id = q.comment_id JOIN comments p ON p.id = c.parent_id
			WHERE q.subscription_id = ? AND c.status = 'approved' AND NOT c.shadow ORDER BY c.id LIMIT 50`), sub.ID); err != nil {
			return fmt.Errorf("read waiting replies: %w", err)
		}
		for _, r := range rows {
			d.Replies = append(d.Replies, Reply{Comment: r.Comment, Parent: r.P})
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM reply_pending WHERE subscription_id = ?`), sub.ID); err != nil {
			return fmt.Errorf("clear waiting replies: %w", err)
		}
		if len(d.Replies) == 0 {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE reply_subscriptions SET due_at = NULL WHERE id = ?`), sub.ID)
			return err
		}
		m, unsub, err := build(&d)
		if err != nil {
			return fmt.Errorf("render reply digest: %w", err)
		}
		m.SiteID = sub.SiteID
		if err := s.QueueMail(ctx, tx, m); err != nil {
			return err
		}
		if err := s.insertMailToken(ctx, tx, unsub, sub.ID, TokenUnsubscribe, 0); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE reply_subscriptions SET due_at = NULL, last_sent_at = ? WHERE id = ?`), now, sub.ID); err != nil {
			return fmt.Errorf("record reply digest: %w", err)
		}
		sent = true
		return nil
	})
	return sent, err
}

// aliased selects a column list of table alias a as "a.column" names,
// which sqlx maps into a struct field tagged db:"a".
func aliased(columns, alias string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = alias + "." + p + ` AS "` + alias + "." + p + `"`
	}
	return strings.Join(parts, ", ")
}

// ArticleSubscription is a subscription with the names of its site and
// article, as an author's export lists it.
type ArticleSubscription struct {
	Subscription
	SiteSlug   string `db:"site_slug"`
	ArticleKey string `db:"article_key"`
}

// SubscriptionsByEmailHash lists the reply subscriptions of an address,
// confirmed or not, oldest first.
func (s *Store) SubscriptionsByEmailHash(ctx context.Context, emailHash string) ([]ArticleSubscription, error) {
	var rows []ArticleSubscription
	if emailHash == "" {
		return rows, nil
	}
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+prefixed(subscriptionColumns, "r")+`, s.slug AS site_slug, a.key AS article_key
		FROM reply_subscriptions r JOIN sites s ON s.id = r.site_id JOIN articles a ON a.id = r.article_id
		WHERE r.email_hash = ? ORDER BY r.id`), emailHash); err != nil {
		return nil, fmt.Errorf("find subscriptions by email: %w", err)
	}
	return rows, nil
}

// ForgetMail erases what the mail features hold about an address: its
// reply subscriptions (with their links and waiting replies) and every
// mail to it in the outbox, sent or not. It returns how many
// subscriptions and mails it erased.
func (s *Store) ForgetMail(ctx context.Context, email, emailHash string) (subs, mails int64, err error) {
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM reply_subscriptions WHERE email_hash = ?`), emailHash)
		if err != nil {
			return fmt.Errorf("erase subscriptions: %w", err)
		}
		subs, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, s.q(`DELETE FROM mail_outbox WHERE LOWER(recipient) = ?`), strings.ToLower(strings.TrimSpace(email)))
		if err != nil {
			return fmt.Errorf("erase mail: %w", err)
		}
		mails, _ = res.RowsAffected()
		return nil
	})
	return subs, mails, err
}

// DeleteUnconfirmed deletes the subscriptions asked for before the cutoff
// and never confirmed: their address was kept only to wait for the link.
func (s *Store) DeleteUnconfirmed(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, s.q(`DELETE FROM reply_subscriptions WHERE confirmed_at IS NULL AND created_at < ?`), before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete unconfirmed subscriptions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
