package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// What an evidence package (package evidence) reads beyond Get: every
// legal hold of the item, its media with the state of their stored bytes,
// the bytes themselves chunk by chunk, and the audit events of the item.

// ItemHolds lists every legal hold of an item, placed and lifted, oldest
// first.
func (r *Reviews) ItemHolds(ctx context.Context, itemID int64) ([]moderation.LegalHold, error) {
	return r.holds(ctx, `WHERE h.item_id = $1 ORDER BY h.id LIMIT 10000`, itemID)
}

// StoredMedia lists an item's media in media-id order (as Get does), each
// with the size and state of its stored bytes but not the bytes.
func (r *Reviews) StoredMedia(ctx context.Context, itemID int64) ([]moderation.StoredMedia, error) {
	rows, err := r.pool.Query(ctx, `
SELECT m.media_id, m.mime, m.url, COALESCE(m.sha256, ''), COALESCE(b.size_bytes, 0), b.bytes IS NOT NULL, b.purged_at
FROM review_media m LEFT JOIN media_blobs b ON b.sha256 = m.sha256
WHERE m.item_id = $1 ORDER BY m.media_id`, itemID)
	if err != nil {
		return nil, fmt.Errorf("reading media of item %d: %w", itemID, interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.StoredMedia, error) {
		var m moderation.StoredMedia
		var stored *bool
		err := row.Scan(&m.MediaID, &m.MIME, &m.URL, &m.SHA256, &m.Size, &stored, &m.PurgedAt)
		m.Stored = stored != nil && *stored
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading media of item %d: %w", itemID, interpretError(err))
	}
	if out == nil {
		out = []moderation.StoredMedia{}
	}
	return out, nil
}

// MediaChunk returns at most n stored bytes of blob sha from offset (0
// based); fewer, or none, at its end. Reading a blob this way holds one
// chunk in memory, not the file. Returns ErrNotFound when the blob is
// unknown or its bytes were purged (also between two chunks).
func (r *Reviews) MediaChunk(ctx context.Context, sha string, offset int64, n int) ([]byte, error) {
	if offset < 0 || n <= 0 {
		return nil, fmt.Errorf("reading media %s: bad range %d+%d: %w", sha, offset, n, moderation.ErrInvalid)
	}
	var b []byte
	err := r.pool.QueryRow(ctx, `SELECT substring(bytes FROM $2 FOR $3) FROM media_blobs WHERE sha256 = $1`,
		sha, offset+1, n).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("reading media %s: %w", sha, interpretError(err))
	}
	if b == nil {
		return nil, fmt.Errorf("reading media %s: its bytes were purged: %w", sha, moderation.ErrNotFound)
	}
	return b, nil
}

// ItemAudit returns at most limit (1 to 1000) audit events whose subject
// is the item, after sequence number afterSeq, in sequence order.
func (r *Reviews) ItemAudit(ctx context.Context, itemID, afterSeq int64, limit int) ([]moderation.AuditEvent, error) {
	return ReadAudit(ctx, r.pool, moderation.AuditFilter{Subject: itemSubject(itemID), AfterSeq: afterSeq, Limit: limit})
}

// RecordEvidenceExport audits that actor was handed the evidence package
// of an item. It must succeed before the package's first byte is written.
func (r *Reviews) RecordEvidenceExport(ctx context.Context, actor string, itemID int64, ex moderation.EvidenceExport) (moderation.AuditEvent, error) {
	var ev moderation.AuditEvent
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var err error
		ev, err = AppendAudit(ctx, tx, r.now(), actor, moderation.AuditEvidenceExport, itemSubject(itemID), ex)
		return err
	})
	if err != nil {
		return ev, fmt.Errorf("auditing evidence export of item %d: %w", itemID, interpretError(err))
	}
	return ev, nil
}
