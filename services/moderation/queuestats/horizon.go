package queuestats

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

// HorizonSource reports how long the oldest transaction holding back
// vacuum on the queue's database has been open (postgres.OldestSnapshot).
type HorizonSource func(ctx context.Context) (time.Duration, error)

// HorizonCollector exports the age of the oldest transaction that holds
// back vacuum on the queue's database. While one is open Postgres cannot
// prune the entries of the items claimed meanwhile and every claim walks
// past them, so claims slow down as long as it lasts (docs/review.md); the
// VigilLongTransaction alert reads it.
type HorizonCollector struct {
	cache *observe.Cached[time.Duration]
	age   *prometheus.Desc
}

var _ prometheus.Collector = (*HorizonCollector)(nil)

// NewHorizonCollector returns a collector over src, cached as Options say.
func NewHorizonCollector(src HorizonSource, opt Options) *HorizonCollector {
	opt = opt.withDefaults()
	load := func(ctx context.Context, _ time.Time) (time.Duration, error) { return src(ctx) }
	return &HorizonCollector{
		cache: observe.NewCached(load, observe.CachedOptions{Every: opt.CacheFor, Timeout: opt.Timeout, Now: opt.Now, Log: opt.Log, What: "oldest open transaction"}),
		age: prometheus.NewDesc("vigil_postgres_oldest_transaction_age_seconds",
			"How long the oldest transaction holding back vacuum on the review queue's database has been open (0: none).", nil, nil),
	}
}

// Describe sends the descriptor.
func (c *HorizonCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.age }

// Collect runs (or reuses) the query and sends the gauge; nothing when the
// query fails (vigil_review_queue_stats_up tells the database is out of
// reach), since a stale age would understate a transaction still open.
func (c *HorizonCollector) Collect(ch chan<- prometheus.Metric) {
	age, err := c.cache.Get()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age.Seconds())
}
