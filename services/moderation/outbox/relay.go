package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Session is an exclusive hold on the outbox (postgres.OutboxSession).
type Session interface {
	Unsent(ctx context.Context, limit int) ([]moderation.OutboxMessage, error)
	// Pending returns the smallest unsent id per topic.
	Pending(ctx context.Context) (map[string]int64, error)
	MarkSent(ctx context.Context, ids []int64) (int64, error)
	Backlog(ctx context.Context) (int64, time.Duration, error)
	Close(ctx context.Context)
}

// Broker publishes and looks back at what was published (kafka.OutboxBroker).
type Broker interface {
	Publish(ctx context.Context, msgs []moderation.OutboxMessage) error
	Published(ctx context.Context, topic string, minID int64) ([]int64, error)
}

// Metrics of the relay.
type Metrics struct {
	Published prometheus.Counter
	Recovered prometheus.Counter
	Failures  *prometheus.CounterVec
	Backlog   prometheus.Gauge
	OldestAge prometheus.Gauge
	Leader    prometheus.Gauge
}

// NewMetrics registers the relay's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Published: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_outbox_published_total",
			Help: "Outbox messages published to Kafka and marked sent."}),
		Recovered: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_outbox_recovered_total",
			Help: "Outbox messages found already published after a crash or failure and marked sent without publishing again."}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_outbox_failures_total",
			Help: "Relay failures, by operation."}, []string{"op"}),
		Backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_outbox_backlog_messages",
			Help: "Unsent outbox messages (as seen by the relay holding the lock)."}),
		OldestAge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_outbox_oldest_unsent_age_seconds",
			Help: "Age of the oldest unsent outbox message."}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_outbox_relay_leader",
			Help: "1 while this process holds the relay lock."}),
	}
	reg.MustRegister(m.Published, m.Recovered, m.Failures, m.Backlog, m.OldestAge, m.Leader)
	return m
}

// Relay moves outbox rows to Kafka. See the package documentation.
type Relay struct {
	// Lock takes the relay lock, returning moderation.ErrConflict while
	// another relay holds it.
	Lock    func(ctx context.Context) (Session, error)
	Broker  Broker
	Log     *slog.Logger
	Metrics *Metrics
	// BatchSize is the most rows published at once (default 100); Poll how
	// often an idle relay looks for new rows (default 200 ms); LockRetry how
	// often a relay without the lock tries to take it (default 2 s).
	BatchSize int
	Poll      time.Duration
	LockRetry time.Duration
	// AfterPublish, if set, runs after the broker acknowledged a batch and
	// before it is marked sent; an error ends the relay's hold as a crash
	// would. Fault injection for tests.
	AfterPublish func(ids []int64) error
}

// Run relays until ctx is done; it returns nil then. Failures are logged,
// counted and retried with backoff: the relay never gives up.
func (r *Relay) Run(ctx context.Context) error {
	if r.BatchSize <= 0 {
		r.BatchSize = 100
	}
	if r.Poll <= 0 {
		r.Poll = 200 * time.Millisecond
	}
	if r.LockRetry <= 0 {
		r.LockRetry = 2 * time.Second
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		s, err := r.Lock(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, moderation.ErrConflict):
			r.Log.DebugContext(ctx, "outbox relay lock held elsewhere; standing by")
			sleep(ctx, r.LockRetry)
			continue
		case err != nil:
			r.fail(ctx, "lock", err)
			sleep(ctx, jitter(backoff))
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		r.Metrics.Leader.Set(1)
		r.Log.InfoContext(ctx, "outbox relay holds the lock")
		err = r.lead(ctx, s, func() { backoff = 100 * time.Millisecond })
		s.Close(ctx)
		r.Metrics.Leader.Set(0)
		if ctx.Err() != nil {
			return nil
		}
		r.Log.WarnContext(ctx, "outbox relay lost its hold; will recover", "err", err)
		sleep(ctx, jitter(backoff))
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (r *Relay) fail(ctx context.Context, op string, err error) {
	r.Metrics.Failures.WithLabelValues(op).Inc()
	r.Log.WarnContext(ctx, "outbox relay failure", "op", op, "err", err)
}

// lead relays while holding s. It returns the first error; the caller
// closes s and takes the lock again, which recovers first.
func (r *Relay) lead(ctx context.Context, s Session, ok func()) error {
	if err := r.recover(ctx, s); err != nil {
		r.fail(ctx, "recover", err)
		return err
	}
	lastBacklog := time.Time{}
	for {
		if time.Since(lastBacklog) > 5*time.Second {
			if n, age, err := s.Backlog(ctx); err == nil {
				r.Metrics.Backlog.Set(float64(n))
				r.Metrics.OldestAge.Set(age.Seconds())
			}
			lastBacklog = time.Now()
		}
		msgs, err := s.Unsent(ctx, r.BatchSize)
		if err != nil {
			r.fail(ctx, "read", err)
			return err
		}
		if len(msgs) == 0 {
			r.Metrics.Backlog.Set(0)
			r.Metrics.OldestAge.Set(0)
			if !sleep(ctx, r.Poll) {
				return ctx.Err()
			}
			continue
		}
		if err := r.Broker.Publish(ctx, msgs); err != nil {
			r.fail(ctx, "publish", err)
			return err
		}
		ids := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		if r.AfterPublish != nil {
			if err := r.AfterPublish(ids); err != nil {
				return err
			}
		}
		// The broker has them: mark them even if ctx was cancelled meanwhile,
		// so a clean shutdown leaves nothing for recovery.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, err = s.MarkSent(mctx, ids)
		cancel()
		if err != nil {
			r.fail(ctx, "mark", err)
			return err
		}
		r.Metrics.Published.Add(float64(len(ids)))
		ok()
	}
}

// recover marks sent every unsent row its topic already holds.
func (r *Relay) recover(ctx context.Context, s Session) error {
	pending, err := s.Pending(ctx)
	if err != nil {
		return err
	}
	for topic, minID := range pending {
		ids, err := r.Broker.Published(ctx, topic, minID)
		if err != nil {
			return fmt.Errorf("reading the tail of %s: %w", topic, err)
		}
		if len(ids) == 0 {
			continue
		}
		n, err := s.MarkSent(ctx, ids)
		if err != nil {
			return err
		}
		if n > 0 {
			r.Metrics.Recovered.Add(float64(n))
			r.Log.InfoContext(ctx, "outbox messages found already published; marked sent", "topic", topic, "count", n)
		}
	}
	return nil
}

func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
