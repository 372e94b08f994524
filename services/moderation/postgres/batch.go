package postgres

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// request is one claim, decision or submit-and-next: its inputs, and what
// its statement (its own, or one shared with the others of its batch by
// batchOp) found.
type request struct {
	actor        moderation.User
	canEscalated bool
	now          time.Time
	decides      bool                     // a decision on d.ItemID (Decide, DecideAndClaim)
	in           moderation.DecisionInput // when decides
	next         *moderation.ClaimFilter  // what to claim (Claim, DecideAndClaim), or nil

	d                moderation.Decision
	found            bool // the decision was recorded (the item was held)
	items            []moderation.Item
	decided, claimed auditEntry
}

func (r *Reviews) newRequest(actor moderation.User, canEscalated bool) *request {
	return &request{actor: actor, canEscalated: canEscalated, now: r.now()}
}

// decision makes st a decision on itemID.
func (st *request) decision(itemID int64, in moderation.DecisionInput) {
	st.decides, st.in = true, in
	st.d = moderation.Decision{ItemID: itemID, ActorID: st.actor.ID, Actor: st.actor.Username, Action: in.Action,
		ReasonCode: in.ReasonCode, Note: in.Note, CreatedAt: st.now}
}

func (st *request) reset() {
	st.found, st.items = false, st.items[:0]
	st.decided = auditEntry{at: st.now, actor: st.actor.Username, action: moderation.AuditDecision, subject: itemSubject(st.d.ItemID)}
	st.claimed = auditEntry{at: st.now, actor: st.actor.Username, action: moderation.AuditClaim}
}

// read reads the columns of one row of st's statement: for a decision, the
// decision (id, SLA deadline, claimed at, audit details); then, if the
// statement claims, a claimed item, its relations and its claim's audit
// subject and details, NULL when nothing was claimed.
func (st *request) read(types *pgtype.Map, fields []pgconn.FieldDescription, raw [][]byte) error {
	if st.decides {
		if err := pgx.ScanRow(types, fields[:4], raw[:4], &st.d.ID, &st.d.SLADeadline, &st.d.ClaimedAt, &st.decided.details); err != nil {
			return err
		}
		st.found = true
		fields, raw = fields[4:], raw[4:]
	}
	if len(raw) == 0 || raw[0] == nil {
		return nil
	}
	it, err := scanItemWithRelations(func(dest ...any) error {
		return pgx.ScanRow(types, fields, raw, dest...)
	}, &st.claimed.subject, &st.claimed.details)
	if err != nil {
		return err
	}
	st.items = append(st.items, it)
	return nil
}

// events are the audit events of what was done: the decision's, then the
// claim's if anything was claimed. Nothing is claimed for a decision that
// was not recorded.
func (st *request) events() []auditEntry {
	var out []auditEntry
	if st.decides {
		if !st.found {
			return nil
		}
		out = append(out, st.decided)
	}
	if len(st.items) > 0 {
		out = append(out, st.claimed)
	}
	return out
}

// result is what was claimed, in claim order.
func (st *request) result() []moderation.Item {
	slices.SortFunc(st.items, compareClaimOrder)
	if st.items == nil {
		return []moderation.Item{}
	}
	return st.items
}

// requestOp is the group-commit op running st: batchOp's statement for st
// alone, built only if the group commit runs it so (not in one statement
// with other requests of its batch).
func (r *Reviews) requestOp(st *request) *writeOp {
	// Claims from the same queue with the same filter share a statement
	// (however many each claims), and so do decisions that claim nothing.
	key := "decide"
	if st.next != nil {
		key = fmt.Sprintf("claim %q %q %q", st.next.Queue, st.next.Category, st.next.Lang)
	}
	return &writeOp{merge: &mergeSpec{key: key, combine: r.batchOp, data: st}}
}

// batchOp returns one op running the claims, decisions and
// submit-and-nexts ops (one merge key: one claim filter, or decisions
// alone) as one statement, with the effect of running them one after the
// other in order, except that an item one of them escalates is not
// claimable by the others in the same statement: every decision as Decide
// makes it; then, in one walk of the claim-order index, the items claimed
// by the claims and by the submit-and-nexts whose decision was recorded,
// handed out in request order. A request deciding an item an earlier one
// decides is left out (run after, on its own, it finds the item decided).
// The claims' total count is a literal, so that the generic plan, which
// the group commit forces, knows the LIMIT and walks the claim-order
// index; the rest are parameters.
func (r *Reviews) batchOp(ops []*writeOp) (*writeOp, []*writeOp) {
	var sts []*request
	var members []*writeOp
	seen := map[int64]bool{}
	for _, op := range ops {
		st := op.merge.data.(*request)
		if st.decides {
			if seen[st.d.ItemID] {
				continue
			}
			seen[st.d.ItemID] = true
		}
		sts, members = append(sts, st), append(members, op)
	}
	n := len(sts)
	items, actors, counts := make([]int64, n), make([]int64, n), make([]int32, n)
	ats, leases := make([]time.Time, n), make([]time.Time, n)
	canEsc := make([]bool, n)
	actions, reasons, notes, named, atTexts, leaseTexts := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	filter, total := moderation.ClaimFilter{}, 0
	for i, st := range sts {
		actors[i], canEsc[i], ats[i], atTexts[i] = st.actor.ID, st.canEscalated, st.now, st.now.Format(time.RFC3339Nano)
		if st.decides { // 0: no decision (ids start at 1)
			items[i], actions[i], reasons[i], notes[i] = st.d.ItemID, string(st.in.Action), st.in.ReasonCode, st.in.Note
			named[i] = r.actor.Actor(st.actor.Username, st.actor.ID)
		}
		if st.next != nil {
			filter, counts[i] = *st.next, int32(max(st.next.Count, 1))
			total += int(counts[i])
		}
		leases[i] = st.now.Add(r.lease)
		leaseTexts[i] = leases[i].Format(time.RFC3339Nano)
	}
	args := []any{items, actors, canEsc, actions, reasons, notes, ats, named, atTexts, leases, leaseTexts, counts}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if filter.Queue == "" { // decisions alone: any filter, nothing is claimed
		filter.Queue = moderation.QueueDefault
	}
	where, queue := claimWhere(filter, arg)
	sql := `WITH req AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::text[], $5::text[], $6::text[],
        $7::timestamptz[], $8::text[], $9::text[], $10::timestamptz[], $11::text[], $12::int[])
    WITH ORDINALITY AS r(item, actor, can_esc, action, reason, note, at, named, at_text, lease, lease_text, cnt, ord)),
old AS (
    SELECT i.id, i.post_id, i.platform, i.sla_deadline, i.claimed_at, ` + snapshotCols + `, r.*
    FROM review_items i JOIN req r ON i.id = r.item
    WHERE i.id = ANY($1::bigint[]) AND i.status = 'claimed' AND i.claimed_by = r.actor AND (i.queue <> 'leads' OR r.can_esc)
    FOR UPDATE OF i),
upd AS (
    UPDATE review_items i SET
        status = CASE WHEN old.action = 'escalate' THEN 'escalated' ELSE 'decided' END,
        queue = CASE WHEN old.action = 'escalate' THEN 'leads' ELSE i.queue END,
        claimed_by = CASE WHEN old.action = 'escalate' THEN NULL ELSE i.claimed_by END,
        claimed_at = CASE WHEN old.action = 'escalate' THEN NULL ELSE i.claimed_at END,
        lease_expires_at = NULL,
        decided_at = CASE WHEN old.action = 'escalate' THEN i.decided_at ELSE old.at END,
        outcome = old.action
    FROM old WHERE i.id = old.id),
dec AS (
    INSERT INTO decisions (item_id, actor_id, action, reason_code, note, created_at, sla_deadline, claimed_at, category, detection_source)
    SELECT id, actor, action, reason, note, at, sla_deadline, claimed_at, snap_category, snap_source FROM old ORDER BY ord
    RETURNING id, item_id, sla_deadline, claimed_at),
msg AS (
    INSERT INTO outbox (topic, key, payload)
    SELECT '` + moderation.TopicActions + `', old.post_id, jsonb_build_object(
        'action_id', 'decision-' || dec.id, 'decision_id', dec.id, 'post_id', old.post_id, 'platform', old.platform,
        'action', old.action, 'reason_code', old.reason, 'actor', old.named, 'decided_at', old.at_text, 'reverses', NULL)
    FROM dec JOIN old ON old.id = dec.item_id WHERE old.action <> 'escalate' ORDER BY old.ord
    RETURNING id),
aud AS (
    SELECT old.ord, (jsonb_build_object('decision_id', dec.id, 'action', old.action, 'reason_code', old.reason, 'post_id', old.post_id)
        || CASE WHEN old.note <> '' THEN jsonb_build_object('note', old.note) ELSE '{}'::jsonb END)::text AS details
    FROM dec JOIN old ON old.id = dec.item_id),
-- Who claims, how many, in request order: the claims, and the
-- submit-and-nexts whose decision was recorded.
need AS (
    SELECT ord, actor, at, lease, lease_text, cnt, sum(cnt) OVER (ORDER BY ord) AS upto FROM (
        SELECT ord, actor, at, lease, lease_text, cnt FROM old WHERE cnt > 0
        UNION ALL
        SELECT ord, actor, at, lease, lease_text, cnt FROM req WHERE item = 0) w),
picked AS (
    SELECT id, row_number() OVER (ORDER BY ` + claimOrder + `) AS n FROM (
        SELECT id, severity, sla_deadline, flagged_at FROM review_items WHERE ` + where + ` AND EXISTS (SELECT FROM need)
        ORDER BY ` + claimOrder + ` LIMIT ` + strconv.Itoa(total) + ` FOR UPDATE SKIP LOCKED) p),
claimed AS (
    UPDATE review_items r SET status = 'claimed', claimed_by = need.actor, claimed_at = need.at, lease_expires_at = need.lease
    FROM picked JOIN need ON picked.n > need.upto - need.cnt AND picked.n <= need.upto
    WHERE r.id = picked.id
    RETURNING ` + prefixed("r.", itemColumns) + `, need.ord, need.lease_text),
claim_aud AS (
    SELECT ord, CASE WHEN count(*) = 1 THEN 'item:' || min(id) ELSE 'items' END AS subject,
        jsonb_build_object('items', jsonb_agg(id ORDER BY id), 'queue', ` + queue + `::text, 'lease_expires_at', min(lease_text))::text AS details
    FROM claimed GROUP BY ord),
-- Each claimed item's relations once (the joins below are nested loops
-- over these few rows).
c AS MATERIALIZED (
    SELECT ` + prefixed("claimed.", itemColumns) + `, ` + matchesJSON + ` AS matches, ` + mediaJSON + ` AS media,
        claim_aud.subject, claim_aud.details, claimed.ord AS c_ord
    FROM claimed JOIN claim_aud ON claim_aud.ord = claimed.ord)
SELECT old.ord, dec.id, dec.sla_deadline, dec.claimed_at, aud.details, c.*
FROM old JOIN dec ON dec.item_id = old.id JOIN aud ON aud.ord = old.ord
LEFT JOIN c ON c.c_ord = old.ord
UNION ALL
SELECT c.c_ord, NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::text, c.*
FROM c JOIN req ON req.ord = c.c_ord WHERE req.item = 0`
	return &writeOp{sql: sql, args: args, scan: func(rows pgx.Rows) ([]auditEntry, error) {
		for _, st := range sts {
			st.reset()
		}
		for rows.Next() {
			// The request's number; the decision's columns (NULL for a
			// claim); the claimed item's (NULL when none), as read takes
			// them; the item's request number again.
			types, fields, raw := rows.Conn().TypeMap(), rows.FieldDescriptions(), rows.RawValues()
			var ord int64
			if err := pgx.ScanRow(types, fields[:1], raw[:1], &ord); err != nil {
				return nil, err
			}
			if ord < 1 || int(ord) > len(sts) {
				return nil, fmt.Errorf("batch of %d requests: a row for request %d", len(sts), ord)
			}
			st := sts[ord-1]
			fields, raw = fields[1:len(fields)-1], raw[1:len(raw)-1]
			if !st.decides {
				fields, raw = fields[4:], raw[4:]
			}
			if st.next == nil { // a decision alone: no item columns to read
				fields, raw = fields[:4], raw[:4]
			}
			if err := st.read(types, fields, raw); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		var out []auditEntry
		for _, st := range sts {
			out = append(out, st.events()...)
		}
		return out, nil
	}}, members
}
