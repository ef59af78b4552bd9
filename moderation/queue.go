package moderation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
)

// Queue is the moderators' side of moderation: decisions on comments,
// one at a time, in bulk or through one-time links, and bans. Every change
// is audited, taught to the site's classifier, and announced to the site's
// webhooks, all in the same transaction.
type Queue struct {
	store  *schema.Store
	notify *Notifier
	mail   *dsa.Renderer
	// appealURL makes the address of an appeal link from its token.
	appealURL func(token string) string
}

// NewQueue returns the queue service on the store; notify may be nil to
// announce nothing. Appeal links in statements of reasons start with
// http://localhost/appeal/ until SetAppealURL says otherwise.
func NewQueue(store *schema.Store, notify *Notifier) *Queue {
	return &Queue{store: store, notify: notify, mail: dsa.MustRenderer(),
		appealURL: func(token string) string { return "http://localhost/appeal/#" + token }}
}

// SetAppealURL sets how the link to appeal a decision is made from its
// token; call it before serving.
func (q *Queue) SetAppealURL(fn func(token string) string) { q.appealURL = fn }

// Action is a moderator's decision on a comment.
type Action string

// The actions. Restore moves a rejected or spam comment back to approved;
// approving a reported comment dismisses its reports.
const (
	ActApprove Action = "approve"
	ActReject  Action = "reject"
	ActSpam    Action = "spam"
	ActRestore Action = "restore"
)

// Status is the comment status the action leads to, or "" for an unknown
// action.
func (a Action) Status() string {
	switch a {
	case ActApprove, ActRestore:
		return schema.StatusApproved
	case ActReject:
		return schema.StatusRejected
	case ActSpam:
		return schema.StatusSpam
	}
	return ""
}

// label is what the models learn from the action: approving teaches ham
// (to both); filing as spam teaches the spam model, rejecting the reject
// model, so that an insult does not teach the spam filter that its words
// are spam, nor spam the reject model.
func (a Action) label() string {
	switch a.Status() {
	case schema.StatusApproved:
		return schema.LabelHam
	case schema.StatusRejected:
		return schema.LabelReject
	}
	return schema.LabelSpam
}

// Actor is who acts: a moderator, or nobody logged in when a one-time link
// from a webhook carries the decision.
type Actor struct {
	Moderator *schema.Moderator
}

// Name is how the audit log and webhooks name the actor.
func (a Actor) Name() string {
	if a.Moderator == nil {
		return schema.ActorLink
	}
	return a.Moderator.Email
}

func (a Actor) audit() schema.Audit { return schema.By(a.Moderator, schema.ActorLink) }

// may tells whether the actor may act on the site; a link is authorised
// by its token alone.
func (a Actor) may(siteID int64) bool {
	return a.Moderator == nil || a.Moderator.CanModerate(siteID)
}

// Request is a decision as a moderator makes it.
type Request struct {
	Action Action
	// Reason is shown in the audit log (and to webhooks); optional.
	Reason string
	// Expected is the status the moderator saw; when the comment is in
	// another one, nothing changes and Decide returns a *ConflictError.
	Expected string
	// Ground is the provision of the site's terms (one of its
	// terms_grounds) a statement of reasons cites for a reject or spam
	// decision; "" cites the first.
	Ground string
}

// MaxReason is the longest reason, in characters, a decision or ban takes.
const MaxReason = 500

// MaxBulk is how many comments one bulk decision may name.
const MaxBulk = 200

var statuses = []string{schema.StatusPending, schema.StatusApproved, schema.StatusRejected, schema.StatusSpam, schema.StatusDeleted}

func (r Request) validate() FieldErrors {
	f := FieldErrors{}
	if r.Action.Status() == "" {
		f["action"] = "one of approve, reject, spam, restore"
	}
	if r.Expected != "" && !slices.Contains(statuses, r.Expected) {
		f["expected_status"] = "one of " + strings.Join(statuses, ", ") + ", or leave it out"
	}
	if !plainText(r.Reason) || utf8.RuneCountInString(r.Reason) > MaxReason {
		f["reason"] = fmt.Sprintf("at most %d characters of text, without control characters other than newlines", MaxReason)
	}
	if !plainText(r.Ground) {
		f["ground"] = "one of the site's terms_grounds, or leave it out"
	}
	return f
}

// plainText tells whether s is valid UTF-8 without control characters
// other than newlines and tabs: a reason is text for people, and a NUL
// byte, which PostgreSQL cannot store, is never part of one.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

// FieldErrors are problems with a request's fields, by the API's field
// names; callers answer validation_failed with them.
type FieldErrors map[string]string

// Error lists the fields and their problems.
func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// ConflictError means a decision found the comment in another state than
// the moderator saw: another decision came first, or the action does not
// apply. Nothing was changed. It wraps schema.ErrConflict.
type ConflictError struct {
	// Comment is the comment as it is now.
	Comment *schema.Comment
	msg     string
}

func (e *ConflictError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, schema.ErrConflict) true.
func (e *ConflictError) Unwrap() error { return schema.ErrConflict }

// ErrLinkUsed means a one-time link was used, expired, or never existed.
var ErrLinkUsed = fmt.Errorf("this link was used or has expired: %w", schema.ErrNotFound)

// Decide applies a moderator's decision to comment id. A comment on a site
// the actor may not moderate is reported as not found, so that its
// existence does not leak.
func (q *Queue) Decide(ctx context.Context, actor Actor, id int64, r Request) (*schema.Comment, error) {
	if f := r.validate(); len(f) > 0 {
		return nil, f
	}
	c, err := q.store.Comment(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.may(c.SiteID) {
		return nil, fmt.Errorf("comment %d: %w", id, schema.ErrNotFound)
	}
	return q.decide(ctx, actor, c, r, "", nil)
}

// also is what a decision on a notice or an appeal adds to the decision's
// transaction.
type also struct {
	notice *schema.Notice
	then   func(ctx context.Context, tx sqlx.ExtContext, d schema.Decided) error
}

// decide applies a validated decision to c as last read; link is the hash
// of the action link that carries it, if any. A decision that removes a
// comment writes the statement of reasons its author is owed in the same
// transaction.
func (q *Queue) decide(ctx context.Context, actor Actor, c *schema.Comment, r Request, link string, more *also) (*schema.Comment, error) {
	id := c.ID
	// The site is read before the transaction: its announcer must not
	// wait for a second connection while holding one.
	site, err := q.store.SiteByID(ctx, c.SiteID)
	if err != nil {
		return nil, err
	}
	if r.Ground != "" && !slices.Contains(site.Settings.TermsGrounds, r.Ground) {
		return nil, FieldErrors{"ground": "one of the site's terms_grounds: " + strings.Join(site.Settings.TermsGrounds, "; ")}
	}
	announce := q.decided(site, actor, r.Action, strings.TrimSpace(r.Reason))
	a := actor.audit()
	a.Action, a.Detail = "comment."+string(r.Action), strings.TrimSpace(r.Reason)
	d := schema.Decision{
		CommentID: id, Expected: r.Expected, Status: r.Action.Status(),
		Learn: r.Action.label(), Features: Features, Link: link, Audit: a,
		Announce: announce,
	}
	if r.Action == ActRestore {
		d.From = []string{schema.StatusRejected, schema.StatusSpam}
	}
	d.Then = func(ctx context.Context, tx sqlx.ExtContext, res schema.Decided) error {
		if res.Changed && res.Before.Status != res.After.Status && (r.Action == ActReject || r.Action == ActSpam) {
			in := dsa.StatementInput{Decision: string(r.Action), Ground: r.Ground, Moderator: actor.Moderator,
				Note: strings.TrimSpace(r.Reason)}
			if more != nil {
				in.Notice = more.notice
			}
			if err := q.statement(ctx, tx, site, res.After, in, actor.audit()); err != nil {
				return err
			}
		}
		if more != nil && more.then != nil {
			return more.then(ctx, tx, res)
		}
		return nil
	}
	res, err := q.store.Decide(ctx, d)
	if errors.Is(err, schema.ErrConflict) && res.Before != nil {
		if link != "" && res.Before.Status == r.Expected {
			// The status is as the link expects: what changed is the text.
			return nil, &ConflictError{Comment: res.Before,
				msg: fmt.Sprintf("comment %d was edited since this link was sent: review it in the dashboard", id)}
		}
		return nil, conflict(res.Before, r)
	}
	if err != nil {
		return nil, err
	}
	if res.Changed {
		q.notify.Wake()
	}
	return res.After, nil
}

// decided returns the announcer of a decision on a comment of the site.
func (q *Queue) decided(site *schema.Site, actor Actor, action Action, reason string) schema.Announcer {
	if q.notify == nil {
		return nil
	}
	return q.notify.Decided(site, actor, action, reason)
}

func conflict(now *schema.Comment, r Request) *ConflictError {
	var msg string
	switch {
	case now.Status == schema.StatusDeleted:
		msg = fmt.Sprintf("comment %d was deleted by its author", now.ID)
	case r.Expected != "" && now.Status != r.Expected:
		msg = fmt.Sprintf("comment %d is %s now, not %s: another decision came first; reload it", now.ID, now.Status, r.Expected)
	case r.Action == ActRestore:
		msg = fmt.Sprintf("comment %d is %s: only rejected and spam comments can be restored", now.ID, now.Status)
	default:
		msg = fmt.Sprintf("comment %d is %s", now.ID, now.Status)
	}
	return &ConflictError{Comment: now, msg: msg}
}

// Outcome is the outcome of one comment of a bulk decision: the comment
// after it, or the error that kept it from being decided.
type Outcome struct {
	ID      int64
	Comment *schema.Comment
	Err     error
}

// DecideMany applies one decision to each of ids, each in its own
// transaction: a conflict on one does not hold up the others.
func (q *Queue) DecideMany(ctx context.Context, actor Actor, ids []int64, r Request) ([]Outcome, error) {
	f := r.validate()
	switch {
	case len(ids) == 0:
		f["ids"] = "name 1 to 200 comment ids"
	case len(ids) > MaxBulk:
		f["ids"] = fmt.Sprintf("at most %d ids at a time, got %d", MaxBulk, len(ids))
	}
	if len(f) > 0 {
		return nil, f
	}
	out := make([]Outcome, 0, len(ids))
	for _, id := range ids {
		c, err := q.Decide(ctx, actor, id, r)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, Outcome{ID: id, Comment: c, Err: err})
	}
	return out, nil
}
