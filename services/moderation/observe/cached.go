package observe

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Cached holds the result of a query that metric collectors run at scrape
// time (queue depths, precision from decisions): it runs the query at most
// once per period however often Prometheus scrapes, bounds each run by a
// timeout, and after a failure keeps serving the last good value with the
// error, so a collector can export it marked down instead of dropping it.
// It is safe for concurrent use.
type Cached[T any] struct {
	load    func(ctx context.Context, now time.Time) (T, error)
	opt     CachedOptions
	mu      sync.Mutex
	at      time.Time
	val     T
	lastErr error
}

// CachedOptions configure a Cached. Zero values are usable.
type CachedOptions struct {
	// Every is how long a result is reused (default 1 minute).
	Every time.Duration
	// Timeout bounds one query (default 10 s).
	Timeout time.Duration
	// Now tells the time (default time.Now).
	Now func() time.Time
	// Log receives a warning per failed query; What names the query in it.
	Log  *slog.Logger
	What string
}

// NewCached returns a Cached over load, which receives the time of the
// query.
func NewCached[T any](load func(ctx context.Context, now time.Time) (T, error), opt CachedOptions) *Cached[T] {
	if opt.Every <= 0 {
		opt.Every = time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Cached[T]{load: load, opt: opt}
}

// Get returns the current value, running the query if the last one is
// older than Every. With an error it returns the last good value (the zero
// value if there was none).
func (c *Cached[T]) Get() (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opt.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.opt.Every {
		return c.val, c.lastErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	defer cancel()
	v, err := c.load(ctx, now)
	c.at, c.lastErr = now, err
	if err != nil {
		c.opt.Log.Warn("metrics query failed, serving the last good values", "query", c.opt.What, "err", err)
		return c.val, err
	}
	c.val = v
	return v, nil
}
