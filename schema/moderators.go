package schema

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Moderator is an account of the editorial team. Sites limits a moderator
// to those site ids; empty means every site.
type Moderator struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         string
	Sites        []int64
	Disabled     bool
	CreatedAt    time.Time
}

// Roles of moderators.
const (
	RoleAdmin     = "admin"
	RoleModerator = "moderator"
)

type moderatorRow struct {
	ID           int64  `db:"id"`
	Email        string `db:"email"`
	PasswordHash string `db:"password_hash"`
	Role         string `db:"role"`
	Sites        string `db:"sites"`
	Disabled     bool   `db:"disabled"`
	CreatedAt    int64  `db:"created_at"`
}

func (r moderatorRow) moderator() (*Moderator, error) {
	m := &Moderator{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, Role: r.Role, Disabled: r.Disabled, CreatedAt: msTime(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Sites), &m.Sites); err != nil {
		return nil, fmt.Errorf("moderator %d sites: %w", r.ID, err)
	}
	return m, nil
}

const moderatorColumns = `id, email, password_hash, role, sites, disabled, created_at`

// CanModerate tells whether the moderator may act on the site.
func (m *Moderator) CanModerate(siteID int64) bool {
	if m.Role == RoleAdmin || len(m.Sites) == 0 {
		return true
	}
	for _, id := range m.Sites {
		if id == siteID {
			return true
		}
	}
	return false
}

// CreateModerator adds an account; ErrConflict when the email is taken.
// audit, when not nil, is written in the same transaction as action
// moderator.create.
func (s *Store) CreateModerator(ctx context.Context, m *Moderator, audit *Audit) error {
	now := s.nowMS()
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &m.ID, s.q(`INSERT INTO moderators (email, password_hash, role, sites, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`),
			m.Email, m.PasswordHash, m.Role, m.sitesJSON(), m.Disabled, now)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("moderator %s exists: %w", m.Email, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("create moderator: %w", err)
		}
		if audit == nil {
			return nil
		}
		a := audit.For("moderator.create", "moderator", m.ID)
		a.After = m.Role
		return s.audit(ctx, tx, &a)
	})
	if err != nil {
		return err
	}
	m.CreatedAt = msTime(now)
	return nil
}

// UpdateModerator saves a moderator's password hash, role, sites and state.
// A new password ends every session of the account and revokes every API
// token, so that whoever stole one of them is out; disabling does the same,
// for good: re-enabling revives none. audit, when not nil, is written in
// the same transaction, with the action and states the caller gave it and
// what was ended added to its detail.
func (s *Store) UpdateModerator(ctx context.Context, m *Moderator, audit *Audit) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var prev struct {
			PasswordHash string `db:"password_hash"`
			Disabled     bool   `db:"disabled"`
		}
		if err := tx.GetContext(ctx, &prev, s.q(`SELECT password_hash, disabled FROM moderators WHERE id = ?`), m.ID); err != nil {
			return notFound(fmt.Sprintf("moderator %d", m.ID), err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE moderators SET password_hash = ?, role = ?, sites = ?, disabled = ? WHERE id = ?`),
			m.PasswordHash, m.Role, m.sitesJSON(), m.Disabled, m.ID); err != nil {
			return fmt.Errorf("update moderator: %w", err)
		}
		// Re-enabling clears too: tokens of accounts disabled before
		// disabling revoked them must not come back.
		var ended []string
		if m.Disabled || prev.Disabled || m.PasswordHash != prev.PasswordHash {
			for _, c := range []struct{ table, what string }{{"mod_sessions", "sessions ended"}, {"api_tokens", "API tokens revoked"}} {
				res, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+c.table+` WHERE moderator_id = ?`), m.ID)
				if err != nil {
					return fmt.Errorf("clear %s: %w", c.table, err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					ended = append(ended, fmt.Sprintf("%d %s", n, c.what))
				}
			}
		}
		if audit == nil {
			return nil
		}
		a := audit.For(cmp.Or(audit.Action, "moderator.update"), "moderator", m.ID)
		if len(ended) > 0 {
			a.Detail = strings.Join(append(slices.DeleteFunc([]string{a.Detail}, func(d string) bool { return d == "" }), ended...), "; ")
		}
		return s.audit(ctx, tx, &a)
	})
}

func (m *Moderator) sitesJSON() string {
	sites := m.Sites
	if sites == nil {
		sites = []int64{}
	}
	b, _ := json.Marshal(sites)
	return string(b)
}

// ModeratorByEmail finds an account by email.
func (s *Store) ModeratorByEmail(ctx context.Context, email string) (*Moderator, error) {
	var r moderatorRow
	if err := s.db.GetContext(ctx, &r, s.q(`SELECT `+moderatorColumns+` FROM moderators WHERE email = ?`), email); err != nil {
		return nil, notFound("moderator "+email, err)
	}
	return r.moderator()
}

// ModeratorByID finds an account by id.
func (s *Store) ModeratorByID(ctx context.Context, id int64) (*Moderator, error) {
	var r moderatorRow
	if err := s.db.GetContext(ctx, &r, s.q(`SELECT `+moderatorColumns+` FROM moderators WHERE id = ?`), id); err != nil {
		return nil, notFound(fmt.Sprintf("moderator %d", id), err)
	}
	return r.moderator()
}

// Moderators lists every account by email.
func (s *Store) Moderators(ctx context.Context) ([]*Moderator, error) {
	var rows []moderatorRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+moderatorColumns+` FROM moderators ORDER BY email`); err != nil {
		return nil, fmt.Errorf("list moderators: %w", err)
	}
	out := make([]*Moderator, 0, len(rows))
	for _, r := range rows {
		m, err := r.moderator()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
