package schema

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// exec runs a statement in the batch's transaction. On SQLite the hot
// statements were prepared on the writer's connection when the store opened
// and are reused without parsing; pgx caches prepared statements itself.
func (b *batch) exec(query string, args ...any) (sql.Result, error) {
	if st, ok := b.s.writerStmts[query]; ok {
		return b.tx.StmtxContext(b.ctx, st).ExecContext(b.ctx, args...)
	}
	return b.tx.ExecContext(b.ctx, b.s.q(query), args...)
}

// get is exec for a statement that returns one row.
func (b *batch) get(dest any, query string, args ...any) error {
	if st, ok := b.s.writerStmts[query]; ok {
		return b.tx.StmtxContext(b.ctx, st).GetContext(b.ctx, dest, args...)
	}
	return b.tx.GetContext(b.ctx, dest, b.s.q(query), args...)
}

func (s *Store) closeStatements() {
	for _, st := range s.writerStmts {
		st.Close()
	}
	s.reads.mu.Lock()
	for _, st := range s.reads.m {
		st.Close()
	}
	s.reads.m = nil
	s.reads.mu.Unlock()
}

// prepareWriter prepares the hot write statements on SQLite's writer
// connection before the writer starts, so batches never parse them.
func (s *Store) prepareWriter(ctx context.Context, queries ...string) error {
	s.writerStmts = make(map[string]*sqlx.Stmt, len(queries))
	if s.dialect != SQLite {
		return nil
	}
	for _, q := range queries {
		st, err := s.wdb.PreparexContext(ctx, s.q(q))
		if err != nil {
			return err
		}
		s.writerStmts[q] = st
	}
	return nil
}

// readStmts caches prepared statements of the hot reads (comment and queue
// pages): preparing a 28-column SELECT on every call was a large part of a
// queue page. database/sql prepares each again on every connection that
// runs it and keeps it there.
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// readStmt returns query, rebound and prepared on the read pool.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	if st, ok := s.reads.m[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if s.reads.m == nil {
		s.reads.m = map[string]*sql.Stmt{}
	}
	s.reads.m[query] = st
	return st, nil
}
