package schema

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL every statement of a batch is a round trip, made while the
// other writer lanes wait for their turn. The statements whose results
// nothing in the batch reads before its commit (the folded counters, the
// rollups, the captchas issued) are queued instead (execAtEnd), and sent together as
// one pgx batch at the batch's end: one round trip, run in the order
// queued, so rows are still locked in key order.

// execAtEnd runs a statement whose result nothing in the batch reads: on
// PostgreSQL it is queued for the pipeline, on SQLite it runs now.
func (b *batch) execAtEnd(query string, args ...any) error {
	if b.s.dialect != Postgres {
		_, err := b.exec(query, args...)
		return err
	}
	b.later(query, args...)
	return nil
}

// later queues a statement for the batch's pipeline (PostgreSQL only); the
// query is written with '?' placeholders like the others. Its arguments
// skip the check of text PostgreSQL cannot hold (textCheckConn): only
// values the server made (ids, counters, queue and rule names, captcha
// digits) may go through it, never a reader's text.
func (b *batch) later(query string, args ...any) {
	if b.pipe == nil {
		b.pipe = &pgx.Batch{}
	}
	b.pipe.Queue(b.s.q(query), args...)
}

// flush sends the queued statements on the transaction's connection.
func (b *batch) flush() error {
	if b.pipe == nil || b.pipe.Len() == 0 {
		return nil
	}
	pipe := b.pipe
	b.pipe = nil
	return b.conn.Raw(func(dc any) error {
		c, ok := dc.(*textCheckConn)
		if !ok {
			return fmt.Errorf("pipeline: unexpected connection type %T", dc)
		}
		return c.Conn.Conn().SendBatch(b.ctx, pipe).Close()
	})
}

// beginBatch starts a batch's transaction; on PostgreSQL on a connection
// the batch holds, for its pipeline.
func (s *Store) beginBatch(b *batch) error {
	if s.dialect != Postgres {
		tx, err := s.wdb.BeginTxx(b.ctx, nil)
		b.tx = tx
		return err
	}
	conn, err := s.wdb.Connx(b.ctx)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTxx(b.ctx, nil)
	if err != nil {
		conn.Close()
		return err
	}
	b.conn, b.tx = conn, tx
	return nil
}

// endBatch gives the batch's connection back to the pool, once its
// transaction ended.
func (b *batch) endBatch() {
	if b.conn != nil {
		b.conn.Close()
	}
}
