package moderation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/parley/parley/schema"
)

// Webhook events.
const (
	// EventHeld: a new or edited comment waits in the pending queue. Spam
	// is not announced: it would drown the channel moderators watch.
	EventHeld = "comment.held"
	// EventReported: a published comment's reports reached the threshold.
	EventReported = "comment.reported"
	// EventDecided: a moderator, a one-time link or a ban decided a comment.
	EventDecided = "comment.decided"
)

// Notifier announces comments to a site's webhooks. It builds each event's
// payload — with one-time approve and reject links for held comments — and
// stores one delivery per URL in the outbox; a worker elsewhere sends them,
// so nothing here waits for a receiver. A nil Notifier announces nothing.
type Notifier struct {
	store *schema.Store
	log   *slog.Logger
	// linkURL makes the address of a one-time link from its token.
	linkURL func(token string) string
	// wake nudges the delivery worker after an enqueue; may be nil.
	wake func()
}

// NewNotifier returns a notifier on the store. linkURL turns a one-time
// link's token into its full URL; wake, if not nil, is called after each
// event is stored, so that the delivery worker need not wait for its next
// poll.
func NewNotifier(store *schema.Store, log *slog.Logger, linkURL func(token string) string, wake func()) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{store: store, log: log, linkURL: linkURL, wake: wake}
}

// Sign returns the X-Parley-Signature of a payload: "sha256=" and the hex
// HMAC-SHA256 of the body with the site's webhook secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Event is a webhook payload.
type Event struct {
	Event     string         `json:"event"`
	ID        string         `json:"id"` // the same for every URL the event goes to
	CreatedAt time.Time      `json:"created_at"`
	Site      string         `json:"site"`
	Comment   EventComment   `json:"comment"`
	Article   EventArticle   `json:"article"`
	Links     *EventLinks    `json:"links,omitempty"`
	Reports   []EventReport  `json:"reports,omitempty"`
	Decision  *EventDecision `json:"decision,omitempty"`
}

// EventComment is the comment an event is about.
type EventComment struct {
	ID          int64           `json:"id"`
	ParentID    *int64          `json:"parent_id"`
	Author      string          `json:"author"`
	Body        string          `json:"body"`
	Status      string          `json:"status"`
	CreatedAt   time.Time       `json:"created_at"`
	Reasons     json.RawMessage `json:"reasons"`
	ReportCount int64           `json:"report_count"`
}

// EventArticle is the article the comment is under.
type EventArticle struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// EventLinks are a held comment's one-time links: opening one shows a
// confirmation page, whose button carries the decision out once.
type EventLinks struct {
	Approve   string    `json:"approve"`
	Reject    string    `json:"reject"`
	ExpiresAt time.Time `json:"expires_at"`
}

// EventReport is one open report of a reported comment.
type EventReport struct {
	Reason    string    `json:"reason"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// EventDecision is what was decided, by whom.
type EventDecision struct {
	Action string `json:"action"`
	Before string `json:"before"`
	After  string `json:"after"`
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
}

// Held announces a comment that waits in the pending queue, with links to
// approve or reject it.
func (n *Notifier) Held(ctx context.Context, site *schema.Site, c *schema.Comment) {
	if n == nil || len(site.Settings.Webhooks.URLs) == 0 || c.Status != schema.StatusPending {
		return
	}
	ev, err := n.event(ctx, EventHeld, site, c)
	if err != nil {
		n.log.WarnContext(ctx, "webhook event", "event", EventHeld, "comment_id", c.ID, "err", err)
		return
	}
	approve, reject, expires, err := newLinks(ctx, n.store, c.ID)
	if err != nil {
		n.log.WarnContext(ctx, "webhook links", "comment_id", c.ID, "err", err)
		return
	}
	ev.Links = &EventLinks{Approve: n.linkURL(approve), Reject: n.linkURL(reject), ExpiresAt: expires.UTC()}
	n.enqueue(ctx, site, ev)
}

// Reported announces a published comment whose reports reached the site's
// threshold, with the reports.
func (n *Notifier) Reported(ctx context.Context, site *schema.Site, c *schema.Comment) {
	if n == nil || len(site.Settings.Webhooks.URLs) == 0 {
		return
	}
	ev, err := n.event(ctx, EventReported, site, c)
	if err == nil {
		var reports map[int64][]schema.Report
		reports, err = n.store.OpenReports(ctx, []int64{c.ID})
		for _, r := range reports[c.ID] {
			ev.Reports = append(ev.Reports, EventReport{Reason: r.Reason, Note: r.Note, CreatedAt: r.CreatedAt()})
		}
	}
	if err != nil {
		n.log.WarnContext(ctx, "webhook event", "event", EventReported, "comment_id", c.ID, "err", err)
		return
	}
	n.enqueue(ctx, site, ev)
}

// Decided announces a decision that changed a comment's status or queue.
func (n *Notifier) Decided(ctx context.Context, d schema.Decided, actor Actor, action Action, reason string) {
	if n == nil {
		return
	}
	site, err := n.store.SiteByID(ctx, d.After.SiteID)
	if err != nil {
		n.log.WarnContext(ctx, "webhook event", "event", EventDecided, "comment_id", d.After.ID, "err", err)
		return
	}
	if len(site.Settings.Webhooks.URLs) == 0 {
		return
	}
	ev, err := n.event(ctx, EventDecided, site, d.After)
	if err != nil {
		n.log.WarnContext(ctx, "webhook event", "event", EventDecided, "comment_id", d.After.ID, "err", err)
		return
	}
	ev.Decision = &EventDecision{Action: string(action), Before: d.Before.Status, After: d.After.Status, By: actor.Name(), Reason: reason}
	n.enqueue(ctx, site, ev)
}

func (n *Notifier) event(ctx context.Context, name string, site *schema.Site, c *schema.Comment) (*Event, error) {
	a, err := n.store.ArticleByID(ctx, c.ArticleID)
	if err != nil {
		return nil, err
	}
	ev := &Event{
		Event: name, ID: newToken()[:22], CreatedAt: n.store.Now().UTC(), Site: site.Slug,
		Comment: EventComment{
			ID: c.ID, Author: c.Author, Body: c.Body, Status: c.Status, CreatedAt: c.CreatedAt(),
			Reasons: json.RawMessage(c.Reasons), ReportCount: c.ReportCount,
		},
		Article: EventArticle{Key: a.Key, Title: a.Title, URL: a.URL},
	}
	if c.ParentID.Valid {
		p := c.ParentID.Int64
		ev.Comment.ParentID = &p
	}
	if !json.Valid(ev.Comment.Reasons) {
		ev.Comment.Reasons = json.RawMessage(`[]`)
	}
	return ev, nil
}

func (n *Notifier) enqueue(ctx context.Context, site *schema.Site, ev *Event) {
	b, err := json.Marshal(ev)
	if err == nil {
		err = n.store.EnqueueWebhook(ctx, site.ID, ev.Event, string(b), site.Settings.Webhooks.URLs)
	}
	if err != nil {
		n.log.WarnContext(ctx, "enqueue webhook", "event", ev.Event, "site", site.Slug, "err", err)
		return
	}
	if n.wake != nil {
		n.wake()
	}
}
