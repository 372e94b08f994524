package queuestats

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

// AppealsSource reads the open appeals (postgres.AppealBacklog).
type AppealsSource func(ctx context.Context) (moderation.AppealBacklog, error)

// AppealsCollector exports the backlog of appeals: how many wait for a
// lead and how long the oldest has waited since the user sent it. The
// law asks that complaints be handled without undue delay (EU 2021/784
// Art. 10, DSA Art. 20); the VigilAppealsWaiting alert reads it.
type AppealsCollector struct {
	now        func() time.Time
	cache      *observe.Cached[moderation.AppealBacklog]
	open, wait *prometheus.Desc
}

var _ prometheus.Collector = (*AppealsCollector)(nil)

// NewAppealsCollector returns a collector over src, cached as Options say.
func NewAppealsCollector(src AppealsSource, opt Options) *AppealsCollector {
	opt = opt.withDefaults()
	load := func(ctx context.Context, _ time.Time) (moderation.AppealBacklog, error) { return src(ctx) }
	return &AppealsCollector{
		now:   opt.Now,
		cache: observe.NewCached(load, observe.CachedOptions{Every: opt.CacheFor, Timeout: opt.Timeout, Now: opt.Now, Log: opt.Log, What: "open appeals"}),
		open:  prometheus.NewDesc("vigil_appeals_open", "Appeals (complaints) waiting for a lead's outcome.", nil, nil),
		wait: prometheus.NewDesc("vigil_appeals_oldest_open_age_seconds",
			"Time since the user sent the oldest appeal still waiting for an outcome (0: none waits).", nil, nil),
	}
}

// Describe sends the descriptors.
func (c *AppealsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open; ch <- c.wait }

// Collect runs (or reuses) the query and sends the gauges; nothing when
// the query fails (vigil_review_queue_stats_up tells the database is out
// of reach), since a stale backlog would hide a growing one.
func (c *AppealsCollector) Collect(ch chan<- prometheus.Metric) {
	b, err := c.cache.Get()
	if err != nil {
		return
	}
	wait := 0.0
	if b.Open > 0 {
		wait = max(c.now().Sub(b.OldestReceived).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(b.Open))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.GaugeValue, wait)
}
