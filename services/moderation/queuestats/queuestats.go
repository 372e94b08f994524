// Package queuestats exports the state of the review queue as Prometheus
// metrics, computed from Postgres at scrape time (cached): open items,
// overdue items, the oldest item's age and the time left to the next SLA
// deadline, by category. vigil-review registers a Collector; the Grafana
// dashboard dashboards/review.json and the SLA alerts in
// deploy/prometheus/alerts.yml read it.
package queuestats

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

// Source reads the open items' statistics as of now
// (postgres.QueueStats, wrapped by the caller).
type Source func(ctx context.Context, now time.Time) ([]moderation.QueueStat, error)

// Options configure a Collector. Zero values are usable.
type Options struct {
	// CacheFor: one query serves the scrapes within it (default 15 s).
	CacheFor time.Duration
	// Timeout of one query (default 10 s).
	Timeout time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// withDefaults fills in the zero values: 15 s of cache, the system clock.
func (o Options) withDefaults() Options {
	if o.CacheFor <= 0 {
		o.CacheFor = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Collector is a prometheus.Collector of review-queue statistics.
type Collector struct {
	now   func() time.Time
	cache *observe.Cached[[]moderation.QueueStat]

	items, overdue, oldest, next, up *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector over src.
func NewCollector(src Source, opt Options) *Collector {
	opt = opt.withDefaults()
	l := []string{"category", "status"}
	return &Collector{
		now:   opt.Now,
		cache: observe.NewCached(src, observe.CachedOptions{Every: opt.CacheFor, Timeout: opt.Timeout, Now: opt.Now, Log: opt.Log, What: "review queue statistics"}),
		items: prometheus.NewDesc("vigil_review_queue_items", "Open review items (pending, claimed or escalated) by category and status.", l, nil),
		overdue: prometheus.NewDesc("vigil_review_queue_overdue_items",
			"Open review items whose SLA deadline has passed, by category and status.", l, nil),
		oldest: prometheus.NewDesc("vigil_review_queue_oldest_item_age_seconds",
			"Time since the oldest open item of the category and status was flagged.", l, nil),
		next: prometheus.NewDesc("vigil_review_queue_next_deadline_seconds",
			"Time left until the earliest SLA deadline among the category's open items; negative once it has passed.", []string{"category"}, nil),
		up: prometheus.NewDesc("vigil_review_queue_stats_up", "1 if the last review-queue statistics query succeeded.", nil, nil),
	}
}

// Describe sends the descriptors.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.items, c.overdue, c.oldest, c.next, c.up} {
		ch <- d
	}
}

// Collect runs (or reuses) the query and sends the metrics. A category
// with no open items has no series: dashboards and alerts treat absent as
// zero.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	stats, err := c.cache.Get()
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	now := c.now()
	next := map[string]time.Time{}
	for _, s := range stats {
		st := string(s.Status)
		ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(s.Items), s.Category, st)
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(s.Overdue), s.Category, st)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, now.Sub(s.OldestFlagged).Seconds(), s.Category, st)
		if t, ok := next[s.Category]; !ok || s.NextDeadline.Before(t) {
			next[s.Category] = s.NextDeadline
		}
	}
	for cat, t := range next {
		ch <- prometheus.MustNewConstMetric(c.next, prometheus.GaugeValue, t.Sub(now).Seconds(), cat)
	}
}
