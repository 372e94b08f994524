package app

import "github.com/prometheus/client_golang/prometheus"

// Metrics are vigil-ingest's Prometheus metrics.
type Metrics struct {
	Consumed     prometheus.Counter
	Flagged      *prometheus.CounterVec
	DeadLettered *prometheus.CounterVec
	BatchSize    prometheus.Histogram
	BatchSeconds prometheus.Histogram
	QueueDelay   prometheus.Histogram
	Retries      *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_ingest_posts_consumed_total", Help: "Post messages read from Kafka.",
		}),
		Flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_posts_flagged_total", Help: "Matches written to the review queue, by rule and category.",
		}, []string{"rule", "category"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_dead_letters_total", Help: "Messages sent to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_batch_messages", Help: "Messages per processed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		BatchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_batch_duration_seconds", Help: "Time to process and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		QueueDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_ingest_queue_delay_seconds", Help: "Time from a post's created_at to its flag being durable in the queue.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ingest_retries_total", Help: "Retried operations after transient failures, by operation.",
		}, []string{"op"}),
	}
	reg.MustRegister(m.Consumed, m.Flagged, m.DeadLettered, m.BatchSize, m.BatchSeconds, m.QueueDelay, m.Retries)
	return m
}
