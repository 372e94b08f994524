package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// errStopped says a retry loop gave up because the worker is stopping (or
// its partitions were revoked): the batch is abandoned uncommitted and
// will be replayed by whoever owns the partition next.
var errStopped = errors.New("stopped before the batch was durable")

// Backoff is capped exponential backoff with full jitter on the upper half.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) delay(attempt int) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + rand.N(d/2+1)
}

// Readiness tracks dependencies that are failing right now, for /readyz
// and the dependency_up gauge: the worker is not ready while any retry
// loop is failing, and becomes ready again by itself on the first success.
type Readiness struct {
	mu      sync.Mutex
	failing map[string]error
	m       *Metrics
}

// NewReadiness returns a tracker that reports to m.
func NewReadiness(m *Metrics) *Readiness {
	return &Readiness{failing: map[string]error{}, m: m}
}

// Fail records that dep is failing with err.
func (r *Readiness) Fail(dep string, err error) {
	r.mu.Lock()
	r.failing[dep] = err
	r.mu.Unlock()
	r.m.DependencyUp.WithLabelValues(dep).Set(0)
}

// OK records that dep works.
func (r *Readiness) OK(dep string) {
	r.mu.Lock()
	delete(r.failing, dep)
	r.mu.Unlock()
	r.m.DependencyUp.WithLabelValues(dep).Set(1)
}

// Check is an observe.Check: nil when nothing is failing.
func (r *Readiness) Check(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failing) == 0 {
		return nil
	}
	var parts []string
	for dep, err := range r.failing {
		parts = append(parts, dep+": "+err.Error())
	}
	sort.Strings(parts)
	return fmt.Errorf("retrying: %s", strings.Join(parts, "; "))
}

// retrier retries transient failures of one kind of operation.
type retrier struct {
	log     *slog.Logger
	metrics *Metrics
	ready   *Readiness
	backoff Backoff
}

// do runs op(work) until it succeeds, returns a permanent error (for which
// permanent reports true), or stop is done between attempts (errStopped).
// An attempt in flight is never interrupted by stop, only by work, so a
// batch that is being written when a shutdown or rebalance begins is
// finished. dep names the dependency for readiness and metrics.
func (r *retrier) do(stop, work context.Context, dep string, op func(context.Context) error, permanent func(error) bool) error {
	for attempt := 1; ; attempt++ {
		err := op(work)
		if err == nil {
			if attempt > 1 {
				r.log.InfoContext(work, "recovered", "dependency", dep, "attempts", attempt)
			}
			r.ready.OK(dep)
			return nil
		}
		if permanent != nil && permanent(err) {
			r.ready.OK(dep) // the dependency answered; the data was at fault
			return err
		}
		if stop.Err() != nil || work.Err() != nil {
			return fmt.Errorf("%s: %w: %w", dep, errStopped, err)
		}
		r.ready.Fail(dep, err)
		r.metrics.Retries.WithLabelValues(dep).Inc()
		d := r.backoff.delay(attempt)
		if attempt == 1 || attempt%10 == 0 {
			r.log.WarnContext(work, "retrying after transient failure", "dependency", dep, "attempt", attempt, "backoff", d, "err", err)
		}
		t := time.NewTimer(d)
		select {
		case <-stop.Done():
			t.Stop()
			return fmt.Errorf("%s: %w: %w", dep, errStopped, err)
		case <-t.C:
		}
	}
}
