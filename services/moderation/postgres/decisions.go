package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// snapshotCols reads, from review_items i, what a decision records of its
// item (decisions.category and detection_source, migration 0008): its
// category and detection source now, reading the matches only for a row
// an older ingest worker wrote without the source.
const snapshotCols = `i.category AS snap_category, COALESCE(i.detection_source, item_detection_source(i.id)) AS snap_source`

// Decide records actor's decision on an item actor has claimed: the
// decision row, the item's new status (escalate moves it to the leads
// queue), an audit event and, for final actions, an outbox message for
// moderation.actions, atomically. canEscalated says whether the actor may
// decide items of the leads queue. The input must have been validated
// (DecisionInput.Validate). Returns ErrNotFound for an unknown item and
// ErrConflict when actor does not hold the item. Concurrent claims and
// decisions share group-commit transactions; the decision is answered once
// its transaction committed.
func (r *Reviews) Decide(ctx context.Context, actor moderation.User, canEscalated bool, itemID int64, in moderation.DecisionInput) (moderation.Decision, error) {
	st := r.newRequest(actor, canEscalated)
	st.decision(itemID, in)
	if err := r.writes.do(ctx, r.requestOp(st)); err != nil {
		return st.d, fmt.Errorf("deciding item %d: %w", itemID, interpretError(err))
	}
	if !st.found {
		return st.d, r.notHeld(ctx, itemID)
	}
	return st.d, nil
}

// DecideAndClaim records actor's decision on an item actor holds, exactly
// as Decide does, and then claims the next items as Claim does with next:
// the submit-and-next of a moderator's screen, in one statement of one
// group-commit transaction, so one request and one durable write instead
// of two. Nothing is claimed unless the decision was recorded. Both are
// audited (the decision's event, then the claim's). Returns the decision
// and the claimed items in claim order (empty when nothing is available);
// ErrNotFound for an unknown item, ErrConflict when actor does not hold
// it, ErrInvalid for a bad filter. The caller checks that actor may claim
// from next.Queue.
func (r *Reviews) DecideAndClaim(ctx context.Context, actor moderation.User, canEscalated bool, itemID int64,
	in moderation.DecisionInput, next moderation.ClaimFilter) (moderation.Decision, []moderation.Item, error) {
	st := r.newRequest(actor, canEscalated)
	st.decision(itemID, in)
	next, err := validClaim(next)
	if err != nil {
		return st.d, nil, fmt.Errorf("deciding item %d and claiming: %w", itemID, err)
	}
	st.next = &next
	if err := r.writes.do(ctx, r.requestOp(st)); err != nil {
		return st.d, nil, fmt.Errorf("deciding item %d and claiming: %w", itemID, interpretError(err))
	}
	if !st.found {
		return st.d, nil, r.notHeld(ctx, itemID)
	}
	return st.d, st.result(), nil
}

// announce writes the outbox message of a final decision and its audit
// event. The outbox row comes first so the audit head (a single row every
// audited transaction updates) is held for as short a time as possible.
func (r *Reviews) announce(ctx context.Context, tx pgx.Tx, d moderation.Decision, postID, platform string) error {
	if d.Action.Final() {
		msg := moderation.ActionMessage{
			ActionID: "decision-" + strconv.FormatInt(d.ID, 10), DecisionID: d.ID, PostID: postID, Platform: platform,
			Action: d.Action, ReasonCode: d.ReasonCode, Actor: r.actor.Actor(d.Actor, d.ActorID), DecidedAt: d.CreatedAt, Reverses: d.Reverses,
		}
		if _, err := AppendOutbox(ctx, tx, moderation.TopicActions, postID, msg); err != nil {
			return err
		}
	}
	action := moderation.AuditDecision
	details := map[string]any{"decision_id": d.ID, "action": d.Action, "reason_code": d.ReasonCode, "post_id": postID}
	if d.Reverses != nil {
		action = moderation.AuditReversal
		details["reverses"] = *d.Reverses
	}
	if d.Note != "" {
		details["note"] = d.Note
	}
	_, err := AppendAudit(ctx, tx, d.CreatedAt, d.Actor, action, itemSubject(d.ItemID), details)
	return err
}

// Reverse records a lead's reversal of decision id: a new decision whose
// Reverses names it, becoming the item's outcome. Only an item's latest
// decision can be reversed, only a final one, and only to a different final
// action. Returns ErrNotFound for an unknown decision, ErrConflict when
// the decision is not the latest or was an escalation, ErrInvalid for a
// non-final or unchanged action.
func (r *Reviews) Reverse(ctx context.Context, actor moderation.User, id int64, in moderation.DecisionInput) (moderation.Decision, error) {
	now := r.now()
	d := moderation.Decision{ActorID: actor.ID, Actor: actor.Username, Action: in.Action,
		ReasonCode: in.ReasonCode, Note: in.Note, CreatedAt: now, Reverses: &id}
	if !in.Action.Final() {
		return d, fmt.Errorf("reversing decision %d: a reversal must be remove, no_violation or report: %w", id, moderation.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := r.reverseTx(ctx, tx, &d, id, in); err != nil {
			return err
		}
		return r.followReversal(ctx, tx, d)
	})
	if err != nil {
		return d, fmt.Errorf("reversing decision %d: %w", id, interpretError(err))
	}
	return d, nil
}

// followReversal brings the item's open appeal (at most one) in line with
// the lead's reversal d: a reversal to no_violation gives the user what
// they asked, so the appeal is resolved as reinstated by it (audited as
// appeal_resolved); a reversal to another final action (remove to report)
// is now what the user complains about, so the appeal stands against it,
// and its author may not resolve the appeal (four eyes). Left open, the
// appeal could be neither reinstated (its decision superseded) nor
// sensibly upheld, and it would hold back the item's retention purge.
func (r *Reviews) followReversal(ctx context.Context, tx pgx.Tx, d moderation.Decision) error {
	if d.Action != moderation.ActionNoViolation {
		_, err := tx.Exec(ctx, `UPDATE appeals SET decision_id = $2 WHERE item_id = $1 AND resolved_at IS NULL`, d.ItemID, d.ID)
		return err
	}
	var appeal int64
	err := tx.QueryRow(ctx, `
UPDATE appeals SET resolved_at = $2, outcome = 'reinstated', resolved_by = $3, reason_code = $4, reinstatement_decision_id = $5
WHERE item_id = $1 AND resolved_at IS NULL RETURNING id`, d.ItemID, d.CreatedAt, d.ActorID, d.ReasonCode, d.ID).Scan(&appeal)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = AppendAudit(ctx, tx, d.CreatedAt, d.Actor, moderation.AuditAppealResolved, itemSubject(d.ItemID), map[string]any{
		"appeal": appeal, "outcome": moderation.AppealReinstated, "reason_code": d.ReasonCode,
		"decision_id": *d.Reverses, "reinstatement_decision_id": d.ID, "by_reversal": true})
	return err
}

// reverseTx records in tx the reversal d (filled in by Reverse) of
// decision id, with Reverse's checks: it also serves an appeal's
// reinstatement, which must commit or fail with the appeal's resolution.
func (r *Reviews) reverseTx(ctx context.Context, tx pgx.Tx, d *moderation.Decision, id int64, in moderation.DecisionInput) error {
	now, actorID := d.CreatedAt, d.ActorID
	var oldAction, postID, platform string
	if err := tx.QueryRow(ctx, `SELECT item_id, action FROM decisions WHERE id = $1`, id).Scan(&d.ItemID, &oldAction); err != nil {
		return err
	}
	var latest int64
	var category, source string
	err := tx.QueryRow(ctx, `
SELECT i.post_id, i.platform, i.sla_deadline, (SELECT max(id) FROM decisions WHERE item_id = i.id), `+snapshotCols+`
FROM review_items i WHERE i.id = $1 FOR UPDATE`, d.ItemID).Scan(&postID, &platform, &d.SLADeadline, &latest, &category, &source)
	if err != nil {
		return err
	}
	switch {
	case latest != id:
		return fmt.Errorf("decision %d was superseded by %d; reverse the latest: %w", id, latest, moderation.ErrConflict)
	case !moderation.Action(oldAction).Final():
		return fmt.Errorf("decision %d is an escalation: decide the item instead: %w", id, moderation.ErrConflict)
	case oldAction == string(in.Action):
		return fmt.Errorf("decision %d already says %s: %w", id, oldAction, moderation.ErrInvalid)
	}
	err = tx.QueryRow(ctx, `
INSERT INTO decisions (item_id, actor_id, action, reason_code, note, reverses, created_at, sla_deadline, category, detection_source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		d.ItemID, actorID, string(in.Action), in.ReasonCode, in.Note, id, now, d.SLADeadline, category, source).Scan(&d.ID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
UPDATE review_items SET status = 'decided', outcome = $2, decided_at = $3, lease_expires_at = NULL WHERE id = $1`,
		d.ItemID, string(in.Action), now)
	if err != nil {
		return err
	}
	return r.announce(ctx, tx, *d, postID, platform)
}

// DecideCluster applies one decision to every undecided item of cluster k
// (whose media matched the bank entry k): pending items, escalated ones
// when canEscalated, and items claimed by actor (or whose lease ran out).
// With only (moderation.CheckClusterItems) it decides just those of them,
// so that a moderator's confirmation of what they saw is not stretched to
// copies queued since. Every item asked for and not decided is listed
// with its reason (moderation.SkipReason): listed but no longer undecided
// in the cluster, held by another reviewer, in the leads queue for an
// actor who may not decide it, or locked by a concurrent claim or
// decision at this moment (a cluster decision does not wait). At most
// MaxClusterDecision items are considered, the first by id; without only,
// the members beyond are counted in Remaining (decide again for them).
// Each item gets its own decision, audit event and outbox message, in one
// transaction. Returns ErrNotFound when no undecided item matched the
// entry.
func (r *Reviews) DecideCluster(ctx context.Context, actor moderation.User, canEscalated bool, k moderation.ClusterKey, in moderation.DecisionInput, only []int64) (moderation.BulkResult, error) {
	now := r.now()
	res := moderation.BulkResult{Decisions: []moderation.Decision{}, Skipped: []int64{}, SkippedItems: []moderation.SkippedItem{}}
	if err := moderation.CheckClusterItems(only); err != nil {
		return res, fmt.Errorf("deciding cluster %s: %w", k, err)
	}
	var all []int64
	if err := r.pool.QueryRow(ctx, `
SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM review_items
WHERE status IN ('pending', 'escalated', 'claimed') AND `+clusterMembers,
		k.Bank, k.Entry).Scan(&all); err != nil {
		return res, fmt.Errorf("deciding cluster %s: %w", k, interpretError(err))
	}
	if len(all) == 0 {
		return res, fmt.Errorf("no undecided item matched entry %q of bank %s: %w", k.Entry, k.Bank, moderation.ErrNotFound)
	}
	var skipped []moderation.SkippedItem
	if only != nil {
		var strangers []int64
		all, strangers = limitTo(all, only)
		for _, id := range strangers {
			skipped = append(skipped, moderation.SkippedItem{ItemID: id, Reason: moderation.SkipNotInCluster})
		}
	}
	if len(all) > moderation.MaxClusterDecision {
		res.Remaining = len(all) - moderation.MaxClusterDecision
		all = all[:moderation.MaxClusterDecision]
	}
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
SELECT id, post_id, platform, sla_deadline, CASE WHEN claimed_by = $2 THEN claimed_at END, `+snapshotCols+` FROM review_items i
WHERE id = ANY($1) AND (status = 'pending'
    OR (status = 'escalated' AND $3::bool)
    OR (status = 'claimed' AND (claimed_by = $2 OR lease_expires_at <= $4))) AND (queue <> 'leads' OR $3::bool)
ORDER BY id FOR UPDATE SKIP LOCKED`, all, actor.ID, canEscalated, now)
		if err != nil {
			return err
		}
		type target struct {
			moderation.Decision
			postID, platform string
			category, source string // the item's when decided
		}
		targets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (target, error) {
			t := target{Decision: moderation.Decision{ActorID: actor.ID, Actor: actor.Username, Action: in.Action,
				ReasonCode: in.ReasonCode, Note: in.Note, CreatedAt: now}}
			err := row.Scan(&t.ItemID, &t.postID, &t.platform, &t.SLADeadline, &t.ClaimedAt, &t.category, &t.source)
			return t, err
		})
		if err != nil {
			return err
		}
		done := make(map[int64]bool, len(targets))
		for _, t := range targets {
			done[t.ItemID] = true
		}
		var rest []int64
		for _, id := range all {
			if !done[id] {
				rest = append(rest, id)
			}
		}
		why, err := skipReasons(ctx, tx, rest, actor.ID, canEscalated, now)
		if err != nil {
			return err
		}
		skipped = append(skipped, why...)
		for i := range targets {
			t := &targets[i]
			err := tx.QueryRow(ctx, `
INSERT INTO decisions (item_id, actor_id, action, reason_code, note, created_at, sla_deadline, claimed_at, category, detection_source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
				t.ItemID, actor.ID, string(in.Action), in.ReasonCode, in.Note, now, t.SLADeadline, t.ClaimedAt, t.category, t.source).Scan(&t.ID)
			if err != nil {
				return err
			}
		}
		ids := make([]int64, 0, len(targets))
		for _, t := range targets {
			ids = append(ids, t.ItemID)
		}
		escalate := in.Action == moderation.ActionEscalate
		_, err = tx.Exec(ctx, `
UPDATE review_items i SET
    status = CASE WHEN $2::bool THEN 'escalated' ELSE 'decided' END,
    queue = CASE WHEN $2::bool THEN 'leads' ELSE i.queue END,
    claimed_by = CASE WHEN $2::bool THEN NULL ELSE $3::bigint END,
    claimed_at = CASE WHEN $2::bool THEN NULL ELSE i.claimed_at END,
    lease_expires_at = NULL,
    decided_at = CASE WHEN $2::bool THEN i.decided_at ELSE $4::timestamptz END,
    outcome = $5
WHERE id = ANY($1)`, ids, escalate, actor.ID, now, string(in.Action))
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := r.announce(ctx, tx, t.Decision, t.postID, t.platform); err != nil {
				return err
			}
			res.Decisions = append(res.Decisions, t.Decision)
		}
		return nil
	})
	if err != nil {
		return moderation.BulkResult{}, fmt.Errorf("deciding cluster %s: %w", k, interpretError(err))
	}
	slices.SortFunc(skipped, func(a, b moderation.SkippedItem) int { return cmp.Compare(a.ItemID, b.ItemID) })
	for _, s := range skipped {
		res.Skipped = append(res.Skipped, s.ItemID)
		res.SkippedItems = append(res.SkippedItems, s)
	}
	return res, nil
}

// limitTo returns the ids of members (sorted) that only lists, and those
// of only that are not members.
func limitTo(members, only []int64) (kept, strangers []int64) {
	for _, id := range only {
		if _, found := slices.BinarySearch(members, id); found {
			kept = append(kept, id)
		} else {
			strangers = append(strangers, id)
		}
	}
	slices.Sort(kept)
	return kept, strangers
}

// skipReasons says why each of ids, undecided members of a cluster that
// DecideCluster's locking select did not return, was left out. It reads
// the rows as committed now, without waiting for their locks: a row that
// no longer qualifies says why (that select's conditions, in reverse),
// and one that still qualifies was locked by a concurrent transaction, so
// it is busy. A row that is gone is no longer in the cluster.
func skipReasons(ctx context.Context, tx pgx.Tx, ids []int64, actorID int64, canEscalated bool, now time.Time) ([]moderation.SkippedItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `
SELECT id, status, queue,
    status = 'claimed' AND claimed_by IS DISTINCT FROM $2 AND NOT COALESCE(lease_expires_at <= $3, false)
FROM review_items WHERE id = ANY($1)`, ids, actorID, now)
	if err != nil {
		return nil, err
	}
	why := make(map[int64]moderation.SkipReason, len(ids))
	var id int64
	var status, queue string
	var held bool
	_, err = pgx.ForEachRow(rows, []any{&id, &status, &queue, &held}, func() error {
		switch st := moderation.Status(status); {
		case st != moderation.StatusPending && st != moderation.StatusClaimed && st != moderation.StatusEscalated:
			why[id] = moderation.SkipNotInCluster
		case (st == moderation.StatusEscalated || queue == moderation.QueueLeads) && !canEscalated:
			why[id] = moderation.SkipLeadsQueue
		case held:
			why[id] = moderation.SkipHeld
		default:
			why[id] = moderation.SkipBusy
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]moderation.SkippedItem, 0, len(ids))
	for _, id := range ids {
		reason, ok := why[id]
		if !ok {
			reason = moderation.SkipNotInCluster
		}
		out = append(out, moderation.SkippedItem{ItemID: id, Reason: reason})
	}
	return out, nil
}

// Decisions lists decisions in id order, or the latest first when
// f.Newest.
func (r *Reviews) Decisions(ctx context.Context, f moderation.DecisionFilter) ([]moderation.Decision, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ItemID != 0 {
		add("d.item_id = ?", f.ItemID)
	}
	if f.PostID != "" {
		add("d.item_id = (SELECT id FROM review_items WHERE post_id = ?)", f.PostID)
	}
	if f.ActorID != 0 {
		add("d.actor_id = ?", f.ActorID)
	}
	if f.Actor != "" {
		add("u.username = ?", f.Actor)
	}
	if f.Action != "" {
		add("d.action = ?", string(f.Action))
	}
	if !f.Since.IsZero() {
		add("d.created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("d.created_at < ?", f.Until)
	}
	add("d.id > ?", f.AfterID)
	if f.BeforeID != 0 {
		add("d.id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	order := "d.id"
	if f.Newest {
		order = "d.id DESC"
	}
	args = append(args, f.Limit)
	return r.decisions(ctx, "WHERE "+strings.Join(where, " AND ")+" ORDER BY "+order+" LIMIT $"+strconv.Itoa(len(args)), args...)
}

func (r *Reviews) decisions(ctx context.Context, tail string, args ...any) ([]moderation.Decision, error) {
	rows, err := r.pool.Query(ctx, `
SELECT d.id, d.item_id, d.actor_id, u.username, d.action, d.reason_code, d.note, d.reverses, d.created_at,
    d.sla_deadline, d.claimed_at
FROM decisions d JOIN users u ON u.id = d.actor_id `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.Decision, error) {
		var d moderation.Decision
		var action string
		err := row.Scan(&d.ID, &d.ItemID, &d.ActorID, &d.Actor, &action, &d.ReasonCode, &d.Note, &d.Reverses,
			&d.CreatedAt, &d.SLADeadline, &d.ClaimedAt)
		d.Action = moderation.Action(action)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.Decision{}
	}
	return out, nil
}

// Stats summarises the queue and the decisions made since since (all
// when zero).
func (r *Reviews) Stats(ctx context.Context, since time.Time) (moderation.Stats, error) {
	s := moderation.Stats{ByStatus: map[moderation.Status]int64{}, DecisionsBy: map[moderation.Action]int64{}}
	now := r.now()
	rows, err := r.pool.Query(ctx, `SELECT status, count(*), count(*) FILTER (WHERE status <> 'decided' AND sla_deadline < $1)
FROM review_items GROUP BY status`, now)
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", interpretError(err))
	}
	var status string
	var n, overdue int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n, &overdue}, func() error {
		s.ByStatus[moderation.Status(status)] = n
		s.Overdue += overdue
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", interpretError(err))
	}
	rows, err = r.pool.Query(ctx, `SELECT action, count(*) FROM decisions WHERE created_at >= $1 GROUP BY action`, since)
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", interpretError(err))
	}
	var action string
	_, err = pgx.ForEachRow(rows, []any{&action, &n}, func() error {
		s.DecisionsBy[moderation.Action(action)] = n
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", interpretError(err))
	}
	var median *float64
	err = r.pool.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE d.reverses IS NOT NULL),
    count(*) FILTER (WHERE d.reverses IS NULL AND d.action <> 'escalate' AND d.created_at <= d.sla_deadline),
    count(*) FILTER (WHERE d.reverses IS NULL AND d.action <> 'escalate' AND d.created_at > d.sla_deadline),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.created_at - i.flagged_at) * 1000)
        FILTER (WHERE d.reverses IS NULL AND d.action <> 'escalate')
FROM decisions d JOIN review_items i ON i.id = d.item_id WHERE d.created_at >= $1`, since).
		Scan(&s.Reversals, &s.DecidedOnTime, &s.DecidedLate, &median)
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", interpretError(err))
	}
	if median != nil {
		s.MedianDecideMs = math.Round(*median) // whole milliseconds: the float's noise is no information
	}
	return s, nil
}
