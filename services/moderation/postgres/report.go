package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Reports computes auditors' statistics from the review queue and the
// decisions: transparency reports and decision exports. It only reads.
type Reports struct {
	pool *pgxpool.Pool
}

// NewReports returns Reports over pool.
func NewReports(pool *pgxpool.Pool) *Reports { return &Reports{pool: pool} }

// Reports group by what was recorded when it happened (migration 0008),
// so that re-flagging an item (which can raise its category and add
// matches) never moves a past period's numbers: a decision by the
// category and detection source its item had when the decision was
// recorded (decisions.category and detection_source); an item flagged, or
// open at the end, by the category and detection source it had at its
// first flag (review_items.flagged_category and flagged_detection_source);
// an item decided by its first final decision's. Items written without
// the flag-time columns (by a writer older than the migration) fall back
// to their current category and detection source.

// reportItemsSQL computes the item-based numbers ($1 = from, $2 = to) in
// total, by category and by source. The candidates are a superset of the
// items any number counts, each found through an index: flagged in the
// period, with a final decision in it, open now and flagged before the
// end, or with a final decision after the end (open at the end unless an
// earlier one exists). An item whose status is decided counts as open at
// the end only through its decisions. The first final decision is then
// found per candidate; percentile_disc is exact and nearest-rank, over
// whole microseconds. Each item gives two rows to group: its flag (flagged
// in, open at the end) under its flag-time category and source, and its
// first final decision (decided in, SLA, time to action) under the
// decision's. Rows that count in no number (a reversal after the end of
// an item decided before it) are dropped before grouping, so events after
// the period add no empty category or source row: the report of a past
// period is the same whenever it is run.
const reportItemsSQL = `
WITH cand AS (
    SELECT id FROM review_items WHERE flagged_at >= $1 AND flagged_at < $2
    UNION
    SELECT item_id FROM decisions WHERE created_at >= $1 AND created_at < $2 AND action <> 'escalate'
    UNION
    SELECT id FROM review_items WHERE status IN ('pending', 'claimed', 'escalated') AND flagged_at < $2
    UNION
    SELECT d.item_id FROM decisions d JOIN review_items i ON i.id = d.item_id
    WHERE d.created_at >= $2 AND d.action <> 'escalate' AND i.flagged_at < $2
), facts AS (
    SELECT COALESCE(i.flagged_category, i.category) AS flag_category,
        COALESCE(i.flagged_detection_source, i.detection_source, item_detection_source(i.id)) AS flag_source,
        f.category AS decision_category, f.detection_source AS decision_source,
        i.flagged_at >= $1 AND i.flagged_at < $2 AS flagged_in,
        f.created_at >= $1 AND f.created_at < $2 AS decided_in,
        f.created_at <= f.sla_deadline AS met,
        i.flagged_at < $2 AND (f.created_at IS NULL OR f.created_at >= $2) AS open_at_end,
        i.sla_deadline < $2 AS deadline_passed,
        (extract(epoch FROM f.created_at - i.flagged_at) * 1000000)::bigint AS tta_us
    FROM cand c
    JOIN review_items i ON i.id = c.id
    LEFT JOIN LATERAL (
        SELECT d.created_at, d.sla_deadline, d.category, d.detection_source FROM decisions d
        WHERE d.item_id = i.id AND d.action <> 'escalate'
        ORDER BY d.created_at, d.id LIMIT 1
    ) f ON true
), keyed AS (
    SELECT k.* FROM facts CROSS JOIN LATERAL (VALUES
        (flag_category, flag_source, flagged_in, open_at_end, deadline_passed, false, NULL::boolean, NULL::bigint),
        (decision_category, decision_source, false, false, false, decided_in, met, tta_us)
    ) k(category, source, flagged_in, open_at_end, deadline_passed, decided_in, met, tta_us)
    WHERE k.flagged_in OR k.decided_in OR k.open_at_end
)
SELECT GROUPING(category), GROUPING(source), COALESCE(category, ''), COALESCE(source, ''),
    count(*) FILTER (WHERE flagged_in),
    count(*) FILTER (WHERE decided_in),
    count(*) FILTER (WHERE decided_in AND met),
    count(*) FILTER (WHERE decided_in AND NOT met),
    count(*) FILTER (WHERE open_at_end),
    count(*) FILTER (WHERE open_at_end AND deadline_passed),
    percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY tta_us) FILTER (WHERE decided_in),
    max(tta_us) FILTER (WHERE decided_in)
FROM keyed
GROUP BY GROUPING SETS ((), (category), (source))`

// reportDecisionsSQL counts the decisions made in the period ($1, $2) by
// action, in total, by category, by source and by reason code, grouped by
// what each decision recorded of its item. The reversed decision's action
// is looked up for reversals only.
const reportDecisionsSQL = `
WITH ds AS (
    SELECT d.action, d.reason_code, d.category, d.detection_source AS source,
        d.reverses IS NOT NULL AS reversal,
        d.reverses IS NOT NULL AND d.action = 'no_violation'
            AND (SELECT o.action FROM decisions o WHERE o.id = d.reverses) IN ('remove', 'report') AS restores
    FROM decisions d
    WHERE d.created_at >= $1 AND d.created_at < $2
)
SELECT GROUPING(category), GROUPING(source), GROUPING(reason_code),
    COALESCE(category, ''), COALESCE(source, ''), COALESCE(reason_code, ''), action,
    count(*), count(*) FILTER (WHERE reversal), count(*) FILTER (WHERE restores)
FROM ds
GROUP BY GROUPING SETS ((action), (category, action), (source, action), (reason_code, action))`

// reportAppealsSQL computes the appeal numbers ($1 = from, $2 = to) in
// total and by the category recorded with the decision appealed against.
// The candidates, each found through an index, are the appeals received
// in the period, resolved in it, or received before its end and not
// resolved before it; categories that count nothing are left out, so
// later appeals add no empty row to a past period. The median is exact
// and nearest-rank over whole microseconds.
const reportAppealsSQL = `
WITH cand AS (
    SELECT id FROM appeals WHERE received_at >= $1 AND received_at < $2
    UNION
    SELECT id FROM appeals WHERE resolved_at >= $1 AND resolved_at < $2
    UNION
    SELECT id FROM appeals WHERE resolved_at IS NULL AND received_at < $2
    UNION
    SELECT id FROM appeals WHERE resolved_at >= $2 AND received_at < $2
), facts AS (
    SELECT d.category, a.outcome,
        a.received_at >= $1 AND a.received_at < $2 AS received_in,
        COALESCE(a.resolved_at >= $1 AND a.resolved_at < $2, false) AS resolved_in,
        a.received_at < $2 AND (a.resolved_at IS NULL OR a.resolved_at >= $2) AS open_at_end,
        (extract(epoch FROM a.resolved_at - a.received_at) * 1000000)::bigint AS ttr_us
    FROM cand c
    JOIN appeals a ON a.id = c.id
    JOIN decisions d ON d.id = a.decision_id
)
SELECT GROUPING(category), COALESCE(category, ''),
    count(*) FILTER (WHERE received_in),
    count(*) FILTER (WHERE resolved_in AND outcome = 'upheld'),
    count(*) FILTER (WHERE resolved_in AND outcome = 'reinstated'),
    count(*) FILTER (WHERE open_at_end),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY ttr_us) FILTER (WHERE resolved_in)
FROM facts
GROUP BY GROUPING SETS ((), (category))`

// TransparencyReport computes the report of period p as of now (see
// moderation.TransparencyReport and moderation.ReportCounts for what each
// number counts). The queries (items, decisions, appeals) read one
// snapshot, so the numbers agree with each other. Returns ErrInvalid for an invalid period or one that
// has not ended by now (its open backlog at the end is not known yet).
func (r *Reports) TransparencyReport(ctx context.Context, p moderation.ReportPeriod, now time.Time) (moderation.TransparencyReport, error) {
	rep := moderation.TransparencyReport{Period: p, GeneratedAt: now.UTC(), // reports show times in UTC
		ByCategory: []moderation.ReportGroup{}, BySource: []moderation.ReportGroup{}, ByReason: []moderation.ReasonCount{},
		AppealsByCategory: []moderation.AppealGroup{}}
	if err := p.Validate(); err != nil {
		return rep, fmt.Errorf("computing the transparency report: %w", err)
	}
	if p.To.After(now) {
		return rep, fmt.Errorf("computing the transparency report: the period ends at %s, after now (%s); a report covers a period that has ended: %w",
			p.To.Format(time.RFC3339), now.UTC().Format(time.RFC3339), moderation.ErrInvalid)
	}
	cats := map[string]*moderation.ReportCounts{}
	srcs := map[string]*moderation.ReportCounts{}
	reasons := map[string]*moderation.ActionCounts{}
	appeals := map[string]*moderation.AppealCounts{}
	group := func(m map[string]*moderation.ReportCounts, key string) *moderation.ReportCounts {
		if m[key] == nil {
			m[key] = &moderation.ReportCounts{}
		}
		return m[key]
	}
	err := pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, reportItemsSQL, p.From, p.To)
		if err != nil {
			return err
		}
		var gCat, gSrc int32
		var cat, src string
		var c moderation.ReportCounts
		var pcts []int64
		var maxUS *int64
		_, err = pgx.ForEachRow(rows, []any{&gCat, &gSrc, &cat, &src, &c.Flagged, &c.Decided, &c.SLAMet, &c.SLAMissed,
			&c.OpenAtEnd, &c.OverdueAtEnd, &pcts, &maxUS}, func() error {
			dst := &rep.Total
			switch {
			case gCat == 0:
				dst = group(cats, cat)
			case gSrc == 0:
				dst = group(srcs, src)
			}
			dst.Flagged, dst.Decided, dst.SLAMet, dst.SLAMissed = c.Flagged, c.Decided, c.SLAMet, c.SLAMissed
			dst.OpenAtEnd, dst.OverdueAtEnd = c.OpenAtEnd, c.OverdueAtEnd
			dst.TimeToAction = moderation.TimeToAction{Items: c.Decided}
			if len(pcts) == 3 && maxUS != nil {
				dst.TimeToAction.P50 = time.Duration(pcts[0]) * time.Microsecond
				dst.TimeToAction.P90 = time.Duration(pcts[1]) * time.Microsecond
				dst.TimeToAction.P99 = time.Duration(pcts[2]) * time.Microsecond
				dst.TimeToAction.Max = time.Duration(*maxUS) * time.Microsecond
			}
			pcts, maxUS = nil, nil
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, reportDecisionsSQL, p.From, p.To)
		if err != nil {
			return err
		}
		var gReason int32
		var reason, action string
		var n, reversals, restored int64
		_, err = pgx.ForEachRow(rows, []any{&gCat, &gSrc, &gReason, &cat, &src, &reason, &action, &n, &reversals, &restored}, func() error {
			a := moderation.Action(action)
			var dst *moderation.ReportCounts
			switch {
			case gReason == 0:
				if reasons[reason] == nil {
					reasons[reason] = &moderation.ActionCounts{}
				}
				reasons[reason].Add(a, n)
				return nil
			case gCat == 0:
				dst = group(cats, cat)
			case gSrc == 0:
				dst = group(srcs, src)
			default:
				dst = &rep.Total
			}
			dst.Decisions.Add(a, n)
			if a == moderation.ActionReport {
				dst.Referrals += n
			}
			dst.Reversals += reversals
			dst.Restored += restored
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, reportAppealsSQL, p.From, p.To)
		if err != nil {
			return err
		}
		var a moderation.AppealCounts
		var medianUS *int64
		_, err = pgx.ForEachRow(rows, []any{&gCat, &cat, &a.Received, &a.Upheld, &a.Reinstated, &a.OpenAtEnd, &medianUS}, func() error {
			a.TimeToResolution = moderation.ResolutionTime{Resolved: a.Upheld + a.Reinstated}
			if medianUS != nil {
				a.TimeToResolution.Median = time.Duration(*medianUS) * time.Microsecond
			}
			medianUS = nil
			switch {
			case gCat != 0:
				rep.Appeals = a
			case a != (moderation.AppealCounts{}):
				c := a
				appeals[cat] = &c
			}
			return nil
		})
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("computing the transparency report: %w", interpretError(err))
	}
	for _, k := range sortedKeys(cats) {
		rep.ByCategory = append(rep.ByCategory, moderation.ReportGroup{Key: k, ReportCounts: *cats[k]})
	}
	order := []string{moderation.SourceKeyword, moderation.SourceHashBank, moderation.SourceBoth, moderation.SourceNoneMatched}
	for _, k := range sortedKeys(srcs) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	for _, k := range order {
		if c := srcs[k]; c != nil {
			rep.BySource = append(rep.BySource, moderation.ReportGroup{Key: k, ReportCounts: *c})
		}
	}
	for _, k := range sortedKeys(reasons) {
		rep.ByReason = append(rep.ByReason, moderation.ReasonCount{Code: k, Decisions: *reasons[k]})
	}
	for _, k := range sortedKeys(appeals) {
		rep.AppealsByCategory = append(rep.AppealsByCategory, moderation.AppealGroup{Key: k, AppealCounts: *appeals[k]})
	}
	return rep, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// QueueStats summarises the open items by category and status as of now
// (QueueStats, on the reports' pool).
func (r *Reports) QueueStats(ctx context.Context, now time.Time) ([]moderation.QueueStat, error) {
	return QueueStats(ctx, r.pool, now)
}

// ExportDecisions calls fn with every decision made in p (created at or
// after From and before To), in decision id order, as the rows arrive
// from the server: nothing is held in memory but the row at hand. An
// error from fn stops the export and is returned. Returns ErrInvalid for
// an invalid period.
func (r *Reports) ExportDecisions(ctx context.Context, p moderation.ReportPeriod, fn func(moderation.DecisionRecord) error) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("exporting decisions: %w", err)
	}
	rows, err := r.pool.Query(ctx, `
SELECT d.id, d.item_id, i.post_id, d.category, d.action, d.reason_code, u.username, d.created_at,
    i.flagged_at, d.sla_deadline, d.reverses
FROM decisions d
JOIN review_items i ON i.id = d.item_id
JOIN users u ON u.id = d.actor_id
WHERE d.created_at >= $1 AND d.created_at < $2
ORDER BY d.id`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("exporting decisions: %w", interpretError(err))
	}
	var rec moderation.DecisionRecord
	var action string
	_, err = pgx.ForEachRow(rows, []any{&rec.DecisionID, &rec.ItemID, &rec.PostID, &rec.Category, &action, &rec.ReasonCode,
		&rec.Actor, &rec.DecidedAt, &rec.FlaggedAt, &rec.SLADeadline, &rec.Reverses}, func() error {
		rec.Action = moderation.Action(action)
		err := fn(rec)
		rec.Reverses = nil
		return err
	})
	if err != nil {
		return fmt.Errorf("exporting decisions: %w", interpretError(err))
	}
	return nil
}
