package rulestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// Store is where published versions come from (postgres.RuleStore).
type Store interface {
	// Latest returns the newest version with its files, or an error
	// wrapping moderation.ErrNotFound if none was published.
	Latest(ctx context.Context) (moderation.RuleVersion, error)
	// Version returns one version with its files (moderation.ErrNotFound).
	Version(ctx context.Context, version int64) (moderation.RuleVersion, error)
	// LatestVersion returns the newest version number, 0 if none.
	LatestVersion(ctx context.Context) (int64, error)
	// Listen calls ready once it listens, then notify for each published
	// version, until ctx is done or the connection fails.
	Listen(ctx context.Context, ready func(), notify func(version int64)) error
}

// Info receives the active version for /readyz (observe.Health).
type Info interface{ SetInfo(key, value string) }

// Options configure a Reloader. The zero value of each field but Store is
// usable.
type Options struct {
	Store Store
	// Fallback compiles the rules used while nothing is published (the
	// worker's --rules-dir), as version 0. Nil: start fails when nothing
	// is published.
	Fallback func() (*ruleset.Set, error)
	// Build turns a rule set into an engine, adding the worker's hash
	// banks and guard (default engine.New(rules)).
	Build func(*ruleset.Set) *engine.Engine
	// Poll is how often the newest version number is checked, in case a
	// notification was missed (default 30 s). The notification is what
	// makes a switch quick; the poll only bounds how late it can be.
	Poll time.Duration
	// Retry is the wait before listening again after the connection
	// failed (default 2 s).
	Retry time.Duration
	Log   *slog.Logger
	// Registerer, if set, receives vigil_rules_active_version,
	// vigil_rules_info{version} and vigil_rules_reloads_total{result}.
	Registerer prometheus.Registerer
	Info       Info
	// OnSwap, if set, is called after each swap (tests wait on it).
	OnSwap func(version int64)
}

// Reloader holds the active engine and replaces it when a new version is
// published. Engine is safe to call from any goroutine.
type Reloader struct {
	opt    Options
	active atomic.Pointer[engine.Engine]
	mu     sync.Mutex // serialises loads
	failed int64      // newest version that failed to compile, not retried
	m      *reloadMetrics
}

type reloadMetrics struct {
	version prometheus.Gauge
	info    *prometheus.GaugeVec
	reloads *prometheus.CounterVec
}

func (m *reloadMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.version.Describe(ch)
	m.info.Describe(ch)
	m.reloads.Describe(ch)
}

func (m *reloadMetrics) Collect(ch chan<- prometheus.Metric) {
	m.version.Collect(ch)
	m.info.Collect(ch)
	m.reloads.Collect(ch)
}

// New loads the newest published version, or the fallback if none is
// published, and returns a Reloader serving it. If the newest version does
// not compile, older ones are tried (a worker must be able to start), then
// the fallback. Call Run to follow new versions.
func New(ctx context.Context, opt Options) (*Reloader, error) {
	if opt.Build == nil {
		opt.Build = func(s *ruleset.Set) *engine.Engine { return engine.New(s) }
	}
	if opt.Poll <= 0 {
		opt.Poll = 30 * time.Second
	}
	if opt.Retry <= 0 {
		opt.Retry = 2 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{opt: opt, m: newReloadMetrics()}
	set, err := r.initial(ctx)
	if err != nil {
		return nil, err
	}
	// Registered only now, so that a caller may retry New.
	if opt.Registerer != nil {
		if err := opt.Registerer.Register(r.m); err != nil {
			return nil, fmt.Errorf("registering rule metrics: %w", err)
		}
	}
	r.swap(set)
	return r, nil
}

func (r *Reloader) initial(ctx context.Context) (*ruleset.Set, error) {
	v, err := r.opt.Store.Latest(ctx)
	switch {
	case errors.Is(err, moderation.ErrNotFound):
		if r.opt.Fallback == nil {
			return nil, fmt.Errorf("loading rules: nothing published and no fallback: %w", err)
		}
		set, err := r.opt.Fallback()
		if err != nil {
			return nil, fmt.Errorf("loading fallback rules: %w", err)
		}
		r.opt.Log.InfoContext(ctx, "no rules published, using local rules", "rules", set.Len())
		return set.WithVersion(0), nil
	case err != nil:
		return nil, fmt.Errorf("loading rules: %w", err)
	}
	for n := v.Version; n > 0 && n > v.Version-5; n-- {
		if n != v.Version {
			if v, err = r.opt.Store.Version(ctx, n); err != nil {
				return nil, fmt.Errorf("loading rules: %w", err)
			}
		}
		set, err := CompileVersion(v)
		if err == nil {
			return set, nil
		}
		r.m.reloads.WithLabelValues("error").Inc()
		r.opt.Log.ErrorContext(ctx, "published rules do not compile, trying the previous version", "version", n, "err", err)
		r.failed = max(r.failed, n)
	}
	if r.opt.Fallback != nil {
		set, err := r.opt.Fallback()
		if err == nil {
			r.opt.Log.WarnContext(ctx, "no recent published version compiles, using local rules")
			return set.WithVersion(0), nil
		}
	}
	return nil, fmt.Errorf("loading rules: no recent published version compiles")
}

func newReloadMetrics() *reloadMetrics {
	m := &reloadMetrics{
		version: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_rules_active_version", Help: "Published rule version this worker matches with (0: local rules, nothing published).",
		}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_rules_info", Help: "1 for the active rule version, as a label; 0 for none.",
		}, []string{"version"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_rules_reloads_total", Help: "Rule versions loaded after start, by result (ok; error: did not load or compile, the last good version stays active).",
		}, []string{"result"}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m
}

// Engine returns the active engine. The ingest worker calls it once per
// batch.
func (r *Reloader) Engine() *engine.Engine { return r.active.Load() }

// Version is the active rule version (0: local rules).
func (r *Reloader) Version() int64 { return r.active.Load().Rules().Version() }

func (r *Reloader) swap(set *ruleset.Set) {
	r.active.Store(r.opt.Build(set))
	v := set.Version()
	r.m.version.Set(float64(v))
	r.m.info.Reset()
	r.m.info.WithLabelValues(strconv.FormatInt(v, 10)).Set(1)
	if r.opt.Info != nil {
		r.opt.Info.SetInfo("rule_version", strconv.FormatInt(v, 10))
	}
	if r.opt.OnSwap != nil {
		r.opt.OnSwap(v)
	}
}

// Rebuild builds the engine again from the active rule set and swaps it
// in: the hash banks changed (BankReloader's OnChange). Like a version
// switch, it takes effect from the next batch.
func (r *Reloader) Rebuild() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.swap(r.active.Load().Rules())
}

// Check loads the newest published version if it is newer than the active
// one and did not fail before. It returns the error of a failed load; the
// active engine is then unchanged.
func (r *Reloader) Check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.opt.Store.LatestVersion(ctx)
	if err != nil {
		return err
	}
	cur := r.Version()
	if n <= cur || n <= r.failed {
		return nil
	}
	v, err := r.opt.Store.Version(ctx, n)
	if err != nil {
		r.m.reloads.WithLabelValues("error").Inc()
		return err // transient: retried on the next notification or poll
	}
	set, err := CompileVersion(v)
	if err != nil {
		r.failed = n
		r.m.reloads.WithLabelValues("error").Inc()
		r.opt.Log.ErrorContext(ctx, "new rules do not compile, keeping the active version", "version", n, "active", cur, "err", err)
		return err
	}
	r.swap(set)
	r.m.reloads.WithLabelValues("ok").Inc()
	r.opt.Log.InfoContext(ctx, "rules reloaded", "version", n, "previous", cur, "rules", set.Len(), "author", v.Author, "message", v.Message)
	return nil
}

// Run follows new versions until ctx is done: it listens for
// notifications (reconnecting after failures) and polls every
// Options.Poll. It returns nil when ctx is done.
func (r *Reloader) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	kick := follow(ctx, &wg, r.opt.Log, "rule versions", r.opt.Retry, func(ctx context.Context, wake func()) error {
		return r.opt.Store.Listen(ctx, wake, func(int64) { wake() })
	})
	defer wg.Wait()
	return checkLoop(ctx, kick, r.opt.Poll, r.Check, r.opt.Log, "checking for new rules")
}

// follow runs listen until ctx is done, reconnecting after failures, in a
// goroutine counted by wg. It returns a channel that receives a coalesced
// wake-up on every (re)connection and notification, so the caller re-reads
// the store and misses nothing that changed while it was disconnected.
func follow(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, what string, retry time.Duration, listen func(ctx context.Context, wake func()) error) <-chan struct{} {
	kick := make(chan struct{}, 1)
	wake := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := listen(ctx, wake)
			if ctx.Err() != nil {
				return
			}
			log.WarnContext(ctx, "listening for "+what+" failed, retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
		}
	}()
	return kick
}

// checkLoop runs check on every wake-up from kick and every poll interval
// until ctx is done, logging failures: the store is re-read rather than
// trusting notifications, which may be lost while disconnected.
func checkLoop(ctx context.Context, kick <-chan struct{}, poll time.Duration, check func(context.Context) error, log *slog.Logger, what string) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-t.C:
		}
		if err := check(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, what, "err", err)
		}
	}
}
