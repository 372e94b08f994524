package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// matchEntry records that the media of items ids matched entry k.
func matchEntry(t *testing.T, f *fixture, k moderation.ClusterKey, ids ...int64) {
	t.Helper()
	_, err := f.s.Pool.Exec(context.Background(), `
INSERT INTO review_matches (item_id, match_key, category, severity, bank, entry_id, hash_type, distance, media_id, hash)
SELECT id, 'bank:' || $2 || ':' || $3 || ':m', 'terrorist_content', 4, $2, $3, 'pdq', 1, 'm', md5(id::text)
FROM unnest($1::bigint[]) id`, ids, k.Bank, k.Entry)
	if err != nil {
		t.Fatal(err)
	}
}

// skips is a BulkResult's skipped items as "id:reason", in its order.
func skips(res moderation.BulkResult) string {
	var out []string
	for _, s := range res.SkippedItems {
		out = append(out, fmt.Sprintf("%d:%s", s.ItemID, s.Reason))
	}
	return fmt.Sprint(out)
}

func decided(res moderation.BulkResult) string {
	var out []int64
	for _, d := range res.Decisions {
		out = append(out, d.ItemID)
	}
	return fmt.Sprint(out)
}

// TestClusterSkipReasons: every item a cluster decision leaves undecided
// is listed with the reason, in item-id order, beside the bare ids:
// another reviewer's live claim (held; an expired one is taken over),
// the leads queue for a moderator (leads_queue; a lead decides it), a row
// locked by a concurrent transaction (busy; decided once it is free), and
// listed items that are not undecided members of the cluster
// (not_in_cluster: another entry's item, one decided meanwhile).
func TestClusterSkipReasons(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	seed(t, f.s.Pool, 8, now, "")
	k := moderation.ClusterKey{Bank: "b", Entry: "e"}
	matchEntry(t, f, k, 1, 2, 3, 4, 5, 6, 8)
	matchEntry(t, f, moderation.ClusterKey{Bank: "b", Entry: "other"}, 7)
	mod := f.user(t, "mod", moderation.RoleModerator)
	lead := f.user(t, "lead", moderation.RoleLead)
	other := f.user(t, "other", moderation.RoleModerator)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		// 1 held by another moderator; 2 was, but the lease ran out.
		{`UPDATE review_items SET status = 'claimed', claimed_by = $1, claimed_at = $2, lease_expires_at = $3 WHERE id = 1`,
			[]any{other.ID, now, now.Add(time.Hour)}},
		{`UPDATE review_items SET status = 'claimed', claimed_by = $1, claimed_at = $2, lease_expires_at = $3 WHERE id = 2`,
			[]any{other.ID, now.Add(-time.Hour), now.Add(-time.Minute)}},
		// 3 escalated to the leads queue; 6 held by mod; 8 decided.
		{`UPDATE review_items SET status = 'escalated', queue = 'leads' WHERE id = 3`, nil},
		{`UPDATE review_items SET status = 'claimed', claimed_by = $1, claimed_at = $2, lease_expires_at = $3 WHERE id = 6`,
			[]any{mod.ID, now, now.Add(time.Hour)}},
		{`UPDATE review_items SET status = 'decided', outcome = 'remove', decided_at = $1 WHERE id = 8`, []any{now}},
	} {
		if _, err := f.s.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	// Another transaction holds 4's row lock, as a claim does while it
	// hands the item out.
	lock, err := f.s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM review_items WHERE id = 4 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
	res, err := f.reviews.DecideCluster(ctx, mod, false, k, remove, []int64{8, 7, 6, 5, 4, 3, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decided(res), "[2 5 6]"; got != want {
		t.Errorf("decided %s, want %s", got, want)
	}
	if got, want := skips(res), "[1:held 3:leads_queue 4:busy 7:not_in_cluster 8:not_in_cluster]"; got != want {
		t.Errorf("skipped items %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(res.Skipped), "[1 3 4 7 8]"; got != want {
		t.Errorf("skipped %s, want %s (the ids of skipped_items)", got, want)
	}
	if res.Remaining != 0 {
		t.Errorf("remaining %d, want 0", res.Remaining)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// The whole cluster, once 4 is free: 4 is decided, 1 and 3 are not.
	res, err = f.reviews.DecideCluster(ctx, mod, false, k, remove, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decided(res)+" "+skips(res), "[4] [1:held 3:leads_queue]"; got != want {
		t.Errorf("whole cluster: decided and skipped %s, want %s", got, want)
	}
	// A lead may decide the escalated item; 1 is still held.
	res, err = f.reviews.DecideCluster(ctx, lead, true, k, remove, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decided(res)+" "+skips(res), "[3] [1:held]"; got != want {
		t.Errorf("whole cluster by a lead: decided and skipped %s, want %s", got, want)
	}
}

// TestClusterRemaining: a decision without item ids considers the first
// MaxClusterDecision members and counts the rest, which the next decision
// takes; with item ids nothing is counted.
func TestClusterRemaining(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	n := moderation.MaxClusterDecision + 3
	seed(t, f.s.Pool, n, f.clock.Now(), "")
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	k := moderation.ClusterKey{Bank: "b", Entry: "big"}
	matchEntry(t, f, k, ids...)
	mod := f.user(t, "mod", moderation.RoleModerator)
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
	res, err := f.reviews.DecideCluster(ctx, mod, false, k, remove, []int64{int64(n), 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != 2 || res.Remaining != 0 || len(res.SkippedItems) != 0 {
		t.Fatalf("listed: %d decisions, remaining %d, skipped %v; want 2, 0, none", len(res.Decisions), res.Remaining, res.SkippedItems)
	}
	res, err = f.reviews.DecideCluster(ctx, mod, false, k, remove, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != moderation.MaxClusterDecision || res.Remaining != 1 || len(res.SkippedItems) != 0 ||
		res.Decisions[0].ItemID != 2 {
		t.Fatalf("whole cluster: %d decisions from item %d, remaining %d, skipped %v; want %d from 2, 1, none",
			len(res.Decisions), res.Decisions[0].ItemID, res.Remaining, res.SkippedItems, moderation.MaxClusterDecision)
	}
	res, err = f.reviews.DecideCluster(ctx, mod, false, k, remove, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := decided(res); got != fmt.Sprintf("[%d]", n-1) || res.Remaining != 0 {
		t.Fatalf("the rest: decided %s, remaining %d; want [%d], 0", got, res.Remaining, n-1)
	}
}
