package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestQueueStats: open items only, grouped by category and status, with
// overdue counts, the oldest flag and the next deadline.
func TestQueueStats(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for i, it := range []struct {
		cat, status  string
		flagged, sla time.Duration // before now; sla after flagged
	}{
		{"terrorist_content", "pending", 2 * time.Hour, time.Hour},
		{"terrorist_content", "pending", 30 * time.Minute, time.Hour},
		{"terrorist_content", "claimed", 10 * time.Minute, time.Hour},
		{"hate", "escalated", time.Hour, 24 * time.Hour},
		{"hate", "decided", 5 * time.Hour, time.Hour},
	} {
		f := now.Add(-it.flagged)
		if _, err := s.Pool.Exec(ctx, `
			INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
			VALUES ($1, 'p', 'a', $2, $2, $3, 3, $4, $5)`, "post-"+string(rune('a'+i)), f, it.cat, f.Add(it.sla), it.status); err != nil {
			t.Fatal(err)
		}
	}
	got, err := postgres.QueueStats(ctx, s.Pool, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []moderation.QueueStat{
		{Category: "hate", Status: moderation.StatusEscalated, Items: 1, OldestFlagged: now.Add(-time.Hour), NextDeadline: now.Add(23 * time.Hour)},
		{Category: "terrorist_content", Status: moderation.StatusClaimed, Items: 1, OldestFlagged: now.Add(-10 * time.Minute), NextDeadline: now.Add(50 * time.Minute)},
		{Category: "terrorist_content", Status: moderation.StatusPending, Items: 2, Overdue: 1, OldestFlagged: now.Add(-2 * time.Hour), NextDeadline: now.Add(-time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		g := got[i]
		if g.Category != want[i].Category || g.Status != want[i].Status || g.Items != want[i].Items || g.Overdue != want[i].Overdue ||
			!g.OldestFlagged.Equal(want[i].OldestFlagged) || !g.NextDeadline.Equal(want[i].NextDeadline) {
			t.Errorf("row %d: got %+v, want %+v", i, g, want[i])
		}
	}
}

// TestOldestSnapshot: a transaction holding a snapshot open is seen, with
// at least the time it has been open. (Other tests share the database, so
// only a lower bound can be asserted.)
func TestOldestSnapshot(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM review_items"); err != nil {
		t.Fatal(err)
	}
	const held = 1500 * time.Millisecond
	time.Sleep(held)
	got, err := postgres.OldestSnapshot(ctx, s.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if got < held {
		t.Fatalf("oldest snapshot %v, want at least %v (a repeatable-read transaction is open)", got, held)
	}
}
