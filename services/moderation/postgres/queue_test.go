package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func flag(id string, at time.Time, ms ...moderation.Match) moderation.Flag {
	return moderation.Flag{
		Post: moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a"},
			Text: "some text", Lang: "en", CreatedAt: at.Add(-time.Minute)},
		Verdict:   moderation.Verdict{PostID: id, Matches: ms},
		FlaggedAt: at,
		Source:    moderation.Source{Topic: "posts", Partition: 1, Offset: 42},
	}
}

func TestEnqueueIsIdempotentAndMergesMatches(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	q := postgres.NewQueue(s.Pool)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	kw := moderation.Match{RuleID: "r1", RuleVersion: 3, Category: "hate", Severity: moderation.SeverityMedium,
		Spans: []moderation.Span{{Start: 0, End: 4}}}
	img := moderation.Match{Bank: "b", EntryID: "e1", HashType: "pdq", Distance: 7, MediaID: "m1",
		Category: "terrorist_content", Severity: moderation.SeverityCritical, Hash: "ab"}

	// A replay of the same batch, then a later flag of the same post by
	// another match: one item with both matches, severity and category of
	// the worst, the earliest SLA deadline.
	for range 2 {
		if err := q.Enqueue(ctx, []moderation.Flag{flag("p1", at, kw)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue(ctx, []moderation.Flag{flag("p1", at.Add(time.Hour), img), flag("p1", at.Add(time.Hour), kw)}); err != nil {
		t.Fatal(err)
	}
	items, err := q.List(ctx, moderation.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	it := items[0]
	if len(it.Matches) != 2 {
		t.Fatalf("%d matches, want 2: %+v", len(it.Matches), it.Matches)
	}
	if it.Severity != moderation.SeverityCritical || it.Category != "terrorist_content" {
		t.Errorf("severity %v category %q, want critical terrorist_content", it.Severity, it.Category)
	}
	// hate has a 24 h SLA from the first flag; terrorist content 1 h from
	// the second flag (an hour later): the earlier deadline wins.
	if want := at.Add(2 * time.Hour); !it.SLADeadline.Equal(want) {
		t.Errorf("sla deadline %v, want %v", it.SLADeadline, want)
	}
	// What reports group by: the detection source now (both engines), and
	// what the item was at its first flag (docs/reports.md).
	var src, flaggedCat, flaggedSrc string
	if err := s.Pool.QueryRow(ctx, `SELECT detection_source, flagged_category, flagged_detection_source FROM review_items WHERE id = $1`,
		it.ID).Scan(&src, &flaggedCat, &flaggedSrc); err != nil {
		t.Fatal(err)
	}
	if src != moderation.SourceBoth || flaggedCat != "hate" || flaggedSrc != moderation.SourceKeyword {
		t.Errorf("detection source %q, flagged as %q %q; want %q, hate %q", src, flaggedCat, flaggedSrc, moderation.SourceBoth, moderation.SourceKeyword)
	}
	for _, m := range it.Matches {
		if m.RuleID == "r1" && (m.RuleVersion != 3 || len(m.Spans) != 1 || m.Spans[0] != (moderation.Span{Start: 0, End: 4})) {
			t.Errorf("keyword match round-tripped as %+v", m)
		}
		if m.Bank == "b" && (m.Distance != 7 || m.HashType != "pdq" || m.MediaID != "m1") {
			t.Errorf("hash match round-tripped as %+v", m)
		}
	}
}

func TestListFiltersAndOrders(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	q := postgres.NewQueue(s.Pool)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	low := moderation.Match{RuleID: "spam", Category: "spam", Severity: moderation.SeverityLow}
	high := moderation.Match{RuleID: "tc", Category: "terrorist_content", Severity: moderation.SeverityCritical}
	if err := q.Enqueue(ctx, []moderation.Flag{flag("a", at, low), flag("b", at.Add(time.Minute), high), flag("c", at, high)}); err != nil {
		t.Fatal(err)
	}
	items, err := q.List(ctx, moderation.ItemFilter{Status: []moderation.Status{moderation.StatusPending}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, it := range items {
		order = append(order, it.PostID)
	}
	if got, want := order, []string{"c", "b", "a"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("order %v, want %v (severity, then deadline)", got, want)
	}
	items, err = q.List(ctx, moderation.ItemFilter{Category: "spam", Limit: 10})
	if err != nil || len(items) != 1 || items[0].PostID != "a" {
		t.Fatalf("category filter: %v %+v", err, items)
	}
}

func TestEnqueueRejectsInvalidRows(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	q := postgres.NewQueue(s.Pool)
	bad := moderation.Match{RuleID: "x", Category: "hate", Severity: 9} // outside 1..4
	err := q.Enqueue(context.Background(), []moderation.Flag{flag("p", time.Now(), bad)})
	if !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	items, _ := q.List(context.Background(), moderation.ItemFilter{})
	if len(items) != 0 {
		t.Fatalf("a failed batch left %d items behind", len(items))
	}
}
