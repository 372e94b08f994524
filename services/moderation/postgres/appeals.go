package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// appealSelect reads appeals with the post and the decision appealed
// against; appealRow scans its columns.
const appealSelect = `
SELECT a.id, a.item_id, a.platform_appeal_id, i.post_id, a.statement, a.received_at, a.created_at,
    a.resolved_at, a.outcome, ru.username, a.reason_code, a.note, a.reinstatement_decision_id,
    i.platform, i.author_handle, i.text, i.lang, i.url, i.category, i.outcome, i.purged_at,
    d.id, d.item_id, d.actor_id, du.username, d.action, d.reason_code, d.note, d.reverses, d.created_at,
    d.sla_deadline, d.claimed_at
FROM appeals a
JOIN review_items i ON i.id = a.item_id
JOIN decisions d ON d.id = a.decision_id
JOIN users du ON du.id = d.actor_id
LEFT JOIN users ru ON ru.id = a.resolved_by `

func appealRow(row pgx.CollectableRow) (moderation.Appeal, error) {
	var a moderation.Appeal
	var outcome, resolvedBy, reason, itemOutcome *string
	var action string
	err := row.Scan(&a.ID, &a.ItemID, &a.AppealID, &a.PostID, &a.Statement, &a.ReceivedAt, &a.CreatedAt,
		&a.ResolvedAt, &outcome, &resolvedBy, &reason, &a.Note, &a.ReinstatementID,
		&a.Item.Platform, &a.Item.AuthorHandle, &a.Item.Text, &a.Item.Lang, &a.Item.URL, &a.Item.Category, &itemOutcome, &a.Item.PurgedAt,
		&a.Decision.ID, &a.Decision.ItemID, &a.Decision.ActorID, &a.Decision.Actor, &action, &a.Decision.ReasonCode,
		&a.Decision.Note, &a.Decision.Reverses, &a.Decision.CreatedAt, &a.Decision.SLADeadline, &a.Decision.ClaimedAt)
	a.Decision.Action = moderation.Action(action)
	if outcome != nil {
		a.Outcome = moderation.AppealOutcome(*outcome)
	}
	if resolvedBy != nil {
		a.ResolvedBy = *resolvedBy
	}
	if reason != nil {
		a.ReasonCode = *reason
	}
	if itemOutcome != nil {
		a.Item.Outcome = moderation.Action(*itemOutcome)
	}
	return a, err
}

func queryAppeals(ctx context.Context, db DBTX, tail string, args ...any) ([]moderation.Appeal, error) {
	rows, err := db.Query(ctx, appealSelect+tail, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, appealRow)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []moderation.Appeal{}
	}
	return out, nil
}

func queryAppeal(ctx context.Context, db DBTX, where string, arg any) (moderation.Appeal, error) {
	as, err := queryAppeals(ctx, db, "WHERE "+where, arg)
	if err != nil {
		return moderation.Appeal{}, err
	}
	if len(as) == 0 {
		return moderation.Appeal{}, pgx.ErrNoRows
	}
	return as[0], nil
}

// SubmitAppeal records a user's appeal against the removal (or report) of
// their post, as the platform forwards it, and audits its intake by actor
// (the platform's token's user, tokenID its token, 0 for a session).
// Intake is idempotent on the platform's appeal id: the same complaint
// again returns the stored appeal with created false. The input must have
// been validated (AppealInput.Validate). Returns ErrNotFound when no item
// holds the post, ErrConflict when the appeal id was used for another
// complaint, when the post's latest final decision is neither remove nor
// report, or when the post already has an open appeal; ErrInvalid when
// received_at is before that decision (beyond MaxAppealClockSkew).
func (r *Reviews) SubmitAppeal(ctx context.Context, actor moderation.User, tokenID int64, in moderation.AppealInput) (moderation.Appeal, bool, error) {
	now := r.now()
	in.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond) // what timestamptz keeps
	var out moderation.Appeal
	created := false
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		same := func() (bool, error) {
			a, err := queryAppeal(ctx, tx, "a.platform_appeal_id = $1", in.AppealID)
			if errors.Is(err, pgx.ErrNoRows) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if !in.Same(a) {
				return true, fmt.Errorf("appeal_id %q was already submitted with another post, statement or receipt time: %w", in.AppealID, moderation.ErrConflict)
			}
			out = a
			return true, nil
		}
		if found, err := same(); found || err != nil {
			return err
		}
		var itemID int64
		err := tx.QueryRow(ctx, `SELECT id FROM review_items WHERE post_id = $1 FOR UPDATE`, in.PostID).Scan(&itemID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("no review item holds post %q: %w", in.PostID, moderation.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var decisionID int64
		var action string
		var decided time.Time
		err = tx.QueryRow(ctx, `
SELECT id, action, created_at FROM decisions WHERE item_id = $1 AND action <> 'escalate' ORDER BY id DESC LIMIT 1`, itemID).Scan(&decisionID, &action, &decided)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("post %q has no final decision yet: only removed or reported posts can be appealed: %w", in.PostID, moderation.ErrConflict)
		case err != nil:
			return err
		case action != string(moderation.ActionRemove) && action != string(moderation.ActionReport):
			return fmt.Errorf("post %q's latest decision is %s: only removed or reported posts can be appealed: %w", in.PostID, action, moderation.ErrConflict)
		}
		var open string
		err = tx.QueryRow(ctx, `SELECT platform_appeal_id FROM appeals WHERE item_id = $1 AND resolved_at IS NULL`, itemID).Scan(&open)
		if err == nil {
			return fmt.Errorf("post %q already has an open appeal (appeal_id %q): wait for its outcome: %w", in.PostID, open, moderation.ErrConflict)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if in.ReceivedAt.Before(decided.Add(-moderation.MaxAppealClockSkew)) {
			// A backdated complaint would move past periods' reports.
			return fmt.Errorf("received_at %s is before decision %d it appeals (%s): %w",
				in.ReceivedAt.Format(time.RFC3339), decisionID, decided.UTC().Format(time.RFC3339), moderation.ErrInvalid)
		}
		var id int64
		err = tx.QueryRow(ctx, `
INSERT INTO appeals (item_id, platform_appeal_id, decision_id, statement, received_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
			itemID, in.AppealID, decisionID, in.Statement, in.ReceivedAt, now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// A concurrent submission of the same appeal id committed
			// first: answer as a repeat.
			if found, err := same(); found || err != nil {
				return err
			}
			return fmt.Errorf("appeal_id %q was submitted concurrently; retry: %w", in.AppealID, moderation.ErrConflict)
		}
		if err != nil {
			return err
		}
		details := map[string]any{"appeal": id, "appeal_id": in.AppealID, "post_id": in.PostID,
			"decision_id": decisionID, "statement_chars": len([]rune(in.Statement))}
		if tokenID != 0 {
			details["token_id"] = tokenID
		}
		if _, err := AppendAudit(ctx, tx, now, actor.Username, moderation.AuditAppealReceived, itemSubject(itemID), details); err != nil {
			return err
		}
		created = true
		out, err = queryAppeal(ctx, tx, "a.id = $1", id)
		return err
	})
	if err != nil {
		return out, false, fmt.Errorf("submitting appeal %q: %w", in.AppealID, interpretError(err))
	}
	return out, created, nil
}

// Appeals lists appeals: open ones oldest received first, resolved ones
// latest resolved first, all latest received first.
func (r *Reviews) Appeals(ctx context.Context, f moderation.AppealFilter) ([]moderation.Appeal, error) {
	if f.Limit <= 0 || f.Limit > moderation.MaxAppealsListing {
		f.Limit = 50
	}
	var tail string
	switch f.Status {
	case "", moderation.AppealsOpen:
		tail = "WHERE a.resolved_at IS NULL ORDER BY a.received_at, a.id"
	case moderation.AppealsResolved:
		tail = "WHERE a.resolved_at IS NOT NULL ORDER BY a.resolved_at DESC, a.id DESC"
	case moderation.AppealsAll:
		tail = "ORDER BY a.received_at DESC, a.id DESC"
	default:
		return nil, fmt.Errorf("listing appeals: status %q: %w", f.Status, moderation.ErrInvalid)
	}
	out, err := queryAppeals(ctx, r.pool, tail+" LIMIT $1 OFFSET $2", f.Limit, max(f.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("listing appeals: %w", interpretError(err))
	}
	return out, nil
}

// Appeal reads one appeal. Returns ErrNotFound.
func (r *Reviews) Appeal(ctx context.Context, id int64) (moderation.Appeal, error) {
	a, err := queryAppeal(ctx, r.pool, "a.id = $1", id)
	if err != nil {
		return a, fmt.Errorf("reading appeal %d: %w", id, interpretError(err))
	}
	return a, nil
}

// ResolveAppeal records a lead's resolution of appeal id, once: upheld
// records the outcome only; reinstated also records a reversal of the
// decision appealed against to no_violation, exactly as Reverse does
// (its audit event and its outbox message for the platform), in the same
// transaction, and links it. Four eyes: the user who made the decision
// appealed against may not resolve the appeal. The input must have been
// validated (AppealResolution.Validate). Returns ErrNotFound for an
// unknown appeal; ErrConflict when it was already resolved, when actor
// made the decision or a later one on the item (a reversal of it), or
// (reinstating) when that decision was superseded.
func (r *Reviews) ResolveAppeal(ctx context.Context, actor moderation.User, id int64, in moderation.AppealResolution) (moderation.Appeal, error) {
	now := r.now()
	var out moderation.Appeal
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var itemID, decisionID, decider int64
		var outcome *string
		err := tx.QueryRow(ctx, `
SELECT a.item_id, a.decision_id, a.outcome, d.actor_id
FROM appeals a JOIN decisions d ON d.id = a.decision_id WHERE a.id = $1 FOR UPDATE OF a`, id).
			Scan(&itemID, &decisionID, &outcome, &decider)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("no appeal %d: %w", id, moderation.ErrNotFound)
		case err != nil:
			return err
		case outcome != nil:
			return fmt.Errorf("appeal %d was already resolved (%s): %w", id, *outcome, moderation.ErrConflict)
		case decider == actor.ID:
			return fmt.Errorf("four-eyes rule: you made decision %d, which this appeal is against; another lead must resolve it: %w", decisionID, moderation.ErrConflict)
		}
		// Nor may whoever changed that decision since: a lead who
		// reversed it (say to report) would otherwise uphold their own
		// decision. The item's lock orders this with reversals, and the
		// check runs after it with a fresh snapshot.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM review_items WHERE id = $1 FOR UPDATE`, itemID); err != nil {
			return err
		}
		var later int64
		err = tx.QueryRow(ctx, `
SELECT COALESCE(max(id), 0) FROM decisions WHERE item_id = $1 AND id > $2 AND actor_id = $3`, itemID, decisionID, actor.ID).Scan(&later)
		switch {
		case err != nil:
			return err
		case later != 0:
			return fmt.Errorf("four-eyes rule: you made decision %d, which superseded decision %d this appeal is against; another lead must resolve it: %w", later, decisionID, moderation.ErrConflict)
		}
		result := moderation.AppealUpheld
		var reinstatement *int64
		if in.Outcome == moderation.ResolveReinstate {
			rev := in.Reinstatement()
			d := moderation.Decision{ActorID: actor.ID, Actor: actor.Username, Action: rev.Action,
				ReasonCode: rev.ReasonCode, Note: rev.Note, CreatedAt: now, Reverses: &decisionID}
			if err := r.reverseTx(ctx, tx, &d, decisionID, rev); err != nil {
				return fmt.Errorf("reinstating: %w", err)
			}
			result, reinstatement = moderation.AppealReinstated, &d.ID
		}
		_, err = tx.Exec(ctx, `
UPDATE appeals SET resolved_at = $2, outcome = $3, resolved_by = $4, reason_code = $5, note = $6, reinstatement_decision_id = $7
WHERE id = $1`, id, now, string(result), actor.ID, in.ReasonCode, in.Note, reinstatement)
		if err != nil {
			return err
		}
		details := map[string]any{"appeal": id, "outcome": result, "reason_code": in.ReasonCode, "decision_id": decisionID}
		if reinstatement != nil {
			details["reinstatement_decision_id"] = *reinstatement
		}
		if in.Note != "" {
			details["note"] = in.Note
		}
		if _, err := AppendAudit(ctx, tx, now, actor.Username, moderation.AuditAppealResolved, itemSubject(itemID), details); err != nil {
			return err
		}
		out, err = queryAppeal(ctx, tx, "a.id = $1", id)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("resolving appeal %d: %w", id, interpretError(err))
	}
	return out, nil
}

// ItemAppeals lists every appeal against an item's decisions, open and
// resolved, in id order (an evidence package lists them).
func (r *Reviews) ItemAppeals(ctx context.Context, itemID int64) ([]moderation.Appeal, error) {
	as, err := queryAppeals(ctx, r.pool, "WHERE a.item_id = $1 ORDER BY a.id", itemID)
	if err != nil {
		return nil, fmt.Errorf("reading the appeals of item %d: %w", itemID, interpretError(err))
	}
	return as, nil
}

// AppealBacklog counts the appeals waiting for an outcome and finds when
// the oldest was received (the partial index of open appeals), for the
// vigil_appeals_* metrics.
func AppealBacklog(ctx context.Context, db DBTX) (moderation.AppealBacklog, error) {
	var b moderation.AppealBacklog
	var oldest *time.Time
	if err := db.QueryRow(ctx, `SELECT count(*), min(received_at) FROM appeals WHERE resolved_at IS NULL`).Scan(&b.Open, &oldest); err != nil {
		return b, fmt.Errorf("reading the appeals backlog: %w", interpretError(err))
	}
	if oldest != nil {
		b.OldestReceived = *oldest
	}
	return b, nil
}
