// Package schema is Parley's data layer: the migrations for SQLite and
// PostgreSQL, the migration runner, and the Store that holds every SQL
// statement of the project, one file per entity.
package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers "sqlite"
)

func init() {
	// The pure-Go driver registers as "sqlite", a name sqlx does not know
	// takes '?' placeholders.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Errors the store returns, wrapped with detail; callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Dialect names the SQL engine behind a Store.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database. All SQL of the project lives in its methods.
// Exported methods own their transaction; unexported helpers take an
// sqlx.ExtContext so they compose inside one.
type Store struct {
	dialect Dialect
	// db serves reads. On SQLite, writes go through wdb, a single
	// connection, so that writers queue in Go instead of spinning on
	// SQLITE_BUSY; on PostgreSQL both are the same pool.
	db  *sqlx.DB
	wdb *sqlx.DB
	// clock is time.Now unless a test set another; atomic because
	// background workers read it while a test moves it.
	clock atomic.Pointer[func() time.Time]

	state state
	// ttl is the caches' safety-net expiry in nanoseconds: zero while
	// other processes' changes arrive as they commit (see watch.go).
	ttl   atomic.Int64
	watch watcher
	// writerStmts are prepared on the writer's connection (see batch.stmt).
	writerStmts map[string]*sqlx.Stmt
	hooks       commitHooks
	reads       readStmts
	w           *writer

	stopCheckpoints func()
	closed          atomic.Bool
	// noRollups turns the insights' rollups off, for the benchmark.
	noRollups atomic.Bool
}

// Open connects to dsn — a postgres:// URL, or else an SQLite file path —
// and brings the schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := connect(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.initWatch(ctx, dsn); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.restoreLeftIndexes(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareWriter(ctx, hotWrites()...); err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	s.startWriter()
	return s, nil
}

// restoreLeftIndexes builds the indexes an import that did not finish
// dropped (see RestoreIndexes); a database without any pays one read.
func (s *Store) restoreLeftIndexes(ctx context.Context) error {
	var left bool
	if err := s.db.GetContext(ctx, &left, `SELECT EXISTS (SELECT 1 FROM deferred_indexes)`); err != nil {
		return fmt.Errorf("check deferred indexes: %w", err)
	}
	if !left {
		return nil
	}
	if _, err := s.RestoreIndexes(ctx); err != nil {
		return fmt.Errorf("rebuild the indexes an unfinished import dropped: %w", err)
	}
	return nil
}

// DialectOf tells which engine a -db value selects.
func DialectOf(dsn string) Dialect {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

func connect(dsn string) (*Store, error) {
	s := &Store{dialect: DialectOf(dsn), state: newState()}
	s.SetClock(time.Now)
	switch s.dialect {
	case Postgres:
		pool, err := openPostgres(withConnectTimeout(dsn))
		if err != nil {
			return nil, err
		}
		db := sqlx.NewDb(pool, "pgx")
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.wdb = db, db
		// Until Watch listens, other instances' changes are not heard.
		s.setTTL(unwatchedTTL)
	default:
		if dsn == "" {
			return nil, errors.New("empty database path: give -db a file path or a postgres:// URL")
		}
		path := SQLitePath(dsn)
		q := url.Values{}
		for _, p := range []string{
			"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)",
			"synchronous(NORMAL)", "temp_store(MEMORY)",
		} {
			q.Add("_pragma", p)
		}
		base := "file:" + path + "?" + q.Encode()
		// Each connection keeps its own page cache, so the budget is per
		// connection: 8 readers at 6 MB and the writer at 16 MB keep the
		// process near 100 MB of pages on a large database (at 32 MB each,
		// a million-comment queue scan took the server to 190 MB). Pages
		// that drop out are still in the operating system's cache.
		rdb, err := sqlx.Open("sqlite", base+"&_pragma=cache_size(-6000)")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		rdb.SetMaxOpenConns(8)
		rdb.SetMaxIdleConns(8)
		// The writer checkpoints nothing itself: automatic checkpoints in the
		// commit path spoil the latency tail, so a background loop does them.
		wdb, err := sqlx.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-16000)")
		if err != nil {
			rdb.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		s.db, s.wdb = rdb, wdb
		s.stopCheckpoints = s.startCheckpoints()
	}
	return s, nil
}

// SQLitePath is the file a SQLite -db value names.
func SQLitePath(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// withConnectTimeout adds connect_timeout=5 to a postgres URL that sets
// none: without it, connecting to an unreachable server waits for the
// operating system to give up, minutes later.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx reports the problem
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dsn
	}
	q.Set("connect_timeout", "5")
	if u.Host == "" {
		// url.String drops the empty authority ("postgres:?…"), which pgx
		// then reads as a keyword string.
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "connect_timeout=5"
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close releases the connections; closing again does nothing.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	// The writer first: the publisher sends what its last batches changed.
	s.stopWriter()
	s.stopWatch()
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	s.closeStatements()
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

// SetClock replaces the store's clock; tests use it to move time. It is
// safe to call while the store is in use; now itself must be too.
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

// Now is the store's clock: the real one unless a test set another.
func (s *Store) Now() time.Time {
	if f := s.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

func (s *Store) nowMS() int64 { return s.Now().UnixMilli() }

// write runs fn in a transaction on the writer and commits it.
func (s *Store) write(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.wdb.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return s.commit(ctx, tx, fn)
}

// writeUnchecked is write with SQLite's foreign-key checks off for the
// transaction (PostgreSQL keeps them): for a bulk import, which writes only
// references it has just written or read in the same transaction, where the
// checks were an eighth of the load. SQLite ignores the pragma inside a
// transaction, so it is set on the writer's one connection around it; a
// connection whose checks could not be turned back on is thrown away.
func (s *Store) writeUnchecked(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	if s.dialect != SQLite {
		return s.write(ctx, fn)
	}
	conn, err := s.wdb.Connx(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		// SQLite ignores the pragma inside a transaction, which a
		// cancelled context can leave open for a moment: the connection
		// goes back to the pool only if the checks are read back on.
		bg := context.WithoutCancel(ctx)
		var on int
		_, e := conn.ExecContext(bg, `PRAGMA foreign_keys = ON`)
		if e == nil {
			e = conn.GetContext(bg, &on, `PRAGMA foreign_keys`)
		}
		if e == nil && on != 1 {
			e = errors.New("the connection still has them off")
		}
		if e != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("turn foreign-key checks back on: %w", e))
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("turn foreign-key checks off: %w", err)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return s.commit(ctx, tx, fn)
}

// commit runs fn in tx and commits it, then runs its hooks.
func (s *Store) commit(ctx context.Context, tx *sqlx.Tx, fn func(tx *sqlx.Tx) error) error {
	if err := fn(tx); err != nil {
		tx.Rollback()
		s.hooks.drop(tx)
		return err
	}
	if err := s.sendChanges(ctx, tx); err != nil {
		tx.Rollback()
		s.hooks.drop(tx)
		return err
	}
	if err := tx.Commit(); err != nil {
		s.hooks.run(tx) // it may have committed: see tryBatch
		return fmt.Errorf("commit: %w", err)
	}
	s.hooks.run(tx)
	return nil
}

// writeAgain is write for a transaction that locks a comment and then its
// article (decisions, edits, deletions): the group-commit writer may take
// the same rows in the other order within a batch, and PostgreSQL then
// ends one of the two as a deadlock. The batch retries itself; this
// retries fn, which must start from scratch each time.
func (s *Store) writeAgain(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.write(ctx, fn); err == nil || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// commitHooks hold work to do once a transaction has committed: telling
// the caches that a thread changed must not happen before readers can see
// the change, or they would cache the old page under the new version.
type commitHooks struct {
	mu      sync.Mutex
	m       map[sqlx.ExtContext][]func()
	changes map[sqlx.ExtContext][]change
}

// publish records a change of tx's to send to other processes before it
// commits.
func (h *commitHooks) publish(tx sqlx.ExtContext, ch change) {
	h.mu.Lock()
	if h.changes == nil {
		h.changes = map[sqlx.ExtContext][]change{}
	}
	h.changes[tx] = append(h.changes[tx], ch)
	h.mu.Unlock()
}

// pending returns the changes tx will publish.
func (h *commitHooks) pending(tx sqlx.ExtContext) []change {
	h.mu.Lock()
	defer h.mu.Unlock()
	chs := h.changes[tx]
	delete(h.changes, tx)
	return chs
}

// onCommit runs fn after tx commits (at once when tx is not a transaction).
func (s *Store) onCommit(tx sqlx.ExtContext, fn func()) {
	if _, ok := tx.(*sqlx.Tx); !ok {
		fn()
		return
	}
	s.hooks.mu.Lock()
	if s.hooks.m == nil {
		s.hooks.m = map[sqlx.ExtContext][]func(){}
	}
	s.hooks.m[tx] = append(s.hooks.m[tx], fn)
	s.hooks.mu.Unlock()
}

func (h *commitHooks) take(tx sqlx.ExtContext) []func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	fns := h.m[tx]
	delete(h.m, tx)
	return fns
}

func (h *commitHooks) run(tx sqlx.ExtContext) {
	for _, fn := range h.take(tx) {
		fn()
	}
}

func (h *commitHooks) drop(tx sqlx.ExtContext) {
	h.take(tx)
	h.pending(tx)
}

// q rebinds a query written with '?' placeholders for the store's engine.
func (s *Store) q(query string) string { return s.db.Rebind(query) }

// notFound maps a lookup's "no row" to ErrNotFound; text PostgreSQL
// cannot hold (ErrInvalidText) names no row either, as on SQLite.
func notFound(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrInvalidText) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func msTimePtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := msTime(*ms)
	return &t
}
