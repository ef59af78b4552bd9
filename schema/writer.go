package schema

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
)

// The writer is group commit for the hot write paths (votes, new comments,
// captchas): one goroutine takes whatever requests queued up while the
// previous transaction committed, runs them all in one transaction and
// answers each only after the commit. There is no timer: an idle server
// commits a lone vote at once, a busy one amortises the commit over many.
// Counter changes of a batch are folded per row and applied in key order,
// so a viral article is one counter update per batch, and two instances
// on PostgreSQL lock counter rows in the same order.

const maxBatch = 256

// hotWrites are the statements batches run most, prepared once on SQLite.
func hotWrites() []string {
	return []string{sqlReadReaction, sqlInsertReaction, sqlUpdateReaction, sqlDeleteReaction, sqlAddCount,
		sqlMarkParent, sqlInsertComment, sqlBumpApproved, sqlConsumeCaptcha, sqlInsertCaptcha,
		sqlVoteArticle, sqlVotePublished, sqlInsertVote, sqlInsertVoteOn, sqlInsertVotePublished, sqlReadVote, sqlDeleteVote, sqlUpdateVote, sqlCountVote,
		sqlRollReaction, sqlRollComments, sqlRollHeld, sqlMoveQueue}
}

type writer struct {
	ops  chan *op
	done chan struct{}
	// turn is held by the lane gathering and running a batch, until its
	// commit.
	turn sync.Mutex
	// mu orders submissions before the close of ops: a request still
	// running at shutdown gets ErrClosed instead of a panic.
	mu     sync.RWMutex
	closed bool
	// batches and writes count what the writer did, for metrics; dropped
	// counts ops whose caller gave up before their batch began, replayed
	// ops run again alone after their batch failed as a whole.
	batches, writes, dropped, replayed atomic.Int64
}

type op struct {
	ctx  context.Context
	fn   func(b *batch) error
	err  chan error
	soft error
	// captcha is the captcha the op uses up, if any: on PostgreSQL the
	// batch claims them all in one statement before its ops run.
	captcha string
}

// batch is what an op sees: the transaction, and places to fold counter
// changes and to register work for after the commit. Its ctx is not any
// caller's: once an op is in a batch, a caller that gives up must not roll
// back the others, so statements run until the batch's own deadline.
type batch struct {
	s      *Store
	ctx    context.Context
	tx     *sqlx.Tx
	counts map[countKey]int64
	// approved and queues are the batch's changes of articles' approved
	// counters and sites' queue counters, folded like counts: a burst of
	// posts on one article is one update of each per batch, taken at the
	// end in key order.
	approved map[int64]int64
	queues   map[queueKey]int64
	after    []func()
	// reactions are the batch's reaction changes on PostgreSQL, written
	// together by a few set-based statements when the ops have run.
	reactions []reactionChange
	// commentVotes likewise, answered when written; cur is the op running,
	// for the ops that are answered after it returned.
	commentVotes []*commentVote
	cur          *op
	// ins is what the batch folded for the insights' rollups.
	ins insights
	// PostgreSQL: the captchas the batch's ops claimed, by id (taken out
	// as each op uses its own), and its new comments, inserted together.
	claimed     map[string]claimedCaptcha
	newComments []newComment
	// PostgreSQL: the connection of tx, and the statements queued to send
	// together at the end (pipeline.go).
	conn *sqlx.Conn
	pipe *pgx.Batch
}

type queueKey struct {
	site  int64
	queue string
}

type countKey struct {
	article  int64
	reaction string
}

// softError marks an error that wrote nothing: the batch goes on.
type softError struct{ err error }

func (e softError) Error() string { return e.err.Error() }
func (e softError) Unwrap() error { return e.err }

// soft wraps an op's refusal (a used captcha, a missing comment) found
// before it wrote anything, so the rest of its batch can commit.
func soft(err error) error { return softError{err} }

func (b *batch) addCount(article int64, reaction string, by int64) {
	if by != 0 {
		b.counts[countKey{article, reaction}] += by
		b.rollReaction(article, reaction, by)
	}
}

// afterCommit runs fn once the batch has committed: cache updates.
func (b *batch) afterCommit(fn func()) { b.after = append(b.after, fn) }

// postgresLanes is how many batches may be in flight on PostgreSQL. A
// commit there waits for the flush to disk (3 ms on the development
// machine); meanwhile the next lane gathers what queued and runs its
// statements, so a commit's wait overlaps the next batch's work. Only one
// lane runs statements at a time (the turn), so batches stay as large as
// with one. The rows every batch shares (counters, rollups) are taken at
// a batch's end in key order, so a lane waits there for the commit before
// it and lanes cannot deadlock on them. SQLite has one writer connection:
// one lane.
const postgresLanes = 3

func (s *Store) startWriter() {
	s.w = &writer{ops: make(chan *op, 4*maxBatch), done: make(chan struct{})}
	lanes := 1
	if s.dialect == Postgres {
		lanes = postgresLanes
	}
	var wg sync.WaitGroup
	for range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.writeLoop()
		}()
	}
	go func() {
		wg.Wait()
		close(s.w.done)
	}()
}

func (s *Store) stopWriter() {
	if s.w != nil {
		s.w.mu.Lock()
		s.w.closed = true
		close(s.w.ops)
		s.w.mu.Unlock()
		<-s.w.done
	}
}

// ErrClosed answers writes that arrive after the store closed.
var ErrClosed = errors.New("the store is closed: the server is shutting down")

// batchTimeout bounds one batch, whatever its callers' deadlines: a
// database that stopped answering fails the batch instead of the writer.
const batchTimeout = 30 * time.Second

// submit runs fn in the next batch and returns once that batch committed.
// fn must use the batch's ctx, never the caller's.
func (s *Store) submit(ctx context.Context, fn func(b *batch) error) error {
	return s.enqueue(&op{ctx: ctx, fn: fn})
}

// submitClaiming is submit for an op that uses up captcha (with
// b.consumeCaptcha, before it writes anything).
func (s *Store) submitClaiming(ctx context.Context, captcha string, fn func(b *batch) error) error {
	return s.enqueue(&op{ctx: ctx, fn: fn, captcha: captcha})
}

func (s *Store) enqueue(o *op) error {
	ctx := o.ctx
	o.err = make(chan error, 1)
	s.w.mu.RLock()
	if s.w.closed {
		s.w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.w.ops <- o:
	case <-ctx.Done():
		s.w.mu.RUnlock()
		return ctx.Err()
	}
	s.w.mu.RUnlock()
	// Once queued the op may commit, so its answer is awaited even when the
	// caller gives up: the client may be gone, the data stays right.
	return <-o.err
}

func (s *Store) writeLoop() {
	ops := make([]*op, 0, maxBatch)
	for {
		// One lane at a time gathers and runs a batch; it hands the turn
		// on when it commits. So batches stay as large as with one lane
		// (all that queued while the previous batch ran), and the wait for
		// a commit's flush is the only work that overlaps. A lane waits
		// for work before it takes the turn, never with it: a lane
		// replaying a failed batch's ops one by one takes the turn again
		// for each, and their callers, waiting for it, send no new work.
		first, ok := <-s.w.ops
		if !ok {
			return
		}
		s.w.turn.Lock()
		ops = s.live(ops[:0], first)
		// Under load the handlers that will submit next are often runnable
		// but not yet running (two cores serve HTTP, the client and this
		// loop): yielding once before committing lets them join this batch
		// instead of paying a commit each. It costs microseconds when idle.
		// Yielding again while a yield brought more ops did not make the
		// batches larger (9.3 writes per transaction either way).
		for yielded := false; ; yielded = true {
			ops = s.drain(ops)
			if yielded || len(ops) >= maxBatch {
				break
			}
			runtime.Gosched()
		}
		if len(ops) == 0 {
			s.w.turn.Unlock()
			continue
		}
		s.w.batches.Add(1)
		s.w.writes.Add(int64(len(ops)))
		t := &laneTurn{mu: &s.w.turn, held: true}
		s.runBatch(ops, t)
		t.release()
	}
}

// laneTurn is a lane's hold on the writer's turn: released before a
// commit, taken again before a retry or a replay runs statements.
type laneTurn struct {
	mu   *sync.Mutex
	held bool
}

func (t *laneTurn) release() {
	if t.held {
		t.held = false
		t.mu.Unlock()
	}
}

func (t *laneTurn) take() {
	if !t.held {
		t.mu.Lock()
		t.held = true
	}
}

// drain appends the ops waiting in the channel, up to maxBatch.
func (s *Store) drain(ops []*op) []*op {
	for len(ops) < maxBatch {
		select {
		case o, ok := <-s.w.ops:
			if !ok {
				return ops
			}
			ops = s.live(ops, o)
		default:
			return ops
		}
	}
	return ops
}

// live appends o to ops unless its caller already gave up: such an op is
// answered with the caller's error and never runs, so it wrote nothing.
func (s *Store) live(ops []*op, o *op) []*op {
	if err := o.ctx.Err(); err != nil {
		s.w.dropped.Add(1)
		o.err <- err
		return ops
	}
	return append(ops, o)
}

// WriterStats is what the group-commit writer did since the store opened:
// Writes/Batches is the batch size; Dropped ops were abandoned by their
// callers before they ran; Replayed ops ran again alone after their batch
// failed as a whole.
type WriterStats struct {
	Batches, Writes, Dropped, Replayed int64
}

// WriterStats reports the writer's counters, for metrics.
func (s *Store) WriterStats() WriterStats {
	return WriterStats{Batches: s.w.batches.Load(), Writes: s.w.writes.Load(),
		Dropped: s.w.dropped.Load(), Replayed: s.w.replayed.Load()}
}

// runBatch commits ops together; if the batch fails as a whole, each op is
// retried alone so that one bad op cannot fail the others.
// The batch holds the lane's turn t while it runs statements and releases
// it before its commit.
func (s *Store) runBatch(ops []*op, t *laneTurn) {
	var after []func()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		t.take()
		after, err = s.tryBatch(ops, t)
		if err == nil || !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if err == nil {
		for _, fn := range after {
			fn()
		}
		for _, o := range ops {
			o.err <- o.soft
		}
		return
	}
	if len(ops) == 1 {
		ops[0].err <- err
		return
	}
	for _, o := range ops {
		s.w.replayed.Add(1)
		s.runBatch([]*op{o}, t)
	}
}

func (s *Store) tryBatch(ops []*op, t *laneTurn) ([]func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	b := &batch{s: s, ctx: ctx, counts: map[countKey]int64{},
		approved: map[int64]int64{}, queues: map[queueKey]int64{}}
	if err := s.beginBatch(b); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer b.endBatch()
	tx := b.tx
	if err := b.run(ops); err != nil {
		tx.Rollback()
		s.hooks.drop(tx)
		return nil, err
	}
	t.release()
	if err := tx.Commit(); err != nil {
		// The commit may have happened all the same (the connection lost
		// after COMMIT was sent): drop what it changed here and tell the
		// others. A needless invalidation costs a read.
		s.hooks.run(tx)
		return nil, fmt.Errorf("commit: %w", err)
	}
	// Invalidations first: values the batch committed then stay cached.
	return append(s.hooks.take(tx), b.after...), nil
}

// run runs the ops, then what they left for set-based statements and the
// folded counters, then publishes the batch's changes: all before the
// commit. An op's soft error is its own answer; any other fails the batch.
func (b *batch) run(ops []*op) error {
	if err := b.claimCaptchas(ops); err != nil {
		return err
	}
	for _, o := range ops {
		o.soft = nil
		b.cur = o
		if err := o.fn(b); err != nil {
			var se softError
			if !errors.As(err, &se) {
				return err
			}
			o.soft = se.err
		}
	}
	// Comment rows first, then articles' and queues' counters, in the
	// order a moderator's decision takes them. On PostgreSQL the counters
	// and rollups are queued and sent last, together (flush): after the
	// reactions' rows then, in the same order in every batch.
	for _, step := range []func() error{b.writeComments, b.writeCommentVotes, b.applyCommentCounts, b.writeReactions, b.applyCounts, b.applyInsights, b.flush} {
		if err := step(); err != nil {
			return err
		}
	}
	return b.s.sendChanges(b.ctx, b.tx)
}

// applyCounts writes the folded counter changes in key order and puts the
// resulting counts in the cache once the batch commits.
func (b *batch) applyCounts() error {
	if len(b.counts) == 0 {
		return nil
	}
	keys := make([]countKey, 0, len(b.counts))
	for k := range b.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].article != keys[j].article {
			return keys[i].article < keys[j].article
		}
		return keys[i].reaction < keys[j].reaction
	})
	committed := make([]int64, len(keys))
	if b.s.dialect == Postgres {
		// One round trip for the whole batch; rows are upserted in the
		// order given, so instances still lock counters in key order.
		articles, reactions, deltas := make([]int64, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		added, retracted := make([]int64, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			articles[i], reactions[i], deltas[i] = k.article, k.reaction, b.counts[k]
			if d := b.ins.reactions[k]; d != nil {
				added[i], retracted[i] = d[0], d[1]
			}
		}
		var rows []struct {
			Article  int64  `db:"article_id"`
			Reaction string `db:"reaction"`
			Count    int64  `db:"count"`
		}
		// The insights' reaction rollups ride in the same statement, as a
		// data-modifying CTE: one round trip for counters and rollups.
		query, args := `INSERT INTO reaction_counts (article_id, reaction, count)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
			ON CONFLICT (article_id, reaction) DO UPDATE SET count = reaction_counts.count + excluded.count
			RETURNING article_id, reaction, count`, []any{articles, reactions, deltas}
		if len(b.ins.reactions) > 0 {
			now := b.s.nowMS()
			query, args = `WITH u AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
					WITH ORDINALITY AS u(article_id, reaction, delta, added, retracted, n)),
				r AS (SELECT u.*, a.site_id FROM u JOIN articles a ON a.id = u.article_id WHERE u.added <> 0 OR u.retracted <> 0),
				h AS (INSERT INTO insight_reaction_hours (article_id, hour, reaction, site_id, added, retracted)
					SELECT article_id, $6, reaction, site_id, added, retracted FROM r ORDER BY n
					ON CONFLICT (article_id, hour, reaction) DO UPDATE SET added = insight_reaction_hours.added + excluded.added,
						retracted = insight_reaction_hours.retracted + excluded.retracted)
				INSERT INTO reaction_counts (article_id, reaction, count) SELECT article_id, reaction, delta FROM u ORDER BY n
				ON CONFLICT (article_id, reaction) DO UPDATE SET count = reaction_counts.count + excluded.count
				RETURNING article_id, reaction, count`,
				[]any{articles, reactions, deltas, added, retracted, HourOf(now)}
			b.ins.reactions = nil // written
		}
		if err := b.tx.SelectContext(b.ctx, &rows, query, args...); err != nil {
			return fmt.Errorf("count reactions: %w", err)
		}
		got := make(map[countKey]int64, len(rows))
		for _, r := range rows {
			got[countKey{r.Article, r.Reaction}] = r.Count
		}
		for i, k := range keys {
			committed[i] = got[k]
		}
	} else {
		for i, k := range keys {
			if err := b.get(&committed[i], sqlAddCount, k.article, k.reaction, b.counts[k]); err != nil {
				return fmt.Errorf("count reactions: %w", err)
			}
		}
	}
	// One cache update per article, with all its committed counters.
	byArticle := map[int64]Counts{}
	for i, k := range keys {
		if byArticle[k.article] == nil {
			byArticle[k.article] = Counts{}
		}
		byArticle[k.article][k.reaction] = committed[i]
	}
	for article, changed := range byArticle {
		b.s.published(b.tx, countsChanged(article))
		// Begun before the commit: another instance's later commit of the
		// same counters drops the entry rather than being overwritten.
		f := b.s.state.counts.Begin(article)
		b.afterCommit(func() {
			b.s.state.counts.UpdateIf(f, article, func(old Counts) Counts {
				next := make(Counts, len(old)+len(changed))
				for r, v := range old {
					next[r] = v
				}
				for r, v := range changed {
					next[r] = v
				}
				return next
			})
		})
	}
	return nil
}

// applyCommentCounts writes the folded approved and queue counters, each
// in key order.
func (b *batch) applyCommentCounts() error {
	articles := make([]int64, 0, len(b.approved))
	for a, by := range b.approved {
		if by != 0 {
			articles = append(articles, a)
		}
	}
	slices.Sort(articles)
	for _, a := range articles {
		if err := b.execAtEnd(sqlBumpApproved, b.approved[a], a); err != nil {
			return fmt.Errorf("count approved: %w", err)
		}
	}
	queues := make([]queueKey, 0, len(b.queues))
	for k, by := range b.queues {
		if by != 0 {
			queues = append(queues, k)
		}
	}
	slices.SortFunc(queues, func(x, y queueKey) int {
		return cmp.Or(cmp.Compare(x.site, y.site), strings.Compare(x.queue, y.queue))
	})
	for _, k := range queues {
		if err := b.execAtEnd(sqlMoveQueue, k.site, k.queue, b.queues[k]); err != nil {
			return fmt.Errorf("count queue %s: %w", k.queue, err)
		}
	}
	return nil
}

// retryable tells whether a batch failed only because of a concurrent
// transaction on PostgreSQL (deadlock, serialization) or a busy SQLite.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return false
}
