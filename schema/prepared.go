package schema

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

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
	for _, st := range s.writerStmts {
		st.Close()
	}
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
