package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// PrecisionFilter narrows RulePrecision.
type PrecisionFilter struct {
	// Since counts only items flagged at or after it (zero: all).
	Since time.Time
	// Rule, if set, keeps one rule (or "bank:<name>").
	Rule string
}

// RulePrecision computes, per rule and version, the items it flagged and
// how moderators judged them: an item's outcome is its latest decision
// (a reversal is a newer row), removed and report count as removed,
// no_violation as a false positive, escalate as undecided. The time to
// decision runs from the flag to the item's first final decision. Hash
// matches are reported per bank, as rule "bank:<name>" version 0.
func (s *RuleStore) RulePrecision(ctx context.Context, f PrecisionFilter) ([]moderation.RulePrecision, error) {
	return RulePrecision(ctx, s.pool, f)
}

// RulePrecision is RuleStore.RulePrecision on any connection.
func RulePrecision(ctx context.Context, db DBTX, f PrecisionFilter) ([]moderation.RulePrecision, error) {
	rows, err := db.Query(ctx, `
WITH flagged AS (
    SELECT DISTINCT COALESCE(m.rule_id, 'bank:' || m.bank) AS rule, COALESCE(m.rule_version, 0) AS version,
        i.id AS item_id, i.flagged_at
    FROM review_matches m JOIN review_items i ON i.id = m.item_id
    WHERE i.flagged_at >= $1 AND ($2 = '' OR COALESCE(m.rule_id, 'bank:' || m.bank) = $2)
), outcome AS (
    SELECT DISTINCT ON (d.item_id) d.item_id, d.action
    FROM decisions d WHERE d.item_id IN (SELECT item_id FROM flagged)
    ORDER BY d.item_id, d.id DESC
), first_final AS (
    SELECT d.item_id, min(d.created_at) AS at
    FROM decisions d WHERE d.action <> 'escalate' AND d.item_id IN (SELECT item_id FROM flagged)
    GROUP BY d.item_id
)
SELECT f.rule, f.version, count(*),
    count(*) FILTER (WHERE o.action IN ('remove', 'report')),
    count(*) FILTER (WHERE o.action = 'no_violation'),
    COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ff.at - f.flagged_at))
        FILTER (WHERE ff.at IS NOT NULL), 0)
FROM flagged f
LEFT JOIN outcome o ON o.item_id = f.item_id
LEFT JOIN first_final ff ON ff.item_id = f.item_id
GROUP BY f.rule, f.version
ORDER BY f.rule, f.version`, f.Since, f.Rule)
	if err != nil {
		return nil, fmt.Errorf("computing rule precision: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.RulePrecision, error) {
		var p moderation.RulePrecision
		var secs float64
		err := r.Scan(&p.RuleID, &p.RuleVersion, &p.Flagged, &p.Removed, &p.NoViolation, &secs)
		p.MedianDecision = time.Duration(secs * float64(time.Second)).Round(time.Millisecond)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("computing rule precision: %w", interpretError(err))
	}
	return out, nil
}

// PostOutcomes returns the latest decision's action for those of postIDs
// that have a review item with a decision: the past decisions a backtest
// compares rules with.
func PostOutcomes(ctx context.Context, db DBTX, postIDs []string) (map[string]string, error) {
	out := map[string]string{}
	const chunk = 5000
	for i := 0; i < len(postIDs); i += chunk {
		ids := postIDs[i:min(i+chunk, len(postIDs))]
		rows, err := db.Query(ctx, `
SELECT DISTINCT ON (i.id) i.post_id, d.action
FROM review_items i JOIN decisions d ON d.item_id = i.id
WHERE i.post_id = ANY($1)
ORDER BY i.id, d.id DESC`, ids)
		if err != nil {
			return nil, fmt.Errorf("reading past decisions: %w", interpretError(err))
		}
		for rows.Next() {
			var id, action string
			if err := rows.Scan(&id, &action); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading past decisions: %w", interpretError(err))
			}
			out[id] = action
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading past decisions: %w", interpretError(err))
		}
	}
	return out, nil
}
