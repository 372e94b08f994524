package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Group commit for the audited hot paths (claims and decisions).
//
// Every claim and decision appends to the audit hash chain, whose single
// head row each audited transaction holds until its commit is durable. One
// transaction per request therefore serialises them on the WAL flush. A
// groupCommit instead runs the requests that arrive together as the
// statements of ONE transaction: one head lock, one round trip for all the
// statements, one commit and one flush for the lot.
//
// A transaction sends BEGIN, the requests' statements (each does its act,
// and returns the content of its audit events instead of appending them)
// and the head's lock (SELECT … FOR UPDATE, reading seq and hash)
// pipelined in one round trip, computes the events' hashes in Go
// (moderation.ChainHash, as AppendAudit does), and sends the insert of all
// the events with the move of the head and COMMIT, pipelined. The head is
// thus held for one round trip plus the append, not while the statements
// run, and it is updated once per transaction instead of twice per event.
//
// Early lock release: the transaction commits with synchronous_commit off
// (set locally), so its locks (the head's, the items') go as soon as the
// commit record is in the WAL buffers, and the flush is waited for after
// them, by a statement pipelined behind COMMIT in a transaction of its own
// (flushWALSQL) whose synchronous commit covers ours. Held through the
// flush (~2 ms here), the head allowed one transaction per flush and
// requests queued behind it at moderate load; now the flushes of
// concurrent transactions overlap and Postgres groups them. A request is
// still answered only once its transaction is durable (as the session's
// synchronous_commit defines it, standbys included). What changes is
// visibility: another session may see a claim or decision, or chain its
// audit event after one, up to a flush before it is durable. A crash in
// that window loses it together with everything that depended on it (the
// WAL is replayed in order, and no request was answered); the outbox relay,
// the one reader that acts outside the database, flushes past what it
// read before publishing it (OutboxSession.Unsent).
//
// Like every other audited transaction a group-commit transaction locks
// items before the head, so the two cannot deadlock. A transaction
// whose statements wrote nothing (no events: an empty queue, decisions on
// items no longer held) is rolled back instead, sparing the flush.
//
// Requests of one batch that can share a statement are run as one
// (mergeBatch; claims, decisions and submit-and-nexts: batchOp), so a
// batch of many requests is a few statements, not one per request.
//
// Batching is natural, with no fixed delay: a request arriving while a
// writer is idle starts a transaction at once; requests arriving while
// transactions are in flight wait and form the next one. Up to Writers
// (ReviewOptions; 2) transactions of one groupCommit (one Reviews, so one
// pool) are in flight, so one runs its statements while another appends
// and flushes; writers exit when nothing is queued. The prepared
// statements run with their generic plans (planning cost as much as
// running them).
//
// Guarantees, unchanged from one transaction per request:
//   - each request's act (and, for a decision, its outbox row) and its audit
//     event are written by the same transaction, so an act never commits
//     without its event or the other way round;
//   - a request is answered only after its transaction committed and
//     its commit is durable, as the session's synchronous_commit (the
//     server's) defines it (or after it failed);
//   - the chain stays linear: events get consecutive sequence numbers in
//     request order (the requests of a shared statement all where the
//     first of them was), chained from the head read under its row lock;
//   - a failing request does not fail the others: the transaction is rolled
//     back, the batch re-run without it, and the failed request re-run in a
//     transaction of its own, whose outcome is its answer.

// writeOp is one request waiting for the group commit: a statement, and a
// function reading its rows and returning the audit events to append, in
// chain order (none when the statement did nothing). scan must overwrite,
// not accumulate, what it stores: a rolled-back batch is re-run.
type writeOp struct {
	sql   string
	args  []any
	scan  func(pgx.Rows) ([]auditEntry, error)
	state atomic.Int32 // opQueued, opTaken or opAbandoned
	done  chan error   // buffered; receives the outcome once
	at    time.Time    // queued at (only when tracing)

	// merge, when set, lets the ops of one batch with the same key run as
	// one statement (see mergeBatch); members are the ops a merged op
	// stands for, which receive its outcome.
	merge   *mergeSpec
	members []*writeOp
}

// mergeSpec says how an op can share one statement with others: ops with
// equal keys are given, in batch order, to combine, which returns the op
// running those of them it can (whose scan fills in each one's results and
// returns their audit events in their order) and which they are, or nil.
type mergeSpec struct {
	key     string
	combine func(ops []*writeOp) (merged *writeOp, members []*writeOp)
	data    any // the op's inputs and results, for combine
}

// mergeBatch replaces the ops of batch that can share a statement with
// the op running them, placed where the first of them was. One statement
// costs the server much less than several (one executor start, one walk of
// the claim-order index for all the claims), and a batch's statements run
// one after the other, so this shortens every request of the batch.
func mergeBatch(batch []*writeOp) []*writeOp {
	groups := map[string][]*writeOp{}
	for _, op := range batch {
		if op.merge != nil {
			groups[op.merge.key] = append(groups[op.merge.key], op)
		}
	}
	if len(groups) == 0 {
		return batch
	}
	out := make([]*writeOp, 0, len(batch))
	for _, op := range batch {
		if op.merge == nil {
			out = append(out, op)
			continue
		}
		g, ok := groups[op.merge.key]
		if !ok {
			continue // merged where the first of its group was
		}
		delete(groups, op.merge.key)
		var m *writeOp
		var members []*writeOp
		if len(g) > 1 {
			m, members = g[0].merge.combine(g)
		}
		if m == nil || len(members) < 2 {
			out = append(out, g...)
			continue
		}
		m.members = members
		out = append(out, m)
		for _, o := range g { // those it could not take run on their own, after
			if !slices.Contains(members, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// build gives an op that has only its merge spec the statement running it
// alone (the group commit builds it only for ops that run alone).
func (op *writeOp) build() {
	if op.sql == "" && op.merge != nil {
		alone, _ := op.merge.combine([]*writeOp{op})
		op.sql, op.args, op.scan = alone.sql, alone.args, alone.scan
	}
}

// requests returns the requests op stands for: its members, or itself.
func (op *writeOp) requests() []*writeOp {
	if op.members != nil {
		return op.members
	}
	return []*writeOp{op}
}

// opTrace is where one request's time went (tests and benchmarks only):
// waiting in the queue, for a connection, for its transaction's statements
// (the first round trip, the head's lock included), for the append and the
// commit's answer, and for the flush's answer after it (pipelined behind
// COMMIT, so a flush done by then shows in Commit).
type opTrace struct {
	At                                   time.Time
	Queue, Acquire, Stmts, Commit, Flush time.Duration
	Batch                                int
}

// auditEntry is the content of an audit event; details is canonical jsonb
// text (what Postgres prints for the jsonb the statement built).
type auditEntry struct {
	at                              time.Time
	actor, action, subject, details string
}

// exec's answers for failures that are no single statement's.
const (
	rolledBack     = -1
	unknownOutcome = -2
)

const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// groupCommitStats counts transactions and the requests they carried.
type groupCommitStats struct {
	Batches, Ops, Retries, MaxBatch, Merged int64
}

type groupCommit struct {
	pool     *pgxpool.Pool
	maxBatch int
	timeout  time.Duration

	// holdThroughFlush keeps the audit head (and the items' row locks)
	// until the commit is durable, as before the early release; for
	// comparing the two in the benchmark.
	holdThroughFlush bool

	mu      sync.Mutex
	queue   []*writeOp
	writers int // how many may run at once
	running int // how many run

	batches, ops, retries, largest atomic.Int64
	merged                         atomic.Int64 // requests run in a statement shared with others

	tracing atomic.Bool
	traceMu sync.Mutex
	traces  *[]opTrace // non-nil while tracing
}

func newGroupCommit(pool *pgxpool.Pool, writers, maxBatch int, timeout time.Duration) *groupCommit {
	return &groupCommit{pool: pool, writers: writers, maxBatch: maxBatch, timeout: timeout}
}

// do runs op in the next group-commit transaction and returns its outcome.
// If ctx ends while op is still queued, op is dropped and never runs; if it
// ends after op was taken into a transaction, do returns ctx's error and
// the outcome is unknown to the caller (as with any request whose commit is
// interrupted): a claim then lapses with its lease.
func (g *groupCommit) do(ctx context.Context, op *writeOp) error {
	op.done = make(chan error, 1)
	g.mu.Lock()
	if g.tracing.Load() {
		op.at = time.Now()
	}
	g.queue = append(g.queue, op)
	if g.running < g.writers {
		g.running++
		// The writer outlives this request's cancellation but keeps its
		// values; each transaction has its own timeout.
		go g.loop(context.WithoutCancel(ctx))
	}
	g.mu.Unlock()
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		if op.state.CompareAndSwap(opQueued, opAbandoned) {
			return ctx.Err()
		}
		select { // taken: the transaction may be finishing right now
		case err := <-op.done:
			return err
		default:
			return ctx.Err()
		}
	}
}

func (g *groupCommit) loop(ctx context.Context) {
	for {
		g.mu.Lock()
		var batch []*writeOp
		for len(g.queue) > 0 && len(batch) < g.maxBatch {
			op := g.queue[0]
			g.queue[0] = nil
			g.queue = g.queue[1:]
			if op.state.CompareAndSwap(opQueued, opTaken) {
				batch = append(batch, op)
			}
		}
		if len(batch) == 0 {
			g.running--
			if len(g.queue) == 0 {
				g.queue = nil
			}
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.run(ctx, mergeBatch(batch))
	}
}

// run commits batch, re-running it without any request whose statement
// fails, and then each failed request alone.
func (g *groupCommit) run(ctx context.Context, batch []*writeOp) {
	answer := func(ops []*writeOp, err error) {
		for _, op := range ops {
			for _, r := range op.requests() {
				r.done <- err
			}
		}
	}
	var failed []*writeOp
	for len(batch) > 0 {
		i, err := g.exec(ctx, batch)
		switch {
		case err == nil:
			answer(batch, nil)
		case i >= 0 && (len(batch) > 1 || batch[i].members != nil): // one statement failed: re-run the others
			g.retries.Add(1)
			failed = append(failed, batch[i].requests()...)
			batch = append(batch[:i:i], batch[i+1:]...)
			continue
		case i == rolledBack && (len(batch) > 1 || batch[0].members != nil): // no culprit named, nothing committed: each alone
			g.retries.Add(1)
			for _, op := range batch {
				failed = append(failed, op.requests()...)
			}
		default: // a lone request failed, or the commit's outcome is unknown
			answer(batch, err)
		}
		break
	}
	for _, op := range failed {
		_, err := g.exec(ctx, []*writeOp{op})
		op.done <- err
	}
}

// exec runs ops as one transaction in two round trips: BEGIN, every
// statement and the audit head's lock, pipelined; the append of the events
// (one statement, moving the head) and COMMIT, pipelined. On failure it
// returns the index of the op whose statement failed (the transaction is
// rolled back), rolledBack when the failure is no one statement's but
// nothing was committed, or unknownOutcome when the connection broke or
// the commit failed without the server saying it rolled back.
func (g *groupCommit) exec(ctx context.Context, ops []*writeOp) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	var ts phaseTimes
	ts[0] = time.Now()
	defer g.trace(ops, &ts)
	requests := int64(0)
	for _, op := range ops {
		requests += int64(len(op.requests()))
		if op.members != nil {
			g.merged.Add(int64(len(op.members)))
		}
	}
	g.batches.Add(1)
	g.ops.Add(requests)
	for {
		m := g.largest.Load()
		if requests <= m || g.largest.CompareAndSwap(m, requests) {
			break
		}
	}
	c, err := g.pool.Acquire(ctx)
	if err != nil {
		return rolledBack, err
	}
	defer c.Release()
	ts[1] = time.Now()
	conn := c.Conn()
	open := false // a transaction block may be open on conn
	defer func() {
		if open { // roll back, or drop a connection in an unknown state
			if _, err := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	// Before the commit, a failure rolls everything back; the outcome is
	// known as long as the connection lives.
	failure := func() int {
		if conn.IsClosed() {
			return unknownOutcome
		}
		return rolledBack
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	// The statements are prepared once per connection (pgx's statement
	// cache); their plans do not depend on the parameters' values (key
	// lookups, and the claim order index with a literal LIMIT), so skip
	// re-planning every execution: planning cost as much as running them.
	if g.holdThroughFlush {
		b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	} else {
		b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('synchronous_commit', 'off', true)`)
	}
	for _, op := range ops {
		op.build()
		b.Queue(op.sql, op.args...)
	}
	// The head last, as every audited transaction does (items, then the
	// head), in the same round trip: it is taken once the statements ran
	// and held for one round trip, the append and the commit, while
	// another writer's statements run.
	b.Queue(lockAuditHeadSQL)
	open = true
	br := conn.SendBatch(ctx, b)
	for _, what := range []string{"beginning", "configuring the transaction"} {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return failure(), fmt.Errorf("%s: %w", what, err)
		}
	}
	entries := make([]auditEntry, 0, len(ops)+1)
	for i, op := range ops {
		rows, err := br.Query()
		var es []auditEntry
		if err == nil {
			es, err = op.scan(rows)
			rows.Close()
		}
		if err != nil {
			_ = br.Close()
			// With the connection alive and time left, the server refused
			// this statement or its rows did not decode: its fault alone.
			if ctx.Err() == nil && !conn.IsClosed() {
				return i, err
			}
			return failure(), err
		}
		entries = append(entries, es...)
	}
	var seq int64
	var prev string
	if err := br.QueryRow().Scan(&seq, &prev); err != nil {
		_ = br.Close()
		return failure(), fmt.Errorf("locking the audit head: %w", err)
	}
	if err := br.Close(); err != nil {
		return failure(), err
	}
	ts[2] = time.Now()
	if len(entries) == 0 {
		// Nothing was written but the head's row lock (a statement without
		// events did nothing): end without a commit to flush.
		open = false
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
		return 0, nil
	}
	n := len(entries)
	seqs, ats := make([]int64, n), make([]time.Time, n)
	actors, actions, subjects := make([]string, n), make([]string, n), make([]string, n)
	details, prevs, hashes := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range entries {
		seq++
		at := e.at.UTC().Truncate(time.Microsecond) // what timestamptz keeps
		h := moderation.ChainHash(prev, seq, at, e.actor, e.action, e.subject, []byte(e.details))
		seqs[i], ats[i], actors[i], actions[i], subjects[i], details[i], prevs[i], hashes[i] =
			seq, at, e.actor, e.action, e.subject, e.details, prev, h
		prev = h
	}
	b = &pgx.Batch{}
	b.Queue(appendAuditEventsSQL, seqs, ats, actors, actions, subjects, details, prevs, hashes, seq, prev)
	return g.commit(ctx, conn, b, failure, &open, &ts)
}

// commit sends b (the append) with COMMIT and, unless the head is held
// through the flush, the flush, pipelined.
func (g *groupCommit) commit(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, failure func() int, open *bool, ts *phaseTimes) (int, error) {
	b.Queue("COMMIT")
	if !g.holdThroughFlush {
		b.Queue(flushWALSQL)
	}
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return failure(), fmt.Errorf("appending audit events: %w", err)
	}
	_, err := br.Exec()
	if err != nil {
		_ = br.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && !conn.IsClosed() { // the server refused the commit: rolled back
			return rolledBack, fmt.Errorf("committing: %w", err)
		}
		*open = false
		return unknownOutcome, fmt.Errorf("committing: %w", err)
	}
	*open = false
	ts[3] = time.Now()
	// Committed; durable once the flush's own commit (after ours in the
	// WAL) is. Until then the outcome is not known to be durable.
	if !g.holdThroughFlush {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return unknownOutcome, fmt.Errorf("flushing the commit: %w", err)
	}
	ts[4] = time.Now()
	return 0, nil
}

// phaseTimes are the moments a transaction started, had its connection,
// had run its statements, committed and was flushed.
type phaseTimes [5]time.Time

// trace records where the time of ops, run by a transaction that
// completed, went (when tracing).
func (g *groupCommit) trace(ops []*writeOp, ts *phaseTimes) {
	if ts[4].IsZero() {
		return
	}
	g.traceMu.Lock()
	defer g.traceMu.Unlock()
	if g.traces == nil {
		return
	}
	batch := 0
	for _, op := range ops {
		batch += len(op.requests())
	}
	for _, op := range ops {
		for _, r := range op.requests() {
			if r.at.IsZero() {
				continue
			}
			*g.traces = append(*g.traces, opTrace{At: r.at, Queue: ts[0].Sub(r.at), Acquire: ts[1].Sub(ts[0]),
				Stmts: ts[2].Sub(ts[1]), Commit: ts[3].Sub(ts[2]), Flush: ts[4].Sub(ts[3]), Batch: batch})
		}
	}
}

// appendAuditEventsSQL appends a run of chained events and moves the head
// to the last one.
const appendAuditEventsSQL = `
WITH ev AS (
    INSERT INTO audit_events (seq, at, actor, action, subject, details, prev_hash, hash)
    SELECT s, a, ac, act, sub, d::jsonb, p, h
    FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
        AS u(s, a, ac, act, sub, d, p, h))
UPDATE audit_head SET seq = $9, hash = $10`

func (g *groupCommit) stats() groupCommitStats {
	return groupCommitStats{Batches: g.batches.Load(), Ops: g.ops.Load(), Retries: g.retries.Load(), MaxBatch: g.largest.Load(),
		Merged: g.merged.Load()}
}

// flushWALSQL, run in a transaction of its own after a commit made with
// synchronous_commit off, returns once that commit is durable: it writes a
// (transactional, empty) logical message, so its own commit is flushed
// under the session's synchronous_commit, and a WAL flush covers every
// record before it, the earlier commit included. Postgres flushes the
// commits of concurrent sessions together, so waiting here costs no
// serialisation, unlike waiting under the audit head's lock.
const flushWALSQL = `SELECT pg_logical_emit_message(true, 'vigil.flush', '')`

// CheckFlush verifies that the role may run the flush that the group
// commit and the outbox relay wait on (EXECUTE on pg_logical_emit_message,
// which PostgreSQL grants to every role unless an administrator revoked
// it), so that a service fails at start with this error instead of
// answering every claim and decision with one.
func CheckFlush(ctx context.Context, db DBTX) error {
	if _, err := db.Exec(ctx, flushWALSQL); err != nil {
		return fmt.Errorf("checking that commits can be waited for (needs EXECUTE on pg_logical_emit_message): %w", interpretError(err))
	}
	return nil
}

// lockAuditHeadSQL takes the audit chain's head row lock and reads it.
const lockAuditHeadSQL = `SELECT seq, hash FROM audit_head FOR UPDATE`
