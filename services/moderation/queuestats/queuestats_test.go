package queuestats_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/queuestats"
)

func TestCollector(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	fail := false
	src := func(context.Context, time.Time) ([]moderation.QueueStat, error) {
		if fail {
			return nil, errors.New("db down")
		}
		return []moderation.QueueStat{
			{Category: "terrorist_content", Status: moderation.StatusPending, Items: 7, Overdue: 2,
				OldestFlagged: now.Add(-90 * time.Minute), NextDeadline: now.Add(-30 * time.Minute)},
			{Category: "terrorist_content", Status: moderation.StatusClaimed, Items: 1,
				OldestFlagged: now.Add(-10 * time.Minute), NextDeadline: now.Add(50 * time.Minute)},
			{Category: "hate", Status: moderation.StatusEscalated, Items: 3,
				OldestFlagged: now.Add(-time.Hour), NextDeadline: now.Add(23 * time.Hour)},
		}, nil
	}
	c := queuestats.NewCollector(src, queuestats.Options{Now: func() time.Time { return now }, CacheFor: time.Nanosecond})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want := `
# HELP vigil_review_queue_items Open review items (pending, claimed or escalated) by category and status.
# TYPE vigil_review_queue_items gauge
vigil_review_queue_items{category="hate",status="escalated"} 3
vigil_review_queue_items{category="terrorist_content",status="claimed"} 1
vigil_review_queue_items{category="terrorist_content",status="pending"} 7
# HELP vigil_review_queue_next_deadline_seconds Time left until the earliest SLA deadline among the category's open items; negative once it has passed.
# TYPE vigil_review_queue_next_deadline_seconds gauge
vigil_review_queue_next_deadline_seconds{category="hate"} 82800
vigil_review_queue_next_deadline_seconds{category="terrorist_content"} -1800
# HELP vigil_review_queue_overdue_items Open review items whose SLA deadline has passed, by category and status.
# TYPE vigil_review_queue_overdue_items gauge
vigil_review_queue_overdue_items{category="hate",status="escalated"} 0
vigil_review_queue_overdue_items{category="terrorist_content",status="claimed"} 0
vigil_review_queue_overdue_items{category="terrorist_content",status="pending"} 2
# HELP vigil_review_queue_stats_up 1 if the last review-queue statistics query succeeded.
# TYPE vigil_review_queue_stats_up gauge
vigil_review_queue_stats_up 1
`
	names := []string{"vigil_review_queue_items", "vigil_review_queue_next_deadline_seconds", "vigil_review_queue_overdue_items", "vigil_review_queue_stats_up"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %+v", err, probs)
	}
	// A failed query keeps the last numbers, marked down.
	fail = true
	now = now.Add(time.Second)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP vigil_review_queue_stats_up 1 if the last review-queue statistics query succeeded.
# TYPE vigil_review_queue_stats_up gauge
vigil_review_queue_stats_up 0
`), "vigil_review_queue_stats_up"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "vigil_review_queue_items"); n != 3 {
		t.Fatalf("%d item series after a failure, want the last 3", n)
	}
}

// TestHorizonCollector: the age of the oldest open transaction, and no
// sample while the query fails.
func TestHorizonCollector(t *testing.T) {
	t.Parallel()
	fail := false
	src := func(context.Context) (time.Duration, error) {
		if fail {
			return 0, errors.New("db down")
		}
		return 90 * time.Second, nil
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(queuestats.NewHorizonCollector(src, queuestats.Options{CacheFor: time.Nanosecond}))
	want := `
# HELP vigil_postgres_oldest_transaction_age_seconds How long the oldest transaction holding back vacuum on the review queue's database has been open (0: none).
# TYPE vigil_postgres_oldest_transaction_age_seconds gauge
vigil_postgres_oldest_transaction_age_seconds 90
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %v", probs, err)
	}
	fail = true
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Fatalf("while failing: %d samples, %v; want none", n, err)
	}
}

// TestAppealsCollector: the open appeals and the oldest one's wait; no
// wait when none is open; no sample while the query fails.
func TestAppealsCollector(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	backlog := moderation.AppealBacklog{Open: 3, OldestReceived: now.Add(-26 * time.Hour)}
	var fail error
	src := func(context.Context) (moderation.AppealBacklog, error) { return backlog, fail }
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(queuestats.NewAppealsCollector(src, queuestats.Options{CacheFor: time.Nanosecond, Now: func() time.Time { return now }}))
	metrics := func(open, wait string) string {
		return `
# HELP vigil_appeals_oldest_open_age_seconds Time since the user sent the oldest appeal still waiting for an outcome (0: none waits).
# TYPE vigil_appeals_oldest_open_age_seconds gauge
vigil_appeals_oldest_open_age_seconds ` + wait + `
# HELP vigil_appeals_open Appeals (complaints) waiting for a lead's outcome.
# TYPE vigil_appeals_open gauge
vigil_appeals_open ` + open + "\n"
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(metrics("3", "93600"))); err != nil {
		t.Fatal(err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %v", probs, err)
	}
	backlog = moderation.AppealBacklog{}
	now = now.Add(time.Second)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(metrics("0", "0"))); err != nil {
		t.Fatal(err)
	}
	fail = errors.New("db down")
	now = now.Add(time.Second)
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Fatalf("while failing: %d samples, %v; want none", n, err)
	}
}
