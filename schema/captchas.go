package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CaptchaTTL is how long a captcha may be solved.
const CaptchaTTL = 10 * time.Minute

// CreateCaptcha stores a captcha's solution digits (0–9 values). It goes
// through the group-commit writer like the other hot writes: captchas are
// issued as often as comments are posted, and on SQLite a transaction of
// its own would queue behind the writer's batches for the one connection.
func (s *Store) CreateCaptcha(ctx context.Context, id string, digits []byte) (expires time.Time, err error) {
	exp := s.Now().Add(CaptchaTTL)
	err = s.submit(ctx, func(b *batch) error {
		return b.execAtEnd(sqlInsertCaptcha, id, encodeDigits(digits), exp.UnixMilli())
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store captcha: %w", err)
	}
	return exp.UTC(), nil
}

const sqlInsertCaptcha = `INSERT INTO captchas (id, digits, expires_at) VALUES (?, ?, ?)`

// On PostgreSQL each statement of a batch is a round trip, made while the
// other lanes wait for their turn: the captchas a batch issues go with its
// pipeline (execAtEnd), and the captchas its posts use up are claimed by
// one statement before the posts run, instead of one of each per captcha.
type claimedCaptcha struct {
	Digits  string `db:"digits"`
	Expires int64  `db:"expires_at"`
}

// claimCaptchas deletes, in one statement, the captchas the batch's ops
// will use up (PostgreSQL); each op then takes its own from b.claimed.
// The delete is still the claim: an id two ops name is claimed once and
// goes to the first.
func (b *batch) claimCaptchas(ops []*op) error {
	if b.s.dialect != Postgres {
		return nil
	}
	var ids []string
	for _, o := range ops {
		if o.captcha != "" {
			ids = append(ids, o.captcha)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID string `db:"id"`
		claimedCaptcha
	}
	if err := b.tx.SelectContext(b.ctx, &rows, `DELETE FROM captchas WHERE id = ANY($1::text[]) RETURNING id, digits, expires_at`, ids); err != nil {
		return fmt.Errorf("consume captchas: %w", err)
	}
	b.claimed = make(map[string]claimedCaptcha, len(rows))
	for _, r := range rows {
		b.claimed[r.ID] = r.claimedCaptcha
	}
	return nil
}

// CaptchaDigits returns an unexpired captcha's digits without using it up,
// to draw its image or speak its audio; ErrNotFound when unknown, used or
// expired.
func (s *Store) CaptchaDigits(ctx context.Context, id string) ([]byte, error) {
	var d string
	err := s.db.GetContext(ctx, &d, s.q(`SELECT digits FROM captchas WHERE id = ? AND expires_at > ?`), id, s.nowMS())
	if err != nil {
		return nil, notFound("captcha", err)
	}
	return decodeDigits(d), nil
}

// ConsumeCaptcha uses up a captcha and returns its digits, through the
// writer. The delete is the claim: of any number of concurrent callers, on
// any instance, exactly one gets the digits, and every later one
// ErrCaptchaUnknown.
func (s *Store) ConsumeCaptcha(ctx context.Context, id string) ([]byte, error) {
	var digits []byte
	err := s.submitClaiming(ctx, id, func(b *batch) error {
		var err error
		digits, err = b.consumeCaptcha(id)
		return err
	})
	return digits, err
}

// consumeCaptcha deletes a captcha in the batch's transaction and returns
// its digits; an unknown, used or expired one is a soft error, so the rest
// of the batch commits.
func (b *batch) consumeCaptcha(id string) ([]byte, error) {
	var row claimedCaptcha
	if b.claimed != nil && b.cur.captcha == id {
		var ok bool
		if row, ok = b.claimed[id]; !ok {
			return nil, soft(ErrCaptchaUnknown)
		}
		delete(b.claimed, id)
	} else {
		err := b.get(&row, sqlConsumeCaptcha, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, soft(ErrCaptchaUnknown)
		}
		if err != nil {
			return nil, fmt.Errorf("consume captcha: %w", err)
		}
	}
	if row.Expires <= b.s.nowMS() {
		return nil, soft(ErrCaptchaUnknown)
	}
	return decodeDigits(row.Digits), nil
}

// DeleteExpiredCaptchas removes captchas nobody solved in time.
func (s *Store) DeleteExpiredCaptchas(ctx context.Context) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, s.q(`DELETE FROM captchas WHERE expires_at <= ?`), s.nowMS())
	if err != nil {
		return 0, fmt.Errorf("delete expired captchas: %w", err)
	}
	return res.RowsAffected()
}

func encodeDigits(d []byte) string {
	b := make([]byte, len(d))
	for i, x := range d {
		b[i] = '0' + x%10
	}
	return string(b)
}

func decodeDigits(s string) []byte {
	b := make([]byte, len(s))
	for i := range s {
		b[i] = s[i] - '0'
	}
	return b
}

// CaptchaStore adapts the Store to github.com/dchest/captcha's Store
// interface (Set, Get), for code written against that library's API.
// Parley itself calls the context-aware methods above.
type CaptchaStore struct{ S *Store }

// Set stores the digits of a new captcha.
func (c CaptchaStore) Set(id string, digits []byte) {
	c.S.CreateCaptcha(context.Background(), id, digits)
}

// Get returns a captcha's digits, using it up when clear is true.
func (c CaptchaStore) Get(id string, clear bool) []byte {
	var d []byte
	if clear {
		d, _ = c.S.ConsumeCaptcha(context.Background(), id)
	} else {
		d, _ = c.S.CaptchaDigits(context.Background(), id)
	}
	return d
}
