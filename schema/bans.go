package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Ban keeps an identity from publishing on a site: its comments go to spam.
// A shadow ban hides that from the author.
type Ban struct {
	ID          int64  `db:"id"`
	SiteID      int64  `db:"site_id"`
	Kind        string `db:"kind"` // email, ip or reader
	Value       string `db:"value"`
	Reason      string `db:"reason"`
	Shadow      bool   `db:"shadow"`
	ExpiresMS   *int64 `db:"expires_at"`
	CommentID   *int64 `db:"comment_id"`
	ModeratorID *int64 `db:"moderator_id"`
	CreatedMS   int64  `db:"created_at"`
}

// ExpiresAt is when the ban ends, or nil for never.
func (b *Ban) ExpiresAt() *time.Time { return msTimePtr(b.ExpiresMS) }

// CreatedAt is when the ban was made.
func (b *Ban) CreatedAt() time.Time { return msTime(b.CreatedMS) }

const banColumns = `id, site_id, kind, value, reason, shadow, expires_at, comment_id, moderator_id, created_at`

// CreateBan stores a ban and sets its ID, with audit's entry when audit is
// not nil. When rejectPending is set, the banned identity's pending
// comments on the site are rejected in the same transaction, each with an
// audit entry of its own (action comment.reject), announced by announce
// (may be nil) in the same transaction, and returned.
func (s *Store) CreateBan(ctx context.Context, b *Ban, rejectPending bool, audit *Audit, announce Announcer) ([]Decided, error) {
	return s.CreateBanThen(ctx, b, rejectPending, audit, announce, nil)
}

// CreateBanThen is CreateBan with then, when not nil, run last in the
// ban's transaction with the comments it rejected: the statements of
// reasons a ban owes are written with it or not at all.
func (s *Store) CreateBanThen(ctx context.Context, b *Ban, rejectPending bool, audit *Audit, announce Announcer,
	then func(ctx context.Context, tx sqlx.ExtContext, rejected []Decided) error) ([]Decided, error) {
	col, ok := banColumn[b.Kind]
	if !ok || b.Value == "" {
		return nil, fmt.Errorf("ban of kind %q needs a value", b.Kind)
	}
	var rejected []Decided
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		b.CreatedMS = s.nowMS()
		err := tx.GetContext(ctx, &b.ID, s.q(`INSERT INTO bans (site_id, kind, value, reason, shadow, expires_at, comment_id, moderator_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			b.SiteID, b.Kind, b.Value, b.Reason, b.Shadow, b.ExpiresMS, b.CommentID, b.ModeratorID, b.CreatedMS)
		if err != nil {
			return fmt.Errorf("create ban: %w", err)
		}
		s.changed(tx, bansChanged(b.SiteID))
		if audit != nil {
			a := audit.For("ban.create", "ban", b.ID).OnSite(b.SiteID)
			a.After = b.state()
			if err := s.audit(ctx, tx, &a); err != nil {
				return err
			}
		}
		if !rejectPending {
			if then != nil {
				return then(ctx, tx, nil)
			}
			return nil
		}
		// Locked in id order, as every multi-comment writer does.
		var pending []Comment
		if err := tx.SelectContext(ctx, &pending, s.q(`SELECT `+commentColumns+` FROM comments
			WHERE site_id = ? AND `+col+` = ? AND status = 'pending' ORDER BY id`+s.forUpdate()), b.SiteID, b.Value); err != nil {
			return fmt.Errorf("find pending comments: %w", err)
		}
		for i := range pending {
			c := &pending[i]
			before := *c
			if err := s.transition(ctx, tx, c, StatusRejected); err != nil {
				return err
			}
			if audit != nil {
				a := audit.For("comment.reject", "comment", c.ID).OnSite(c.SiteID)
				a.Before, a.After, a.Detail = before.Status, c.Status, fmt.Sprintf("ban #%d", b.ID)
				if err := s.audit(ctx, tx, &a); err != nil {
					return err
				}
			}
			if err := s.spendCommentLinks(ctx, tx, c.ID); err != nil {
				return err
			}
			after := *c
			if err := s.announce(ctx, tx, announce, Change{Before: &before, After: &after}); err != nil {
				return err
			}
			rejected = append(rejected, Decided{Before: &before, After: &after, Changed: true})
		}
		if then != nil {
			return then(ctx, tx, rejected)
		}
		return nil
	})
	return rejected, err
}

// banColumn is the comments column each kind of ban matches.
var banColumn = map[string]string{"email": "email_hash", "ip": "ip_hash", "reader": "reader_id"}

// state is how the audit log shows a ban.
func (b *Ban) state() string {
	st := b.Kind + " ban"
	if b.Shadow {
		st = "shadow " + st
	}
	if b.ExpiresMS != nil {
		st += " until " + msTime(*b.ExpiresMS).Format(time.RFC3339)
	}
	return st
}

// banOfState reads back the kind and shadow of a ban from its audit
// state, as state writes it ("shadow email ban until …").
func banOfState(st string) Ban {
	var b Ban
	st, b.Shadow = strings.CutPrefix(st, "shadow ")
	b.Kind, _, _ = strings.Cut(st, " ban")
	return b
}

// ActiveBan returns an unexpired ban on any of the author's identities on
// the site, preferring an open ban to a shadow one; nil when there is none.
// Every new comment asks, so a site's bans are kept in memory.
func (s *Store) ActiveBan(ctx context.Context, siteID int64, a Author) (*Ban, error) {
	bans, err := s.siteBans(ctx, siteID)
	if err != nil {
		return nil, err
	}
	now := s.nowMS()
	var found *Ban
	for _, id := range []struct{ kind, value string }{{"email", a.EmailHash}, {"ip", a.IPHash}, {"reader", a.ReaderID}} {
		if id.value == "" {
			continue
		}
		for _, b := range bans[banKey{id.kind, id.value}] {
			if b.ExpiresMS != nil && *b.ExpiresMS <= now {
				continue
			}
			if found == nil || (found.Shadow && !b.Shadow) || (found.Shadow == b.Shadow && b.ID < found.ID) {
				found = b
			}
		}
	}
	return found, nil
}

type banKey struct{ kind, value string }

// siteBans returns a site's unexpired bans by identity; expiry is checked
// again on use, as cached bans run out.
func (s *Store) siteBans(ctx context.Context, siteID int64) (map[banKey][]*Ban, error) {
	return s.state.bans.Load(siteID, func() (map[banKey][]*Ban, error) {
		var rows []Ban
		if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+banColumns+` FROM bans WHERE site_id = ? AND (expires_at IS NULL OR expires_at > ?)`),
			siteID, s.nowMS()); err != nil {
			return nil, fmt.Errorf("read bans: %w", err)
		}
		m := make(map[banKey][]*Ban, len(rows))
		for i := range rows {
			b := &rows[i]
			m[banKey{b.Kind, b.Value}] = append(m[banKey{b.Kind, b.Value}], b)
		}
		return m, nil
	})
}

// Ban returns a ban by id.
func (s *Store) Ban(ctx context.Context, id int64) (*Ban, error) {
	var b Ban
	if err := s.db.GetContext(ctx, &b, s.q(`SELECT `+banColumns+` FROM bans WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("ban %d", id), err)
	}
	return &b, nil
}

// Bans lists the bans of the given sites (every site when siteIDs is nil),
// newest first, expired ones included.
func (s *Store) Bans(ctx context.Context, siteIDs []int64, limit int) ([]Ban, error) {
	var rows []Ban
	query, args := `SELECT `+banColumns+` FROM bans`, []any{}
	if siteIDs != nil {
		if len(siteIDs) == 0 {
			return nil, nil
		}
		query += ` WHERE site_id IN (` + placeholders(len(siteIDs)) + `)`
		for _, id := range siteIDs {
			args = append(args, id)
		}
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("list bans: %w", err)
	}
	return rows, nil
}

// DeleteBan lifts a ban, with audit's entry when audit is not nil.
func (s *Store) DeleteBan(ctx context.Context, id int64, audit *Audit) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var b Ban
		if err := tx.GetContext(ctx, &b, s.q(`DELETE FROM bans WHERE id = ? RETURNING `+banColumns), id); err != nil {
			return notFound(fmt.Sprintf("ban %d", id), err)
		}
		s.changed(tx, bansChanged(b.SiteID))
		if audit == nil {
			return nil
		}
		a := audit.For("ban.delete", "ban", b.ID).OnSite(b.SiteID)
		a.Before, a.After = b.state(), "lifted"
		return s.audit(ctx, tx, &a)
	})
}

func placeholders(n int) string {
	b := make([]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}
