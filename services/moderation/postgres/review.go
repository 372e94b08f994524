package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// ReviewOptions configures Reviews. The zero value is usable.
type ReviewOptions struct {
	Clock Clock         // SystemClock when nil
	Lease time.Duration // how long a claim lasts; 15 minutes when zero
	// MaxBatch bounds how many claims and decisions share one group-commit
	// transaction; 64 when zero, 1 gives each its own transaction.
	MaxBatch int
	// Writers is how many group-commit transactions may be in flight at
	// once (one runs its statements while another appends and commits);
	// 2 when zero. A third made each transaction carry fewer requests and
	// wait on the audit head for the others: more server CPU per request
	// and a longer tail (BENCHMARKS.md).
	Writers int
	// WriteTimeout bounds one group-commit transaction; 30 seconds when zero.
	WriteTimeout time.Duration
	// ActionActor says who the moderation.actions messages name as the
	// actor; the moderator's username when zero.
	ActionActor moderation.ActorDisclosure
}

// Reviews is the reviewer's side of the queue: claiming with leases,
// decisions, reversals, cluster decisions and item history.
type Reviews struct {
	pool   *pgxpool.Pool
	clock  Clock
	lease  time.Duration
	actor  moderation.ActorDisclosure // for the outbox messages
	queue  *Queue
	writes *groupCommit // claims and decisions
}

// NewReviews returns Reviews over pool.
func NewReviews(pool *pgxpool.Pool, o ReviewOptions) *Reviews {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Minute
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.Writers <= 0 {
		o.Writers = 2
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.ActionActor == "" {
		o.ActionActor = moderation.DiscloseName
	}
	return &Reviews{pool: pool, clock: o.Clock, lease: o.Lease, actor: o.ActionActor, queue: NewQueue(pool),
		writes: newGroupCommit(pool, o.Writers, o.MaxBatch, o.WriteTimeout)}
}

// WriteStats counts the group-commit work behind claims and decisions
// since Reviews was made.
type WriteStats struct {
	Transactions int64 // group-commit transactions run
	Requests     int64 // claims and decisions they carried, re-runs included
	Shared       int64 // of those, run in a statement shared with others of their batch
	Reruns       int64 // batches re-run without a request that failed
}

// WriteStats returns the counts so far (for metrics).
func (r *Reviews) WriteStats() WriteStats {
	s := r.writes.stats()
	return WriteStats{Transactions: s.Batches, Requests: s.Ops, Shared: s.Merged, Reruns: s.Retries}
}

// Lease is how long a claim lasts.
func (r *Reviews) Lease() time.Duration { return r.lease }

func (r *Reviews) now() time.Time { return r.clock.Now().UTC().Truncate(time.Microsecond) }

// itemSubject is how audit events name an item.
func itemSubject(id int64) string { return "item:" + strconv.FormatInt(id, 10) }

const claimOrder = "severity DESC, sla_deadline, flagged_at, id"

// Claim hands actor up to f.Count of the most urgent unclaimed items of
// f.Queue (pending items of the default queue, escalated items of the
// leads queue) in priority order: severity, then SLA deadline, then age.
// Concurrent claimers never receive the same item: rows are taken with
// FOR UPDATE SKIP LOCKED and marked claimed in the same statement. The
// claim is audited in the same transaction. Returns an empty slice when
// nothing is available, ErrInvalid for a bad filter. The caller checks
// that actor may claim from f.Queue. Concurrent claims and decisions share
// group-commit transactions (see groupCommit); the claim is answered once
// its transaction committed.
func (r *Reviews) Claim(ctx context.Context, actor moderation.User, f moderation.ClaimFilter) ([]moderation.Item, error) {
	f, err := validClaim(f)
	if err != nil {
		return nil, fmt.Errorf("claiming: %w", err)
	}
	st := r.newRequest(actor, false)
	st.next = &f
	if err := r.writes.do(ctx, r.requestOp(st)); err != nil {
		return nil, fmt.Errorf("claiming items: %w", interpretError(err))
	}
	return st.result(), nil
}

// validClaim fills f's defaults (the default queue, one item) and checks
// its count. Errors wrap ErrInvalid.
func validClaim(f moderation.ClaimFilter) (moderation.ClaimFilter, error) {
	if f.Queue == "" {
		f.Queue = moderation.QueueDefault
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Count < 0 || f.Count > moderation.MaxClaim {
		return f, fmt.Errorf("count must be 1 to %d: %w", moderation.MaxClaim, moderation.ErrInvalid)
	}
	return f, nil
}

// claimWhere returns the condition on review_items that picks what f (a
// validClaim filter) asks for, and the reference to the queue's
// parameter, adding parameters with arg.
func claimWhere(f moderation.ClaimFilter, arg func(any) string) (where, queue string) {
	queue = arg(f.Queue)
	where = "status IN ('pending', 'escalated') AND queue = " + queue
	if f.Category != "" {
		where += " AND category = " + arg(f.Category)
	}
	if f.Lang != "" {
		where += " AND lang = " + arg(f.Lang)
	}
	return where, queue
}

// matchesJSON and mediaJSON aggregate an item's matches and media (claimed.id)
// into JSON shaped like moderation.Match and moderation.ItemMedia.
const matchesJSON = `COALESCE((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
    'rule', m.rule_id, 'version', m.rule_version, 'category', m.category, 'severity', m.severity, 'spans', m.spans,
    'bank', m.bank, 'entry', m.entry_id, 'hash_type', m.hash_type, 'distance', m.distance, 'media_id', m.media_id,
    'hash', m.hash)) ORDER BY m.match_key) FROM review_matches m WHERE m.item_id = claimed.id), '[]')`

const mediaJSON = `COALESCE((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
    'media_id', v.media_id, 'mime', v.mime, 'url', v.url, 'sha256', v.sha256)) ORDER BY v.media_id)
    FROM review_media v WHERE v.item_id = claimed.id), '[]')`

// scanItemWithRelations reads itemColumns followed by the matches and
// media JSON, then the columns extra points to, with scan (a row's Scan).
func scanItemWithRelations(scan func(dest ...any) error, extra ...any) (moderation.Item, error) {
	var it moderation.Item
	var sev int16
	var status string
	var matches, media []byte
	err := scan(append([]any{&it.ID, &it.PostID, &it.Platform, &it.AuthorID, &it.AuthorHandle, &it.Text, &it.Lang, &it.URL,
		&it.PostCreatedAt, &it.FlaggedAt, &it.Category, &sev, &it.Queue, &it.SLADeadline, &status,
		&it.ClaimedBy, &it.LeaseExpiresAt, &it.DecidedAt, &matches, &media}, extra...)...)
	if err != nil {
		return it, err
	}
	it.Severity = moderation.Severity(sev)
	it.Status = moderation.Status(status)
	it.Matches = []moderation.Match{}
	it.Media = []moderation.ItemMedia{}
	if err := json.Unmarshal(matches, &it.Matches); err != nil {
		return it, fmt.Errorf("decoding matches of item %d: %w", it.ID, err)
	}
	if err := json.Unmarshal(media, &it.Media); err != nil {
		return it, fmt.Errorf("decoding media of item %d: %w", it.ID, err)
	}
	return it, nil
}

func compareClaimOrder(a, b moderation.Item) int {
	switch {
	case a.Severity != b.Severity:
		return int(b.Severity - a.Severity)
	case !a.SLADeadline.Equal(b.SLADeadline):
		return a.SLADeadline.Compare(b.SLADeadline)
	case !a.FlaggedAt.Equal(b.FlaggedAt):
		return a.FlaggedAt.Compare(b.FlaggedAt)
	}
	return int(a.ID - b.ID)
}

func prefixed(p, cols string) string {
	fs := strings.Split(cols, ",")
	for i, f := range fs {
		fs[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fs, ", ")
}

// Release gives a claimed item back to its queue before the lease ends.
// Returns ErrNotFound for an unknown item and ErrConflict when actor does
// not hold it.
func (r *Reviews) Release(ctx context.Context, actor moderation.User, itemID int64) error {
	tag, err := r.pool.Exec(ctx, `
UPDATE review_items SET status = CASE WHEN queue = 'leads' THEN 'escalated' ELSE 'pending' END,
    claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
WHERE id = $1 AND status = 'claimed' AND claimed_by = $2`, itemID, actor.ID)
	if err != nil {
		return fmt.Errorf("releasing item %d: %w", itemID, interpretError(err))
	}
	if tag.RowsAffected() == 0 {
		return r.notHeld(ctx, itemID)
	}
	return nil
}

// notHeld explains why an item the caller expected to hold is not held.
func (r *Reviews) notHeld(ctx context.Context, itemID int64) error {
	var status string
	err := r.pool.QueryRow(ctx, `SELECT status FROM review_items WHERE id = $1`, itemID).Scan(&status)
	if err != nil {
		return fmt.Errorf("item %d: %w", itemID, interpretError(err))
	}
	return fmt.Errorf("item %d is %s and not claimed by you (claim it first; leases expire): %w", itemID, status, moderation.ErrConflict)
}

// ReleaseExpired returns every item whose lease ended to its queue, and
// says how many. vigil-review runs it periodically.
func (r *Reviews) ReleaseExpired(ctx context.Context) (int64, error) {
	tag, err := r.pool.Exec(ctx, `
UPDATE review_items SET status = CASE WHEN queue = 'leads' THEN 'escalated' ELSE 'pending' END,
    claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
WHERE status = 'claimed' AND lease_expires_at <= $1`, r.now())
	if err != nil {
		return 0, fmt.Errorf("releasing expired leases: %w", interpretError(err))
	}
	return tag.RowsAffected(), nil
}

// Claimed lists the items actor holds, most urgent first.
func (r *Reviews) Claimed(ctx context.Context, actor moderation.User) ([]moderation.Item, error) {
	return r.items(ctx, `WHERE status = 'claimed' AND claimed_by = $1 ORDER BY `+claimOrder+` LIMIT 500`, actor.ID)
}

func (r *Reviews) items(ctx context.Context, tail string, args ...any) ([]moderation.Item, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+itemColumns+` FROM review_items `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("reading items: %w", interpretError(err))
	}
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("reading items: %w", interpretError(err))
	}
	if err := r.queue.attach(ctx, items); err != nil {
		return nil, err
	}
	if items == nil {
		items = []moderation.Item{}
	}
	return items, nil
}

// Get returns an item with its decisions and active legal hold. Returns
// ErrNotFound.
func (r *Reviews) Get(ctx context.Context, id int64) (moderation.ItemDetail, error) {
	var d moderation.ItemDetail
	rows, err := r.pool.Query(ctx, `SELECT `+itemColumns+`, claimed_at, purged_at FROM review_items WHERE id = $1`, id)
	if err != nil {
		return d, fmt.Errorf("reading item %d: %w", id, interpretError(err))
	}
	d, err = pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (moderation.ItemDetail, error) {
		var d moderation.ItemDetail
		var sev int16
		var status string
		err := row.Scan(&d.ID, &d.PostID, &d.Platform, &d.AuthorID, &d.AuthorHandle, &d.Text, &d.Lang, &d.URL,
			&d.PostCreatedAt, &d.FlaggedAt, &d.Category, &sev, &d.Queue, &d.SLADeadline, &status,
			&d.ClaimedBy, &d.LeaseExpiresAt, &d.DecidedAt, &d.ClaimedAt, &d.PurgedAt)
		d.Severity = moderation.Severity(sev)
		d.Status = moderation.Status(status)
		d.Matches = []moderation.Match{}
		d.Media = []moderation.ItemMedia{}
		return d, err
	})
	if err != nil {
		return d, fmt.Errorf("reading item %d: %w", id, interpretError(err))
	}
	d.Overdue = d.Item.Overdue(r.clock.Now())
	items := []moderation.Item{d.Item}
	if err := r.queue.attach(ctx, items); err != nil {
		return d, err
	}
	d.Item = items[0]
	d.Decisions, err = r.decisions(ctx, `WHERE d.item_id = $1 ORDER BY d.id`, id)
	if err != nil {
		return d, err
	}
	holds, err := r.holds(ctx, `WHERE h.item_id = $1 AND h.lifted_at IS NULL`, id)
	if err != nil {
		return d, err
	}
	if len(holds) > 0 {
		d.Hold = &holds[0]
	}
	return d, nil
}

// List returns items in claim order with each one's overdue flag.
func (r *Reviews) List(ctx context.Context, f moderation.ItemFilter) ([]moderation.ItemDetail, error) {
	items, err := r.queue.List(ctx, f)
	if err != nil {
		return nil, err
	}
	now := r.clock.Now()
	out := make([]moderation.ItemDetail, len(items))
	for i, it := range items {
		out[i] = moderation.ItemDetail{Item: it, Overdue: it.Overdue(now), Decisions: []moderation.Decision{}}
	}
	return out, nil
}

// Media returns the stored bytes of one media file of an item. Returns
// ErrNotFound when the item has no such media or its bytes were never
// stored.
func (r *Reviews) Media(ctx context.Context, itemID int64, mediaID string) (moderation.MediaBlob, error) {
	var b moderation.MediaBlob
	err := r.pool.QueryRow(ctx, `
SELECT b.mime, b.bytes, b.sha256, b.purged_at
FROM review_media m JOIN media_blobs b ON b.sha256 = m.sha256
WHERE m.item_id = $1 AND m.media_id = $2`, itemID, mediaID).Scan(&b.MIME, &b.Bytes, &b.SHA256, &b.PurgedAt)
	if err != nil {
		return b, fmt.Errorf("reading media %s of item %d: %w", mediaID, itemID, interpretError(err))
	}
	return b, nil
}

// RecordMediaView audits that actor saw unblurred media. It must succeed
// before the bytes are sent.
func (r *Reviews) RecordMediaView(ctx context.Context, actor moderation.User, itemID int64, mediaID, sha string) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		_, err := AppendAudit(ctx, tx, r.now(), actor.Username, moderation.AuditViewMedia, itemSubject(itemID),
			map[string]any{"media_id": mediaID, "sha256": sha})
		return err
	})
	if err != nil {
		return fmt.Errorf("auditing media view: %w", interpretError(err))
	}
	return nil
}

// Clusters lists groups of two or more undecided items whose media
// matched the same hash-bank entry, most severe and most urgent first.
func (r *Reviews) Clusters(ctx context.Context, limit int) ([]moderation.Cluster, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := r.pool.Query(ctx, `
SELECT m.bank, m.entry_id, min(COALESCE(m.hash_type, '')), count(DISTINCT i.id), max(i.severity), min(i.sla_deadline),
    array_agg(DISTINCT i.category ORDER BY i.category)
FROM review_matches m JOIN review_items i ON i.id = m.item_id
WHERE m.bank IS NOT NULL AND i.status IN ('pending', 'escalated', 'claimed')
GROUP BY m.bank, m.entry_id HAVING count(DISTINCT i.id) > 1
ORDER BY max(i.severity) DESC, min(i.sla_deadline), m.bank, m.entry_id
LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing clusters: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.Cluster, error) {
		var c moderation.Cluster
		var sev int16
		err := row.Scan(&c.Bank, &c.Entry, &c.HashType, &c.Items, &sev, &c.Deadline, &c.Categories)
		c.MaxSev = moderation.Severity(sev)
		c.ID = moderation.ClusterKey{Bank: c.Bank, Entry: c.Entry}.String()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing clusters: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.Cluster{}
	}
	return out, nil
}

// clusterMembers selects the ids of the items whose media matched the
// bank entry ($1, $2), as a condition on review_items.id.
const clusterMembers = `id IN (SELECT item_id FROM review_matches WHERE bank = $1 AND entry_id = $2)`

// ClusterItems lists the undecided items of cluster k, in claim order.
func (r *Reviews) ClusterItems(ctx context.Context, k moderation.ClusterKey) ([]moderation.Item, error) {
	return r.items(ctx, `WHERE status IN ('pending', 'escalated', 'claimed') AND `+clusterMembers+`
ORDER BY `+claimOrder+` LIMIT $3`, k.Bank, k.Entry, moderation.MaxClusterDecision)
}
