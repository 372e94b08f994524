package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestTransparencyReport: every number of the report over a seeded
// history with events before, at and after both bounds of the period:
// exact nearest-rank percentiles, SLA met, missed and open-overdue at the
// end, reversals and restorations, decisions outside the period not
// counted, rows by category and source adding up to the total.
func TestTransparencyReport(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, s.Pool)
	got, err := postgres.NewReports(s.Pool).TransparencyReport(context.Background(), fx.Period, fx.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Total, fx.Want.Total) {
		t.Errorf("total\n got %+v\nwant %+v", got.Total, fx.Want.Total)
	}
	for name, pair := range map[string][2][]moderation.ReportGroup{
		"by category": {got.ByCategory, fx.Want.ByCategory},
		"by source":   {got.BySource, fx.Want.BySource},
	} {
		if len(pair[0]) != len(pair[1]) {
			t.Errorf("%s: got %d rows %+v, want %d", name, len(pair[0]), pair[0], len(pair[1]))
			continue
		}
		for i := range pair[1] {
			if !reflect.DeepEqual(pair[0][i], pair[1][i]) {
				t.Errorf("%s row %d\n got %+v\nwant %+v", name, i, pair[0][i], pair[1][i])
			}
		}
	}
	if !reflect.DeepEqual(got.ByReason, fx.Want.ByReason) {
		t.Errorf("by reason\n got %+v\nwant %+v", got.ByReason, fx.Want.ByReason)
	}
	if got.Appeals != fx.Want.Appeals || !reflect.DeepEqual(got.AppealsByCategory, fx.Want.AppealsByCategory) {
		t.Errorf("appeals\n got %+v %+v\nwant %+v %+v", got.Appeals, got.AppealsByCategory, fx.Want.Appeals, fx.Want.AppealsByCategory)
	}
	if !got.Period.From.Equal(fx.Period.From) || !got.Period.To.Equal(fx.Period.To) || !got.GeneratedAt.Equal(fx.Now) {
		t.Errorf("period %+v generated %v", got.Period, got.GeneratedAt)
	}
}

// TestTransparencyReportEmptyAndInvalid: a period without activity gives
// zeros (and empty, not null, lists); a period that has not ended, or is
// inverted or too long, is refused.
func TestTransparencyReportEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	r := postgres.NewReports(s.Pool)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := moderation.ReportPeriod{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	got, err := r.TransparencyReport(ctx, p, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != (moderation.ReportCounts{}) || got.ByCategory == nil || len(got.ByCategory) != 0 || got.BySource == nil || got.ByReason == nil {
		t.Errorf("empty report %+v", got)
	}
	// Generated on a clock in another zone (vigilctl uses the local one):
	// still shown in UTC, as every time of a report.
	cet := time.FixedZone("CET", 3600)
	if got, err := r.TransparencyReport(ctx, p, now.In(cet)); err != nil || got.GeneratedAt.Location() != time.UTC || !got.GeneratedAt.Equal(now) {
		t.Errorf("generated at %v (%v), want %v in UTC", got.GeneratedAt, err, now)
	}
	for _, bad := range []moderation.ReportPeriod{
		{From: p.From, To: now.Add(time.Second)}, // not ended
		{From: p.To, To: p.From},
		{From: p.From, To: p.From},
		{From: p.From.Add(-48 * time.Hour), To: p.To},
	} {
		if _, err := r.TransparencyReport(ctx, bad, now); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("period %v – %v: err %v, want ErrInvalid", bad.From, bad.To, err)
		}
	}
}

// TestExportDecisions: exactly the decisions made in the window (the one
// at its start included, the one at its end not), in id order, with their
// item's fields; an error from the callback stops the export.
func TestExportDecisions(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, s.Pool)
	ctx := context.Background()
	r := postgres.NewReports(s.Pool)
	var got []moderation.DecisionRecord
	if err := r.ExportDecisions(ctx, fx.Period, func(d moderation.DecisionRecord) error {
		got = append(got, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, d := range got {
		ids = append(ids, d.DecisionID)
		if !fx.Period.Contains(d.DecidedAt) || d.Actor != "lead-1" || d.PostID == "" || d.Category == "" || d.FlaggedAt.IsZero() {
			t.Errorf("record %+v", d)
		}
	}
	if !slices.Equal(ids, fx.Decisions) {
		t.Fatalf("exported decisions %v, want %v", ids, fx.Decisions)
	}
	// The first is item A's removal: on time, not a reversal; the next
	// reverses it.
	a, rev := got[0], got[1]
	if a.PostID != fx.HostilePostID || a.Action != moderation.ActionRemove || a.ReasonCode != "TC-1" || !a.WithinSLA() || a.Reverses != nil ||
		rev.Reverses == nil || *rev.Reverses != a.DecisionID || rev.Action != moderation.ActionReport {
		t.Errorf("first records %+v %+v", a, rev)
	}
	stop := errors.New("stop")
	n := 0
	err := r.ExportDecisions(ctx, fx.Period, func(moderation.DecisionRecord) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: %v after %d rows", err, n)
	}
	if err := r.ExportDecisions(ctx, moderation.ReportPeriod{From: fx.Period.To, To: fx.Period.From}, nil); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("inverted window: %v", err)
	}
}

// TestTransparencyReportStable: a report of a past period gives the same
// report whenever it is run (docs/reports.md): events after the period
// (a reversal of an item decided before it, in a category with no other
// activity; a new item and its decision) add no rows and change no
// number.
func TestTransparencyReportStable(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	fx := moderationtest.SeedReport(t, s.Pool)
	r := postgres.NewReports(s.Pool)
	before, err := r.TransparencyReport(ctx, fx.Period, fx.Now)
	if err != nil {
		t.Fatal(err)
	}
	// An item flagged and removed in 2025, its removal reversed in
	// February 2026, after the period; and one flagged and decided then.
	if _, err := s.Pool.Exec(ctx, `
WITH u AS (SELECT id FROM users WHERE username = 'lead-1'),
old AS (
    INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
    VALUES ('late-1', 'p', 'a', '2025-06-01Z', '2025-06-01Z', 'violent_threat', 3, '2025-06-01T04:00:00Z', 'decided') RETURNING id),
m AS (INSERT INTO review_matches (item_id, match_key, bank, entry_id, hash_type, distance, category, severity)
    SELECT id, 'bank:b9:e9', 'b9', 'e9', 'pdq', 1, 'violent_threat', 3 FROM old),
d1 AS (
    INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
    SELECT old.id, u.id, 'remove', 'VT-1', '2025-06-01T01:00:00Z', '2025-06-01T04:00:00Z' FROM old, u RETURNING id, item_id)
INSERT INTO decisions (item_id, actor_id, action, reason_code, reverses, created_at, sla_deadline)
SELECT d1.item_id, u.id, 'no_violation', 'NV-1', d1.id, '2026-02-10Z', '2025-06-01T04:00:00Z' FROM d1, u`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `
WITH u AS (SELECT id FROM users WHERE username = 'lead-1'),
i AS (
    INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
    VALUES ('late-2', 'p', 'a', '2026-02-11Z', '2026-02-11Z', 'violent_threat', 3, '2026-02-11T04:00:00Z', 'decided') RETURNING id)
INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
SELECT i.id, u.id, 'remove', 'VT-1', '2026-02-11T01:00:00Z', '2026-02-11T04:00:00Z' FROM i, u`); err != nil {
		t.Fatal(err)
	}
	after, err := r.TransparencyReport(ctx, fx.Period, fx.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("the report changed with events after its period\nbefore %+v\n after %+v", before, after)
	}
}

// TestTransparencyReportStableAcrossReflag: re-flagging items after the
// period (the same posts matched again, by a hash bank in a more severe
// category) raises their current category and adds matches, yet moves no
// number of the period's report nor the category of its exported
// decisions: decisions count under what their item was when decided,
// items flagged or open at the end under what they were when first
// flagged. A decision after the re-flag records the raised category and
// both sources.
func TestTransparencyReportStableAcrossReflag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	q := postgres.NewQueue(f.s.Pool)
	mod := f.user(t, "mod", moderation.RoleModerator)
	at := f.clock.Now().Add(-time.Hour) // 10 January 2026
	spam := moderation.Match{RuleID: "spam-1", RuleVersion: 1, Category: "spam", Severity: moderation.SeverityLow}
	if err := q.Enqueue(ctx, []moderation.Flag{flag("decided", at, spam), flag("open", at, spam)}); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %+v", err, claimed)
	}
	if _, err := f.reviews.Decide(ctx, mod, false, claimed[0].ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "SPAM-1"}); err != nil {
		t.Fatal(err)
	}
	period := moderation.ReportPeriod{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	r := postgres.NewReports(f.s.Pool)
	before, err := r.TransparencyReport(ctx, period, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.ByCategory) != 1 || before.ByCategory[0].Key != "spam" || before.ByCategory[0].Flagged != 2 || before.ByCategory[0].OpenAtEnd != 1 ||
		before.ByCategory[0].Decisions.Remove != 1 || len(before.BySource) != 1 || before.BySource[0].Key != moderation.SourceKeyword {
		t.Fatalf("report before the re-flag %+v", before)
	}
	exported := func() []string {
		t.Helper()
		var cats []string
		if err := r.ExportDecisions(ctx, period, func(d moderation.DecisionRecord) error {
			cats = append(cats, d.Category)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return cats
	}
	if got := exported(); !slices.Equal(got, []string{"spam"}) {
		t.Fatalf("exported categories %v before the re-flag", got)
	}

	// In February both posts are seen again and match a banked image.
	img := moderation.Match{Bank: "b", EntryID: "e1", HashType: "pdq", Distance: 3, MediaID: "m1",
		Category: "terrorist_content", Severity: moderation.SeverityCritical, Hash: "ab"}
	later := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	if err := q.Enqueue(ctx, []moderation.Flag{flag("decided", later, img), flag("open", later, img)}); err != nil {
		t.Fatal(err)
	}
	items, err := q.List(ctx, moderation.ItemFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("items %v %+v", err, items)
	}
	for _, it := range items {
		if it.Category != "terrorist_content" || len(it.Matches) != 2 {
			t.Fatalf("re-flagged item %+v", it)
		}
	}
	after, err := r.TransparencyReport(ctx, period, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("the re-flag changed the past report\nbefore %+v\n after %+v", before, after)
	}
	if got := exported(); !slices.Equal(got, []string{"spam"}) {
		t.Errorf("exported categories %v after the re-flag, want [spam]", got)
	}

	// The open item decided now records what it is now.
	f.clock.Advance(30 * 24 * time.Hour)
	claimed, err = f.reviews.Claim(ctx, mod, moderation.ClaimFilter{Count: 1})
	if err != nil || len(claimed) != 1 || claimed[0].PostID != "open" {
		t.Fatalf("claim: %v %+v", err, claimed)
	}
	d, err := f.reviews.Decide(ctx, mod, false, claimed[0].ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"})
	if err != nil {
		t.Fatal(err)
	}
	var cat, src string
	if err := f.s.Pool.QueryRow(ctx, `SELECT category, detection_source FROM decisions WHERE id = $1`, d.ID).Scan(&cat, &src); err != nil {
		t.Fatal(err)
	}
	if cat != "terrorist_content" || src != moderation.SourceBoth {
		t.Errorf("decision after the re-flag recorded %s %s, want terrorist_content %s", cat, src, moderation.SourceBoth)
	}
}
