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
