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
// payload — with one-time approve and reject links for held comments — as
// an announcer the store runs inside the transaction of the change, which
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

// Held returns the announcer of a new or edited comment on the site: a
// comment that enters the pending queue is announced, with links to
// approve or reject it. The event replaces the comment's undelivered
// comment.held events and the links spend its earlier ones, so however
// often a comment is held it has one event waiting and one live pair.
func (n *Notifier) Held(site *schema.Site) schema.Announcer {
	if n == nil || len(site.Settings.Webhooks.URLs) == 0 {
		return nil
	}
	return func(ctx context.Context, ch schema.Change) ([]schema.Announcement, error) {
		c := ch.After
		if c.Status != schema.StatusPending || (ch.Before != nil && ch.Before.Status == schema.StatusPending) {
			return nil, nil
		}
		ev := n.event(EventHeld, site, c, ch.Article)
		approve, reject, pair := newToken(), newToken(), newToken()
		expires := n.store.Now().Add(LinkTTL)
		ev.Links = &EventLinks{Approve: n.linkURL(approve), Reject: n.linkURL(reject), ExpiresAt: expires.UTC()}
		a, err := announcement(site, c, ev)
		if err != nil {
			return nil, err
		}
		a.Replace = true
		for _, l := range []struct {
			token  string
			action Action
		}{{approve, ActApprove}, {reject, ActReject}} {
			a.Links = append(a.Links, schema.ActionLink{TokenHash: hashToken(l.token), CommentID: c.ID, Action: string(l.action),
				Pair: pair, CommentVersion: c.Version, ExpiresMS: expires.UnixMilli()})
		}
		return []schema.Announcement{a}, nil
	}
}

// Reported returns the announcer of a published comment whose reports
// reached the site's threshold, with the reports.
func (n *Notifier) Reported(site *schema.Site) schema.Announcer {
	if n == nil || len(site.Settings.Webhooks.URLs) == 0 {
		return nil
	}
	return func(ctx context.Context, ch schema.Change) ([]schema.Announcement, error) {
		ev := n.event(EventReported, site, ch.After, ch.Article)
		for _, r := range ch.Reports {
			ev.Reports = append(ev.Reports, EventReport{Reason: r.Reason, Note: r.Note, CreatedAt: r.CreatedAt()})
		}
		a, err := announcement(site, ch.After, ev)
		if err != nil {
			return nil, err
		}
		return []schema.Announcement{a}, nil
	}
}

// Decided returns the announcer of decisions by actor (that changed a
// comment's status or queue) on comments of the site.
func (n *Notifier) Decided(site *schema.Site, actor Actor, action Action, reason string) schema.Announcer {
	if n == nil || len(site.Settings.Webhooks.URLs) == 0 {
		return nil
	}
	return func(ctx context.Context, ch schema.Change) ([]schema.Announcement, error) {
		ev := n.event(EventDecided, site, ch.After, ch.Article)
		ev.Decision = &EventDecision{Action: string(action), Before: ch.Before.Status, After: ch.After.Status, By: actor.Name(), Reason: reason}
		a, err := announcement(site, ch.After, ev)
		if err != nil {
			return nil, err
		}
		return []schema.Announcement{a}, nil
	}
}

// Wake tells the delivery worker that events were stored.
func (n *Notifier) Wake() {
	if n != nil && n.wake != nil {
		n.wake()
	}
}

func (n *Notifier) event(name string, site *schema.Site, c *schema.Comment, a *schema.Article) *Event {
	ev := &Event{
		Event: name, ID: newToken()[:22], CreatedAt: n.store.Now().UTC(), Site: site.Slug,
		Comment: EventComment{
			ID: c.ID, Author: c.Author, Body: c.Body, Status: c.Status, CreatedAt: c.CreatedAt(),
			Reasons: json.RawMessage(c.Reasons), ReportCount: c.ReportCount,
		},
		Article: EventArticle{Key: a.Key, Title: a.Title, URL: a.URL},
	}
	if c.ParentID != nil {
		ev.Comment.ParentID = new(*c.ParentID)
	}
	if !json.Valid(ev.Comment.Reasons) {
		ev.Comment.Reasons = json.RawMessage(`[]`)
	}
	return ev
}

func announcement(site *schema.Site, c *schema.Comment, ev *Event) (schema.Announcement, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return schema.Announcement{}, err
	}
	return schema.Announcement{SiteID: site.ID, CommentID: c.ID, Event: ev.Event, Payload: string(b), URLs: site.Settings.Webhooks.URLs}, nil
}
