package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	reg := observe.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_test_things_total", Help: "Things."})
	reg.MustRegister(c)
	h := observe.NewHealth(reg)
	var dbErr error
	h.AddCheck("postgres", func(context.Context) error { return dbErr })
	h.SetInfo("rule_version", "7")
	mux := http.NewServeMux()
	h.Register(mux)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	code, body := get("/readyz")
	var r struct {
		Status string
		Checks map[string]string
		Info   map[string]string
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || r.Checks["postgres"] != "ok" || r.Info["rule_version"] != "7" {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	dbErr = errors.New("connection refused")
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "connection refused") {
		t.Fatalf("/readyz with a failing check = %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "vigil_test_things_total") {
		t.Fatalf("/metrics = %d", code)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("metric lint: %v %v", err, problems)
	}
}
