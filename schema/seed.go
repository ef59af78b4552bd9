package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// SeedComments bulk-inserts n comments on an article with the given status,
// bodies from body(i), for benchmarks and load tests: many rows per
// statement, many statements per transaction, and the article's approved
// count kept right.
func (s *Store) SeedComments(ctx context.Context, siteID, articleID int64, n int, status string, body func(i int) string) error {
	const perStatement = 200
	const cols = 11
	vis := visible(status, false)
	now := s.nowMS()
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for start := 0; start < n; start += 20 * perStatement {
		err := s.write(ctx, func(tx *sqlx.Tx) error {
			for chunk := start; chunk < start+20*perStatement && chunk < n; chunk += perStatement {
				m := min(perStatement, n-chunk)
				args := make([]any, 0, m*cols)
				for i := chunk; i < chunk+m; i++ {
					b := body(i)
					args = append(args, siteID, articleID, "", "Reader "+fmt.Sprint(i%997), b, fmt.Sprintf("seed-%d-%d", articleID, i),
						status, "[]", "seed", vis, now+int64(i))
				}
				q := `INSERT INTO comments (site_id, article_id, reader_id, author, body, body_key, status, reasons, edit_token_hash, visible, created_at) VALUES ` +
					strings.TrimSuffix(strings.Repeat(row+", ", m), ", ")
				if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
					return fmt.Errorf("seed comments: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		s.changed(tx, threadChanged(articleID))
		if status != StatusApproved {
			return nil
		}
		return s.bumpApproved(ctx, tx, articleID, int64(n))
	})
}
