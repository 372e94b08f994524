package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// AppendOutbox writes one outbox row in tx, the transaction of the change
// it announces, and returns its id. payload is encoded as JSON unless it is
// already json.RawMessage or []byte.
func AppendOutbox(ctx context.Context, tx pgx.Tx, topic, key string, payload any) (int64, error) {
	var b []byte
	switch p := payload.(type) {
	case json.RawMessage:
		b = p
	case []byte:
		b = p
	default:
		var err error
		if b, err = json.Marshal(payload); err != nil {
			return 0, fmt.Errorf("encoding outbox payload: %w", err)
		}
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3) RETURNING id`, topic, key, b).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("appending to outbox: %w", interpretError(err))
	}
	return id, nil
}

// Outbox gives the relay its exclusive session on the outbox table.
type Outbox struct {
	pool  *pgxpool.Pool
	clock Clock
}

// NewOutbox returns an Outbox over pool; clock stamps sent_at.
func NewOutbox(pool *pgxpool.Pool, clock Clock) *Outbox {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Outbox{pool: pool, clock: clock}
}

// The relay lock is a session advisory lock keyed by the schema, so that
// relays of different schemas (tests) do not exclude each other.
const relayLockKey = `hashtextextended(current_schema() || '.outbox_relay', 0)`

// Lock takes the relay lock on a connection of its own and returns a
// session holding it. Returns moderation.ErrConflict if another relay holds
// it. The lock lives as long as the connection: if the connection dies the
// lock is released, and the session's next call fails, which tells the
// relay to stop and lock again.
func (o *Outbox) Lock(ctx context.Context) (*OutboxSession, error) {
	conn, err := o.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring outbox connection: %w", interpretError(err))
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+relayLockKey+`)`).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("taking outbox relay lock: %w", interpretError(err))
	}
	if !ok {
		conn.Release()
		return nil, fmt.Errorf("outbox relay lock is held by another relay: %w", moderation.ErrConflict)
	}
	return &OutboxSession{conn: conn, clock: o.clock}, nil
}

// OutboxSession is the relay's exclusive hold on the outbox. It is not safe
// for concurrent use.
type OutboxSession struct {
	conn  *pgxpool.Conn
	clock Clock
}

// Unsent returns up to limit unsent messages in id order, each durable:
// the group commit of claims and decisions releases its locks before its
// commit is flushed (groupcommit.go), so a row may be visible a moment
// before it is durable; the read is followed, in the same round trip, by
// a flush of the WAL past every commit it saw (when it saw any), so that nothing is
// published that a crash could still undo.
func (s *OutboxSession) Unsent(ctx context.Context, limit int) ([]moderation.OutboxMessage, error) {
	b := &pgx.Batch{}
	b.Queue(`
SELECT id, topic, key, payload::text, created_at FROM outbox
WHERE sent_at IS NULL ORDER BY id LIMIT $1`, limit)
	// (Not when the outbox is empty: no WAL written while idle.)
	b.Queue(flushWALSQL + ` WHERE EXISTS (SELECT FROM outbox WHERE sent_at IS NULL)`)
	br := s.conn.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("reading outbox: %w", interpretError(err))
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.OutboxMessage, error) {
		var m moderation.OutboxMessage
		var payload string
		err := row.Scan(&m.ID, &m.Topic, &m.Key, &payload, &m.CreatedAt)
		m.Payload = []byte(payload)
		return m, err
	})
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("reading outbox: %w", interpretError(err))
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("flushing before relaying: %w", interpretError(err))
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("reading outbox: %w", interpretError(err))
	}
	return msgs, nil
}

// Pending returns, per topic, the smallest unsent id: the relay reads each
// topic's tail back to there to find what a crash left published but not
// marked.
func (s *OutboxSession) Pending(ctx context.Context) (map[string]int64, error) {
	rows, err := s.conn.Query(ctx, `SELECT topic, min(id) FROM outbox WHERE sent_at IS NULL GROUP BY topic`)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", interpretError(err))
	}
	out := map[string]int64{}
	var topic string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&topic, &id}, func() error {
		out[topic] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", interpretError(err))
	}
	return out, nil
}

// MarkSent records that the broker acknowledged the messages ids and
// returns how many were not marked before.
func (s *OutboxSession) MarkSent(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.conn.Exec(ctx, `UPDATE outbox SET sent_at = $2 WHERE id = ANY($1) AND sent_at IS NULL`, ids, s.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("marking %d outbox messages sent: %w", len(ids), interpretError(err))
	}
	return tag.RowsAffected(), nil
}

// Backlog counts unsent messages and the age of the oldest, for metrics.
func (s *OutboxSession) Backlog(ctx context.Context) (int64, time.Duration, error) {
	var n int64
	var oldest *time.Time
	if err := s.conn.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL`).Scan(&n, &oldest); err != nil {
		return 0, 0, fmt.Errorf("counting outbox backlog: %w", interpretError(err))
	}
	if oldest == nil {
		return n, 0, nil
	}
	return n, s.clock.Now().Sub(*oldest), nil
}

// Close releases the lock and the connection. A connection that failed is
// destroyed rather than returned to the pool, which releases the lock too.
func (s *OutboxSession) Close(ctx context.Context) {
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock(`+relayLockKey+`)`); err != nil {
		_ = s.conn.Conn().Close(ctx) // drop the session, and with it the lock
	}
	s.conn.Release()
	s.conn = nil
}
