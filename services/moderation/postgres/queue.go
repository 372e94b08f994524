package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Queue is the review queue in Postgres.
type Queue struct {
	pool *pgxpool.Pool
}

var _ moderation.Enqueuer = (*Queue)(nil)

// NewQueue returns a Queue over pool.
func NewQueue(pool *pgxpool.Pool) *Queue { return &Queue{pool: pool} }

const enqueueItemSQL = `
INSERT INTO review_items (post_id, platform, author_id, author_handle, text, lang, url,
    post_created_at, flagged_at, category, severity, sla_deadline,
    source_topic, source_partition, source_offset, detection_source, flagged_category, flagged_detection_source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::text, $11,
    $9::timestamptz + COALESCE((SELECT sla FROM category_slas WHERE category = $10::text), interval '24 hours'),
    $12, $13, $14, $15::text, $10::text, $15::text)
ON CONFLICT (post_id) DO UPDATE SET
    category = CASE WHEN EXCLUDED.severity > review_items.severity THEN EXCLUDED.category ELSE review_items.category END,
    severity = GREATEST(review_items.severity, EXCLUDED.severity),
    sla_deadline = LEAST(review_items.sla_deadline, EXCLUDED.sla_deadline),
    detection_source = ` + unionSource + `
RETURNING (platform, author_id, author_handle, text, lang, url) IS NOT DISTINCT FROM ($2, $3, $4, $5, $6, $7)
`

// unionSource is the detection source of an item re-flagged by the
// matches of EXCLUDED (the kinds of both, as moderation.DetectionSource
// over all their matches). An item without one (written before migration
// 0008) keeps NULL: item_detection_source reads its matches.
const unionSource = `CASE WHEN review_items.detection_source IS NULL THEN NULL
        WHEN EXCLUDED.detection_source IN (review_items.detection_source, 'none') THEN review_items.detection_source
        WHEN review_items.detection_source = 'none' THEN EXCLUDED.detection_source
        ELSE 'keyword_rule+hash_bank' END`

const enqueueMatchSQL = `
INSERT INTO review_matches (item_id, match_key, rule_id, rule_version, category, severity, spans,
    bank, entry_id, hash_type, distance, media_id, hash, matched_at)
SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
FROM review_items WHERE post_id = $1
ON CONFLICT (item_id, match_key) DO NOTHING`

const enqueueBlobSQL = `
INSERT INTO media_blobs (sha256, mime, bytes, size_bytes, width, height)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (sha256) DO NOTHING`

const enqueueMediaSQL = `
INSERT INTO review_media (item_id, media_id, mime, url, sha256)
SELECT id, $2, $3, $4, NULLIF($5, '') FROM review_items WHERE post_id = $1
ON CONFLICT (item_id, media_id) DO NOTHING`

// nulMark stands for a NUL in stored text. NUL (U+0000) is valid JSON and
// UTF-8 but Postgres text cannot hold it: a flagged post whose text or
// handle had one was refused by the database and dead-lettered, never
// reviewed, so one NUL in every post would have kept them all out of
// review. U+2400 SYMBOL FOR NULL shows where it was.
const nulMark = "\u2400"

// nulFree returns s with every NUL replaced by nulMark and, when there
// was one, the function taking a byte offset in s to the same place in
// the result (match spans are byte offsets in the text); nil otherwise.
func nulFree(s string) (string, func(int) int) {
	if strings.IndexByte(s, 0) < 0 {
		return s, nil
	}
	var nuls []int
	for i := range len(s) {
		if s[i] == 0 {
			nuls = append(nuls, i)
		}
	}
	return strings.ReplaceAll(s, "\x00", nulMark), func(off int) int {
		before, _ := slices.BinarySearch(nuls, off) // the NULs before off
		return off + before*(len(nulMark)-1)
	}
}

// shiftSpans returns spans moved by shift (nulFree's), or spans as they
// are when shift is nil. A span that held a NUL holds its mark.
func shiftSpans(spans []moderation.Span, shift func(int) int) []moderation.Span {
	if shift == nil {
		return spans
	}
	out := make([]moderation.Span, len(spans))
	for i, sp := range spans {
		out[i] = moderation.Span{Start: shift(sp.Start), End: shift(sp.End)}
	}
	return out
}

// Enqueue stores flags in one transaction. See moderation.Enqueuer.
func (q *Queue) Enqueue(ctx context.Context, flags []moderation.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	var items []int // the batch's item upserts: their index in b
	for _, f := range flags {
		if !f.Verdict.Flagged() {
			continue
		}
		p := f.Post
		sev, cat := f.Verdict.Top()
		text, shift := nulFree(p.Text)
		handle, _ := nulFree(p.Author.Handle)
		items = append(items, b.Len())
		b.Queue(enqueueItemSQL, p.ID, p.Platform, p.Author.ID, handle, text, p.Lang, p.URL,
			p.CreatedAt, f.FlaggedAt, cat, int16(sev), f.Source.Topic, f.Source.Partition, f.Source.Offset,
			moderation.DetectionSource(f.Verdict.Matches))
		for _, e := range f.Evidence {
			if e.SHA256 != "" && e.Bytes != nil {
				b.Queue(enqueueBlobSQL, e.SHA256, e.MIME, e.Bytes, int64(len(e.Bytes)), e.Width, e.Height)
			}
			b.Queue(enqueueMediaSQL, p.ID, e.MediaID, e.MIME, e.URL, e.SHA256)
		}
		for _, m := range f.Verdict.Matches {
			spans, err := json.Marshal(spansOrEmpty(shiftSpans(m.Spans, shift)))
			if err != nil {
				return fmt.Errorf("encoding spans: %w", err)
			}
			b.Queue(enqueueMatchSQL, p.ID, m.Key(), nullable(m.RuleID), nullableInt(m.RuleVersion, m.RuleID != ""),
				m.Category, int16(m.Severity), spans, nullable(m.Bank), nullable(m.EntryID), nullable(m.HashType),
				nullableInt(int64(m.Distance), m.Bank != ""), nullable(m.MediaID), nullable(m.Hash), f.FlaggedAt)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		for i, next := 0, 0; i < b.Len(); i++ {
			if next == len(items) || items[next] != i {
				if _, err := br.Exec(); err != nil {
					return err
				}
				continue
			}
			next++
			var same bool
			if err := br.QueryRow().Scan(&same); err != nil {
				return err
			}
			if !same {
				// Returning the error rolls the whole batch back; the
				// worker bisects it to dead-letter this flag alone.
				return fmt.Errorf("%w: post id %q is already in the review queue with another platform, author, text, lang or url",
					moderation.ErrInvalid, b.QueuedQueries[i].Arguments[0])
			}
		}
		return br.Close()
	})
	if err != nil {
		return fmt.Errorf("enqueueing %d flags: %w", len(flags), rejectedData(interpretError(err)))
	}
	return nil
}

// rejectedData wraps moderation.ErrInvalid around errors that say the data
// itself is unacceptable (SQLSTATE classes 22 data exception, 23 integrity
// violation, 54 program limit exceeded): retrying the same rows can never
// succeed, so the caller must set the offending flag aside (the worker
// bisects the batch to find it). Every other error (connection loss,
// serialization failure, shutdown) is left as it is and is worth retrying.
func rejectedData(err error) error {
	var pgErr *pgconn.PgError
	if errors.Is(err, moderation.ErrInvalid) || !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code[:2] {
	case "22", "23", "54":
		return fmt.Errorf("%w: %s (SQLSTATE %s)", moderation.ErrInvalid, pgErr.Message, pgErr.Code)
	}
	return err
}

func spansOrEmpty(s []moderation.Span) []moderation.Span {
	if s == nil {
		return []moderation.Span{}
	}
	return s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableInt(v int64, ok bool) *int64 {
	if !ok {
		return nil
	}
	return &v
}

const itemColumns = `id, post_id, platform, author_id, author_handle, text, lang, url, post_created_at,
    flagged_at, category, severity, queue, sla_deadline, status, claimed_by, lease_expires_at, decided_at`

// List returns items in claim order (severity, SLA deadline, age) with their
// matches and media.
func (q *Queue) List(ctx context.Context, f moderation.ItemFilter) ([]moderation.Item, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(f.Status) > 0 {
		st := make([]string, len(f.Status))
		for i, s := range f.Status {
			st[i] = string(s)
		}
		where = append(where, "status = ANY("+arg(st)+")")
	}
	if f.Category != "" {
		where = append(where, "category = "+arg(f.Category))
	}
	if f.Lang != "" {
		where = append(where, "lang = "+arg(f.Lang))
	}
	if f.Queue != "" {
		where = append(where, "queue = "+arg(f.Queue))
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	sql := "SELECT " + itemColumns + " FROM review_items"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT " + arg(limit)
	rows, err := q.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("listing queue: %w", interpretError(err))
	}
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("listing queue: %w", interpretError(err))
	}
	if err := q.attach(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

func scanItem(row pgx.CollectableRow) (moderation.Item, error) {
	var it moderation.Item
	var sev int16
	var status string
	err := row.Scan(&it.ID, &it.PostID, &it.Platform, &it.AuthorID, &it.AuthorHandle, &it.Text, &it.Lang, &it.URL,
		&it.PostCreatedAt, &it.FlaggedAt, &it.Category, &sev, &it.Queue, &it.SLADeadline, &status,
		&it.ClaimedBy, &it.LeaseExpiresAt, &it.DecidedAt)
	it.Severity = moderation.Severity(sev)
	it.Status = moderation.Status(status)
	it.Matches = []moderation.Match{}
	it.Media = []moderation.ItemMedia{}
	return it, err
}

// attach loads matches and media for items.
func (q *Queue) attach(ctx context.Context, items []moderation.Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	byID := make(map[int64]*moderation.Item, len(items))
	for i := range items {
		ids[i] = items[i].ID
		byID[items[i].ID] = &items[i]
	}
	rows, err := q.pool.Query(ctx, `
SELECT item_id, COALESCE(rule_id, ''), COALESCE(rule_version, 0), category, severity, spans,
    COALESCE(bank, ''), COALESCE(entry_id, ''), COALESCE(hash_type, ''), COALESCE(distance, 0),
    COALESCE(media_id, ''), COALESCE(hash, '')
FROM review_matches WHERE item_id = ANY($1) ORDER BY item_id, match_key`, ids)
	if err != nil {
		return fmt.Errorf("loading matches: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m moderation.Match
		var sev int16
		var spans []byte
		if err := rows.Scan(&id, &m.RuleID, &m.RuleVersion, &m.Category, &sev, &spans,
			&m.Bank, &m.EntryID, &m.HashType, &m.Distance, &m.MediaID, &m.Hash); err != nil {
			return fmt.Errorf("loading matches: %w", interpretError(err))
		}
		m.Severity = moderation.Severity(sev)
		if err := json.Unmarshal(spans, &m.Spans); err != nil {
			return fmt.Errorf("decoding spans of item %d: %w", id, err)
		}
		byID[id].Matches = append(byID[id].Matches, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading matches: %w", interpretError(err))
	}
	mrows, err := q.pool.Query(ctx, `
SELECT item_id, media_id, mime, url, COALESCE(sha256, '') FROM review_media
WHERE item_id = ANY($1) ORDER BY item_id, media_id`, ids)
	if err != nil {
		return fmt.Errorf("loading media: %w", interpretError(err))
	}
	defer mrows.Close()
	for mrows.Next() {
		var id int64
		var m moderation.ItemMedia
		if err := mrows.Scan(&id, &m.MediaID, &m.MIME, &m.URL, &m.SHA256); err != nil {
			return fmt.Errorf("loading media: %w", interpretError(err))
		}
		byID[id].Media = append(byID[id].Media, m)
	}
	return interpretError(mrows.Err())
}

// Ping checks the database answers; used by readiness checks.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("pinging postgres: %w", err)
	}
	return nil
}
