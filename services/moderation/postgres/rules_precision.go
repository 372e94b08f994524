package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// outcomeCTEs follows a CTE "flagged" (item_id, flagged_at, …) with each
// item's outcome, its latest decision's action, and the time of its first
// final decision: what RulePrecision and BankEntryPrecision judge by.
const outcomeCTEs = `, outcome AS (
    SELECT DISTINCT ON (d.item_id) d.item_id, d.action
    FROM decisions d WHERE d.item_id IN (SELECT item_id FROM flagged)
    ORDER BY d.item_id, d.id DESC
), first_final AS (
    SELECT d.item_id, min(d.created_at) AS at
    FROM decisions d WHERE d.action <> 'escalate' AND d.item_id IN (SELECT item_id FROM flagged)
    GROUP BY d.item_id
)`

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
)`+outcomeCTEs+`
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

// EntryPrecisionFilter narrows BankEntryPrecision.
type EntryPrecisionFilter struct {
	// Since counts only items flagged at or after it (zero: all).
	Since time.Time
	// Bank, if set, keeps one bank's entries.
	Bank string
	// MinDecided keeps only entries with at least this many decided
	// items (removed or no_violation), so a long bank lists the entries
	// there is evidence about.
	MinDecided int64
	// Limit returns at most this many entries, the worst first (0: all).
	Limit int
}

// BankEntryPrecision computes, per hash-bank entry, the items it matched
// and how moderators judged them, with RulePrecision's definitions (an
// item's outcome is its latest decision; remove and report count as
// removed, no_violation as a false positive, escalate as undecided; the
// time to decision runs to the first final decision). An item matching
// an entry with several media counts once. Entries come worst precision
// first, then most flagged; entries with nothing decided come last.
//
// The bank-match rows are found through review_matches_entry (migration
// 0007), a partial index on (bank, entry_id) WHERE bank IS NOT NULL,
// hence the explicit bank IS NOT NULL.
func BankEntryPrecision(ctx context.Context, db DBTX, f EntryPrecisionFilter) ([]moderation.BankEntryPrecision, error) {
	rows, err := db.Query(ctx, `
WITH flagged AS (
    SELECT m.bank, m.entry_id, i.id AS item_id, i.flagged_at,
        min(m.hash_type) AS hash_type, min(m.distance) AS distance
    FROM review_matches m JOIN review_items i ON i.id = m.item_id
    WHERE m.bank IS NOT NULL AND m.entry_id IS NOT NULL
        AND i.flagged_at >= $1 AND ($2 = '' OR m.bank = $2)
    GROUP BY m.bank, m.entry_id, i.id
)`+outcomeCTEs+`, entries AS (
    SELECT f.bank, f.entry_id, COALESCE(min(f.hash_type), '') AS hash_type, count(*) AS flagged,
        count(*) FILTER (WHERE o.action IN ('remove', 'report')) AS removed,
        count(*) FILTER (WHERE o.action = 'no_violation') AS no_violation,
        COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ff.at - f.flagged_at))
            FILTER (WHERE ff.at IS NOT NULL), 0) AS median_secs,
        COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.distance), 0) AS median_distance
    FROM flagged f
    LEFT JOIN outcome o ON o.item_id = f.item_id
    LEFT JOIN first_final ff ON ff.item_id = f.item_id
    GROUP BY f.bank, f.entry_id
)
SELECT bank, entry_id, hash_type, flagged, removed, no_violation, median_secs, median_distance
FROM entries
WHERE removed + no_violation >= $3
ORDER BY removed::float8 / NULLIF(removed + no_violation, 0) NULLS LAST, flagged DESC, bank, entry_id
LIMIT NULLIF($4, 0)`, f.Since, f.Bank, f.MinDecided, int64(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("computing bank entry precision: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.BankEntryPrecision, error) {
		var p moderation.BankEntryPrecision
		var secs float64
		err := r.Scan(&p.Bank, &p.EntryID, &p.HashType, &p.Flagged, &p.Removed, &p.NoViolation, &secs, &p.MedianDistance)
		p.MedianDecision = time.Duration(secs * float64(time.Second)).Round(time.Millisecond)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("computing bank entry precision: %w", interpretError(err))
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
