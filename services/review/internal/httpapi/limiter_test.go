package httpapi

import (
	"fmt"
	"testing"
	"time"
)

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

// TestLimiterAddressSpray: login attempts from more distinct addresses than
// the limiter keeps, all within one refill period, leave it bounded and
// working. Each new address used to sweep the whole map under the lock:
// 200,000 addresses in a minute took 10 minutes of logins.
func TestLimiterAddressSpray(t *testing.T) {
	t.Parallel()
	c := &stepClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(c, 2, 6*time.Second)
	for range 2 {
		if l.take("192.0.2.1") != 0 {
			t.Fatal("a fresh address is limited")
		}
	}
	if l.take("192.0.2.1") == 0 {
		t.Fatal("an address past its burst is not limited")
	}
	for i := range 3 * maxLoginBuckets {
		if i%1000 == 0 {
			c.t = c.t.Add(10 * time.Millisecond) // 3 s in all: nothing refills
		}
		if wait := l.take(fmt.Sprintf("2001:db8::%x", i)); wait != 0 {
			t.Fatalf("address %d: first attempt limited (%v)", i, wait)
		}
		if len(l.buckets) > maxLoginBuckets {
			t.Fatalf("%d buckets after %d addresses, limit %d", len(l.buckets), i+1, maxLoginBuckets)
		}
	}
	// Past the refill period the stale buckets go, the recent ones stay.
	c.t = c.t.Add(time.Minute)
	l.take("198.51.100.1")
	l.take("198.51.100.1")
	if l.take("198.51.100.1") == 0 {
		t.Fatal("an address past its burst is not limited after the spray")
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets after a sweep, want 1", len(l.buckets))
	}
}
