package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// DeleteExpired removes what has expired: sessions, action links a day
// past their end (kept that long to tell a late click that it expired), and
// webhook deliveries finished a month ago. It returns how many rows went.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.nowMS()
	var total int64
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		for _, stmt := range []struct {
			query string
			args  []any
		}{
			{`DELETE FROM mod_sessions WHERE expires_at <= ?`, []any{now}},
			{`DELETE FROM action_links WHERE expires_at <= ?`, []any{now - day}},
			{`DELETE FROM webhook_deliveries WHERE delivered_at <= ? OR gave_up_at <= ?`, []any{now - 30*day, now - 30*day}},
		} {
			res, err := tx.ExecContext(ctx, s.q(stmt.query), stmt.args...)
			if err != nil {
				return fmt.Errorf("delete expired: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}

const day = int64(24 * time.Hour / time.Millisecond)
