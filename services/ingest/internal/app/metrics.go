package app

import "github.com/prometheus/client_golang/prometheus"

// Metrics are vigil-ingest's Prometheus metrics.
type Metrics struct {
	Consumed     prometheus.Counter
	Flagged      *prometheus.CounterVec
	FlaggedPosts prometheus.Counter
	DeadLettered *prometheus.CounterVec
	BatchSize    prometheus.Histogram
	BatchSeconds *prometheus.HistogramVec
	QueueDelay   prometheus.Histogram
	Retries      *prometheus.CounterVec
	Lag          *prometheus.GaugeVec
	Commits      *prometheus.CounterVec
	Partitions   prometheus.Gauge
	Generations  prometheus.Counter
	DependencyUp *prometheus.GaugeVec
	MediaResults *prometheus.CounterVec
	MediaSeconds *prometheus.HistogramVec
	MediaBytes   prometheus.Histogram
	InFlight     prometheus.Gauge
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_posts_consumed_total", Help: "Post messages read from Kafka and processed (replays after a crash or rebalance count again).",
		}),
		Flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_matches_total", Help: "Matches written to the review queue, by rule (or bank:<name>) and category.",
		}, []string{"rule", "category"}),
		FlaggedPosts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_posts_flagged_total", Help: "Posts written to the review queue.",
		}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_dead_letters_total", Help: "Messages sent to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_batch_messages", Help: "Messages per processed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		BatchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_ingest_batch_duration_seconds", Help: "Time spent on one batch, by stage: evaluate (decode, media, rules), store (review queue), dead_letter, total.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"stage"}),
		QueueDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_queue_delay_seconds", Help: "Time from a post's created_at to its flag being durable in the review queue.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_retries_total", Help: "Operations retried after transient failures, by operation.",
		}, []string{"op"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_ingest_consumer_lag_messages", Help: "Messages behind the partition's high-water mark after the last processed batch, by partition this worker owns.",
		}, []string{"partition"}),
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_offset_commits_total", Help: "Offset commits to the consumer group, by result (ok, error).",
		}, []string{"result"}),
		Partitions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_ingest_partitions_assigned", Help: "Partitions of the posts topic this worker owns in the current generation.",
		}),
		Generations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_group_generations_total", Help: "Consumer-group generations joined (one per rebalance).",
		}),
		DependencyUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_ingest_dependency_up", Help: "1 when the last operation against the dependency succeeded, 0 while it is failing and being retried.",
		}, []string{"dependency"}),
		MediaResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_media_total", Help: "Media items loaded, by source (inline, url) and result (ok, refused, too_large, unavailable, retry, undecodable).",
		}, []string{"source", "result"}),
		MediaSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_ingest_media_fetch_duration_seconds", Help: "Time to fetch one media URL, by result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"result"}),
		MediaBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_media_size_bytes", Help: "Encoded size of loaded media.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 10),
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_ingest_inflight_messages", Help: "Messages fetched and being processed, not yet durable.",
		}),
	}
	reg.MustRegister(m.Consumed, m.Flagged, m.FlaggedPosts, m.DeadLettered, m.BatchSize, m.BatchSeconds, m.QueueDelay,
		m.Retries, m.Lag, m.Commits, m.Partitions, m.Generations, m.DependencyUp, m.MediaResults, m.MediaSeconds,
		m.MediaBytes, m.InFlight)
	return m
}
