package postgres_test

import (
	"context"
	"errors"
	"strings"
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

// TestEnqueueRefusesReusedPostID: a flag whose post id is already queued
// with other content is refused (ErrInvalid, so the worker dead-letters
// it) instead of merged. Merged, its matches were attached to the first
// post's text: a reviewer saw the old text with the new post's category
// and spans, and a post re-sent after its item was decided was never
// reviewed at all.
func TestEnqueueRefusesReusedPostID(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	q := postgres.NewQueue(s.Pool)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spam := moderation.Match{RuleID: "spam", Category: "spam", Severity: moderation.SeverityLow}
	tc := moderation.Match{RuleID: "tc", Category: "terrorist_content", Severity: moderation.SeverityCritical}
	if err := q.Enqueue(ctx, []moderation.Flag{flag("p1", at, spam)}); err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(*moderation.Post){
		"text":     func(p *moderation.Post) { p.Text = "bomb the station" },
		"platform": func(p *moderation.Post) { p.Platform = "other" },
		"author":   func(p *moderation.Post) { p.Author.ID = "b" },
		"handle":   func(p *moderation.Post) { p.Author.Handle = "h" },
		"lang":     func(p *moderation.Post) { p.Lang = "de" },
		"url":      func(p *moderation.Post) { p.URL = "https://x.test/p1" },
	}
	for name, edit := range edits {
		reused := flag("p1", at.Add(time.Hour), tc)
		edit(&reused.Post)
		err := q.Enqueue(ctx, []moderation.Flag{flag("p2", at, spam), reused})
		if !errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), `"p1"`) {
			t.Fatalf("%s changed: err = %v, want ErrInvalid naming p1", name, err)
		}
	}
	items, err := q.List(ctx, moderation.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Text != "some text" || len(items[0].Matches) != 1 || items[0].Category != "spam" {
		t.Fatalf("refused batches changed the queue: %+v", items)
	}
	// The same post again (a replay, or new matches after a rule change)
	// is still merged.
	if err := q.Enqueue(ctx, []moderation.Flag{flag("p1", at.Add(time.Hour), tc), flag("p2", at, spam)}); err != nil {
		t.Fatal(err)
	}
	if items, err = q.List(ctx, moderation.ItemFilter{}); err != nil || len(items) != 2 || items[0].Category != "terrorist_content" || len(items[0].Matches) != 2 {
		t.Fatalf("replay with a new match: %v %+v", err, items)
	}
}

// TestEnqueueNULInText: a NUL in a flagged post's text or handle (valid
// JSON, but not storable as Postgres text) is stored as U+2400, with the
// match spans moved to the same words, and a replay of the same post
// still merges; the NUL no longer keeps the post out of review.
func TestEnqueueNULInText(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	q := postgres.NewQueue(s.Pool)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	text := "we at\x00tack the \x00\x00convoy"
	kw := moderation.Match{RuleID: "attack", Category: "violent_threat", Severity: moderation.SeverityHigh,
		Spans: []moderation.Span{{Start: 3, End: 10}, {Start: 15, End: 23}}} // "at\x00tack", "\x00\x00convoy"
	f := flag("p1", at, kw)
	f.Post.Text, f.Post.Author.Handle = text, "h\x00x"
	for range 2 {
		if err := q.Enqueue(ctx, []moderation.Flag{f}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := q.List(ctx, moderation.ItemFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("%v %+v", err, items)
	}
	it := items[0]
	if want := "we at\u2400tack the \u2400\u2400convoy"; it.Text != want || it.AuthorHandle != "h\u2400x" {
		t.Errorf("stored %q by %q, want %q by %q", it.Text, it.AuthorHandle, want, "h\u2400x")
	}
	if len(it.Matches) != 1 || len(it.Matches[0].Spans) != 2 {
		t.Fatalf("matches %+v", it.Matches)
	}
	for i, want := range []string{"at\u2400tack", "\u2400\u2400convoy"} {
		sp := it.Matches[0].Spans[i]
		if got := it.Text[sp.Start:sp.End]; got != want {
			t.Errorf("span %d covers %q, want %q", i, got, want)
		}
	}
	if f.Post.Text != text || f.Verdict.Matches[0].Spans[0] != (moderation.Span{Start: 3, End: 10}) {
		t.Error("Enqueue changed the caller's post or spans")
	}
}
