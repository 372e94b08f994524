package rulestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
)

// BankStore is where the banks stored in Postgres come from, and where
// quarantines are kept so that every worker and a restart agree
// (postgres.BankStore).
type BankStore interface {
	// Banks returns every stored bank with its entries.
	Banks(ctx context.Context) ([]hashbank.Bank, error)
	// Stamp returns a value that changes whenever a bank is stored or
	// deleted.
	Stamp(ctx context.Context) (string, error)
	// Quarantined and Confirmed list (bank, entry id) pairs out of service,
	// and released by a rule engineer (exempt from the share rule).
	Quarantined(ctx context.Context) ([][2]string, error)
	Confirmed(ctx context.Context) ([][2]string, error)
	// RecordQuarantine stores an automatic quarantine unless the entry was
	// confirmed or is already quarantined (then recorded is false).
	// Returns moderation.ErrNotFound if the entry is not stored.
	RecordQuarantine(ctx context.Context, actor string, q hashbank.QuarantineState) (recorded bool, err error)
	// Listen calls ready once it listens, then notify for each change to
	// the banks or to a quarantine, until ctx is done or the connection
	// fails.
	Listen(ctx context.Context, ready func(), notify func(payload string)) error
}

// Origins of a bank, as the origin label of vigil_banks_entries.
const (
	OriginFile     = "file"
	OriginPostgres = "postgres"
)

// BankOptions configure a BankReloader. The zero value of each field is
// usable.
type BankOptions struct {
	// Files are the banks read from the worker's --banks-dir at start.
	Files []hashbank.Bank
	// Store holds the imported banks and the quarantine state. Nil: the
	// files only, nothing reloaded, quarantines kept in memory.
	Store BankStore
	// Actor names the worker in the audit events of the quarantines it
	// records (default "vigil-ingest").
	Actor string
	// Clock drives the guard's window (default the system clock).
	Clock hashbank.Clock
	// Guard tunes the bad-entry guard. Its OnQuarantine, if set, is called
	// after the reloader recorded the quarantine for the alert metric.
	Guard hashbank.GuardOptions
	// Poll is how often the stored banks and quarantines are checked in
	// case a notification was missed (default 30 s).
	Poll time.Duration
	// Retry is the wait before listening again after the connection
	// failed (default 2 s).
	Retry time.Duration
	Log   *slog.Logger
	// Registerer, if set, receives vigil_banks_entries{bank,origin},
	// vigil_banks_reloads_total{result} and
	// vigil_hashbank_quarantined_entries.
	Registerer prometheus.Registerer
	// Info, if set, receives the active banks for /readyz ("banks":
	// name:origin:entries, comma-separated; "bank_entries": the total).
	Info Info
	// OnChange, if set, is called after the active set changed, to build
	// new engines with it (Reloader.Rebuild).
	OnChange func()
}

// BankReloader holds the active hash-bank set, the union of the bank files
// and the banks stored in Postgres, and replaces it when the stored banks
// change. A stored bank with the same name as a file bank wins: the store
// is what operators import into, so an import can supersede a file bank
// without a deploy. It also owns the guard and keeps its quarantines in
// step with the store. Set and Guard are safe to call from any goroutine.
type BankReloader struct {
	opt     BankOptions
	guard   *hashbank.Guard
	active  atomic.Pointer[hashbank.Set] // nil: no banks
	pending chan hashbank.QuarantineState
	m       *bankMetrics

	mu        sync.Mutex // serialises loads and syncs; guards the fields below
	stamp     string
	loaded    bool
	origin    map[string]string // bank name → OriginFile or OriginPostgres
	confirmed map[[2]string]bool
}

type bankMetrics struct {
	entries     *prometheus.GaugeVec
	reloads     *prometheus.CounterVec
	quarantined prometheus.Gauge
}

func (m *bankMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.entries.Describe(ch)
	m.reloads.Describe(ch)
	m.quarantined.Describe(ch)
}

func (m *bankMetrics) Collect(ch chan<- prometheus.Metric) {
	m.entries.Collect(ch)
	m.reloads.Collect(ch)
	m.quarantined.Collect(ch)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// NewBankReloader compiles the file banks and the stored banks and
// restores the stored quarantines into a new guard. If the union does not
// compile (a stored bank the files contradict), it starts on the files
// alone and logs the error; it fails if the files do not compile or the
// store cannot be read (the caller retries). Call Run to follow changes.
func NewBankReloader(ctx context.Context, opt BankOptions) (*BankReloader, error) {
	if opt.Actor == "" {
		opt.Actor = "vigil-ingest"
	}
	if opt.Clock == nil {
		opt.Clock = systemClock{}
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
	r := &BankReloader{opt: opt, pending: make(chan hashbank.QuarantineState, 256), m: newBankMetrics(), confirmed: map[[2]string]bool{}}
	gopt := opt.Guard
	gopt.OnQuarantine = r.onQuarantine
	r.guard = hashbank.NewGuard(opt.Clock, gopt)
	if _, err := r.compile(ctx, nil); err != nil {
		return nil, fmt.Errorf("compiling hash banks: %w", err)
	}
	r.publish()
	if err := r.check(ctx, true); err != nil {
		return nil, err
	}
	// Registered only now, so that a caller may retry.
	if opt.Registerer != nil {
		if err := opt.Registerer.Register(r.m); err != nil {
			return nil, fmt.Errorf("registering bank metrics: %w", err)
		}
	}
	return r, nil
}

func newBankMetrics() *bankMetrics {
	m := &bankMetrics{
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_banks_entries", Help: "Entries of each active hash bank, by bank and origin (file: --banks-dir; postgres: imported).",
		}, []string{"bank", "origin"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_banks_reloads_total", Help: "Hash-bank sets loaded after start, by result (ok; error: did not load or compile, the last good set stays active).",
		}, []string{"result"}),
		quarantined: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_hashbank_quarantined_entries", Help: "Hash-bank entries out of service on this worker until a rule engineer confirms them (vigilctl banks confirm); alert when above 0.",
		}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m
}

// Set returns the active bank set, nil when there are no banks.
func (r *BankReloader) Set() *hashbank.Set { return r.active.Load() }

// Guard returns the guard every engine must share (engine.WithGuard).
func (r *BankReloader) Guard() *hashbank.Guard { return r.guard }

// compile builds the set from the files and stored and swaps it in; call
// publish once engines use it. stored nil: the files alone.
func (r *BankReloader) compile(ctx context.Context, stored []hashbank.Bank) (*hashbank.Set, error) {
	byName := map[string]int{}
	banks := make([]hashbank.Bank, 0, len(r.opt.Files)+len(stored))
	origin := map[string]string{}
	for _, b := range r.opt.Files {
		byName[b.Name] = len(banks)
		banks = append(banks, b)
		origin[b.Name] = OriginFile
	}
	for _, b := range stored {
		if i, ok := byName[b.Name]; ok {
			r.opt.Log.WarnContext(ctx, "hash bank defined in a file and in Postgres: using the one in Postgres",
				"bank", b.Name, "file_entries", len(banks[i].Entries), "postgres_entries", len(b.Entries))
			banks[i] = b
		} else {
			byName[b.Name] = len(banks)
			banks = append(banks, b)
		}
		origin[b.Name] = OriginPostgres
	}
	var set *hashbank.Set
	if len(banks) > 0 {
		var err error
		if set, err = hashbank.NewSet(banks); err != nil {
			return nil, err
		}
	}
	r.active.Store(set)
	r.origin = origin
	return set, nil
}

// publish reports the active set in metrics and /readyz info.
func (r *BankReloader) publish() {
	set := r.Set()
	r.m.entries.Reset()
	var info []string
	total := 0
	if set != nil {
		for _, b := range set.Banks() {
			o := r.origin[b.Name]
			r.m.entries.WithLabelValues(b.Name, o).Set(float64(len(b.Entries)))
			info = append(info, fmt.Sprintf("%s:%s:%d", b.Name, o, len(b.Entries)))
			total += len(b.Entries)
		}
	}
	if r.opt.Info != nil {
		r.opt.Info.SetInfo("banks", strings.Join(info, ","))
		r.opt.Info.SetInfo("bank_entries", strconv.Itoa(total))
	}
}

// Check reloads the stored banks if they changed and brings the guard in
// step with the stored quarantines. It returns the error of a failed load;
// the active set is then unchanged.
func (r *BankReloader) Check(ctx context.Context) error { return r.check(ctx, false) }

func (r *BankReloader) check(ctx context.Context, initial bool) error {
	if r.opt.Store == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp, err := r.opt.Store.Stamp(ctx)
	if err != nil {
		return err
	}
	if !r.loaded || stamp != r.stamp {
		if err := r.reload(ctx, stamp, initial); err != nil {
			return err
		}
	}
	return r.syncGuard(ctx)
}

// reload loads and compiles the stored banks. Caller holds mu.
func (r *BankReloader) reload(ctx context.Context, stamp string, initial bool) error {
	stored, err := r.opt.Store.Banks(ctx)
	if err != nil {
		if !initial {
			r.m.reloads.WithLabelValues("error").Inc()
		}
		return err
	}
	set, err := r.compile(ctx, stored)
	if err != nil {
		// Remember the stamp: this content is known bad, retried only when
		// it changes.
		r.stamp, r.loaded = stamp, true
		r.m.reloads.WithLabelValues("error").Inc()
		if initial {
			r.opt.Log.ErrorContext(ctx, "stored hash banks do not compile with the bank files, using the files alone", "err", err)
			return nil
		}
		r.opt.Log.ErrorContext(ctx, "stored hash banks do not compile, keeping the active set", "err", err)
		return fmt.Errorf("compiling hash banks: %w", err)
	}
	r.stamp, r.loaded = stamp, true
	n, entries := 0, 0
	if set != nil {
		n, entries = len(set.Banks()), set.Len()
	}
	if initial {
		r.publish()
		r.opt.Log.InfoContext(ctx, "hash banks loaded", "banks", n, "entries", entries, "stored", len(stored), "files", len(r.opt.Files))
		return nil
	}
	if r.opt.OnChange != nil {
		r.opt.OnChange()
	}
	// Reported once the engines use it.
	r.publish()
	r.m.reloads.WithLabelValues("ok").Inc()
	r.opt.Log.InfoContext(ctx, "hash banks reloaded", "banks", n, "entries", entries, "stored", len(stored))
	return nil
}

// syncGuard applies the stored quarantines and confirmations to the guard,
// and records again the quarantines of this guard that the store lacks (a
// recording that failed). Caller holds mu.
func (r *BankReloader) syncGuard(ctx context.Context) error {
	quarantined, err := r.opt.Store.Quarantined(ctx)
	if err != nil {
		return err
	}
	confirmed, err := r.opt.Store.Confirmed(ctx)
	if err != nil {
		return err
	}
	known := map[[2]string]bool{}
	for _, k := range quarantined {
		known[k] = true
		delete(r.confirmed, k)
		if !r.guard.IsQuarantined(k[0], k[1]) {
			r.guard.Quarantine(k[0], k[1])
			r.opt.Log.WarnContext(ctx, "hash-bank entry quarantined (stored state)", "bank", k[0], "entry", k[1])
		}
	}
	for _, k := range confirmed {
		known[k] = true
		if !r.confirmed[k] || r.guard.IsQuarantined(k[0], k[1]) {
			if r.guard.Confirm(k[0], k[1]) {
				r.opt.Log.InfoContext(ctx, "hash-bank entry confirmed by a rule engineer, back in service", "bank", k[0], "entry", k[1])
			}
			r.confirmed[k] = true
		}
	}
	for _, q := range r.guard.Quarantined() {
		k := [2]string{q.Bank, q.EntryID}
		if !known[k] && !q.Manual {
			r.enqueue(q)
		}
	}
	r.m.quarantined.Set(float64(len(r.guard.Quarantined())))
	return nil
}

// onQuarantine is the guard's hook, called on the batch path: it must not
// block.
func (r *BankReloader) onQuarantine(q hashbank.QuarantineState) {
	r.m.quarantined.Set(float64(len(r.guard.Quarantined())))
	r.opt.Log.Error("hash-bank entry quarantined: it matched an abnormal share of media", "bank", q.Bank, "entry", q.EntryID,
		"matches", q.Matches, "observed", q.Observed)
	if r.opt.Store != nil {
		r.enqueue(q)
	}
	if r.opt.Guard.OnQuarantine != nil {
		r.opt.Guard.OnQuarantine(q)
	}
}

func (r *BankReloader) enqueue(q hashbank.QuarantineState) {
	select {
	case r.pending <- q:
	default: // full: the next sync records it
	}
}

func (r *BankReloader) record(ctx context.Context, q hashbank.QuarantineState) {
	ok, err := r.opt.Store.RecordQuarantine(ctx, r.opt.Actor, q)
	switch {
	case errors.Is(err, moderation.ErrNotFound):
		// An entry removed from its stored bank meanwhile: the next
		// reload drops it from this worker too.
		r.opt.Log.WarnContext(ctx, "quarantined entry is no longer in its stored bank", "bank", q.Bank, "entry", q.EntryID)
	case err != nil:
		r.opt.Log.WarnContext(ctx, "recording a quarantine failed, retrying at the next check", "bank", q.Bank, "entry", q.EntryID, "err", err)
	case !ok:
		// Confirmed by a rule engineer, or already recorded by another
		// worker: the sync that follows the notification settles it.
		r.opt.Log.InfoContext(ctx, "quarantine already recorded or entry confirmed", "bank", q.Bank, "entry", q.EntryID)
	}
}

// Run follows changes until ctx is done: it listens for notifications
// (reconnecting after failures), polls every BankOptions.Poll and records
// the guard's quarantines in the store. It returns nil when ctx is done.
// Without a store it only waits for ctx.
func (r *BankReloader) Run(ctx context.Context) error {
	if r.opt.Store == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	kick := follow(ctx, &wg, r.opt.Log, "hash-bank changes", r.opt.Retry, func(ctx context.Context, wake func()) error {
		return r.opt.Store.Listen(ctx, wake, func(string) { wake() })
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case q := <-r.pending:
				r.record(ctx, q)
			}
		}
	}()
	defer wg.Wait()
	return checkLoop(ctx, kick, r.opt.Poll, r.Check, r.opt.Log, "checking for hash-bank changes")
}
