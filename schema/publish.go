package schema

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A serving PostgreSQL instance publishes its changes after they commit,
// from a connection of its own, not inside the transaction.
//
// Inside the transaction, every notifying commit of the database would
// queue behind the one before: PostgreSQL takes a database-wide lock for
// the notification queue before the commit and keeps it until the
// commit's flush is done. On a disk that flushes in 3 ms that is about
// 330 commits a second for the whole database, however many writer lanes
// run. After the commit, a notification is a transaction of its own that
// need not wait for the flush (synchronous_commit off: a notification a
// crash of the database server loses is lost with every listener's
// connection anyway), and the lock is held for microseconds.
//
// While that connection is down (and until it has said this instance is
// alive), commits notify inside their transactions as before. What sending
// after the commit gives up is a change committed by an instance that
// dies before it sends it. So every serving instance says it is alive at least every
// aliveEvery, and says goodbye when it stops; an instance that stops
// hearing another for silentAfter clears its caches, as it does when its
// own listener reconnects. A crash leaves the others stale for at most
// silentAfter. The command line, which serves nothing, still notifies
// inside its transactions.

const (
	aliveEvery  = time.Second
	silentAfter = 4 * time.Second
	// maxQueued bounds the changes kept while the publishing connection
	// is down; past it they are replaced by one changeAll.
	maxQueued = 100_000
)

// Published lines that are about instances, not cached state.
const (
	changeAlive = '+' // the sender serves and publishes after its commits
	changeGone  = '-' // the sender stopped after publishing all it committed
)

type publisher struct {
	mu      sync.Mutex
	queue   []change
	stopped bool
	wake    chan struct{}
}

// send queues changes that committed, for the publishing connection.
func (s *Store) send(chs []change) {
	p := &s.watch.pub
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		// Committed while the store closes: no connection of its own left.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.notifyIn(ctx, s.db, chs)
		return
	}
	p.queueLocked(chs, false)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *publisher) take() []change {
	p.mu.Lock()
	defer p.mu.Unlock()
	chs := p.queue
	p.queue = nil
	return chs
}

// putBack returns changes a failed send did not deliver, ahead of newer ones.
func (p *publisher) putBack(chs []change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queueLocked(chs, true)
}

// queueLocked adds changes to the queue, at its front for ones sent
// before; past maxQueued the queue becomes one changeAll.
func (p *publisher) queueLocked(chs []change, front bool) {
	if front {
		p.queue = append(chs, p.queue...)
	} else {
		p.queue = append(p.queue, chs...)
	}
	if len(p.queue) > maxQueued {
		p.queue = append(p.queue[:0], change{kind: changeAll})
	}
}

// publish sends what this instance commits to the others, reconnecting
// with backoff, until ctx ends; then it sends what is left and goodbye.
func (s *Store) publish(ctx context.Context) {
	p := &s.watch.pub
	tick := time.NewTicker(aliveEvery)
	defer tick.Stop()
	var conn *pgx.Conn
	backoff := 100 * time.Millisecond
	connect := func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, withConnectTimeout(s.watch.dsn))
		if err == nil {
			_, err = c.Exec(ctx, `SET synchronous_commit = off`)
		}
		if err != nil {
			if c != nil {
				c.Close(context.Background())
			}
			s.watch.pubUp.Store(false)
			return err
		}
		// Up once the others have heard that this instance is alive:
		// only then may commits leave their notifications to it.
		if err := s.notify(ctx, c, nil); err != nil {
			c.Close(context.Background())
			s.watch.pubUp.Store(false)
			return err
		}
		conn = c
		s.watch.pubUp.Store(true)
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.stopped = true
			p.mu.Unlock()
			// Not ctx: it has ended, and what is left must still go out.
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if conn != nil || connect(fctx) == nil {
				s.notify(fctx, conn, append(p.take(), change{kind: changeGone}))
				conn.Close(fctx)
			}
			return
		case <-p.wake:
		case <-tick.C:
		}
		if conn == nil {
			if err := connect(ctx); err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
		}
		chs := p.take()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := s.notify(sctx, conn, chs)
		cancel()
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			// The server refused the statement, not the connection: the
			// same payload would be refused again. Everything changed.
			p.putBack([]change{{kind: changeAll}})
		case err != nil:
			p.putBack(chs)
			s.watch.pubUp.Store(false)
			conn.Close(context.Background())
			conn = nil
		}
	}
}

// notify sends changes, and that this instance is alive, in one statement.
func (s *Store) notify(ctx context.Context, conn *pgx.Conn, chs []change) error {
	_, err := conn.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`,
		s.watch.channel, s.payloads(chs, true))
	return err
}

// payloads cuts changes into NOTIFY payloads under maxPayload, each led by
// this instance's name; alive adds the line that says it serves.
func (s *Store) payloads(chs []change, alive bool) []string {
	var out []string
	for first := true; first || len(chs) > 0; first = false {
		var b strings.Builder
		b.WriteString(s.watch.instance)
		b.WriteByte('\n')
		if alive {
			b.WriteString(encodeChanges([]change{{kind: changeAlive}}))
		}
		n := 0
		for n < len(chs) && (n == 0 || b.Len()+len(chs[n].key)+2 <= maxPayload) {
			b.WriteString(encodeChanges(chs[n : n+1]))
			n++
		}
		chs = chs[n:]
		out = append(out, b.String())
	}
	return out
}

// peers are the serving instances this one hears, and when it last did.
type peers struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// heard notes a notification from instance, and returns the changes in
// it that are about cached state.
func (p *peers) heard(instance string, chs []change) []change {
	out := chs[:0]
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range chs {
		switch ch.kind {
		case changeAlive:
			if p.seen == nil {
				p.seen = map[string]time.Time{}
			}
			p.seen[instance] = time.Now()
		case changeGone:
			delete(p.seen, instance)
		default:
			out = append(out, ch)
		}
	}
	return out
}

// silent forgets the instances not heard for silentAfter and tells
// whether there were any.
func (p *peers) silent() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	any := false
	for who, at := range p.seen {
		if time.Since(at) > silentAfter {
			delete(p.seen, who)
			any = true
		}
	}
	return any
}

// watchPeers clears the caches when an instance falls silent: it may have
// died between a commit and its notification.
func (s *Store) watchPeers(ctx context.Context) {
	t := time.NewTicker(aliveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.watch.peers.silent() {
			s.watch.silenced.Add(1)
			s.clearCaches()
		}
	}
}
