package observe

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCached(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	fail := false
	c := NewCached(func(ctx context.Context, at time.Time) (int, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("query without a timeout")
		}
		calls++
		if fail {
			return 0, errors.New("db down")
		}
		return calls * 10, nil
	}, CachedOptions{Every: time.Minute, Now: func() time.Time { return now }})
	if v, err := c.Get(); v != 10 || err != nil {
		t.Fatalf("first: %d %v", v, err)
	}
	now = now.Add(30 * time.Second)
	if v, _ := c.Get(); v != 10 || calls != 1 {
		t.Fatalf("within the period: %d after %d calls", v, calls)
	}
	now = now.Add(time.Minute)
	fail = true
	if v, err := c.Get(); v != 10 || err == nil {
		t.Fatalf("failed query: %d %v, want the last good value and the error", v, err)
	}
	if _, err := c.Get(); err == nil || calls != 2 {
		t.Fatalf("the failure is cached for the period too: %v after %d calls", err, calls)
	}
	now = now.Add(time.Minute)
	fail = false
	if v, err := c.Get(); v != 30 || err != nil {
		t.Fatalf("recovered: %d %v", v, err)
	}
}
