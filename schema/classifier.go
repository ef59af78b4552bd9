package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
)

// TokenCount is how often a feature was seen in spam, in ham (approved
// comments) and in rejected comments.
type TokenCount struct {
	Spam     int64 `db:"spam"`
	Ham      int64 `db:"ham"`
	Rejected int64 `db:"rejected"`
}

// ClassifierCounts returns a site's counts for the given features, and how
// many spam and ham documents the site's classifier has learned.
func (s *Store) ClassifierCounts(ctx context.Context, siteID int64, features []string) (map[string]TokenCount, TokenCount, error) {
	out := make(map[string]TokenCount, len(features))
	var totals TokenCount
	err := s.db.GetContext(ctx, &totals, s.q(`SELECT spam, ham, rejected FROM classifier_totals WHERE site_id = ?`), siteID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return out, totals, nil
		}
		return nil, totals, fmt.Errorf("read classifier totals: %w", err)
	}
	out, err = s.tokenCounts(ctx, siteID, features)
	return out, totals, err
}

// tokenCounts returns a site's counts for the given features.
func (s *Store) tokenCounts(ctx context.Context, siteID int64, features []string) (map[string]TokenCount, error) {
	out := make(map[string]TokenCount, len(features))
	if len(features) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT token, spam, ham, rejected FROM classifier_tokens WHERE site_id = ? AND token IN (?)`, siteID, features)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryxContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read classifier counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tok string
		var c TokenCount
		if err := rows.Scan(&tok, &c.Spam, &c.Ham, &c.Rejected); err != nil {
			return nil, err
		}
		out[tok] = c
	}
	return out, rows.Err()
}

// Learn adds one document's features to a site's models with a label,
// LabelSpam, LabelHam or LabelReject; by is 1, or -1 to take a decision
// back when a moderator reverses it.
func (s *Store) Learn(ctx context.Context, siteID int64, features []string, label string, by int64) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return s.learn(ctx, tx, siteID, features, label, by)
	})
}

// labelColumn is the count a label adds to.
func labelColumn(label string) (string, error) {
	switch label {
	case LabelSpam:
		return "spam", nil
	case LabelHam:
		return "ham", nil
	case LabelReject:
		return "rejected", nil
	}
	return "", fmt.Errorf("classifier label %q: want %s, %s or %s", label, LabelSpam, LabelHam, LabelReject)
}

// learn is Learn inside the caller's transaction.
func (s *Store) learn(ctx context.Context, tx sqlx.ExtContext, siteID int64, features []string, label string, by int64) error {
	col, err := labelColumn(label)
	if err != nil {
		return err
	}
	// Sorted, so concurrent learners lock token rows in one order.
	fs := append([]string(nil), features...)
	sort.Strings(fs)
	if by > 0 {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO classifier_totals (site_id, `+col+`) VALUES (?, 1)
			ON CONFLICT (site_id) DO UPDATE SET `+col+` = classifier_totals.`+col+` + 1`), siteID); err != nil {
			return fmt.Errorf("learn totals: %w", err)
		}
		for _, f := range fs {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO classifier_tokens (site_id, token, `+col+`) VALUES (?, ?, 1)
				ON CONFLICT (site_id, token) DO UPDATE SET `+col+` = classifier_tokens.`+col+` + 1`), siteID, f); err != nil {
				return fmt.Errorf("learn token: %w", err)
			}
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE classifier_totals SET `+col+` = `+s.greatest0(col+` - 1`)+` WHERE site_id = ?`), siteID); err != nil {
		return fmt.Errorf("unlearn totals: %w", err)
	}
	for _, f := range fs {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE classifier_tokens SET `+col+` = `+s.greatest0(col+` - 1`)+` WHERE site_id = ? AND token = ?`), siteID, f); err != nil {
			return fmt.Errorf("unlearn token: %w", err)
		}
	}
	return nil
}
