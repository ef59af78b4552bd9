package schema

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
)

// Other processes write to the same database: other instances on
// PostgreSQL, and the command line (reader forget, site add, moderator
// add, imports) on either engine. Every commit that changes cached state
// publishes what it changed, and a serving process watches for what
// others published:
//
//   - PostgreSQL: NOTIFY on a channel of the schema, sent by a serving
//     instance just after the commit from a connection of its own
//     (publish.go says why, and what covers an instance that dies in
//     between), by the command line inside its transaction; each
//     instance LISTENs on a connection of its own.
//   - SQLite: one server per file, held by a lock. Other processes (the
//     command line) append their changes to cache_changes; the server
//     polls PRAGMA data_version, which moves whenever another connection
//     commits, and reads the new rows.
//
// While the watch is down (PostgreSQL restarting, say) caches trust their
// entries for at most unwatchedTTL, the safety net.

// unwatchedTTL bounds staleness while other processes' changes may be
// missed.
const unwatchedTTL = time.Second

// pollInterval is how often a SQLite server looks for outside commits.
const pollInterval = 50 * time.Millisecond

// maxPayload keeps a NOTIFY payload under PostgreSQL's 8000 bytes.
const maxPayload = 7900

type watcher struct {
	instance string // tags this process's notifications, which it ignores
	channel  string // PostgreSQL: the schema's channel
	dsn      string
	// serving is set once this process watches: on SQLite it is then the
	// one server of the file and publishes nothing.
	serving atomic.Bool
	up      atomic.Bool
	// PostgreSQL: what this instance sends after its commits, and the
	// serving instances it hears (publish.go).
	pub      publisher
	pubUp    atomic.Bool
	peers    peers
	silenced atomic.Int64
	lock     *os.File
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// WatchStatus tells whether this process follows other processes' changes
// as they commit (Up), or falls back on the caches' expiry.
type WatchStatus struct {
	Watching, Up bool
	// Publishing: on PostgreSQL, this instance's changes reach the others
	// (always true elsewhere). Silenced counts the times another instance
	// fell silent and the caches were cleared.
	Publishing bool
	Silenced   int64
	Detail     string
}

// Watch makes this store the serving one: it follows what other processes
// commit until ctx ends or the store closes. On SQLite it first takes the
// file's server lock and fails, naming the other process, when another
// server holds it.
func (s *Store) Watch(ctx context.Context) error {
	if s.watch.serving.Load() {
		return errors.New("store is already watching")
	}
	ctx, cancel := context.WithCancel(ctx)
	switch s.dialect {
	case Postgres:
		s.watch.pub.wake = make(chan struct{}, 1)
		s.watch.serving.Store(true)
		s.watch.stop = cancel
		s.watch.wg.Go(func() { s.listen(ctx) })
		s.watch.wg.Go(func() { s.publish(ctx) })
		s.watch.wg.Go(func() { s.watchPeers(ctx) })
		s.watch.wg.Go(func() { s.rebuildLoop(ctx) })
		return nil
	default:
		if err := s.lockFile(); err != nil {
			cancel()
			return err
		}
		fail := func(err error) error {
			cancel()
			s.watch.lock.Close()
			s.watch.lock = nil
			return err
		}
		// Whatever was published before this server started is in no cache.
		if _, err := s.wdb.ExecContext(ctx, `DELETE FROM cache_changes`); err != nil {
			return fail(fmt.Errorf("clear cache changes: %w", err))
		}
		conn, err := s.db.Connx(ctx)
		if err != nil {
			return fail(fmt.Errorf("watch: %w", err))
		}
		s.watch.serving.Store(true)
		s.watch.stop = cancel
		s.watch.up.Store(true)
		s.watch.wg.Go(func() { s.poll(ctx, conn) })
	}
	s.watch.wg.Go(func() { s.rebuildLoop(ctx) })
	s.clearCaches()
	return nil
}

// WatchStatus reports the watch, for /readyz and metrics.
func (s *Store) WatchStatus() WatchStatus {
	st := WatchStatus{Watching: s.watch.serving.Load(), Up: s.watch.up.Load(),
		Publishing: s.dialect != Postgres || s.watch.pubUp.Load(), Silenced: s.watch.silenced.Load()}
	switch {
	case !st.Watching:
		st.Detail = "not watching: other processes' changes show within " + unwatchedTTL.String()
	case st.Up && !st.Publishing:
		st.Detail = "listening for other instances' changes; the connection that tells them this instance's is down: reconnecting, they clear their caches after " + silentAfter.String()
	case st.Up && s.dialect == Postgres:
		st.Detail = "listening for other instances' changes"
	case st.Up:
		st.Detail = "watching the file for command-line changes"
	default:
		st.Detail = "listener down: reconnecting; caches expire after " + unwatchedTTL.String()
	}
	return st
}

func (s *Store) stopWatch() {
	if s.watch.stop != nil {
		s.watch.stop()
	}
	s.watch.wg.Wait()
	if s.watch.lock != nil {
		s.watch.lock.Close() // releases the lock
	}
}

// lockFile takes the SQLite file's server lock: an advisory lock on a file
// beside the database, released by the kernel however the process ends.
// (Not on the database file itself: closing any other descriptor of it
// would drop SQLite's own locks.)
func (s *Store) lockFile() error {
	path := s.watch.dsn + "-serve.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("server lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		who := "another process"
		if pid := strings.TrimSpace(string(b[:n])); pid != "" {
			who = "process " + pid
		}
		return fmt.Errorf("%s is already served by %s: SQLite takes one server per file; stop that server first, or use PostgreSQL to run several instances", s.watch.dsn, who)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	s.watch.lock = f
	return nil
}

// poll follows the command line's commits to a SQLite file.
func (s *Store) poll(ctx context.Context, conn *sqlx.Conn) {
	defer conn.Close()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var version int64 = -1
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var v int64
		if err := conn.GetContext(ctx, &v, `PRAGMA data_version`); err != nil {
			continue
		}
		if v == version {
			continue
		}
		var rows []struct {
			ID      int64  `db:"id"`
			Payload string `db:"payload"`
		}
		if err := conn.SelectContext(ctx, &rows, `SELECT id, payload FROM cache_changes WHERE id > ? ORDER BY id`, last); err != nil {
			continue // version stays: the rows are read again next time
		}
		version = v
		for _, r := range rows {
			for _, ch := range decodeChanges(r.Payload) {
				s.apply(ch)
			}
			last = r.ID
		}
		if len(rows) > 0 {
			s.wdb.ExecContext(ctx, `DELETE FROM cache_changes WHERE id <= ?`, last)
		}
	}
}

// listen follows other PostgreSQL instances' commits, reconnecting with
// backoff; while it is down the caches fall back on their expiry.
func (s *Store) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, withConnectTimeout(s.watch.dsn))
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN "`+strings.ReplaceAll(s.watch.channel, `"`, `""`)+`"`)
		}
		if err == nil {
			// Listening now; what changed before is not in the caches after
			// this (and the filter of readers is rebuilt, now that it can
			// be trusted).
			s.watch.up.Store(true)
			s.setTTL(0)
			s.clearCaches()
			backoff = 100 * time.Millisecond
			for {
				n, err := s.waitNotification(ctx, conn)
				if err != nil {
					break
				}
				from, payload, _ := strings.Cut(n.Payload, "\n")
				if from == s.watch.instance {
					continue // applied at commit already
				}
				for _, ch := range s.watch.peers.heard(from, decodeChanges(payload)) {
					s.apply(ch)
				}
			}
		}
		s.watch.up.Store(false)
		s.setTTL(unwatchedTTL)
		// Deaf, the filters would miss other instances' first reactions and
		// new articles: ask the database until they are rebuilt.
		s.state.reactors.deaf()
		s.state.usedArticles.deaf()
		if conn != nil {
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Close(closeCtx)
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// heartbeat is how long the listener waits for a notification before it
// checks that its connection still answers: a connection that died
// silently (a failover, a firewall dropping idle connections) would
// otherwise leave every cache trusting stale entries for good.
const heartbeat = 5 * time.Second

// waitNotification waits for the next notification, checking the
// connection each heartbeat; an error means the connection is gone.
func (s *Store) waitNotification(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	for {
		wctx, cancel := context.WithTimeout(ctx, heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
			return n, err
		}
		pctx, cancel := context.WithTimeout(ctx, heartbeat)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return nil, err
		}
	}
}

// sendChanges publishes tx's changes to the other processes: a serving
// PostgreSQL instance once tx commits, while its publishing connection is
// up and the others hear it (publish.go); any other process, or one whose
// publishing connection is down, inside tx.
func (s *Store) sendChanges(ctx context.Context, tx *sqlx.Tx) error {
	chs := s.hooks.pending(tx)
	if len(chs) == 0 {
		return nil
	}
	switch {
	case s.dialect == Postgres && s.watch.serving.Load() && s.watch.pubUp.Load():
		s.onCommit(tx, func() { s.send(chs) })
	case s.dialect == Postgres:
		return s.notifyIn(ctx, tx, chs)
	case s.watch.serving.Load():
		return nil // the only process that serves this file applies its own
	default:
		if _, err := tx.ExecContext(ctx, `INSERT INTO cache_changes (payload, created_at) VALUES (?, ?)`,
			encodeChanges(chs), s.nowMS()); err != nil {
			return fmt.Errorf("publish changes: %w", err)
		}
	}
	return nil
}

// notifyIn sends changes on PostgreSQL through q: inside a transaction,
// they are delivered when it commits.
func (s *Store) notifyIn(ctx context.Context, q sqlx.ExecerContext, chs []change) error {
	for _, payload := range s.payloads(chs, false) {
		if _, err := q.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.watch.channel, payload); err != nil {
			return fmt.Errorf("publish changes: %w", err)
		}
	}
	return nil
}

// initWatch names this process and, on PostgreSQL, the schema's channel:
// tests run many schemas on one database, and NOTIFY is database-wide.
func (s *Store) initWatch(ctx context.Context, dsn string) error {
	b := make([]byte, 8)
	rand.Read(b)
	s.watch.instance = hex.EncodeToString(b)
	s.watch.dsn = dsn
	if s.dialect != Postgres {
		s.watch.dsn = SQLitePath(dsn)
		return nil
	}
	var schemaName string
	if err := s.db.GetContext(ctx, &schemaName, `SELECT current_schema()`); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	// A channel name is an identifier of at most 63 bytes: pg_notify
	// refuses a longer one that LISTEN would silently cut.
	s.watch.channel = "parley_" + schemaName
	if len(s.watch.channel) > 63 {
		h := sha256.Sum256([]byte(schemaName))
		s.watch.channel = "parley_" + hex.EncodeToString(h[:16])
	}
	return nil
}
