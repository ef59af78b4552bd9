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

// What the EU Digital Services Act asks of a host of comments: notices of
// illegal content (Art. 16), statements of reasons (Art. 17), appeals
// (Art. 20), trusted flaggers (Art. 22), the counts behind the misuse
// measures (Art. 23) and the transparency report (Art. 15 and 24). The
// policy — who may do what, what the emails say — is in moderation/dsa.

// ActorPolicy names the automated moderation in the audit log: a statement
// of reasons for a comment the rules or the classifier rejected or hid as
// it was posted.
const ActorPolicy = "automated moderation"

// Notice statuses.
const (
	NoticeOpen      = "open"
	NoticeActioned  = "actioned"  // the comment was removed
	NoticeDismissed = "dismissed" // nothing illegal found
)

// Appeal statuses.
const (
	AppealOpen     = "open"
	AppealUpheld   = "upheld"   // the decision stands
	AppealReversed = "reversed" // the comment was restored
)

// Notice is a notice of illegal content about one comment.
type Notice struct {
	ID              int64  `db:"id"`
	SiteID          int64  `db:"site_id"`
	CommentID       int64  `db:"comment_id"`
	Category        string `db:"category"`
	Explanation     string `db:"explanation"`
	NotifierName    string `db:"notifier_name"`
	NotifierEmail   string `db:"notifier_email"`
	Trusted         bool   `db:"trusted"`
	AuthorEmailHash string `db:"author_email_hash"`
	Status          string `db:"status"`
	Unfounded       bool   `db:"unfounded"`
	Reason          string `db:"reason"`
	DecidedBy       *int64 `db:"decided_by"`
	DecidedMS       *int64 `db:"decided_at"`
	CreatedMS       int64  `db:"created_at"`
}

// CreatedAt is when the notice arrived.
func (n *Notice) CreatedAt() time.Time { return msTime(n.CreatedMS) }

// DecidedAt is when it was decided, or nil.
func (n *Notice) DecidedAt() *time.Time { return msTimePtr(n.DecidedMS) }

const noticeColumns = `id, site_id, comment_id, category, explanation, notifier_name, notifier_email, trusted,
	author_email_hash, status, unfounded, reason, decided_by, decided_at, created_at`

// CreateNotice stores a notice, marked trusted when its notifier's email
// is on the site's trusted flaggers, and the confirmation of receipt that
// receipt renders for it (it needs the notice's number), in one
// transaction.
func (s *Store) CreateNotice(ctx context.Context, n *Notice, receipt func(n *Notice) (Mail, error)) error {
	n.CreatedMS, n.Status = s.nowMS(), NoticeOpen
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var trusted int
		if err := tx.GetContext(ctx, &trusted, s.q(`SELECT COUNT(*) FROM trusted_flaggers WHERE site_id = ? AND email = ?`),
			n.SiteID, strings.ToLower(n.NotifierEmail)); err != nil {
			return fmt.Errorf("look up trusted flagger: %w", err)
		}
		n.Trusted = trusted > 0
		err := tx.GetContext(ctx, &n.ID, s.q(`INSERT INTO notices (site_id, comment_id, category, explanation, notifier_name,
			notifier_email, trusted, author_email_hash, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			n.SiteID, n.CommentID, n.Category, n.Explanation, n.NotifierName, n.NotifierEmail, n.Trusted, n.AuthorEmailHash, n.Status, n.CreatedMS)
		if err != nil {
			return fmt.Errorf("store notice: %w", err)
		}
		m, err := receipt(n)
		if err != nil {
			return err
		}
		return s.QueueMail(ctx, tx, m)
	})
}

// Notice returns a notice by id.
func (s *Store) Notice(ctx context.Context, id int64) (*Notice, error) {
	var n Notice
	if err := s.db.GetContext(ctx, &n, s.q(`SELECT `+noticeColumns+` FROM notices WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("notice %d", id), err)
	}
	return &n, nil
}

// ListQuery selects notices or appeals for the moderators.
type ListQuery struct {
	SiteIDs []int64 // nil: every site
	Status  string  // "" for every status
	Limit   int
}

func (q ListQuery) where() (string, []any, error) {
	var conds []string
	var args []any
	if q.SiteIDs != nil {
		if len(q.SiteIDs) == 0 {
			return "", nil, errNoSites
		}
		c, a, err := sqlx.In(`site_id IN (?)`, q.SiteIDs)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, c), append(args, a...)
	}
	if q.Status != "" {
		conds, args = append(conds, `status = ?`), append(args, q.Status)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args, nil
}

var errNoSites = errors.New("no sites")

// Notices lists notices, trusted flaggers' first, then oldest first: the
// order Art. 22 asks them to be dealt with.
func (s *Store) Notices(ctx context.Context, q ListQuery) ([]Notice, error) {
	where, args, err := q.where()
	if errors.Is(err, errNoSites) {
		return []Notice{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Notice{}
	err = s.db.SelectContext(ctx, &out, s.q(`SELECT `+noticeColumns+` FROM notices`+where+
		` ORDER BY trusted DESC, created_at, id LIMIT ?`), append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return out, nil
}

// NoticeOutcome closes an open notice.
type NoticeOutcome struct {
	ID        int64
	Status    string // NoticeActioned or NoticeDismissed
	Unfounded bool
	Reason    string
	// Mail tells the notifier the decision and how to seek redress.
	Mail  Mail
	Audit Audit
}

// CloseNotice closes an open notice on its own (a dismissal); ErrConflict
// when it was closed already.
func (s *Store) CloseNotice(ctx context.Context, o NoticeOutcome) error {
	return s.write(ctx, func(tx *sqlx.Tx) error { return s.CloseNoticeIn(ctx, tx, o) })
}

// CloseNoticeIn closes an open notice inside tx, the transaction of the
// decision on its comment: the notice, the mail to its notifier and the
// audit entry are written with the decision or not at all.
func (s *Store) CloseNoticeIn(ctx context.Context, tx sqlx.ExtContext, o NoticeOutcome) error {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE notices SET status = ?, unfounded = ?, reason = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND status = ?`), o.Status, o.Unfounded, o.Reason, o.Audit.ModeratorID, s.nowMS(), o.ID, NoticeOpen)
	if err != nil {
		return fmt.Errorf("close notice: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("notice %d was decided already: %w", o.ID, ErrConflict)
	}
	var siteID int64
	if err := sqlx.GetContext(ctx, tx, &siteID, s.q(`SELECT site_id FROM notices WHERE id = ?`), o.ID); err != nil {
		return fmt.Errorf("read notice: %w", err)
	}
	a := o.Audit.For("notice."+o.Status, "notice", o.ID).OnSite(siteID)
	a.Before, a.After, a.Detail = NoticeOpen, o.Status, o.Reason
	if o.Unfounded {
		a.After += " (manifestly unfounded)"
	}
	if err := s.audit(ctx, tx, &a); err != nil {
		return err
	}
	if o.Mail.To == "" { // the author's data was erased
		return nil
	}
	return s.QueueMail(ctx, tx, o.Mail)
}

// CommentContact returns the email the author gave with a comment, or ""
// when none is kept.
func (s *Store) CommentContact(ctx context.Context, commentID int64) (string, error) {
	return s.ContactIn(ctx, s.db, commentID)
}

// ContactIn is CommentContact inside a transaction.
func (s *Store) ContactIn(ctx context.Context, q sqlx.QueryerContext, commentID int64) (string, error) {
	var email string
	err := sqlx.GetContext(ctx, q, &email, s.q(`SELECT email FROM comment_contacts WHERE comment_id = ?`), commentID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read comment contact: %w", err)
	}
	return email, nil
}

// Statement is a statement of reasons sent to the author of a comment
// that was removed or hidden.
type Statement struct {
	ID        int64  `db:"id"`
	SiteID    int64  `db:"site_id"`
	CommentID int64  `db:"comment_id"`
	NoticeID  *int64 `db:"notice_id"`
	// Decision is what was decided: reject, spam, ban or shadow.
	Decision           string `db:"decision"`
	Ground             string `db:"ground"`
	Facts              string `db:"facts"`
	Reasons            string `db:"reasons"`
	AutomatedDetection bool   `db:"automated_detection"`
	AutomatedDecision  bool   `db:"automated_decision"`
	ModeratorID        *int64 `db:"moderator_id"`
	Email              string `db:"email"`
	AppealTokenHash    string `db:"appeal_token_hash"`
	AppealUntilMS      int64  `db:"appeal_until"`
	CreatedMS          int64  `db:"created_at"`
}

// CreatedAt is when the statement was made.
func (st *Statement) CreatedAt() time.Time { return msTime(st.CreatedMS) }

// AppealUntil is the last moment an appeal is taken.
func (st *Statement) AppealUntil() time.Time { return msTime(st.AppealUntilMS) }

const statementColumns = `id, site_id, comment_id, notice_id, decision, ground, facts, reasons, automated_detection,
	automated_decision, moderator_id, email, appeal_token_hash, appeal_until, created_at`

// AddStatement stores a statement of reasons inside tx, the transaction of
// the decision it explains, with its email and an audit entry
// (statement.sent) by the decision's actor.
func (s *Store) AddStatement(ctx context.Context, tx sqlx.ExtContext, st *Statement, m Mail, a Audit) error {
	st.CreatedMS = s.nowMS()
	if st.Reasons == "" {
		st.Reasons = "[]"
	}
	err := sqlx.GetContext(ctx, tx, &st.ID, s.q(`INSERT INTO statements (site_id, comment_id, notice_id, decision, ground, facts, reasons,
		automated_detection, automated_decision, moderator_id, email, appeal_token_hash, appeal_until, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		st.SiteID, st.CommentID, st.NoticeID, st.Decision, st.Ground, st.Facts, st.Reasons, st.AutomatedDetection,
		st.AutomatedDecision, st.ModeratorID, st.Email, st.AppealTokenHash, st.AppealUntilMS, st.CreatedMS)
	if err != nil {
		return fmt.Errorf("store statement of reasons: %w", err)
	}
	e := a.For("statement.sent", "comment", st.CommentID).OnSite(st.SiteID)
	e.After, e.Detail = st.Decision, fmt.Sprintf("statement #%d: %s", st.ID, st.Ground)
	if err := s.audit(ctx, tx, &e); err != nil {
		return err
	}
	return s.QueueMail(ctx, tx, m)
}

// StatementByToken returns the statement whose appeal token hashes to hash.
func (s *Store) StatementByToken(ctx context.Context, hash string) (*Statement, error) {
	var st Statement
	err := s.db.GetContext(ctx, &st, s.q(`SELECT `+statementColumns+` FROM statements WHERE appeal_token_hash = ?`), hash)
	if err != nil {
		return nil, notFound("statement", err)
	}
	return &st, nil
}

// Statement returns a statement by id.
func (s *Store) Statement(ctx context.Context, id int64) (*Statement, error) {
	var st Statement
	err := s.db.GetContext(ctx, &st, s.q(`SELECT `+statementColumns+` FROM statements WHERE id = ?`), id)
	if err != nil {
		return nil, notFound(fmt.Sprintf("statement %d", id), err)
	}
	return &st, nil
}

// Appeal is an author's complaint against a statement's decision.
type Appeal struct {
	ID          int64  `db:"id"`
	SiteID      int64  `db:"site_id"`
	StatementID int64  `db:"statement_id"`
	CommentID   int64  `db:"comment_id"`
	Explanation string `db:"explanation"`
	Status      string `db:"status"`
	Reason      string `db:"reason"`
	DecidedBy   *int64 `db:"decided_by"`
	DecidedMS   *int64 `db:"decided_at"`
	CreatedMS   int64  `db:"created_at"`
}

// CreatedAt is when the appeal arrived.
func (a *Appeal) CreatedAt() time.Time { return msTime(a.CreatedMS) }

// DecidedAt is when it was decided, or nil.
func (a *Appeal) DecidedAt() *time.Time { return msTimePtr(a.DecidedMS) }

const appealColumns = `id, site_id, statement_id, comment_id, explanation, status, reason, decided_by, decided_at, created_at`

// CreateAppeal stores an appeal and its confirmation of receipt; a
// statement takes one appeal (ErrConflict for a second).
func (s *Store) CreateAppeal(ctx context.Context, a *Appeal, receipt func(a *Appeal) (Mail, error)) error {
	a.CreatedMS, a.Status = s.nowMS(), AppealOpen
	return s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &a.ID, s.q(`INSERT INTO appeals (site_id, statement_id, comment_id, explanation, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (statement_id) DO NOTHING RETURNING id`),
			a.SiteID, a.StatementID, a.CommentID, a.Explanation, a.Status, a.CreatedMS)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("this decision was appealed already: %w", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store appeal: %w", err)
		}
		m, err := receipt(a)
		if err != nil {
			return err
		}
		return s.QueueMail(ctx, tx, m)
	})
}

// Appeal returns an appeal by id.
func (s *Store) Appeal(ctx context.Context, id int64) (*Appeal, error) {
	var a Appeal
	if err := s.db.GetContext(ctx, &a, s.q(`SELECT `+appealColumns+` FROM appeals WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("appeal %d", id), err)
	}
	return &a, nil
}

// AppealOf returns the appeal against a statement, or nil when there is
// none.
func (s *Store) AppealOf(ctx context.Context, statementID int64) (*Appeal, error) {
	var a Appeal
	err := s.db.GetContext(ctx, &a, s.q(`SELECT `+appealColumns+` FROM appeals WHERE statement_id = ?`), statementID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read appeal: %w", err)
	}
	return &a, nil
}

// Appeals lists appeals, oldest first.
func (s *Store) Appeals(ctx context.Context, q ListQuery) ([]Appeal, error) {
	where, args, err := q.where()
	if errors.Is(err, errNoSites) {
		return []Appeal{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Appeal{}
	err = s.db.SelectContext(ctx, &out, s.q(`SELECT `+appealColumns+` FROM appeals`+where+` ORDER BY created_at, id LIMIT ?`),
		append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	return out, nil
}

// AppealOutcome closes an open appeal.
type AppealOutcome struct {
	ID     int64
	Status string // AppealUpheld or AppealReversed
	Reason string
	Mail   Mail // the outcome, to the author
	Audit  Audit
}

// CloseAppeal closes an open appeal on its own (the decision stands);
// ErrConflict when it was closed already.
func (s *Store) CloseAppeal(ctx context.Context, o AppealOutcome) error {
	return s.write(ctx, func(tx *sqlx.Tx) error { return s.CloseAppealIn(ctx, tx, o) })
}

// CloseAppealIn closes an open appeal inside tx, the transaction of the
// decision that restores its comment.
func (s *Store) CloseAppealIn(ctx context.Context, tx sqlx.ExtContext, o AppealOutcome) error {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE appeals SET status = ?, reason = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND status = ?`), o.Status, o.Reason, o.Audit.ModeratorID, s.nowMS(), o.ID, AppealOpen)
	if err != nil {
		return fmt.Errorf("close appeal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("appeal %d was decided already: %w", o.ID, ErrConflict)
	}
	var siteID int64
	if err := sqlx.GetContext(ctx, tx, &siteID, s.q(`SELECT site_id FROM appeals WHERE id = ?`), o.ID); err != nil {
		return fmt.Errorf("read appeal: %w", err)
	}
	a := o.Audit.For("appeal."+o.Status, "appeal", o.ID).OnSite(siteID)
	a.Before, a.After, a.Detail = AppealOpen, o.Status, o.Reason
	if err := s.audit(ctx, tx, &a); err != nil {
		return err
	}
	if o.Mail.To == "" { // the author's data was erased
		return nil
	}
	return s.QueueMail(ctx, tx, o.Mail)
}

// ActiveModerators counts the enabled accounts that may moderate the site:
// an appeal goes to another moderator than the one who decided only when
// there is one.
func (s *Store) ActiveModerators(ctx context.Context, siteID int64) (int, error) {
	ms, err := s.Moderators(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if !m.Disabled && m.CanModerate(siteID) {
			n++
		}
	}
	return n, nil
}

// TrustedFlagger is a notifier whose notices go first (Art. 22).
type TrustedFlagger struct {
	SiteID    int64  `db:"site_id"`
	Email     string `db:"email"`
	Name      string `db:"name"`
	AddedBy   string `db:"added_by"`
	CreatedMS int64  `db:"created_at"`
}

// CreatedAt is when the flagger was added.
func (f *TrustedFlagger) CreatedAt() time.Time { return msTime(f.CreatedMS) }

// AddTrustedFlagger puts an email (stored in lower case) on the site's
// list of trusted flaggers; adding it again updates the name.
func (s *Store) AddTrustedFlagger(ctx context.Context, f *TrustedFlagger, a Audit) error {
	f.Email, f.CreatedMS = strings.ToLower(f.Email), s.nowMS()
	f.AddedBy = a.Actor
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO trusted_flaggers (site_id, email, name, added_by, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (site_id, email) DO UPDATE SET name = excluded.name`), f.SiteID, f.Email, f.Name, f.AddedBy, f.CreatedMS); err != nil {
			return fmt.Errorf("add trusted flagger: %w", err)
		}
		e := a.For("trusted_flagger.add", "site", f.SiteID).OnSite(f.SiteID)
		e.Detail = f.Email
		return s.audit(ctx, tx, &e)
	})
}

// RemoveTrustedFlagger takes an email off the list; ErrNotFound when it
// was not on it.
func (s *Store) RemoveTrustedFlagger(ctx context.Context, siteID int64, email string, a Audit) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM trusted_flaggers WHERE site_id = ? AND email = ?`), siteID, strings.ToLower(email))
		if err != nil {
			return fmt.Errorf("remove trusted flagger: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("trusted flagger %s: %w", email, ErrNotFound)
		}
		e := a.For("trusted_flagger.remove", "site", siteID).OnSite(siteID)
		e.Detail = strings.ToLower(email)
		return s.audit(ctx, tx, &e)
	})
}

// TrustedFlaggers lists a site's trusted flaggers by email.
func (s *Store) TrustedFlaggers(ctx context.Context, siteID int64) ([]TrustedFlagger, error) {
	out := []TrustedFlagger{}
	err := s.db.SelectContext(ctx, &out, s.q(`SELECT site_id, email, name, added_by, created_at FROM trusted_flaggers WHERE site_id = ? ORDER BY email`), siteID)
	if err != nil {
		return nil, fmt.Errorf("list trusted flaggers: %w", err)
	}
	return out, nil
}

// NotifierCount is how a notifier's notices since a time were decided.
type NotifierCount struct {
	Email     string `db:"notifier_email"`
	Notices   int64  `db:"notices"`
	Unfounded int64  `db:"unfounded"`
}

// AuthorCount is how many notices about an author's comments since a time
// led to their removal; LastComment is the latest such comment, for a ban.
type AuthorCount struct {
	EmailHash   string `db:"author_email_hash"`
	Actioned    int64  `db:"actioned"`
	LastComment int64  `db:"last_comment"`
}

// MisuseCounts returns, for the site and the notices since since, every
// notifier with a manifestly unfounded notice and every author (by email
// hash) with a comment removed on notice, most first.
func (s *Store) MisuseCounts(ctx context.Context, siteID int64, since time.Time) ([]NotifierCount, []AuthorCount, error) {
	notifiers := []NotifierCount{}
	// One notifier whatever the case of their address.
	err := s.db.SelectContext(ctx, &notifiers, s.q(`SELECT LOWER(notifier_email) AS notifier_email, COUNT(*) AS notices,
		SUM(CASE WHEN unfounded THEN 1 ELSE 0 END) AS unfounded
		FROM notices WHERE site_id = ? AND created_at >= ? GROUP BY LOWER(notifier_email)
		HAVING SUM(CASE WHEN unfounded THEN 1 ELSE 0 END) > 0 ORDER BY unfounded DESC, LOWER(notifier_email)`), siteID, since.UnixMilli())
	if err != nil {
		return nil, nil, fmt.Errorf("count notices by notifier: %w", err)
	}
	authors := []AuthorCount{}
	err = s.db.SelectContext(ctx, &authors, s.q(`SELECT author_email_hash, COUNT(DISTINCT comment_id) AS actioned, MAX(comment_id) AS last_comment
		FROM notices WHERE site_id = ? AND created_at >= ? AND status = ? AND author_email_hash <> ''
		GROUP BY author_email_hash ORDER BY actioned DESC, author_email_hash`), siteID, since.UnixMilli(), NoticeActioned)
	if err != nil {
		return nil, nil, fmt.Errorf("count removals by author: %w", err)
	}
	return notifiers, authors, nil
}

// TransparencyFacts are the raw facts of a site's transparency report for
// the period [From, To): moderation/dsa counts and summarises them.
type TransparencyFacts struct {
	Notices []Notice
	// AutoReasons are the policy's reasons (JSON) of the comments posted
	// in the period that the policy rejected or filed as spam itself.
	AutoReasons []string
	// ModeratorActions counts the moderators' own-initiative decisions in
	// the period by audit action (comment.reject, comment.spam,
	// ban.create): those not taken on a notice.
	ModeratorActions map[string]int64
	Appeals          []Appeal
	Bans             []Ban
	Statements       int64
}

// Transparency gathers the facts of the site's report for [from, to).
func (s *Store) Transparency(ctx context.Context, siteID int64, from, to time.Time) (*TransparencyFacts, error) {
	f, t := from.UnixMilli(), to.UnixMilli()
	out := &TransparencyFacts{Notices: []Notice{}, AutoReasons: []string{}, ModeratorActions: map[string]int64{}, Appeals: []Appeal{}, Bans: []Ban{}}
	if err := s.db.SelectContext(ctx, &out.Notices, s.q(`SELECT `+noticeColumns+` FROM notices
		WHERE site_id = ? AND created_at >= ? AND created_at < ? ORDER BY id`), siteID, f, t); err != nil {
		return nil, fmt.Errorf("report notices: %w", err)
	}
	// A comment the policy rejected or filed as spam as it was posted was
	// never decided by anyone: decided_at is set by a decision only.
	if err := s.db.SelectContext(ctx, &out.AutoReasons, s.q(`SELECT reasons FROM comments
		WHERE site_id = ? AND created_at >= ? AND created_at < ? AND decided_at IS NULL AND status IN (?, ?) ORDER BY id`),
		siteID, f, t, StatusRejected, StatusSpam); err != nil {
		return nil, fmt.Errorf("report automated decisions: %w", err)
	}
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT action, COUNT(*) FROM audit_log
		WHERE site_id = ? AND at >= ? AND at < ? AND moderator_id IS NOT NULL
		AND action IN ('comment.reject', 'comment.spam', 'ban.create') AND detail NOT LIKE 'notice #%'
		GROUP BY action`), siteID, f, t)
	if err != nil {
		return nil, fmt.Errorf("report moderators' decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var action string
		var n int64
		if err := rows.Scan(&action, &n); err != nil {
			return nil, err
		}
		out.ModeratorActions[action] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.db.SelectContext(ctx, &out.Appeals, s.q(`SELECT `+appealColumns+` FROM appeals
		WHERE site_id = ? AND created_at >= ? AND created_at < ? ORDER BY id`), siteID, f, t); err != nil {
		return nil, fmt.Errorf("report appeals: %w", err)
	}
	// Suspensions imposed in the period, lifted since or not: a lifted ban
	// leaves the bans table but not the audit log, whose entry keeps its
	// kind and whether it was a shadow ban.
	var states []string
	if err := s.db.SelectContext(ctx, &states, s.q(`SELECT after_state FROM audit_log
		WHERE site_id = ? AND at >= ? AND at < ? AND action = 'ban.create' ORDER BY id`), siteID, f, t); err != nil {
		return nil, fmt.Errorf("report bans: %w", err)
	}
	for _, st := range states {
		out.Bans = append(out.Bans, banOfState(st))
	}
	if err := s.db.GetContext(ctx, &out.Statements, s.q(`SELECT COUNT(*) FROM statements
		WHERE site_id = ? AND created_at >= ? AND created_at < ?`), siteID, f, t); err != nil {
		return nil, fmt.Errorf("report statements: %w", err)
	}
	return out, nil
}

// QueuedMail lists the mail of a kind ("" for every kind) in the outbox,
// sent or not, oldest first: what the DSA owed and to whom, for tests and
// for an operator checking that a statement went out.
func (s *Store) QueuedMail(ctx context.Context, siteID int64, kind string) ([]Mail, error) {
	var rows []struct {
		Kind    string `db:"kind"`
		To      string `db:"recipient"`
		Subject string `db:"subject"`
		Text    string `db:"text_body"`
		HTML    string `db:"html_body"`
	}
	query, args := `SELECT kind, recipient, subject, text_body, html_body FROM mail_outbox WHERE site_id = ?`, []any{siteID}
	if kind != "" {
		query, args = query+` AND kind = ?`, append(args, kind)
	}
	err := s.db.SelectContext(ctx, &rows, s.q(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("list queued mail: %w", err)
	}
	out := make([]Mail, 0, len(rows))
	for _, r := range rows {
		out = append(out, Mail{SiteID: siteID, Kind: r.Kind, To: r.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
	}
	return out, nil
}
