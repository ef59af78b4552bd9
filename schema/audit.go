package schema

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// Actors that are not moderators.
const (
	ActorLink = "webhook link" // a one-time approve or reject link from a webhook
	ActorCLI  = "command line" // parley moderator add and friends
)

// Audit is one entry of the audit log: who did what to which object, when,
// with the state before and after (a status, or JSON for settings).
type Audit struct {
	ID          int64  `db:"id"`
	AtMS        int64  `db:"at"`
	ModeratorID *int64 `db:"moderator_id"`
	// Actor names who acted: the moderator's email, ActorLink or ActorCLI.
	Actor      string `db:"actor"`
	Action     string `db:"action"` // e.g. comment.approve, ban.create, site.update
	ObjectType string `db:"object_type"`
	ObjectID   int64  `db:"object_id"`
	SiteID     *int64 `db:"site_id"`
	Before     string `db:"before_state"`
	After      string `db:"after_state"`
	Detail     string `db:"detail"`
}

// At is when the action happened.
func (a *Audit) At() time.Time { return msTime(a.AtMS) }

// By returns an audit entry whose actor is the moderator, or, when m is
// nil, the named actor without an account.
func By(m *Moderator, actor string) Audit {
	if m == nil {
		return Audit{Actor: actor}
	}
	return Audit{ModeratorID: new(m.ID), Actor: m.Email}
}

// For returns a copy of the entry about the given object.
func (a Audit) For(action, objectType string, objectID int64) Audit {
	a.Action, a.ObjectType, a.ObjectID = action, objectType, objectID
	return a
}

// OnSite returns a copy of the entry tied to a site.
func (a Audit) OnSite(siteID int64) Audit {
	a.SiteID = new(siteID)
	return a
}

const auditColumns = `id, at, moderator_id, actor, action, object_type, object_id, site_id, before_state, after_state, detail`

// audit writes an entry inside the transaction of the change it records.
func (s *Store) audit(ctx context.Context, tx sqlx.ExtContext, a *Audit) error {
	a.AtMS = s.nowMS()
	err := sqlx.GetContext(ctx, tx, &a.ID, s.q(`INSERT INTO audit_log (at, moderator_id, actor, action, object_type, object_id, site_id,
		before_state, after_state, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		a.AtMS, a.ModeratorID, a.Actor, a.Action, a.ObjectType, a.ObjectID, a.SiteID, a.Before, a.After, a.Detail)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// AuditQuery selects a page of the audit log.
type AuditQuery struct {
	// SiteIDs are the sites whose entries to show; nil means every entry,
	// including those about no site (accounts, tokens) unless SitesOnly.
	SiteIDs   []int64
	SitesOnly bool
	After     *Cursor // the last entry of the previous page
	Limit     int
}

// AuditLog returns a page of the audit log, newest first, and the cursor
// of the next page if there is one. Like the queues, a page is one index
// range per site.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]Audit, *Cursor, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	after := ``
	var afterArg []any
	if q.After != nil {
		after, afterArg = ` AND id < ?`, []any{q.After.ID}
	}
	read := func(where string, args ...any) ([]Audit, error) {
		var rows []Audit
		args = append(append(args, afterArg...), q.Limit+1)
		err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+auditColumns+` FROM audit_log WHERE `+where+after+` ORDER BY id DESC LIMIT ?`), args...)
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		return rows, nil
	}
	var rows []Audit
	switch {
	case q.SiteIDs == nil && q.SitesOnly:
		page, err := read(`site_id IS NOT NULL`)
		if err != nil {
			return nil, nil, err
		}
		rows = page
	case q.SiteIDs == nil:
		page, err := read(`1 = 1`)
		if err != nil {
			return nil, nil, err
		}
		rows = page
	default:
		for _, id := range q.SiteIDs {
			page, err := read(`site_id = ?`, id)
			if err != nil {
				return nil, nil, err
			}
			rows = append(rows, page...)
		}
		slices.SortFunc(rows, func(a, b Audit) int { return cmp.Compare(b.ID, a.ID) })
	}
	var next *Cursor
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = &Cursor{Sort: SortNewest, ID: rows[len(rows)-1].ID}
	}
	return rows, next, nil
}

// AddAudit records an action that changes nothing else the store keeps,
// such as an export or an import job's outcome.
func (s *Store) AddAudit(ctx context.Context, a *Audit) error {
	return s.write(ctx, func(tx *sqlx.Tx) error { return s.audit(ctx, tx, a) })
}
