// Package observe provides what every long-running Vigil service exposes
// for operators: structured logs, Prometheus metrics on an injected
// registry, and /healthz, /readyz and /metrics endpoints.
package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewLogger returns a JSON (or text) slog logger at level.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", format)
}

// NewRegistry returns a registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Check reports whether one dependency is usable; nil means ready.
type Check func(ctx context.Context) error

// Health serves /healthz (the process is alive), /readyz (every check
// passes) and /metrics.
type Health struct {
	mu     sync.RWMutex
	checks map[string]Check
	info   map[string]string
	reg    prometheus.Gatherer
}

// NewHealth returns a Health serving metrics from reg.
func NewHealth(reg prometheus.Gatherer) *Health {
	return &Health{checks: map[string]Check{}, info: map[string]string{}, reg: reg}
}

// AddCheck registers a readiness check under name.
func (h *Health) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
}

// SetInfo publishes a key/value on /readyz (e.g. the active rule version).
func (h *Health) SetInfo(key, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.info[key] = value
}

// Register adds the endpoints to mux.
func (h *Health) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("GET /readyz", h.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}))
}

func (h *Health) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	h.mu.RLock()
	names := make([]string, 0, len(h.checks))
	for n := range h.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make(map[string]Check, len(h.checks))
	for n, c := range h.checks {
		checks[n] = c
	}
	info := make(map[string]string, len(h.info))
	for k, v := range h.info {
		info[k] = v
	}
	h.mu.RUnlock()
	res := map[string]string{}
	ok := true
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			ok = false
			res[n] = err.Error()
		} else {
			res[n] = "ok"
		}
	}
	status := http.StatusOK
	word := "ready"
	if !ok {
		status = http.StatusServiceUnavailable
		word = "not ready"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": word, "checks": res, "info": info})
}

// ListenAndServe serves handler on addr until ctx is done, then shuts down
// gracefully. ready, if not nil, receives the bound address (useful with :0).
func ListenAndServe(ctx context.Context, log *slog.Logger, addr string, handler http.Handler, ready func(addr string)) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	log.InfoContext(ctx, "http listening", "addr", bound)
	if ready != nil {
		ready(bound)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down http: %w", err)
	}
	return nil
}

// HostPort turns ":8080" into "127.0.0.1:8080" for display.
func HostPort(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	if strings.HasPrefix(addr, "[::]:") {
		return "127.0.0.1" + addr[4:]
	}
	return addr
}
