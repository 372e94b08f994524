package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestPurgeKeepsAppealedItems: the retention purge keeps a removed item's
// content while an appeal against the removal is open, and takes it once
// the appeal is resolved; the backlog counts the appeal while it is open.
func TestPurgeKeepsAppealedItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 2, f.clock.Now(), "")
	mod := f.user(t, "mod", moderation.RoleModerator)
	lead := f.user(t, "lead", moderation.RoleLead)
	items, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 2})
	if err != nil || len(items) != 2 {
		t.Fatal(err)
	}
	for _, it := range items {
		if _, err := f.reviews.Decide(ctx, mod, false, it.ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}); err != nil {
			t.Fatal(err)
		}
	}
	var post string
	if err := f.s.Pool.QueryRow(ctx, `SELECT post_id FROM review_items WHERE id = 1`).Scan(&post); err != nil {
		t.Fatal(err)
	}
	in := moderation.AppealInput{PostID: post, AppealID: "ap-1", Statement: "news", ReceivedAt: f.clock.Now().Add(123456 * time.Nanosecond)}
	a, created, err := f.reviews.SubmitAppeal(ctx, moderation.User{Username: "platform"}, 0, in)
	if err != nil || !created || a.ItemID != 1 {
		t.Fatalf("submitting: %+v %v %v", a, created, err)
	}
	// A retry with the receipt time at nanosecond precision is the same
	// complaint: Postgres keeps microseconds.
	if again, created, err := f.reviews.SubmitAppeal(ctx, moderation.User{Username: "platform"}, 0, in); err != nil || created || again.ID != a.ID {
		t.Fatalf("repeat: %+v %v %v", again, created, err)
	}
	if _, err := f.reviews.ResolveAppeal(ctx, mod, a.ID, moderation.AppealResolution{Outcome: moderation.ResolveUphold, ReasonCode: "HATE-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("the decision's author resolving: %v, want ErrConflict", err)
	}
	// The backlog the vigil_appeals_* metrics read.
	if b, err := postgres.AppealBacklog(ctx, f.s.Pool); err != nil || b.Open != 1 || !b.OldestReceived.Equal(in.ReceivedAt.Truncate(time.Microsecond)) {
		t.Fatalf("backlog %+v %v, want 1 received at %v", b, err, in.ReceivedAt)
	}
	f.clock.Advance(200 * 24 * time.Hour)
	cutoff := moderation.DefaultRetention.Cutoff(f.clock.Now())
	res, err := f.reviews.Purge(ctx, "retention", cutoff)
	if err != nil || fmt.Sprint(res.Items) != "[2]" {
		t.Fatalf("purge with an open appeal on item 1: %+v %v, want [2]", res, err)
	}
	if d, err := f.reviews.Get(ctx, 1); err != nil || d.Text == "" || d.PurgedAt != nil {
		t.Fatalf("item 1 under appeal: %q %v %v", d.Text, d.PurgedAt, err)
	}
	if _, err := f.reviews.ResolveAppeal(ctx, lead, a.ID, moderation.AppealResolution{Outcome: moderation.ResolveUphold, ReasonCode: "HATE-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.ResolveAppeal(ctx, lead, a.ID, moderation.AppealResolution{Outcome: moderation.ResolveUphold, ReasonCode: "HATE-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("resolving twice: %v, want ErrConflict", err)
	}
	if b, err := postgres.AppealBacklog(ctx, f.s.Pool); err != nil || b.Open != 0 || !b.OldestReceived.IsZero() {
		t.Fatalf("backlog after the outcome %+v %v, want none", b, err)
	}
	res, err = f.reviews.Purge(ctx, "retention", cutoff)
	if err != nil || fmt.Sprint(res.Items) != "[1]" {
		t.Fatalf("purge after the appeal was upheld: %+v %v, want [1]", res, err)
	}
	// The appeal's listing still shows it, the text marked purged.
	as, err := f.reviews.Appeals(ctx, moderation.AppealFilter{Status: moderation.AppealsResolved})
	if err != nil || len(as) != 1 || as[0].Item.PurgedAt == nil || as[0].Item.Text != "" || as[0].Outcome != moderation.AppealUpheld {
		t.Fatalf("resolved appeals: %+v %v", as, err)
	}
}
