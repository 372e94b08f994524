package app

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsLint(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	// Touch the vectors so they are gathered.
	m.Flagged.WithLabelValues("r", "c").Inc()
	m.DeadLettered.WithLabelValues("not_json").Inc()
	m.BatchSeconds.WithLabelValues("total").Observe(1)
	m.Retries.WithLabelValues("postgres").Inc()
	m.Lag.WithLabelValues("0").Set(1)
	m.Commits.WithLabelValues("ok").Inc()
	m.DependencyUp.WithLabelValues("postgres").Set(1)
	m.MediaResults.WithLabelValues("url", "ok").Inc()
	m.MediaSeconds.WithLabelValues("ok").Observe(1)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
