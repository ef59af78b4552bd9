package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// APIToken is a moderator's token for scripts: it acts as the moderator
// without a session or CSRF token. Only its SHA-256 is stored.
type APIToken struct {
	ID          int64  `db:"id"`
	ModeratorID int64  `db:"moderator_id"`
	Name        string `db:"name"`
	CreatedMS   int64  `db:"created_at"`
	LastUsedMS  *int64 `db:"last_used_at"`
}

// CreatedAt is when the token was made.
func (t *APIToken) CreatedAt() time.Time { return msTime(t.CreatedMS) }

// LastUsedAt is when the token last authenticated a request, to the
// minute, or nil.
func (t *APIToken) LastUsedAt() *time.Time { return msTimePtr(t.LastUsedMS) }

// CreateAPIToken stores a token by its hash and sets its ID; audit, when
// not nil, is written in the same transaction as action token.create.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken, tokenHash string, audit *Audit) error {
	t.CreatedMS = s.nowMS()
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &t.ID, s.q(`INSERT INTO api_tokens (moderator_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
			t.ModeratorID, t.Name, tokenHash, t.CreatedMS); err != nil {
			return fmt.Errorf("create api token: %w", err)
		}
		if audit == nil {
			return nil
		}
		a := audit.For("token.create", "token", t.ID)
		a.Detail = t.Name
		return s.audit(ctx, tx, &a)
	})
}

// APITokens lists a moderator's tokens, newest first.
func (s *Store) APITokens(ctx context.Context, moderatorID int64) ([]APIToken, error) {
	var rows []APIToken
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT id, moderator_id, name, created_at, last_used_at FROM api_tokens
		WHERE moderator_id = ? ORDER BY id DESC`), moderatorID); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return rows, nil
}

// TokenModerator returns the token with the hash and its moderator;
// ErrNotFound when the token is unknown or the account disabled.
func (s *Store) TokenModerator(ctx context.Context, tokenHash string) (*APIToken, *Moderator, error) {
	var t APIToken
	if err := s.db.GetContext(ctx, &t, s.q(`SELECT id, moderator_id, name, created_at, last_used_at FROM api_tokens WHERE token_hash = ?`), tokenHash); err != nil {
		return nil, nil, notFound("api token", err)
	}
	m, err := s.ModeratorByID(ctx, t.ModeratorID)
	if err != nil {
		return nil, nil, err
	}
	if m.Disabled {
		return nil, nil, fmt.Errorf("api token of a disabled account: %w", ErrNotFound)
	}
	return &t, m, nil
}

// TouchAPIToken records that a token was used now.
func (s *Store) TouchAPIToken(ctx context.Context, id int64) error {
	if _, err := s.wdb.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), s.nowMS(), id); err != nil {
		return fmt.Errorf("touch api token: %w", err)
	}
	return nil
}

// DeleteAPIToken revokes one of the moderator's tokens; ErrNotFound when
// the moderator has no such token. audit, when not nil, is written in the
// same transaction as action token.revoke, its detail the token's name
// followed by the audit's own detail.
func (s *Store) DeleteAPIToken(ctx context.Context, moderatorID, id int64, audit *Audit) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var name string
		if err := tx.GetContext(ctx, &name, s.q(`DELETE FROM api_tokens WHERE id = ? AND moderator_id = ? RETURNING name`), id, moderatorID); err != nil {
			return notFound(fmt.Sprintf("api token %d", id), err)
		}
		if audit == nil {
			return nil
		}
		a := audit.For("token.revoke", "token", id)
		a.Detail = strings.TrimSpace(name + " " + audit.Detail)
		return s.audit(ctx, tx, &a)
	})
}
