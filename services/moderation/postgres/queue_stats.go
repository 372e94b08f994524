package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// QueueStats summarises the open review items by category and status, as
// of now: counts, overdue counts, the oldest flag and the next SLA
// deadline. It reads the open items only (the partial indexes of the claim
// order and of leases), not the decided history.
func QueueStats(ctx context.Context, db DBTX, now time.Time) ([]moderation.QueueStat, error) {
	rows, err := db.Query(ctx, `
		SELECT category, status, count(*), count(*) FILTER (WHERE sla_deadline < $1), min(flagged_at), min(sla_deadline)
		FROM review_items
		WHERE status IN ('pending', 'claimed', 'escalated')
		GROUP BY category, status
		ORDER BY category, status`, now)
	if err != nil {
		return nil, fmt.Errorf("reading queue statistics: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.QueueStat, error) {
		var s moderation.QueueStat
		err := r.Scan(&s.Category, &s.Status, &s.Items, &s.Overdue, &s.OldestFlagged, &s.NextDeadline)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading queue statistics: %w", interpretError(err))
	}
	return out, nil
}

// OldestSnapshot reports how long the oldest transaction that holds back
// vacuum on this database (one holding a snapshot or a transaction id, or
// a prepared transaction) has been open; 0 when there is none but the
// caller's. While it is open Postgres
// cannot prune the claim-order entries of the items claimed meanwhile, and
// every claim walks past them (docs/review.md). Other roles' sessions are
// visible only to a superuser or a member of pg_read_all_stats
// (pg_monitor); walsenders' and replication slots' horizons are not
// counted.
func OldestSnapshot(ctx context.Context, db DBTX) (time.Duration, error) {
	var secs float64
	err := db.QueryRow(ctx, `
		SELECT COALESCE(EXTRACT(epoch FROM now() - LEAST(
			(SELECT min(xact_start) FROM pg_stat_activity
			 WHERE datname = current_database() AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid()),
			(SELECT min(prepared) FROM pg_prepared_xacts WHERE database = current_database()))), 0)::float8`).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("reading the oldest open transaction: %w", interpretError(err))
	}
	return time.Duration(max(secs, 0) * float64(time.Second)), nil
}
