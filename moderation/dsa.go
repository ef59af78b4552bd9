package moderation

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/parley/parley/moderation/dsa"
	"github.com/parley/parley/schema"
)

// The Digital Services Act side of the queue: statements of reasons
// (Art. 17), notices (Art. 16), appeals (Art. 20). Every email is queued in
// the transaction of the change that owes it.

// Mailable tells whether email is an address a statement of reasons can be
// sent to: the widget takes anything with an @, the mail outbox only what
// net/mail parses as one plain address.
func Mailable(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email
}

// statement writes the statement of reasons of a decision on c inside tx,
// when the site has eu_dsa on and the author left an email; otherwise
// nothing is owed.
func (q *Queue) statement(ctx context.Context, tx sqlx.ExtContext, site *schema.Site, c *schema.Comment, in dsa.StatementInput, a schema.Audit) error {
	if !site.Settings.EUDSA {
		return nil
	}
	email, err := q.store.ContactIn(ctx, tx, c.ID)
	if err != nil || !Mailable(email) {
		return err
	}
	in.Site, in.Comment, in.Email, in.Now, in.AppealURL = site, c, email, q.store.Now(), q.appealURL
	in.Token = newToken()
	in.TokenHash = hashToken(in.Token)
	st, m, err := q.mail.Statement(in)
	if err != nil {
		return err
	}
	return q.store.AddStatement(ctx, tx, st, m, a)
}

// PostStatement returns what a new comment's transaction asks for the
// statement of reasons its automated rejection, filing as spam or hiding
// (a shadow ban) owes the author who left email; nil when the site does
// not have eu_dsa on or there is no email.
func (q *Queue) PostStatement(site *schema.Site, email string) func(c *schema.Comment) (*schema.Statement, *schema.Mail, error) {
	if !site.Settings.EUDSA || !Mailable(email) {
		return nil
	}
	return func(c *schema.Comment) (*schema.Statement, *schema.Mail, error) {
		var decision string
		switch {
		case c.Shadow:
			decision = dsa.DecisionShadow
		case c.Status == schema.StatusRejected:
			decision = dsa.DecisionReject
		case c.Status == schema.StatusSpam:
			decision = dsa.DecisionSpam
		default:
			return nil, nil, nil
		}
		token := newToken()
		st, m, err := q.mail.Statement(dsa.StatementInput{Site: site, Comment: c, Email: email, Decision: decision,
			Automated: true, Token: token, TokenHash: hashToken(token), AppealURL: q.appealURL, Now: q.store.Now()})
		if err != nil {
			return nil, nil, err
		}
		return st, &m, nil
	}
}

// EditStatement returns what an edit's transaction runs for the statement
// of reasons owed when the policy rejects or files as spam the new text of
// a comment that was not already removed.
func (q *Queue) EditStatement(site *schema.Site) func(ctx context.Context, tx sqlx.ExtContext, before, after *schema.Comment) error {
	return func(ctx context.Context, tx sqlx.ExtContext, before, after *schema.Comment) error {
		var decision string
		switch {
		case before.Status == after.Status:
			return nil
		case after.Status == schema.StatusRejected:
			decision = dsa.DecisionReject
		case after.Status == schema.StatusSpam:
			decision = dsa.DecisionSpam
		default:
			return nil
		}
		return q.statement(ctx, tx, site, after, dsa.StatementInput{Decision: decision, Automated: true}, schema.By(nil, schema.ActorPolicy))
	}
}

// NoticeRequest is a notice of illegal content as a notifier sends it.
type NoticeRequest struct {
	Category    string
	Explanation string
	Name        string
	Email       string
	GoodFaith   bool
}

// Notice limits.
const (
	MaxExplanation = 5000
	MaxNotifier    = 200
)

// ValidateNotice checks a notice's fields (Art. 16(2)) and returns the
// explanation, name and email cleaned.
func ValidateNotice(r NoticeRequest) (NoticeRequest, FieldErrors) {
	f := FieldErrors{}
	if !slices.Contains(dsa.Categories, r.Category) {
		f["category"] = "one of " + strings.Join(dsa.Categories, ", ")
	}
	r.Explanation = strings.TrimSpace(r.Explanation)
	if n := utf8.RuneCountInString(r.Explanation); n < 10 || n > MaxExplanation || !plainText(r.Explanation) {
		f["explanation"] = fmt.Sprintf("required: 10 to %d characters explaining why the comment is illegal", MaxExplanation)
	}
	r.Name = strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > MaxNotifier || !plainText(r.Name) || strings.ContainsAny(r.Name, "\n\r") {
		f["name"] = fmt.Sprintf("required: your name, 1 to %d characters on one line", MaxNotifier)
	}
	r.Email = strings.TrimSpace(r.Email)
	if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
		f["email"] = "required: your email address, such as name@example.com, for the confirmation and the decision"
	}
	if !r.GoodFaith {
		f["good_faith"] = "required: confirm that you believe in good faith that the information is accurate and complete"
	}
	return r, f
}

// FileNotice stores a notice about comment c of site and queues its
// confirmation of receipt (Art. 16(4)).
func (q *Queue) FileNotice(ctx context.Context, site *schema.Site, c *schema.Comment, r NoticeRequest) (*schema.Notice, error) {
	r, f := ValidateNotice(r)
	if len(f) > 0 {
		return nil, f
	}
	n := &schema.Notice{SiteID: site.ID, CommentID: c.ID, Category: r.Category, Explanation: r.Explanation,
		NotifierName: r.Name, NotifierEmail: r.Email, AuthorEmailHash: c.EmailHash}
	err := q.store.CreateNotice(ctx, n, func(n *schema.Notice) (schema.Mail, error) {
		return q.mail.Render(site, dsa.KindNoticeReceipt, n.NotifierEmail, dsa.Data{
			NoticeID: n.ID, Date: dsa.Day(n.CreatedAt(), site), CommentID: c.ID, Category: dsa.CategoryLabel(n.Category, site.Settings.Language),
			Explanation: n.Explanation, NotifierName: n.NotifierName, Trusted: n.Trusted})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Notice decisions.
const (
	NoticeRemove  = "remove"  // the comment is rejected
	NoticeDismiss = "dismiss" // nothing to do
)

// NoticeDecision is a moderator's decision on a notice.
type NoticeDecision struct {
	Action string
	// Unfounded marks a dismissed notice as manifestly unfounded, for the
	// misuse counters (Art. 23).
	Unfounded bool
	Ground    string
	Reason    string
}

// DecideNotice decides a notice: removing rejects the comment through the
// decision path (statement of reasons to the author, the classifier
// taught, caches and counts kept right), and in the same transaction
// closes the notice and tells the notifier; dismissing closes it and tells
// the notifier. A notice of a site the actor may not moderate is reported
// as not found.
func (q *Queue) DecideNotice(ctx context.Context, actor Actor, id int64, d NoticeDecision) (*schema.Notice, error) {
	f := FieldErrors{}
	switch d.Action {
	case NoticeRemove:
		if d.Unfounded {
			f["unfounded"] = "only a dismissed notice can be manifestly unfounded"
		}
	case NoticeDismiss:
	default:
		f["action"] = "one of remove, dismiss"
	}
	d.Reason = strings.TrimSpace(d.Reason)
	if !plainText(d.Reason) || utf8.RuneCountInString(d.Reason) > MaxReason {
		f["reason"] = fmt.Sprintf("at most %d characters of text", MaxReason)
	}
	if len(f) > 0 {
		return nil, f
	}
	n, err := q.store.Notice(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.may(n.SiteID) {
		return nil, fmt.Errorf("notice %d: %w", id, schema.ErrNotFound)
	}
	if n.Status != schema.NoticeOpen {
		return nil, fmt.Errorf("notice %d was decided already (%s): %w", id, n.Status, schema.ErrConflict)
	}
	site, err := q.store.SiteByID(ctx, n.SiteID)
	if err != nil {
		return nil, err
	}
	out := schema.NoticeOutcome{ID: n.ID, Status: schema.NoticeDismissed, Unfounded: d.Unfounded, Reason: d.Reason, Audit: actor.audit()}
	if d.Action == NoticeRemove {
		out.Status = schema.NoticeActioned
	}
	out.Mail, err = q.mail.Render(site, dsa.KindNoticeDecision, n.NotifierEmail, dsa.Data{
		NoticeID: n.ID, CommentID: n.CommentID, NotifierName: n.NotifierName, Actioned: d.Action == NoticeRemove, Reason: d.Reason})
	if err != nil {
		return nil, err
	}
	if d.Action == NoticeDismiss {
		if err := q.store.CloseNotice(ctx, out); err != nil {
			return nil, err
		}
		return q.store.Notice(ctx, id)
	}
	c, err := q.store.Comment(ctx, n.CommentID)
	if err != nil {
		return nil, err
	}
	reason := fmt.Sprintf("notice #%d", n.ID)
	if d.Reason != "" {
		reason += ": " + d.Reason
	}
	_, err = q.decide(ctx, actor, c, Request{Action: ActReject, Reason: reason, Ground: d.Ground}, "", &also{
		notice: n,
		then: func(ctx context.Context, tx sqlx.ExtContext, _ schema.Decided) error {
			return q.store.CloseNoticeIn(ctx, tx, out)
		},
	})
	if err != nil {
		return nil, err
	}
	return q.store.Notice(ctx, id)
}

// AppealInfo is what the author's appeal page shows.
type AppealInfo struct {
	Statement *schema.Statement
	Site      *schema.Site
	Appeal    *schema.Appeal // nil until appealed
}

// ErrAppealClosed means the six months to appeal are over.
var ErrAppealClosed = errors.New("the time to appeal this decision is over")

// AppealByToken finds the statement an appeal link is for.
func (q *Queue) AppealByToken(ctx context.Context, token string) (*AppealInfo, error) {
	if token == "" || len(token) > 100 {
		return nil, fmt.Errorf("appeal link: %w", schema.ErrNotFound)
	}
	st, err := q.store.StatementByToken(ctx, hashToken(token))
	if err != nil {
		return nil, err
	}
	site, err := q.store.SiteByID(ctx, st.SiteID)
	if err != nil {
		return nil, err
	}
	info := &AppealInfo{Statement: st, Site: site}
	if info.Appeal, err = q.store.AppealOf(ctx, st.ID); err != nil {
		return nil, err
	}
	return info, nil
}

// FileAppeal stores the author's appeal against a statement's decision and
// queues its confirmation of receipt; ErrConflict when it was appealed
// already, ErrAppealClosed after six months.
func (q *Queue) FileAppeal(ctx context.Context, token, explanation string) (*schema.Appeal, error) {
	explanation = strings.TrimSpace(explanation)
	if n := utf8.RuneCountInString(explanation); n < 10 || n > MaxExplanation || !plainText(explanation) {
		return nil, FieldErrors{"explanation": fmt.Sprintf("required: 10 to %d characters saying why the decision is wrong", MaxExplanation)}
	}
	info, err := q.AppealByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	st, site := info.Statement, info.Site
	if !q.store.Now().Before(st.AppealUntil()) {
		return nil, ErrAppealClosed
	}
	if st.Email == "" {
		return nil, fmt.Errorf("the author's data was erased: %w", schema.ErrNotFound)
	}
	a := &schema.Appeal{SiteID: st.SiteID, StatementID: st.ID, CommentID: st.CommentID, Explanation: explanation}
	err = q.store.CreateAppeal(ctx, a, func(a *schema.Appeal) (schema.Mail, error) {
		return q.mail.Render(site, dsa.KindAppealReceipt, st.Email, dsa.Data{AppealID: a.ID, CommentID: st.CommentID,
			Decision: dsa.DecisionLabel(st.Decision, site)})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Appeal outcomes.
const (
	AppealReverse = "reverse" // the comment is restored
	AppealUphold  = "uphold"  // the decision stands
)

// ErrSameModerator means the moderator who took a decision tried to decide
// the appeal against it while another moderator could.
var ErrSameModerator = errors.New("another moderator must decide an appeal against your own decision (Art. 20(6))")

// DecideAppeal decides an appeal. Reversing restores the comment through
// the decision path (caches, counts and the classifier follow) and, in
// the same transaction, closes the appeal and tells the author; a ban's
// reversal lifts the bans made from the comment first. The moderator who
// took the decision may not decide its appeal when the site has another.
func (q *Queue) DecideAppeal(ctx context.Context, actor Actor, id int64, outcome, reason string) (*schema.Appeal, error) {
	f := FieldErrors{}
	if outcome != AppealReverse && outcome != AppealUphold {
		f["outcome"] = "one of reverse, uphold"
	}
	reason = strings.TrimSpace(reason)
	if !plainText(reason) || utf8.RuneCountInString(reason) > MaxReason {
		f["reason"] = fmt.Sprintf("at most %d characters of text", MaxReason)
	}
	if len(f) > 0 {
		return nil, f
	}
	a, err := q.store.Appeal(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.may(a.SiteID) || actor.Moderator == nil {
		return nil, fmt.Errorf("appeal %d: %w", id, schema.ErrNotFound)
	}
	if a.Status != schema.AppealOpen {
		return nil, fmt.Errorf("appeal %d was decided already (%s): %w", id, a.Status, schema.ErrConflict)
	}
	st, err := q.store.Statement(ctx, a.StatementID)
	if err != nil {
		return nil, err
	}
	if st.ModeratorID != nil && *st.ModeratorID == actor.Moderator.ID {
		n, err := q.store.ActiveModerators(ctx, a.SiteID)
		if err != nil {
			return nil, err
		}
		if n > 1 {
			return nil, ErrSameModerator
		}
	}
	site, err := q.store.SiteByID(ctx, a.SiteID)
	if err != nil {
		return nil, err
	}
	out := schema.AppealOutcome{ID: a.ID, Status: schema.AppealUpheld, Reason: reason, Audit: actor.audit()}
	if outcome == AppealReverse {
		out.Status = schema.AppealReversed
	}
	if st.Email != "" {
		if out.Mail, err = q.mail.Render(site, dsa.KindAppealDecision, st.Email, dsa.Data{AppealID: a.ID, CommentID: a.CommentID,
			Reversed: outcome == AppealReverse, Reason: reason}); err != nil {
			return nil, err
		}
	}
	// A reversal lifts the bans a ban's statement was about, and restores
	// the comment when the decision hid it.
	if outcome == AppealReverse && (st.Decision == dsa.DecisionBan || st.Decision == dsa.DecisionShadow) {
		if err := q.liftBans(ctx, actor, st); err != nil {
			return nil, err
		}
	}
	c, err := q.store.Comment(ctx, a.CommentID)
	if err != nil {
		return nil, err
	}
	hidden := c.Status == schema.StatusRejected || c.Status == schema.StatusSpam
	if outcome == AppealUphold || st.Decision == dsa.DecisionBan || !hidden {
		if err := q.store.CloseAppeal(ctx, out); err != nil {
			return nil, err
		}
		return q.store.Appeal(ctx, id)
	}
	note := fmt.Sprintf("appeal #%d", a.ID)
	if reason != "" {
		note += ": " + reason
	}
	_, err = q.decide(ctx, actor, c, Request{Action: ActRestore, Reason: note}, "", &also{
		then: func(ctx context.Context, tx sqlx.ExtContext, _ schema.Decided) error {
			return q.store.CloseAppealIn(ctx, tx, out)
		},
	})
	if err != nil {
		return nil, err
	}
	return q.store.Appeal(ctx, id)
}

// liftBans lifts the active bans made from the statement's comment.
func (q *Queue) liftBans(ctx context.Context, actor Actor, st *schema.Statement) error {
	bans, err := q.store.Bans(ctx, []int64{st.SiteID}, 100000)
	if err != nil {
		return err
	}
	for _, b := range bans {
		if b.CommentID != nil && *b.CommentID == st.CommentID {
			if err := q.Unban(ctx, actor, b.ID); err != nil && !errors.Is(err, schema.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// banStatements returns the then of a ban's transaction: the statement of
// reasons for the ban to the author of its comment, and one for each
// pending comment it rejected.
func (q *Queue) banStatements(site *schema.Site, actor Actor, c *schema.Comment, r BanRequest, reason string) func(ctx context.Context, tx sqlx.ExtContext, rejected []schema.Decided) error {
	return func(ctx context.Context, tx sqlx.ExtContext, rejected []schema.Decided) error {
		if c.ID > 0 {
			decision := dsa.DecisionBan
			if r.Shadow {
				decision = dsa.DecisionShadow
			}
			if err := q.statement(ctx, tx, site, c, dsa.StatementInput{Decision: decision, Ground: r.Ground,
				Moderator: actor.Moderator, Note: reason, Until: r.ExpiresAt}, actor.audit()); err != nil {
				return err
			}
		}
		for _, d := range rejected {
			if err := q.statement(ctx, tx, site, d.After, dsa.StatementInput{Decision: dsa.DecisionReject, Ground: r.Ground,
				Moderator: actor.Moderator, Note: reason}, actor.audit()); err != nil {
				return err
			}
		}
		return nil
	}
}

// since is the start of the misuse window.
func (q *Queue) since() time.Time { return q.store.Now().Add(-dsa.MisuseWindow) }

// Misuse lists the notifiers and authors the misuse measures concern on
// the site, with the suggested suspensions.
func (q *Queue) Misuse(ctx context.Context, siteID int64) ([]dsa.NotifierMisuse, []dsa.AuthorMisuse, error) {
	ns, as, err := q.store.MisuseCounts(ctx, siteID, q.since())
	if err != nil {
		return nil, nil, err
	}
	n, a := dsa.Misuse(ns, as)
	return n, a, nil
}

// Transparency makes the site's transparency report for [from, to).
func (q *Queue) Transparency(ctx context.Context, site *schema.Site, from, to time.Time) (*dsa.Report, error) {
	f, err := q.store.Transparency(ctx, site.ID, from, to)
	if err != nil {
		return nil, err
	}
	return dsa.MakeReport(site.Slug, from, to, f), nil
}
