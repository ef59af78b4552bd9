package mail

import (
	"cmp"
	"context"
	"strconv"
	"time"

	"github.com/parley/parley/schema"
)

// DefaultReplyDigestMinutes is a site's reply_digest_minutes when unset.
const DefaultReplyDigestMinutes = 30

// ConfirmData is what the confirmation email shows.
type ConfirmData struct {
	Article, ArticleURL string
	ConfirmURL          string
	Hours               int
}

// Subscribe builds a new comment's request for reply notifications, with
// its confirmation email, for PostOptions.Subscribe. article is the
// article if it exists already (nil on the first comment: key names it).
func (m *Mailer) Subscribe(email, emailHash, lang, key string, article *schema.Article) (*schema.Subscribe, error) {
	token, hash := NewToken()
	d := ConfirmData{Article: key, ConfirmURL: m.URL("/api/v1/mail/confirm/" + token), Hours: int(m.cfg.ConfirmTTL.Hours())}
	if article != nil {
		d.Article, d.ArticleURL = cmp.Or(article.Title, article.Key), article.URL
	}
	lang = Lang(lang)
	msg, err := m.Message("reply_confirm", email, lang, "reply_confirm", d)
	if err != nil {
		return nil, err
	}
	return &schema.Subscribe{Email: email, EmailHash: emailHash, Lang: lang, ConfirmHash: hash, ConfirmTTL: m.cfg.ConfirmTTL, Mail: msg}, nil
}

// DigestData is what a reply digest shows.
type DigestData struct {
	Article, ArticleURL string
	Replies             []ReplyItem
	UnsubscribeURL      string
}

// ReplyItem is one reply in a digest.
type ReplyItem struct {
	Author, Body, Parent, URL string
	At                        time.Time
}

// replyDigests queues the digests that are due.
func (m *Mailer) replyDigests(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := m.store.DueReplyDigests(ctx, 50)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("find due reply digests", "err", err)
			}
			return
		}
		if len(due) == 0 {
			return
		}
		for _, sub := range due {
			if err := m.replyDigest(ctx, sub); err != nil {
				if ctx.Err() == nil {
					m.log.Warn("reply digest", "subscription_id", sub.ID, "err", err)
				}
				return
			}
		}
		if len(due) < 50 {
			return
		}
	}
}

func (m *Mailer) replyDigest(ctx context.Context, sub schema.Subscription) error {
	site, err := m.store.SiteByID(ctx, sub.SiteID)
	if err != nil {
		return err
	}
	gap := time.Duration(site.Settings.ReplyDigestMinutes) * time.Minute
	sent, err := m.store.SendReplyDigest(ctx, sub.ID, gap, func(d *schema.ReplyDigest) (schema.Mail, string, error) {
		token, hash := NewToken()
		unsubscribe := m.URL("/api/v1/mail/unsubscribe/" + token)
		data := DigestData{Article: cmp.Or(d.Article.Title, d.Article.Key), ArticleURL: d.Article.URL, UnsubscribeURL: unsubscribe}
		for _, r := range d.Replies {
			item := ReplyItem{Author: r.Comment.Author, Body: r.Comment.Body, Parent: r.Parent.Body, At: r.Comment.CreatedAt()}
			if d.Article.URL != "" {
				item.URL = d.Article.URL + "#parley-comment-" + itoa(r.Comment.ID)
			}
			data.Replies = append(data.Replies, item)
		}
		msg, err := m.Message("reply_digest", d.Subscription.Email, d.Subscription.Lang, "reply_digest", data)
		if err != nil {
			return msg, "", err
		}
		// RFC 8058: mail clients show an unsubscribe button that POSTs
		// List-Unsubscribe=One-Click to the link, without a session.
		msg.Headers = map[string]string{
			"List-Unsubscribe":      "<" + unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}
		return msg, hash, nil
	})
	if err != nil {
		return err
	}
	if sent {
		m.metrics.digests.WithLabelValues("reply").Inc()
	}
	return nil
}

// PendingData is what a moderator's pending digest shows.
type PendingData struct {
	Total        int64
	Comments     []PendingItem
	DashboardURL string
}

// PendingItem is one held comment in the digest.
type PendingItem struct {
	Site, Article, Author, Body string
	At                          time.Time
}

// pendingDigests queues the moderators' pending digests that are due.
func (m *Mailer) pendingDigests(ctx context.Context) {
	ids, err := m.store.DueModeratorDigests(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("find due pending digests", "err", err)
		}
		return
	}
	for _, id := range ids {
		sent, err := m.store.SendModeratorDigest(ctx, id, func(d *schema.PendingDigest) (schema.Mail, error) {
			data := PendingData{Total: d.Total, DashboardURL: m.URL("/mod/")}
			lang := "en"
			for i, c := range d.Comments {
				data.Comments = append(data.Comments, PendingItem{Site: c.SiteSlug, Article: c.ArticleKey, Author: c.Author, Body: c.Body, At: c.CreatedAt()})
				if i == 0 {
					if site, err := m.store.SiteByID(ctx, c.SiteID); err == nil {
						lang = site.Settings.Language
					}
				}
			}
			return m.Message("pending_digest", d.Moderator.Email, lang, "pending_digest", data)
		})
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("pending digest", "moderator_id", id, "err", err)
			}
			return
		}
		if sent {
			m.metrics.digests.WithLabelValues("pending").Inc()
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
