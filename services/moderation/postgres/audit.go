package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// DBTX is what both a pool and a transaction offer; adapters that must
// write inside a caller's transaction (a decision and its audit event)
// take one.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// AppendAudit appends one event to the hash chain inside db (a transaction,
// so the event commits or rolls back with the act it records). The row
// lock on audit_head serialises concurrent appends, keeping the chain
// linear. Details may be nil.
func AppendAudit(ctx context.Context, db DBTX, at time.Time, actor, action, subject string, details any) (moderation.AuditEvent, error) {
	raw := []byte("{}")
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return moderation.AuditEvent{}, fmt.Errorf("encoding audit details: %w", err)
		}
		raw = b
	}
	at = at.UTC().Truncate(time.Microsecond) // what timestamptz keeps
	var ev moderation.AuditEvent
	err := db.QueryRow(ctx, `UPDATE audit_head SET seq = seq + 1 RETURNING seq, hash`).Scan(&ev.Seq, &ev.PrevHash)
	if err != nil {
		return ev, fmt.Errorf("appending audit event: %w", interpretError(err))
	}
	// Canonicalise details through jsonb so the hash covers exactly what
	// verification will read back.
	var canon []byte
	if err := db.QueryRow(ctx, `SELECT $1::jsonb::text`, string(raw)).Scan(&canon); err != nil {
		return ev, fmt.Errorf("appending audit event: %w", interpretError(err))
	}
	ev.At, ev.Actor, ev.Action, ev.Subject, ev.Details = at, actor, action, subject, canon
	ev.Hash = moderation.ChainHash(ev.PrevHash, ev.Seq, at, actor, action, subject, canon)
	_, err = db.Exec(ctx, `
INSERT INTO audit_events (seq, at, actor, action, subject, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`, ev.Seq, at, actor, action, subject, string(canon), ev.PrevHash, ev.Hash)
	if err != nil {
		return ev, fmt.Errorf("appending audit event: %w", interpretError(err))
	}
	if _, err := db.Exec(ctx, `UPDATE audit_head SET hash = $1`, ev.Hash); err != nil {
		return ev, fmt.Errorf("appending audit event: %w", interpretError(err))
	}
	return ev, nil
}

// ChainBreak says where the audit chain stops being valid.
type ChainBreak struct {
	Seq    int64
	Reason string
}

// VerifyAudit re-computes the chain from the first event and returns the
// first break, or nil when every event, and the head, is consistent.
func VerifyAudit(ctx context.Context, pool *pgxpool.Pool) (*ChainBreak, int64, error) {
	rows, err := pool.Query(ctx, `
SELECT seq, at, actor, action, subject, details::text, prev_hash, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return nil, 0, fmt.Errorf("reading audit log: %w", interpretError(err))
	}
	defer rows.Close()
	prev := fmt.Sprintf("%064d", 0)
	var want, n int64 = 1, 0
	for rows.Next() {
		var ev moderation.AuditEvent
		var details string
		if err := rows.Scan(&ev.Seq, &ev.At, &ev.Actor, &ev.Action, &ev.Subject, &details, &ev.PrevHash, &ev.Hash); err != nil {
			return nil, n, fmt.Errorf("reading audit log: %w", interpretError(err))
		}
		n++
		switch {
		case ev.Seq != want:
			return &ChainBreak{Seq: want, Reason: fmt.Sprintf("event %d is missing (next present is %d)", want, ev.Seq)}, n, nil
		case ev.PrevHash != prev:
			return &ChainBreak{Seq: ev.Seq, Reason: "prev_hash does not match the previous event's hash"}, n, nil
		}
		if h := moderation.ChainHash(ev.PrevHash, ev.Seq, ev.At, ev.Actor, ev.Action, ev.Subject, []byte(details)); h != ev.Hash {
			return &ChainBreak{Seq: ev.Seq, Reason: "content does not match its hash (edited)"}, n, nil
		}
		prev = ev.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return nil, n, fmt.Errorf("reading audit log: %w", interpretError(err))
	}
	var headSeq int64
	var headHash string
	if err := pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head`).Scan(&headSeq, &headHash); err != nil {
		return nil, n, fmt.Errorf("reading audit head: %w", interpretError(err))
	}
	if headSeq != want-1 || headHash != prev {
		return &ChainBreak{Seq: want, Reason: fmt.Sprintf("events after %d were deleted (head is at %d)", want-1, headSeq)}, n, nil
	}
	return nil, n, nil
}
