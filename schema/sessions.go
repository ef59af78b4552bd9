package schema

import (
	"context"
	"fmt"
	"time"
)

// Session is a moderator's login. Only the SHA-256 of the cookie's token is
// stored; the CSRF token is not a credential on its own, so it is kept as is
// to be handed back to the dashboard.
type Session struct {
	IDHash      string `db:"id_hash"`
	ModeratorID int64  `db:"moderator_id"`
	CSRFToken   string `db:"csrf_token"`
	CreatedMS   int64  `db:"created_at"`
	ExpiresMS   int64  `db:"expires_at"`
}

// CreatedAt is when the moderator logged in.
func (s *Session) CreatedAt() time.Time { return msTime(s.CreatedMS) }

// ExpiresAt is when the session ends unless it is used again.
func (s *Session) ExpiresAt() time.Time { return msTime(s.ExpiresMS) }

// CreateSession stores a new session that ends at expires.
func (s *Store) CreateSession(ctx context.Context, sess *Session, expires time.Time) error {
	sess.CreatedMS, sess.ExpiresMS = s.nowMS(), expires.UnixMilli()
	_, err := s.wdb.ExecContext(ctx, s.q(`INSERT INTO mod_sessions (id_hash, moderator_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		sess.IDHash, sess.ModeratorID, sess.CSRFToken, sess.CreatedMS, sess.ExpiresMS)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionModerator returns an unexpired session and its moderator;
// ErrNotFound when the session is unknown or expired, or the account was
// disabled.
func (s *Store) SessionModerator(ctx context.Context, idHash string) (*Session, *Moderator, error) {
	var row struct {
		Session
		ModID        int64  `db:"m_id"`
		Email        string `db:"email"`
		PasswordHash string `db:"password_hash"`
		Role         string `db:"role"`
		Sites        string `db:"sites"`
		Disabled     bool   `db:"disabled"`
		ModCreatedMS int64  `db:"m_created_at"`
	}
	err := s.db.GetContext(ctx, &row, s.q(`SELECT s.id_hash, s.moderator_id, s.csrf_token, s.created_at, s.expires_at,
		m.id AS m_id, m.email, m.password_hash, m.role, m.sites, m.disabled, m.created_at AS m_created_at
		FROM mod_sessions s JOIN moderators m ON m.id = s.moderator_id
		WHERE s.id_hash = ? AND s.expires_at > ? AND m.disabled = FALSE`), idHash, s.nowMS())
	if err != nil {
		return nil, nil, notFound("session", err)
	}
	m, err := moderatorRow{ID: row.ModID, Email: row.Email, PasswordHash: row.PasswordHash, Role: row.Role,
		Sites: row.Sites, Disabled: row.Disabled, CreatedAt: row.ModCreatedMS}.moderator()
	if err != nil {
		return nil, nil, err
	}
	sess := row.Session
	return &sess, m, nil
}

// ExtendSession moves a session's end to expires.
func (s *Store) ExtendSession(ctx context.Context, idHash string, expires time.Time) error {
	_, err := s.wdb.ExecContext(ctx, s.q(`UPDATE mod_sessions SET expires_at = ? WHERE id_hash = ?`), expires.UnixMilli(), idHash)
	if err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// DeleteSession ends a session (logging out).
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.wdb.ExecContext(ctx, s.q(`DELETE FROM mod_sessions WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
