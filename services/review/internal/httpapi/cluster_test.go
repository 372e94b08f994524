package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestClusterDecisionExplains: a cluster decision lists every item it
// skipped with the reason (beside the bare ids of skipped) and counts the
// members it did not consider; an explicit "item_ids": null is refused
// (clients writing an empty list as null would decide the whole cluster),
// while leaving item_ids out still decides the whole cluster.
func TestClusterDecisionExplains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	pool := e.schema.Pool
	now := e.clock.Now()
	if _, err := pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'post '||g, 'en', $1, $1, 'terrorist_content', 4, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 3) g`, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO review_matches (item_id, match_key, category, severity, bank, entry_id, hash_type, distance, media_id, hash)
SELECT id, 'bank:b:e1:m1', 'terrorist_content', 4, 'b', 'e1', 'pdq', 1, 'm1', 'abcdefabcdefab0' || id FROM review_items`); err != nil {
		t.Fatal(err)
	}
	mod := e.session(e.user("mod", moderation.RoleModerator))
	other := e.user("other", moderation.RoleModerator)
	if _, err := pool.Exec(ctx, `UPDATE review_items SET status = 'claimed', claimed_by = $1, claimed_at = $2, lease_expires_at = $3 WHERE id = 1`,
		other.ID, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	const path = "/api/v1/clusters/b:e1/decision"

	// null: refused, nothing decided.
	for _, body := range []string{
		`{"action":"remove","reason_code":"TC-1","item_ids":null}`,
		`{"item_ids":null,"action":"remove","reason_code":"TC-1"}`,
	} {
		r := e.do(mod, "POST", path, body)
		if r.status != 400 || r.code() != "invalid" ||
			!strings.Contains(string(r.body), `"message":"item_ids is null: leave it out to decide the whole cluster, or list the items"`) {
			t.Errorf("POST %s: %d %s, want 400 invalid saying item_ids is null", body, r.status, r.body)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM decisions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("decisions after item_ids null: %d, %v; want none", n, err)
	}

	// Listed: 2 is decided, 1 is held and 99 is no member. The response
	// is read as JSON, not through BulkResult, so its field names count.
	r := e.must(e.do(mod, "POST", path, `{"action":"remove","reason_code":"TC-1","item_ids":[99,2,1]}`), 200)
	var got struct {
		Decisions []struct {
			ItemID int64 `json:"item_id"`
		} `json:"decisions"`
		Skipped      []int64           `json:"skipped"`
		SkippedItems []json.RawMessage `json:"skipped_items"`
		Remaining    *int              `json:"remaining"`
	}
	r.decode(t, &got)
	var items []string
	for _, s := range got.SkippedItems {
		items = append(items, string(s))
	}
	if len(got.Decisions) != 1 || got.Decisions[0].ItemID != 2 || len(got.Skipped) != 2 || got.Skipped[0] != 1 || got.Skipped[1] != 99 ||
		strings.Join(items, ",") != `{"item_id":1,"reason":"held"},{"item_id":99,"reason":"not_in_cluster"}` ||
		got.Remaining == nil || *got.Remaining != 0 {
		t.Fatalf("listed decision: %s", r.body)
	}

	// Left out: the whole cluster, 3; 1 is still held.
	r = e.must(e.do(mod, "POST", path, `{"action":"remove","reason_code":"TC-1"}`), 200)
	var bulk moderation.BulkResult
	r.decode(t, &bulk)
	if len(bulk.Decisions) != 1 || bulk.Decisions[0].ItemID != 3 || len(bulk.SkippedItems) != 1 ||
		bulk.SkippedItems[0] != (moderation.SkippedItem{ItemID: 1, Reason: moderation.SkipHeld}) || bulk.Remaining != 0 {
		t.Fatalf("whole cluster: %s", r.body)
	}
}
