package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/password"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// fakeClock is a settable clock shared by the adapters under test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var cheap = password.Params{MemoryKiB: 64, Time: 1, Threads: 1}

type fixture struct {
	s       *moderationtest.Schema
	clock   *fakeClock
	reviews *postgres.Reviews
	users   *postgres.Users
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := moderationtest.TestSchema(t)
	clock := newClock()
	return &fixture{
		s: s, clock: clock,
		reviews: postgres.NewReviews(s.Pool, postgres.ReviewOptions{Clock: clock, Lease: 10 * time.Minute}),
		users:   postgres.NewUsers(s.Pool, postgres.UserOptions{Clock: clock, Password: cheap}),
	}
}

func (f *fixture) user(t *testing.T, name string, roles ...moderation.Role) moderation.User {
	t.Helper()
	u, err := f.users.Create(context.Background(), "test", name, "password-"+name+"-long", roles)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// seed inserts n pending items directly (bulk, for speed) and returns
// nothing; ids are 1..n in a fresh schema. Severity cycles 1..4.
func seed(t testing.TB, pool *pgxpool.Pool, n int, flaggedAt time.Time, extra string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline,
    detection_source, flagged_category, flagged_detection_source`+extra+`)
SELECT 'p'||g, 'test', 'a'||(g % 97), 'text of post '||g, CASE WHEN g % 5 = 0 THEN 'de' ELSE 'en' END,
    $1::timestamptz, $1::timestamptz + g * interval '1 ms', c, 1 + g % 4,
    $1::timestamptz + interval '1 hour' + (g % 7) * interval '10 minutes',
    -- As the ingest workers write them (no match rows here: 'none').
    'none', c, 'none'
FROM generate_series(1, $2) g, LATERAL (SELECT CASE WHEN g % 3 = 0 THEN 'terrorist_content' ELSE 'hate' END AS c) cat`, flaggedAt, n)
	if err != nil {
		t.Fatalf("seeding %d items: %v", n, err)
	}
}

// TestClaimConcurrency: 50 claimers drain 10,000 items; every item is
// handed out exactly once, in priority order per claimer.
func TestClaimConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const items, claimers = 10000, 50
	seed(t, f.s.Pool, items, f.clock.Now().Add(-time.Hour), "")
	users := make([]moderation.User, claimers)
	for i := range users {
		users[i] = f.user(t, fmt.Sprintf("mod%02d", i), moderation.RoleModerator)
	}
	var mu sync.Mutex
	got := map[int64]int64{}
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for i := range claimers {
		wg.Add(1)
		go func(u moderation.User) {
			defer wg.Done()
			for {
				n := 1 + int(u.ID%5) // mixed batch sizes
				claimed, err := f.reviews.Claim(ctx, u, moderation.ClaimFilter{Count: n})
				if err != nil {
					errs <- err
					return
				}
				if len(claimed) == 0 {
					return
				}
				for j := 1; j < len(claimed); j++ {
					if claimed[j-1].Severity < claimed[j].Severity {
						errs <- fmt.Errorf("claim returned severity %d before %d", claimed[j-1].Severity, claimed[j].Severity)
						return
					}
				}
				mu.Lock()
				for _, it := range claimed {
					if prev, dup := got[it.ID]; dup {
						mu.Unlock()
						errs <- fmt.Errorf("item %d handed to users %d and %d", it.ID, prev, u.ID)
						return
					}
					got[it.ID] = u.ID
					if it.Status != moderation.StatusClaimed || it.ClaimedBy == nil || *it.ClaimedBy != u.ID {
						mu.Unlock()
						errs <- fmt.Errorf("item %d returned as %s by %v", it.ID, it.Status, it.ClaimedBy)
						return
					}
				}
				mu.Unlock()
				total.Add(int64(len(claimed)))
			}
		}(users[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(got) != items || total.Load() != items {
		t.Fatalf("handed out %d distinct items (%d claims), want %d", len(got), total.Load(), items)
	}
	var pending int
	if err := f.s.Pool.QueryRow(ctx, `SELECT count(*) FROM review_items WHERE status <> 'claimed'`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d items not claimed (err %v)", pending, err)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain after concurrent claims: %+v %v", br, err)
	}
}

func TestLeaseExpiryReturnsItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 20, f.clock.Now(), "")
	alice := f.user(t, "alice", moderation.RoleModerator)
	bob := f.user(t, "bob", moderation.RoleModerator)
	first, err := f.reviews.Claim(ctx, alice, moderation.ClaimFilter{Count: 20})
	if err != nil || len(first) != 20 {
		t.Fatalf("claim: %d items, %v", len(first), err)
	}
	if more, _ := f.reviews.Claim(ctx, bob, moderation.ClaimFilter{}); len(more) != 0 {
		t.Fatalf("bob claimed %d items while alice holds all", len(more))
	}
	f.clock.Advance(9 * time.Minute)
	if n, err := f.reviews.ReleaseExpired(ctx); err != nil || n != 0 {
		t.Fatalf("released %d before the lease ended (%v)", n, err)
	}
	// Alice decides one item before her lease ends; it must not come back.
	in := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	if _, err := f.reviews.Decide(ctx, alice, false, first[0].ID, in); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	if n, err := f.reviews.ReleaseExpired(ctx); err != nil || n != 19 {
		t.Fatalf("released %d expired leases, want 19 (%v)", n, err)
	}
	back, err := f.reviews.Claim(ctx, bob, moderation.ClaimFilter{Count: 50})
	if err != nil || len(back) != 19 {
		t.Fatalf("bob re-claimed %d, want 19 (%v)", len(back), err)
	}
	// Alice's lease is gone: she can no longer decide.
	_, err = f.reviews.Decide(ctx, alice, false, back[0].ID, in)
	if !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("decision on a lost lease: %v, want ErrConflict", err)
	}
}

func TestClaimFiltersAndPriority(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 40, f.clock.Now(), "")
	mod := f.user(t, "mod", moderation.RoleModerator)
	got, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Category: "terrorist_content", Lang: "de", Count: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 { // g in 1..40 with g%15==0
		t.Fatalf("claimed %d terrorist_content/de items, want 2", len(got))
	}
	for _, it := range got {
		if it.Category != "terrorist_content" || it.Lang != "de" {
			t.Fatalf("filter leaked %s/%s", it.Category, it.Lang)
		}
	}
	first, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{})
	if err != nil || len(first) != 1 {
		t.Fatal(err)
	}
	var want int64
	err = f.s.Pool.QueryRow(ctx, `SELECT id FROM review_items WHERE id <> ALL($1) AND id <> $2
ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT 1`, []int64{got[0].ID, got[1].ID}, first[0].ID).Scan(&want)
	if err != nil {
		t.Fatal(err)
	}
	// The claimed item must precede every remaining one.
	var ahead int
	err = f.s.Pool.QueryRow(ctx, `SELECT count(*) FROM review_items WHERE status = 'pending'
AND (severity, -extract(epoch from sla_deadline)) > ($1, -extract(epoch from $2::timestamptz))`,
		int16(first[0].Severity), first[0].SLADeadline).Scan(&ahead)
	if err != nil || ahead != 0 {
		t.Fatalf("%d pending items rank ahead of the claimed one (%v)", ahead, err)
	}
	if _, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 51}); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("count 51: %v, want ErrInvalid", err)
	}
}

func TestDecideEscalateReverse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 3, f.clock.Now(), "")
	mod := f.user(t, "mod", moderation.RoleModerator)
	lead := f.user(t, "lead", moderation.RoleLead)
	items, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 3})
	if err != nil || len(items) != 3 {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	// Escalate one: it leaves the moderator and waits in the leads queue.
	esc, err := f.reviews.Decide(ctx, mod, false, items[0].ID, moderation.DecisionInput{Action: moderation.ActionEscalate, ReasonCode: "ESC-1"})
	if err != nil {
		t.Fatal(err)
	}
	if esc.ClaimedAt == nil || esc.SLADeadline.IsZero() {
		t.Fatalf("decision lacks claimed_at or sla_deadline: %+v", esc)
	}
	if c, _ := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Queue: moderation.QueueLeads}); len(c) != 1 {
		// The adapter does not check roles (the API does); a lead claims it below.
		t.Fatalf("leads queue has %d items, want 1", len(c))
	} else if err := f.reviews.Release(ctx, mod, c[0].ID); err != nil {
		t.Fatal(err)
	}
	lc, err := f.reviews.Claim(ctx, lead, moderation.ClaimFilter{Queue: moderation.QueueLeads})
	if err != nil || len(lc) != 1 || lc[0].ID != items[0].ID {
		t.Fatalf("lead claim: %+v %v", lc, err)
	}
	if _, err := f.reviews.Decide(ctx, lead, false, lc[0].ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("deciding a leads item without the permission: %v, want ErrConflict", err)
	}
	removed, err := f.reviews.Decide(ctx, lead, true, lc[0].ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"})
	if err != nil {
		t.Fatal(err)
	}
	// A report needs no special handling here; the note travels.
	rep, err := f.reviews.Decide(ctx, mod, false, items[1].ID, moderation.DecisionInput{Action: moderation.ActionReport, ReasonCode: "VT-1", Note: "credible threat, case 42"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.Decide(ctx, mod, false, items[1].ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "VT-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("second decision on a decided item: %v, want ErrConflict", err)
	}
	// Reversal: a new decision; only the latest, only to a different final action.
	rev, err := f.reviews.Reverse(ctx, lead, removed.ID, moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-2", Note: "news report"})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Reverses == nil || *rev.Reverses != removed.ID || rev.ItemID != items[0].ID {
		t.Fatalf("reversal = %+v", rev)
	}
	if _, err := f.reviews.Reverse(ctx, lead, removed.ID, moderation.DecisionInput{Action: moderation.ActionReport, ReasonCode: "TC-1", Note: "x"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("reversing a superseded decision: %v, want ErrConflict", err)
	}
	if _, err := f.reviews.Reverse(ctx, lead, esc.ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("reversing an escalation: %v, want ErrConflict", err)
	}
	if _, err := f.reviews.Reverse(ctx, lead, rep.ID, moderation.DecisionInput{Action: moderation.ActionReport, ReasonCode: "VT-1", Note: "y"}); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("reversal to the same action: %v, want ErrInvalid", err)
	}
	if _, err := f.reviews.Reverse(ctx, lead, 999999, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("reversing an unknown decision: %v, want ErrNotFound", err)
	}

	d, err := f.reviews.Get(ctx, items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != moderation.StatusDecided || len(d.Decisions) != 3 || d.Decisions[2].Action != moderation.ActionNoViolation {
		t.Fatalf("item history: status %s, decisions %+v", d.Status, d.Decisions)
	}
	// Decisions are append-only.
	if _, err := f.s.Pool.Exec(ctx, `UPDATE decisions SET action = 'remove' WHERE id = $1`, rev.ID); err == nil {
		t.Fatal("UPDATE of a decision succeeded")
	}
	// Outbox: remove, report, reversal; never the escalation.
	rows, err := f.s.Pool.Query(ctx, `SELECT topic, key, payload::text FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []moderation.ActionMessage
	for rows.Next() {
		var topic, key, payload string
		if err := rows.Scan(&topic, &key, &payload); err != nil {
			t.Fatal(err)
		}
		var m moderation.ActionMessage
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatal(err)
		}
		if topic != moderation.TopicActions || key != m.PostID {
			t.Fatalf("outbox row topic %s key %s for %+v", topic, key, m)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) != 3 || msgs[0].Action != moderation.ActionRemove || msgs[1].Action != moderation.ActionReport ||
		msgs[2].Reverses == nil || *msgs[2].Reverses != removed.ID || msgs[2].Actor != "lead" || msgs[2].Platform != "test" {
		t.Fatalf("outbox = %+v", msgs)
	}
	// Audit: claims, decisions, the reversal, all chained.
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Subject: fmt.Sprintf("item:%d", items[0].ID)})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if fmt.Sprint(actions) != "[decision claim claim decision reversal]" {
		t.Fatalf("audit of item: %v", actions)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain: %+v %v", br, err)
	}
	st, err := f.reviews.Stats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reversals != 1 || st.DecisionsBy[moderation.ActionRemove] != 1 || st.ByStatus[moderation.StatusClaimed] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if st.MedianDecideMs != math.Round(st.MedianDecideMs) { // 57463.323000000004 was shown
		t.Errorf("median time to decision %v ms, want whole milliseconds", st.MedianDecideMs)
	}
}

// TestClusterDecision: items whose media matched the same bank entry form
// one cluster although their media's hashes differ (re-encoded copies of
// one known image), and one decision covers the cluster but for the item
// another moderator holds.
func TestClusterDecision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 7, f.clock.Now(), "")
	// Items 1-4 matched entry e1 of bank b, each with a hash of its own;
	// 5 and 6 matched e2 of bank b; 7 matched e1 of another bank.
	_, err := f.s.Pool.Exec(ctx, `
INSERT INTO review_matches (item_id, match_key, category, severity, bank, entry_id, hash_type, distance, media_id, hash)
SELECT id, 'bank:' || bank || ':' || entry || ':m', 'terrorist_content', 4, bank, entry, 'pdq', id, 'm', md5(id::text) || md5(id::text)
FROM (SELECT id, CASE WHEN id = 7 THEN 'other' ELSE 'b' END AS bank, CASE WHEN id <= 4 OR id = 7 THEN 'e/1' ELSE 'e2' END AS entry
    FROM review_items) i`)
	if err != nil {
		t.Fatal(err)
	}
	mod := f.user(t, "mod", moderation.RoleModerator)
	other := f.user(t, "other", moderation.RoleModerator)
	cl, err := f.reviews.Clusters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cl {
		got = append(got, fmt.Sprintf("%s=%s/%s:%d", c.ID, c.Bank, c.Entry, c.Items))
	}
	if fmt.Sprint(got) != "[b:e/1=b/e/1:4 b:e2=b/e2:2]" {
		t.Fatalf("clusters = %v (want the two entries of bank b; a lone item is no cluster)", got)
	}
	e1 := moderation.ClusterKey{Bank: "b", Entry: "e/1"}
	items, err := f.reviews.ClusterItems(ctx, e1)
	if err != nil || len(items) != 4 {
		t.Fatalf("items of cluster e1: %d, %v", len(items), err)
	}
	// Another moderator holds item 1.
	if _, err := f.s.Pool.Exec(ctx, `UPDATE review_items SET status = 'claimed', claimed_by = $1, lease_expires_at = $2 WHERE id = 1`,
		other.ID, f.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
	// Limited to the items listed: 2 is decided; 1 is held by the other
	// moderator and 7 is not of this cluster, both skipped; 3 and 4 are
	// not touched.
	res, err := f.reviews.DecideCluster(ctx, mod, false, e1, remove, []int64{7, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != 1 || res.Decisions[0].ItemID != 2 || fmt.Sprint(res.Skipped) != "[1 7]" {
		t.Fatalf("cluster decision limited to 7, 2, 1: %+v, skipped %v", res.Decisions, res.Skipped)
	}
	for _, bad := range [][]int64{{}, {2, 2}, {0}, make([]int64, moderation.MaxClusterDecision+1)} {
		if _, err := f.reviews.DecideCluster(ctx, mod, false, e1, remove, bad); !errors.Is(err, moderation.ErrInvalid) {
			t.Fatalf("item_ids %v: %v, want ErrInvalid", bad[:min(len(bad), 3)], err)
		}
	}
	// The rest of the cluster: 3 and 4; 1 is still held.
	res, err = f.reviews.DecideCluster(ctx, mod, false, e1, remove, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != 2 || fmt.Sprint(res.Skipped) != "[1]" {
		t.Fatalf("cluster decision: %d decisions, skipped %v", len(res.Decisions), res.Skipped)
	}
	var outbox int
	var status string
	if err := f.s.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&outbox); err != nil || outbox != 3 {
		t.Fatalf("outbox rows = %d, %v", outbox, err)
	}
	if err := f.s.Pool.QueryRow(ctx, `SELECT status FROM review_items WHERE id = 7`).Scan(&status); err != nil || status != "pending" {
		t.Fatalf("item 7 (same entry id, other bank) is %q (%v), want pending", status, err)
	}
	if _, err := f.reviews.DecideCluster(ctx, mod, false, moderation.ClusterKey{Bank: "b", Entry: "e3"},
		remove, nil); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("unknown cluster: %v", err)
	}
}

// TestRetentionPurge: removed content older than the period goes, held
// items and everything else stay, and the statistics do not change.
func TestRetentionPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 4, f.clock.Now(), "")
	blob := func(sha string) {
		_, err := f.s.Pool.Exec(ctx, `INSERT INTO media_blobs (sha256, mime, bytes, size_bytes) VALUES ($1, 'image/png', '\x0102', 2)`, sha)
		if err != nil {
			t.Fatal(err)
		}
	}
	shaA, shaB, shaC := fmt.Sprintf("%064x", 10), fmt.Sprintf("%064x", 11), fmt.Sprintf("%064x", 12)
	blob(shaA)
	blob(shaB)
	blob(shaC)
	// Items 1 and 2 share blob A; item 3 has B; item 4 has C.
	_, err := f.s.Pool.Exec(ctx, `INSERT INTO review_media (item_id, media_id, mime, sha256) VALUES
(1, 'm', 'image/png', $1), (2, 'm', 'image/png', $1), (3, 'm', 'image/png', $2), (4, 'm', 'image/png', $3)`, shaA, shaB, shaC)
	if err != nil {
		t.Fatal(err)
	}
	mod := f.user(t, "mod", moderation.RoleModerator)
	lead := f.user(t, "lead", moderation.RoleLead)
	items, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 4})
	if err != nil || len(items) != 4 {
		t.Fatal(err)
	}
	decide := func(id int64, a moderation.Action) {
		if _, err := f.reviews.Decide(ctx, mod, false, id, moderation.DecisionInput{Action: a, ReasonCode: "HATE-1"}); err != nil {
			t.Fatal(err)
		}
	}
	decide(1, moderation.ActionRemove)
	decide(2, moderation.ActionNoViolation) // shares blob A: A must survive
	decide(3, moderation.ActionRemove)
	decide(4, moderation.ActionRemove)
	if _, err := f.reviews.PlaceHold(ctx, lead, 4, "subpoena 2026-17"); err != nil {
		t.Fatal(err)
	}
	// The reason is counted in characters, as the page's field counts
	// them: 2,000 of Chinese (6,000 bytes) fit, one more does not.
	if _, err := f.reviews.PlaceHold(ctx, lead, 3, strings.Repeat("传", 2001)); !errors.Is(err, moderation.ErrInvalid) ||
		!strings.Contains(err.Error(), "1 to 2000 characters") {
		t.Fatalf("a 2,001-character reason: %v, want ErrInvalid in characters", err)
	}
	if _, err := f.reviews.PlaceHold(ctx, lead, 2, strings.Repeat("传", 2000)); err != nil {
		t.Fatalf("a 2,000-character reason: %v", err)
	}
	// The conflict says what is wrong, not which constraint failed.
	if _, err := f.reviews.PlaceHold(ctx, lead, 4, "again"); !errors.Is(err, moderation.ErrConflict) ||
		!strings.Contains(err.Error(), "item 4 is already under an active legal hold") || strings.Contains(err.Error(), "legal_holds_active") {
		t.Fatalf("second hold: %v, want ErrConflict naming the active hold", err)
	}
	before, err := f.reviews.Stats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	period := moderation.DefaultRetention
	// Not yet: five months later nothing goes.
	f.clock.Advance(150 * 24 * time.Hour)
	res, err := f.reviews.Purge(ctx, "retention", period.Cutoff(f.clock.Now()))
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("early purge: %+v %v", res, err)
	}
	f.clock.Advance(40 * 24 * time.Hour)
	res, err = f.reviews.Purge(ctx, "retention", period.Cutoff(f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Items) != "[1 3]" || res.Blobs != 1 || res.Held != 1 {
		t.Fatalf("purge = %+v, want items [1 3], 1 blob (B), 1 held", res)
	}
	for id, wantText := range map[int64]bool{1: false, 2: true, 3: false, 4: true} {
		d, err := f.reviews.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if (d.Text != "") != wantText || (d.PurgedAt == nil) != wantText || len(d.Decisions) != 1 {
			t.Errorf("item %d: text %q purged_at %v decisions %d", id, d.Text, d.PurgedAt, len(d.Decisions))
		}
	}
	for sha, kept := range map[string]bool{shaA: true, shaB: false, shaC: true} {
		var b []byte
		if err := f.s.Pool.QueryRow(ctx, `SELECT bytes FROM media_blobs WHERE sha256 = $1`, sha).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if (b != nil) != kept {
			t.Errorf("blob %s…: bytes kept %v, want %v", sha[60:], b != nil, kept)
		}
	}
	after, err := f.reviews.Stats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before.DecisionsBy, before.ByStatus) != fmt.Sprint(after.DecisionsBy, after.ByStatus) {
		t.Fatalf("stats changed by the purge: %+v → %+v", before, after)
	}
	// Lifting the hold lets the next run purge item 4.
	if err := f.reviews.LiftHold(ctx, lead, 4); err != nil {
		t.Fatal(err)
	}
	if err := f.reviews.LiftHold(ctx, lead, 4); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("lifting twice: %v", err)
	}
	res, err = f.reviews.Purge(ctx, "retention", period.Cutoff(f.clock.Now()))
	if err != nil || fmt.Sprint(res.Items) != "[4]" {
		t.Fatalf("purge after lift: %+v %v", res, err)
	}
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Action: moderation.AuditPurge})
	if err != nil || len(evs) != 2 {
		t.Fatalf("purge audit events: %d %v", len(evs), err)
	}
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "carol", moderation.RoleModerator)
	good := "password-carol-long"
	if _, err := f.users.Authenticate(ctx, "carol", good, "test"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := f.users.Authenticate(ctx, "carol", "wrong password!", "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.users.Authenticate(ctx, "carol", good, "test"); !errors.Is(err, postgres.ErrLocked) {
		t.Fatalf("login while locked: %v, want ErrLocked", err)
	}
	f.clock.Advance(16 * time.Minute)
	if _, err := f.users.Authenticate(ctx, "carol", good, "test"); err != nil {
		t.Fatalf("login after the lockout: %v", err)
	}
	if _, err := f.users.Authenticate(ctx, "nobody", good, "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("unknown user: %v", err)
	}
	// The attempt is audited under a fixed subject: the typed name is not
	// kept (TestFailedLoginKeepsNoTypedText).
	if evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Subject: "user:(unknown)"}); err != nil || len(evs) != 1 ||
		evs[0].Action != moderation.AuditLoginFailed || !strings.Contains(string(evs[0].Details), `"unknown user"`) ||
		strings.Contains(string(evs[0].Details), "nobody") {
		t.Fatalf("audit of the unknown user's attempt: %+v %v", evs, err)
	}
	if _, err := f.users.Disable(ctx, "admin", u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.users.Authenticate(ctx, "carol", good, "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("disabled user: %v", err)
	}
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Subject: "user:carol"})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range evs {
		counts[e.Action]++
	}
	if counts[moderation.AuditLogin] != 2 || counts[moderation.AuditLoginFailed] != 7 || counts[moderation.AuditPermission] != 2 {
		t.Fatalf("audit of carol: %v", counts)
	}
}

// TestCreateUserTaken: a taken username is a conflict that says so, not
// the unique constraint's message.
func TestCreateUserTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.user(t, "erin", moderation.RoleModerator)
	_, err := f.users.Create(context.Background(), "test", "erin", "another-password-long", []moderation.Role{moderation.RoleLead})
	if !errors.Is(err, moderation.ErrConflict) || err.Error() != "user erin already exists: conflict" {
		t.Fatalf("creating a taken username: %v, want ErrConflict \"user erin already exists\"", err)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessions := postgres.NewSessions(f.s.Pool, postgres.SessionOptions{Clock: f.clock, Idle: 30 * time.Minute, Absolute: 2 * time.Hour})
	u := f.user(t, "dave", moderation.RoleModerator, moderation.RoleAuditor)
	secret, ses, err := sessions.Create(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := f.s.Pool.QueryRow(ctx, `SELECT token_hash FROM sessions WHERE id = $1`, ses.ID).Scan(&stored); err != nil || string(stored) == secret {
		t.Fatalf("session token stored in the clear or missing (%v)", err)
	}
	for range 5 { // stays alive while used
		f.clock.Advance(20 * time.Minute)
		if _, err := sessions.Lookup(ctx, secret); err != nil {
			t.Fatalf("lookup of a live session: %v", err)
		}
	}
	f.clock.Advance(31 * time.Minute)
	if _, err := sessions.Lookup(ctx, secret); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("idle session: %v", err)
	}
	if _, err := sessions.Lookup(ctx, "vgs_nonsense"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("unknown session: %v", err)
	}

	if _, _, err := f.users.CreateToken(ctx, "dave", u, "ci", []string{"users:manage"}, nil); !errors.Is(err, moderation.ErrForbidden) {
		t.Fatalf("token with a scope dave lacks: %v", err)
	}
	exp := f.clock.Now().Add(24 * time.Hour)
	tokSecret, tok, err := f.users.CreateToken(ctx, "dave", u, "stats export", []string{"stats:read", "audit:read"}, &exp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.users.TokenPrincipal(ctx, tokSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Can(moderation.PermStatsRead) || p.Can(moderation.PermDecide) || p.TokenID != tok.ID {
		t.Fatalf("token principal permissions: %v", p.Permissions())
	}
	f.clock.Advance(25 * time.Hour)
	if _, err := f.users.TokenPrincipal(ctx, tokSecret); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("expired token: %v", err)
	}
	tok2, t2, err := f.users.CreateToken(ctx, "dave", u, "other", []string{"decide"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.users.RevokeToken(ctx, "dave", u, t2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.users.TokenPrincipal(ctx, tok2); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
}

// TestSQLAuditAppendMatchesChainHash: events written by the audit_append
// SQL function (claim, decide) and by AppendAudit interleave in one chain
// that VerifyAudit accepts, across awkward timestamps and text.
func TestSQLAuditAppendMatchesChainHash(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	for i, at := range []time.Time{
		base, base.Add(120 * time.Millisecond), base.Add(123456 * time.Microsecond), base.Add(100 * time.Microsecond),
		base.Add(999999999), time.Date(2026, 12, 31, 23, 59, 59, 500000000, time.FixedZone("x", 5*3600)),
	} {
		actor := []string{"ålice", "bob", `q"uote`, "emoji🙂", "", "tab\tname"}[i]
		details := fmt.Sprintf(`{"n": %d, "text": "ünïcödé \u2028 \"esc\"", "z": [1, 2.50, null], "a": {"b": true}}`, i)
		if _, err := s.Pool.Exec(ctx, `SELECT audit_append($1, $2, 'test', $3, $4::jsonb)`, at, actor, "item:"+strconv.Itoa(i), details); err != nil {
			t.Fatal(err)
		}
		err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			_, err := postgres.AppendAudit(ctx, tx, at, actor, "test", "go", map[string]any{"i": i, "s": "ü"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	br, n, err := postgres.VerifyAudit(ctx, s.Pool)
	if err != nil || br != nil || n != 12 {
		t.Fatalf("verify: %+v n=%d %v", br, n, err)
	}
}

// TestActionActorDisclosure: the moderation.actions messages name the
// moderator as configured (username, a "user:ID" pseudonym, or nobody),
// for a decision, a submit-and-next and a reversal alike; the audit log
// and the decisions keep the username whatever the platform is told.
func TestActionActorDisclosure(t *testing.T) {
	t.Parallel()
	for _, d := range []moderation.ActorDisclosure{moderation.DiscloseName, moderation.DiscloseID, moderation.DiscloseNone} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.reviews = postgres.NewReviews(f.s.Pool, postgres.ReviewOptions{Clock: f.clock, ActionActor: d})
			ctx := context.Background()
			seed(t, f.s.Pool, 3, f.clock.Now(), "")
			mod := f.user(t, "mona", moderation.RoleModerator)
			lead := f.user(t, "leo", moderation.RoleLead)
			remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
			c, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{})
			if err != nil || len(c) != 1 {
				t.Fatalf("claim: %v %v", c, err)
			}
			first, next, err := f.reviews.DecideAndClaim(ctx, mod, false, c[0].ID, remove, moderation.ClaimFilter{})
			if err != nil || len(next) != 1 {
				t.Fatalf("decide and claim: %v %v", next, err)
			}
			if _, err := f.reviews.Decide(ctx, mod, false, next[0].ID, remove); err != nil {
				t.Fatal(err)
			}
			if _, err := f.reviews.Reverse(ctx, lead, first.ID, moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-2"}); err != nil {
				t.Fatal(err)
			}
			rows, err := f.s.Pool.Query(ctx, `SELECT payload->>'actor' FROM outbox ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			want := map[moderation.ActorDisclosure][]string{
				moderation.DiscloseName: {"mona", "mona", "leo"},
				moderation.DiscloseID:   {fmt.Sprintf("user:%d", mod.ID), fmt.Sprintf("user:%d", mod.ID), fmt.Sprintf("user:%d", lead.ID)},
				moderation.DiscloseNone: {"", "", ""},
			}[d]
			if !slices.Equal(got, want) {
				t.Errorf("actors in the messages %q, want %q", got, want)
			}
			var actors []string
			if err := f.s.Pool.QueryRow(ctx, `SELECT array_agg(DISTINCT actor ORDER BY actor) FROM audit_events WHERE action IN ('decision', 'reversal')`).Scan(&actors); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(actors, []string{"leo", "mona"}) {
				t.Errorf("audit actors %q, want the usernames", actors)
			}
		})
	}
}
