package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// PlaceHold puts an item under legal hold: its evidence survives the
// retention purge until the hold is lifted. Audited. Returns ErrNotFound
// for an unknown item, ErrConflict when a hold is already active,
// ErrInvalid for an empty or overlong reason.
func (r *Reviews) PlaceHold(ctx context.Context, actor moderation.User, itemID int64, reason string) (moderation.LegalHold, error) {
	reason = strings.TrimSpace(reason)
	h := moderation.LegalHold{ItemID: itemID, Reason: reason, PlacedBy: actor.Username, PlacedAt: r.now()}
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > moderation.MaxHoldReasonLen {
		return h, fmt.Errorf("a legal hold needs a reason of 1 to %d characters: %w", moderation.MaxHoldReasonLen, moderation.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Lock the item so a purge running now either finishes first (and
		// the hold lands on purged content) or sees the hold.
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM review_items WHERE id = $1 FOR UPDATE`, itemID).Scan(&id); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO legal_holds (item_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			itemID, reason, actor.ID, h.PlacedAt).Scan(&h.ID)
		if err != nil {
			return err
		}
		_, err = AppendAudit(ctx, tx, h.PlacedAt, actor.Username, moderation.AuditLegalHold, itemSubject(itemID),
			map[string]any{"hold_id": h.ID, "reason": reason})
		return err
	})
	if err != nil {
		err = interpretError(err)
		if errors.Is(err, moderation.ErrConflict) { // legal_holds_active: one active hold per item
			return h, fmt.Errorf("item %d is already under an active legal hold (lift it to place another): %w", itemID, moderation.ErrConflict)
		}
		return h, fmt.Errorf("placing legal hold on item %d: %w", itemID, err)
	}
	return h, nil
}

// LiftHold lifts the active legal hold of an item. Audited. Returns
// ErrNotFound when the item has no active hold.
func (r *Reviews) LiftHold(ctx context.Context, actor moderation.User, itemID int64) error {
	now := r.now()
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE legal_holds SET lifted_by = $2, lifted_at = $3 WHERE item_id = $1 AND lifted_at IS NULL RETURNING id`,
			itemID, actor.ID, now).Scan(&id)
		if err != nil {
			return err
		}
		_, err = AppendAudit(ctx, tx, now, actor.Username, moderation.AuditLegalHoldLift, itemSubject(itemID),
			map[string]any{"hold_id": id})
		return err
	})
	if err != nil {
		return fmt.Errorf("lifting legal hold on item %d: %w", itemID, interpretError(err))
	}
	return nil
}

// Holds lists legal holds, newest first; only active ones unless all.
func (r *Reviews) Holds(ctx context.Context, all bool) ([]moderation.LegalHold, error) {
	where := "WHERE h.lifted_at IS NULL"
	if all {
		where = ""
	}
	return r.holds(ctx, where+" ORDER BY h.id DESC LIMIT 10000")
}

func (r *Reviews) holds(ctx context.Context, tail string, args ...any) ([]moderation.LegalHold, error) {
	rows, err := r.pool.Query(ctx, `
SELECT h.id, h.item_id, h.reason, pu.username, h.placed_at, COALESCE(lu.username, ''), h.lifted_at
FROM legal_holds h JOIN users pu ON pu.id = h.placed_by LEFT JOIN users lu ON lu.id = h.lifted_by `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("reading legal holds: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.LegalHold, error) {
		var h moderation.LegalHold
		err := row.Scan(&h.ID, &h.ItemID, &h.Reason, &h.PlacedBy, &h.PlacedAt, &h.LiftedBy, &h.LiftedAt)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading legal holds: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.LegalHold{}
	}
	return out, nil
}

// purgeBatch bounds one purge transaction.
const purgeBatch = 500

// Purge removes the content of items whose outcome is remove and that were
// decided before cutoff: the post text, author handle and URL, the
// statements of their (resolved) appeals, and the bytes of their media
// unless another unpurged item still needs them.
// Items under legal hold are kept, and so are items with an open appeal
// until it is resolved (Regulation 2021/784 Art. 6(2): content is kept
// for as long as complaint-handling needs it). Decisions, matches and the item rows
// (category, severity, timestamps) stay, so statistics are unchanged. Each
// batch is audited as a retention_purge event naming its items.
func (r *Reviews) Purge(ctx context.Context, actor string, cutoff time.Time) (moderation.PurgeResult, error) {
	res := moderation.PurgeResult{Items: []int64{}}
	for {
		var ids []int64
		var blobs int64
		now := r.now()
		err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			// The second statement re-checks holds and appeals with a fresh
			// snapshot while the rows are locked, so one committed meanwhile
			// wins.
			err := tx.QueryRow(ctx, `
WITH picked AS (
    SELECT id FROM review_items i
    WHERE outcome = 'remove' AND purged_at IS NULL AND decided_at < $1
      AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.item_id = i.id AND h.lifted_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.item_id = i.id AND a.resolved_at IS NULL)
    ORDER BY decided_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM picked`, cutoff, purgeBatch).Scan(&ids)
			if err != nil || len(ids) == 0 {
				return err
			}
			err = tx.QueryRow(ctx, `
WITH done AS (
    UPDATE review_items i SET text = '', author_handle = '', url = '', purged_at = $2
    WHERE id = ANY($1) AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.item_id = i.id AND h.lifted_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.item_id = i.id AND a.resolved_at IS NULL)
    RETURNING id)
SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM done`, ids, now).Scan(&ids)
			if err != nil || len(ids) == 0 {
				return err
			}
			tag, err := tx.Exec(ctx, `
UPDATE media_blobs b SET bytes = NULL, purged_at = $2
WHERE b.purged_at IS NULL
  AND b.sha256 IN (SELECT sha256 FROM review_media WHERE item_id = ANY($1) AND sha256 IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM review_media m JOIN review_items i ON i.id = m.item_id
                  WHERE m.sha256 = b.sha256 AND i.purged_at IS NULL)`, ids, now)
			if err != nil {
				return err
			}
			blobs = tag.RowsAffected()
			// The user's statement in an appeal is their content too.
			if _, err := tx.Exec(ctx, `UPDATE appeals SET statement = '' WHERE item_id = ANY($1) AND statement <> ''`, ids); err != nil {
				return err
			}
			_, err = AppendAudit(ctx, tx, now, actor, moderation.AuditPurge, "retention",
				map[string]any{"items": ids, "blobs": blobs, "cutoff": cutoff})
			return err
		})
		if err != nil {
			return res, fmt.Errorf("purging expired evidence: %w", interpretError(err))
		}
		res.Items = append(res.Items, ids...)
		res.Blobs += int(blobs)
		if len(ids) < purgeBatch {
			break
		}
	}
	err := r.pool.QueryRow(ctx, `
SELECT count(*) FROM review_items i
WHERE outcome = 'remove' AND purged_at IS NULL AND decided_at < $1
  AND EXISTS (SELECT 1 FROM legal_holds h WHERE h.item_id = i.id AND h.lifted_at IS NULL)`, cutoff).Scan(&res.Held)
	if err != nil {
		return res, fmt.Errorf("counting held items: %w", interpretError(err))
	}
	return res, nil
}
