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

// ReadAudit returns audit events in sequence order, or the latest first
// when f.Newest.
func ReadAudit(ctx context.Context, pool *pgxpool.Pool, f moderation.AuditFilter) ([]moderation.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	add("seq >", f.AfterSeq)
	if f.BeforeSeq != 0 {
		add("seq <", f.BeforeSeq)
	}
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
	order := "seq"
	if f.Newest {
		order = "seq DESC"
	}
	args = append(args, f.Limit)
	rows, err := pool.Query(ctx, `
SELECT seq, at, actor, action, subject, details::text, prev_hash, hash FROM audit_events
WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT $`+strconv.Itoa(len(args)), args...)
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

// AuditLog reads and verifies the audit log.
type AuditLog struct{ pool *pgxpool.Pool }

// NewAuditLog returns an AuditLog over pool.
func NewAuditLog(pool *pgxpool.Pool) *AuditLog { return &AuditLog{pool: pool} }

// Read returns audit events in sequence order, or the latest first when
// f.Newest.
func (a *AuditLog) Read(ctx context.Context, f moderation.AuditFilter) ([]moderation.AuditEvent, error) {
	return ReadAudit(ctx, a.pool, f)
}

// Verify re-computes the whole hash chain.
func (a *AuditLog) Verify(ctx context.Context) (moderation.AuditVerification, error) {
	br, n, err := VerifyAudit(ctx, a.pool)
	if err != nil {
		return moderation.AuditVerification{}, err
	}
	v := moderation.AuditVerification{OK: br == nil, Events: n}
	if br != nil {
		v.Seq, v.Reason = br.Seq, br.Reason
	}
	return v, nil
}
