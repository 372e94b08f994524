package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// metrics are vigil-review's own; the registry is passed in.
type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	leasesExpired prometheus.Counter
	purged        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_review_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_review_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		leasesExpired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_review_leases_expired_total",
			Help: "Claimed items returned to the queue because their lease ended.",
		}),
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_review_retention_purged_items_total",
			Help: "Items whose content the retention purge removed.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.leasesExpired, m.purged)
	return m
}

// registerWriteStats exports the group-commit counters of reviews'
// claims and decisions: how many transactions, how many requests they
// carried, how many shared a statement, how many batches were re-run.
func registerWriteStats(reg prometheus.Registerer, reviews *postgres.Reviews) {
	counter := func(name, help string, value func(postgres.WriteStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(value(reviews.WriteStats())) })
	}
	reg.MustRegister(
		counter("vigil_review_write_transactions_total", "Group-commit transactions run for claims and decisions.",
			func(s postgres.WriteStats) int64 { return s.Transactions }),
		counter("vigil_review_write_requests_total", "Claims and decisions carried by group-commit transactions, re-runs included.",
			func(s postgres.WriteStats) int64 { return s.Requests }),
		counter("vigil_review_write_shared_requests_total", "Claims and decisions run in a statement shared with others of their batch.",
			func(s postgres.WriteStats) int64 { return s.Shared }),
		counter("vigil_review_write_reruns_total", "Group-commit batches re-run without a claim or decision that failed.",
			func(s postgres.WriteStats) int64 { return s.Reruns }),
	)
}

// statusWriter records the status code of a response. It unwraps to the
// server's writer, so that handlers' http.ResponseControllers still reach
// Flush and SetWriteDeadline through it (the decisions export streams and
// moves its write deadline on; without Unwrap both fail with
// http.ErrNotSupported and the server's write timeout cuts the export).
type statusWriter struct {
	http.ResponseWriter
	code int
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts requests by the mux pattern that served them (a
// bounded set), never by raw path.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
