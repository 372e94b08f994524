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
	// The appeal's listing still shows it, the text marked purged and the
	// user's statement gone with it.
	as, err := f.reviews.Appeals(ctx, moderation.AppealFilter{Status: moderation.AppealsResolved})
	if err != nil || len(as) != 1 || as[0].Item.PurgedAt == nil || as[0].Item.Text != "" || as[0].Statement != "" || as[0].Outcome != moderation.AppealUpheld {
		t.Fatalf("resolved appeals: %+v %v", as, err)
	}
}

// TestReversalFollowsAppeal: a lead's reversal of an appealed decision to
// no_violation resolves the appeal as reinstated by that reversal; one to
// another final action (remove to report) makes the appeal stand against
// the new decision, whose author may then not resolve it.
func TestReversalFollowsAppeal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed(t, f.s.Pool, 2, f.clock.Now(), "")
	mod := f.user(t, "mod", moderation.RoleModerator)
	lead := f.user(t, "lead", moderation.RoleLead)
	lead2 := f.user(t, "lead2", moderation.RoleLead)
	items, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 2})
	if err != nil || len(items) != 2 {
		t.Fatal(err)
	}
	var removals []moderation.Decision
	var appeals []moderation.Appeal
	for i, it := range items {
		d, err := f.reviews.Decide(ctx, mod, false, it.ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"})
		if err != nil {
			t.Fatal(err)
		}
		removals = append(removals, d)
		a, _, err := f.reviews.SubmitAppeal(ctx, moderation.User{Username: "platform"}, 0, moderation.AppealInput{
			PostID: it.PostID, AppealID: fmt.Sprintf("ap-%d", i), Statement: "satire", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		appeals = append(appeals, a)
	}

	// Reversed to no_violation: reinstated, by that reversal.
	rev, err := f.reviews.Reverse(ctx, lead, removals[0].ID, moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.reviews.Appeals(ctx, moderation.AppealFilter{Status: moderation.AppealsResolved})
	if err != nil || len(got) != 1 || got[0].ID != appeals[0].ID || got[0].Outcome != moderation.AppealReinstated ||
		got[0].ReinstatementID == nil || *got[0].ReinstatementID != rev.ID || got[0].ResolvedBy != "lead" {
		t.Fatalf("after the reversal to no_violation: %+v %v", got, err)
	}
	var audited int
	if err := f.s.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = $1 AND details->>'by_reversal' = 'true'`,
		moderation.AuditAppealResolved).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d appeal_resolved events by reversal (%v), want 1", audited, err)
	}

	// Reversed to report: the appeal now stands against the report.
	toReport, err := f.reviews.Reverse(ctx, lead, removals[1].ID, moderation.DecisionInput{Action: moderation.ActionReport, ReasonCode: "TC-1", Note: "threat"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := f.reviews.Appeals(ctx, moderation.AppealFilter{Status: moderation.AppealsOpen})
	if err != nil || len(open) != 1 || open[0].ID != appeals[1].ID || open[0].Decision.ID != toReport.ID {
		t.Fatalf("after the reversal to report: %+v %v", open, err)
	}
	if _, err := f.reviews.ResolveAppeal(ctx, lead, appeals[1].ID, moderation.AppealResolution{Outcome: moderation.ResolveUphold, ReasonCode: "TC-1"}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("the reversal's author upholding: %v, want ErrConflict", err)
	}
	if _, err := f.reviews.ResolveAppeal(ctx, lead2, appeals[1].ID, moderation.AppealResolution{Outcome: moderation.ResolveReinstate, ReasonCode: "NV-1"}); err != nil {
		t.Fatalf("another lead reinstating: %v", err)
	}
	if b, err := postgres.AppealBacklog(ctx, f.s.Pool); err != nil || b.Open != 0 {
		t.Fatalf("backlog %+v %v, want none open", b, err)
	}
}
