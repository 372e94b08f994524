// Package precision serves per-rule precision, computed from moderators'
// decisions (postgres.RulePrecision), as Prometheus metrics: vigil-review
// registers a Collector, and alerts or dashboards read
// vigil_rules_precision_ratio and vigil_rules_low_precision. vigilctl rules
// precision prints the same numbers. With Options.Entries it also counts
// the low-precision entries of each hash bank
// (vigil_banks_low_precision_entries{bank}: per bank, not per entry, which
// would be a label value per hash), as vigilctl banks precision lists them.
package precision

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

// Source computes precision over the items flagged since a time
// (postgres.RuleStore.RulePrecision wrapped by the caller).
type Source func(ctx context.Context, since time.Time) ([]moderation.RulePrecision, error)

// EntrySource computes per-entry precision of the hash banks over the
// items flagged since a time, keeping only entries with at least
// minDecided decided items, which fewer cannot make low
// (postgres.BankEntryPrecision wrapped by the caller).
type EntrySource func(ctx context.Context, since time.Time, minDecided int64) ([]moderation.BankEntryPrecision, error)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Options configure a Collector. Zero values are usable.
type Options struct {
	// Window: only items flagged within it count (default 30 days), which
	// also bounds the versions, and so the label values, exported.
	Window time.Duration
	// Threshold and MinDecided judge a rule version low: precision below
	// Threshold with at least MinDecided decided items (fewer are too few
	// to judge). moderation.DefaultPrecisionPolicy's (0.5, 20) when zero;
	// the API and vigilctl judge with the same moderation.PrecisionPolicy.
	Threshold  float64
	MinDecided int64
	// CacheFor: results are reused for this long, so frequent scrapes do
	// not each run the query (default 1 minute).
	CacheFor time.Duration
	// Timeout of one query (default 10 s).
	Timeout time.Duration
	// Entries, if set, counts each bank's low-precision entries (same
	// window, policy and cache).
	Entries EntrySource
	Clock   Clock
	Log     *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = 30 * 24 * time.Hour
	}
	pp := o.policy()
	o.Threshold, o.MinDecided = pp.Threshold, pp.MinDecided
	if o.CacheFor <= 0 {
		o.CacheFor = time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (o Options) policy() moderation.PrecisionPolicy {
	return moderation.PrecisionPolicy{Threshold: o.Threshold, MinDecided: o.MinDecided}.WithDefaults()
}

// Collector is a prometheus.Collector of per-rule precision.
type Collector struct {
	opt   Options
	pp    moderation.PrecisionPolicy
	cache *observe.Cached[[]moderation.RulePrecision]
	// entries is nil without Options.Entries.
	entries *observe.Cached[[]moderation.BankEntryPrecision]

	flagged, decided, ratio, median, low, threshold, up *prometheus.Desc
	lowEntries, entriesUp                               *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector over src.
func NewCollector(src Source, opt Options) *Collector {
	l := []string{"rule", "version"}
	opt = opt.withDefaults()
	load := func(ctx context.Context, now time.Time) ([]moderation.RulePrecision, error) {
		return src(ctx, now.Add(-opt.Window))
	}
	c := &Collector{
		opt:     opt,
		pp:      opt.policy(),
		cache:   observe.NewCached(load, observe.CachedOptions{Every: opt.CacheFor, Timeout: opt.Timeout, Now: opt.Clock.Now, Log: opt.Log, What: "rule precision"}),
		flagged: prometheus.NewDesc("vigil_rules_flagged_items", "Review items flagged by the rule version within the window.", l, nil),
		decided: prometheus.NewDesc("vigil_rules_decided_items", "Flagged items by their latest decision: outcome removed (remove or report) or no_violation.",
			[]string{"rule", "version", "outcome"}, nil),
		ratio:     prometheus.NewDesc("vigil_rules_precision_ratio", "Removed / (removed + no_violation) of the rule version's items; absent until one is decided.", l, nil),
		median:    prometheus.NewDesc("vigil_rules_time_to_decision_median_seconds", "Median time from flag to the first final decision of the rule version's items.", l, nil),
		low:       prometheus.NewDesc("vigil_rules_low_precision", "1 if the rule version's precision is below the threshold with enough decided items, else 0.", l, nil),
		threshold: prometheus.NewDesc("vigil_rules_precision_threshold_ratio", "Precision below which a rule is flagged low.", nil, nil),
		up:        prometheus.NewDesc("vigil_rules_precision_up", "1 if the last precision query succeeded.", nil, nil),
		lowEntries: prometheus.NewDesc("vigil_banks_low_precision_entries",
			"Entries of the hash bank whose precision is below the threshold with enough decided items.", []string{"bank"}, nil),
		entriesUp: prometheus.NewDesc("vigil_banks_precision_up", "1 if the last per-entry precision query succeeded.", nil, nil),
	}
	if opt.Entries != nil {
		loadEntries := func(ctx context.Context, now time.Time) ([]moderation.BankEntryPrecision, error) {
			return opt.Entries(ctx, now.Add(-opt.Window), c.pp.MinDecided)
		}
		c.entries = observe.NewCached(loadEntries, observe.CachedOptions{Every: opt.CacheFor, Timeout: opt.Timeout, Now: opt.Clock.Now, Log: opt.Log, What: "bank entry precision"})
	}
	return c
}

// Describe sends the descriptors.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.flagged, c.decided, c.ratio, c.median, c.low, c.threshold, c.up} {
		ch <- d
	}
	if c.entries != nil {
		ch <- c.lowEntries
		ch <- c.entriesUp
	}
}

// Collect runs (or reuses) the query and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ps, err := c.cache.Get()
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.threshold, prometheus.GaugeValue, c.opt.Threshold)
	for _, p := range ps {
		v := strconv.FormatInt(p.RuleVersion, 10)
		ch <- prometheus.MustNewConstMetric(c.flagged, prometheus.GaugeValue, float64(p.Flagged), p.RuleID, v)
		ch <- prometheus.MustNewConstMetric(c.decided, prometheus.GaugeValue, float64(p.Removed), p.RuleID, v, "removed")
		ch <- prometheus.MustNewConstMetric(c.decided, prometheus.GaugeValue, float64(p.NoViolation), p.RuleID, v, "no_violation")
		if r, ok := p.Precision(); ok {
			ch <- prometheus.MustNewConstMetric(c.ratio, prometheus.GaugeValue, r, p.RuleID, v)
			ch <- prometheus.MustNewConstMetric(c.median, prometheus.GaugeValue, p.MedianDecision.Seconds(), p.RuleID, v)
		}
		low := 0.0
		if c.pp.Low(p) {
			low = 1
		}
		ch <- prometheus.MustNewConstMetric(c.low, prometheus.GaugeValue, low, p.RuleID, v)
	}
	if c.entries != nil {
		c.collectEntries(ch, ps)
	}
}

// collectEntries sends each bank's count of low entries: 0 for a bank
// that matched items in the window (its "bank:NAME" row) and has none, so
// an alert on it resolves.
func (c *Collector) collectEntries(ch chan<- prometheus.Metric, ps []moderation.RulePrecision) {
	es, err := c.entries.Get()
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.entriesUp, prometheus.GaugeValue, up)
	low := map[string]int{}
	for _, p := range ps {
		if bank, ok := strings.CutPrefix(p.RuleID, "bank:"); ok {
			low[bank] += 0
		}
	}
	for _, e := range es {
		low[e.Bank] += 0
		if c.pp.LowEntry(e) {
			low[e.Bank]++
		}
	}
	for bank, n := range low {
		ch <- prometheus.MustNewConstMetric(c.lowEntries, prometheus.GaugeValue, float64(n), bank)
	}
}
