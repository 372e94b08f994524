package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// AuditFilter narrows a reading of the audit log.
type AuditFilter struct {
	Action   string
	Actor    string
	Subject  string
	AfterSeq int64
	Limit    int // 100 when zero, at most 1000
}

// ReadAudit returns audit events in sequence order.
func ReadAudit(ctx context.Context, pool *pgxpool.Pool, f AuditFilter) ([]moderation.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	add("seq >", f.AfterSeq)
	if f.Action != "" {
		add("action =", f.Action)
	}
	if f.Actor != "" {
		add("actor =", f.Actor)
	}
	if f.Subject != "" {
		add("subject =", f.Subject)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := pool.Query(ctx, `
SELECT seq, at, actor, action, subject, details::text, prev_hash, hash FROM audit_events
WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.AuditEvent, error) {
		var ev moderation.AuditEvent
		var details string
		err := row.Scan(&ev.Seq, &ev.At, &ev.Actor, &ev.Action, &ev.Subject, &details, &ev.PrevHash, &ev.Hash)
		ev.Details = []byte(details)
		return ev, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.AuditEvent{}
	}
	return out, nil
}
