package schema

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// prepared caches prepared statements of the hot read paths: parsing SQL
// was a tenth of the vote path's CPU on SQLite. database/sql prepares each
// one again on every connection that runs it, and keeps them. Never use it
// with the writer's connection (see batch.stmt).
type prepared struct {
	mu sync.Mutex
	m  map[preparedKey]*sqlx.Stmt
}

type preparedKey struct {
	db    *sqlx.DB
	query string
}

// prep returns query, rebound, prepared on db.
func (s *Store) prep(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	k := preparedKey{db, query}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[k]; ok {
		return st, nil
	}
	st, err := db.PreparexContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if s.stmts.m == nil {
		s.stmts.m = map[preparedKey]*sqlx.Stmt{}
	}
	s.stmts.m[k] = st
	return st, nil
}

// exec runs a statement in the batch's transaction. On SQLite the hot
// statements were prepared on the writer's connection when the store opened
// and are reused without parsing; pgx caches prepared statements itself.
func (b *batch) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := b.s.writerStmts[query]; ok {
		return b.tx.StmtxContext(ctx, st).ExecContext(ctx, args...)
	}
	return b.tx.ExecContext(ctx, b.s.q(query), args...)
}

// get is exec for a statement that returns one row.
func (b *batch) get(ctx context.Context, dest any, query string, args ...any) error {
	if st, ok := b.s.writerStmts[query]; ok {
		return b.tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	return b.tx.GetContext(ctx, dest, b.s.q(query), args...)
}

func (s *Store) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	for _, st := range s.writerStmts {
		st.Close()
	}
	s.stmts.m = nil
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
