package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestInstrumentKeepsResponseController: a handler behind the metrics
// wrapper can still flush and move its write deadline on (the decisions
// export does both, or the server's write timeout cuts a long export).
func TestInstrumentKeepsResponseController(t *testing.T) {
	t.Parallel()
	m := newMetrics(prometheus.NewRegistry())
	errs := make(chan [2]error, 1)
	srv := httptest.NewServer(m.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		deadline := rc.SetWriteDeadline(time.Now().Add(time.Minute))
		_, _ = io.WriteString(w, "row\n")
		errs <- [2]error{deadline, rc.Flush()}
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	got := <-errs
	if got[0] != nil || got[1] != nil {
		t.Fatalf("through instrument: SetWriteDeadline: %v, Flush: %v; want both supported", got[0], got[1])
	}
}
