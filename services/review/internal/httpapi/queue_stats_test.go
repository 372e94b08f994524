package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestQueueStats: the open queue by category and status, with overdue
// counts, the oldest flag and the next deadline; decided items are not
// counted; a parameter is refused.
func TestQueueStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clock.Now()
	// terror: three pending, two of them overdue (deadlines 1 h and
	// 30 min ago), one claimed; spam: one pending, due in an hour; one
	// decided terror item, not counted.
	_, err := e.schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline, status)
VALUES
  ('t1', 'test', 'a', 'x', 'en', $1, $1::timestamptz - interval '2 hours', 'terrorist_content', 4, $1::timestamptz - interval '1 hour', 'pending'),
  ('t2', 'test', 'a', 'x', 'en', $1, $1::timestamptz - interval '90 minutes', 'terrorist_content', 4, $1::timestamptz - interval '30 minutes', 'pending'),
  ('t3', 'test', 'a', 'x', 'en', $1, $1, 'terrorist_content', 4, $1::timestamptz + interval '1 hour', 'pending'),
  ('t4', 'test', 'a', 'x', 'en', $1, $1, 'terrorist_content', 4, $1::timestamptz + interval '1 hour', 'claimed'),
  ('s1', 'test', 'a', 'x', 'en', $1, $1::timestamptz - interval '5 minutes', 'spam', 1, $1::timestamptz + interval '1 hour', 'pending'),
  ('t5', 'test', 'a', 'x', 'en', $1, $1::timestamptz - interval '3 hours', 'terrorist_content', 4, $1::timestamptz - interval '2 hours', 'decided')`, now)
	if err != nil {
		t.Fatal(err)
	}
	lead := e.session(e.user("lead", moderation.RoleLead))
	var got struct {
		AsOf    time.Time `json:"as_of"`
		Items   int64     `json:"items"`
		Overdue int64     `json:"overdue"`
		Rows    []struct {
			Category      string    `json:"category"`
			Status        string    `json:"status"`
			Items         int64     `json:"items"`
			Overdue       int64     `json:"overdue"`
			OldestFlagged time.Time `json:"oldest_flagged_at"`
			NextDeadline  time.Time `json:"next_deadline"`
		} `json:"rows"`
	}
	e.must(e.do(lead, "GET", "/api/v1/queue/stats", nil), 200).decode(t, &got)
	if got.Items != 5 || got.Overdue != 2 || !got.AsOf.Equal(now) || len(got.Rows) != 3 {
		t.Fatalf("totals: %+v", got)
	}
	type row struct {
		cat, status    string
		items, overdue int64
		oldest, next   time.Duration // from now
	}
	want := []row{
		{"spam", "pending", 1, 0, -5 * time.Minute, time.Hour},
		{"terrorist_content", "claimed", 1, 0, 0, time.Hour},
		{"terrorist_content", "pending", 3, 2, -2 * time.Hour, -time.Hour},
	}
	for i, w := range want {
		r := got.Rows[i]
		if r.Category != w.cat || r.Status != w.status || r.Items != w.items || r.Overdue != w.overdue ||
			!r.OldestFlagged.Equal(now.Add(w.oldest)) || !r.NextDeadline.Equal(now.Add(w.next)) {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
	if r := e.do(lead, "GET", "/api/v1/queue/stats?category=spam", nil); r.status != 400 || r.code() != "invalid" {
		t.Errorf("a parameter: %d %s, want 400 invalid", r.status, r.body)
	}
}
