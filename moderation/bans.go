package moderation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/schema"
)

// BanRequest bans the author of a comment on the comment's site.
type BanRequest struct {
	CommentID int64
	// Kind is which of the comment's identities to ban: "email", "ip" or
	// "reader".
	Kind   string
	Reason string
	// Shadow hides the ban from its author: their comments look published
	// to them and stay invisible to everybody else.
	Shadow bool
	// ExpiresAt ends the ban; nil bans for good.
	ExpiresAt *time.Time
	// RejectPending rejects the identity's other pending comments on the
	// site at once. They are rejected for who wrote them, not for what they
	// say, so the classifier learns nothing from them.
	RejectPending bool
	// SiteID and IPHash, without a comment, ban an address group the
	// moderator names (kind "ip"): IPHash is the keyed hash of the group,
	// as comments store it.
	SiteID int64
	IPHash string
	// Ground is the provision of the site's terms the statement of reasons
	// to the banned author cites; "" cites the first of terms_grounds.
	Ground string
}

var banKinds = []string{"email", "ip", "reader"}

// Ban bans the identity of kind that wrote the request's comment, and
// returns the ban and the comments it rejected. A comment on a site the
// actor may not moderate is reported as not found.
func (q *Queue) Ban(ctx context.Context, actor Actor, r BanRequest) (*schema.Ban, []*schema.Comment, error) {
	f := FieldErrors{}
	if !slices.Contains(banKinds, r.Kind) {
		f["kind"] = "one of email, ip, reader"
	}
	reason := strings.TrimSpace(r.Reason)
	switch n := utf8.RuneCountInString(reason); {
	case !plainText(reason) || n > MaxReason:
		f["reason"] = fmt.Sprintf("at most %d characters of text, without control characters other than newlines", MaxReason)
	case n == 0:
		f["reason"] = "required: say why, for the audit log and the other moderators"
	}
	if r.ExpiresAt != nil && !r.ExpiresAt.After(q.store.Now()) {
		f["expires_at"] = "must be in the future (RFC 3339, e.g. 2030-01-02T15:04:05Z), or left out for a ban without end"
	}
	byAddress := r.CommentID <= 0 && r.IPHash != ""
	switch {
	case byAddress && r.Kind != "ip":
		f["kind"] = "an address given as ip bans kind ip"
	case byAddress && (r.SiteID <= 0 || !actor.may(r.SiteID)):
		f["site"] = "required with ip: a site you moderate"
	case r.CommentID <= 0 && !byAddress:
		f["comment_id"] = "required: the id of a comment by the author to ban, or an ip and a site"
	}
	if len(f) > 0 {
		return nil, nil, f
	}
	if byAddress {
		c := &schema.Comment{SiteID: r.SiteID, IPHash: r.IPHash}
		return q.ban(ctx, actor, r, reason, c)
	}
	c, err := q.store.Comment(ctx, r.CommentID)
	if err != nil || !actor.may(c.SiteID) {
		return nil, nil, FieldErrors{"comment_id": fmt.Sprintf("no comment %d on a site you moderate", r.CommentID)}
	}
	return q.ban(ctx, actor, r, reason, c)
}

// ban bans the identity of kind of c, a comment or, without an id, just
// the site and the address group to ban.
func (q *Queue) ban(ctx context.Context, actor Actor, r BanRequest, reason string, c *schema.Comment) (*schema.Ban, []*schema.Comment, error) {
	value := map[string]string{"email": c.EmailHash, "ip": c.IPHash, "reader": c.ReaderID}[r.Kind]
	if value == "" {
		what := map[string]string{"email": "gave no email", "ip": "has no IP address on record", "reader": "was written without a reader token"}[r.Kind]
		return nil, nil, FieldErrors{"kind": fmt.Sprintf("comment %d %s: ban another kind of identity", c.ID, what)}
	}
	site, err := q.store.SiteByID(ctx, c.SiteID)
	if err != nil {
		return nil, nil, err
	}
	if r.Ground != "" && !slices.Contains(site.Settings.TermsGrounds, r.Ground) {
		return nil, nil, FieldErrors{"ground": "one of the site's terms_grounds: " + strings.Join(site.Settings.TermsGrounds, "; ")}
	}
	if r.Shadow && site.Settings.EUDSA {
		// Art. 17 forbids hiding an author's comments silently when their
		// email is known: under eu_dsa a shadow ban is made only where
		// its statement of reasons can reach the author.
		email := ""
		if c.ID > 0 {
			if email, err = q.store.CommentContact(ctx, c.ID); err != nil {
				return nil, nil, err
			}
		}
		if !Mailable(email) {
			return nil, nil, FieldErrors{"shadow": "the site has eu_dsa on and this comment's author left no email, so a statement of reasons " +
				"cannot tell them their comments are hidden: make a visible ban (shadow false)"}
		}
	}
	b := &schema.Ban{
		SiteID: c.SiteID, Kind: r.Kind, Value: value, Reason: reason, Shadow: r.Shadow,
	}
	if c.ID > 0 {
		b.CommentID = new(c.ID)
	}
	if r.ExpiresAt != nil {
		b.ExpiresMS = new(r.ExpiresAt.UnixMilli())
	}
	if actor.Moderator != nil {
		b.ModeratorID = new(actor.Moderator.ID)
	}
	a := actor.audit()
	a.Detail = reason
	// The ban's id, the announced reason, is known only inside the
	// transaction.
	var announce schema.Announcer
	if r.RejectPending {
		if q.notify.Decided(site, actor, ActReject, "") != nil {
			announce = func(ctx context.Context, ch schema.Change) ([]schema.Announcement, error) {
				return q.notify.Decided(site, actor, ActReject, fmt.Sprintf("ban #%d", b.ID))(ctx, ch)
			}
		}
	}
	rejected, err := q.store.CreateBanThen(ctx, b, r.RejectPending, &a, announce, q.banStatements(site, actor, c, r, reason))
	if err != nil {
		return nil, nil, err
	}
	if len(rejected) > 0 {
		q.notify.Wake()
	}
	out := make([]*schema.Comment, 0, len(rejected))
	for _, d := range rejected {
		out = append(out, d.After)
	}
	return b, out, nil
}

// Unban lifts a ban. A ban on a site the actor may not moderate is reported
// as not found.
func (q *Queue) Unban(ctx context.Context, actor Actor, id int64) error {
	b, err := q.store.Ban(ctx, id)
	if err != nil {
		return err
	}
	if !actor.may(b.SiteID) {
		return fmt.Errorf("ban %d: %w", id, schema.ErrNotFound)
	}
	a := actor.audit()
	return q.store.DeleteBan(ctx, id, &a)
}
