package rulestore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
)

// fakeBankStore is an in-memory BankStore whose Listen delivers what
// changes send.
type fakeBankStore struct {
	mu          sync.Mutex
	banks       map[string]hashbank.Bank
	stamp       int
	quarantined map[[2]string]bool
	confirmed   map[[2]string]bool
	recorded    []hashbank.QuarantineState
	failBanks   bool
	notify      chan string
}

func newFakeBankStore() *fakeBankStore {
	return &fakeBankStore{banks: map[string]hashbank.Bank{}, quarantined: map[[2]string]bool{}, confirmed: map[[2]string]bool{},
		notify: make(chan string, 16)}
}

func (s *fakeBankStore) put(b hashbank.Bank) {
	s.mu.Lock()
	s.banks[b.Name] = b
	s.stamp++
	s.mu.Unlock()
	s.notify <- "bank:" + b.Name
}

func (s *fakeBankStore) confirm(bank, entry string) {
	s.mu.Lock()
	k := [2]string{bank, entry}
	delete(s.quarantined, k)
	s.confirmed[k] = true
	s.mu.Unlock()
	s.notify <- "quarantine:" + bank + "/" + entry
}

func (s *fakeBankStore) Banks(context.Context) ([]hashbank.Bank, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failBanks {
		return nil, errors.New("connection refused")
	}
	var out []hashbank.Bank
	for _, b := range s.banks {
		out = append(out, b)
	}
	return out, nil
}

func (s *fakeBankStore) Stamp(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Repeat("x", s.stamp), nil
}

func (s *fakeBankStore) pairs(m map[[2]string]bool) [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][2]string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (s *fakeBankStore) Quarantined(context.Context) ([][2]string, error) {
	return s.pairs(s.quarantined), nil
}
func (s *fakeBankStore) Confirmed(context.Context) ([][2]string, error) {
	return s.pairs(s.confirmed), nil
}

func (s *fakeBankStore) RecordQuarantine(_ context.Context, actor string, q hashbank.QuarantineState) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Like postgres.BankStore: an entry missing from a stored bank is not
	// found; a bank the store does not hold is a file bank, taken on the
	// worker's word.
	if b, ok := s.banks[q.Bank]; ok && !slices.ContainsFunc(b.Entries, func(e hashbank.Entry) bool { return e.ID == q.EntryID }) {
		return false, moderation.ErrNotFound
	}
	k := [2]string{q.Bank, q.EntryID}
	if s.quarantined[k] || s.confirmed[k] {
		return false, nil
	}
	s.quarantined[k] = true
	s.recorded = append(s.recorded, q)
	return true, nil
}

func (s *fakeBankStore) Listen(ctx context.Context, ready func(), notify func(string)) error {
	ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-s.notify:
			notify(p)
		}
	}
}

func phBank(name string, entries ...string) hashbank.Bank {
	b := hashbank.Bank{Name: name, HashType: "phash"}
	for i, h := range entries {
		b.Entries = append(b.Entries, hashbank.Entry{ID: name + "-" + string(rune('a'+i)), Hash: h})
	}
	return b
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func bankMatch(bank, entry string) []moderation.Match {
	return []moderation.Match{{Bank: bank, EntryID: entry, HashType: "phash"}}
}

// TestBankReloader: the union of files and store with the store winning a
// name clash, reloads on notification, the last good set kept, quarantines
// recorded, restored and released through the store.
func TestBankReloader(t *testing.T) {
	store := newFakeBankStore()
	store.banks["shared"] = phBank("shared", "00000000000000ff", "ffffffff00000000")
	store.stamp = 1
	store.quarantined[[2]string{"shared", "shared-b"}] = true
	reg := prometheus.NewRegistry()
	inf := info{}
	changes := make(chan struct{}, 16)
	quarantines := make(chan hashbank.QuarantineState, 16)
	r, err := NewBankReloader(context.Background(), BankOptions{
		Files: []hashbank.Bank{phBank("local", "0f0f0f0f0f0f0f0f"), phBank("shared", "1111111111111111")},
		Store: store, Clock: fixedClock{time.Unix(1e9, 0)}, Registerer: reg, Info: inf, Poll: time.Hour,
		Guard:    hashbank.GuardOptions{MinMatches: 3, MaxShare: 0.5, OnQuarantine: func(q hashbank.QuarantineState) { quarantines <- q }},
		OnChange: func() { changes <- struct{}{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	names := func() string {
		var out []string
		for _, b := range r.Set().Banks() {
			out = append(out, b.Name+":"+b.Entries[0].Hash)
		}
		return strings.Join(out, ",")
	}
	if got := names(); got != "local:0f0f0f0f0f0f0f0f,shared:00000000000000ff" {
		t.Fatalf("banks %s: want the stored shared bank over the file one", got)
	}
	if inf["banks"] != "local:file:1,shared:postgres:2" || inf["bank_entries"] != "3" {
		t.Errorf("info %v", inf)
	}
	if !r.Guard().IsQuarantined("shared", "shared-b") || testutil.ToFloat64(r.m.quarantined) != 1 {
		t.Fatalf("stored quarantine not restored: %+v", r.Guard().Quarantined())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// An import: reloaded, engines rebuilt.
	store.put(phBank("imported", "2222222222222222"))
	<-changes
	if got := names(); !strings.Contains(got, "imported:2222222222222222") {
		t.Fatalf("after import: %s", got)
	}
	// Reported once the engines use it (after OnChange).
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(r.m.entries.WithLabelValues("imported", OriginPostgres)) != 1; {
		if time.Now().After(deadline) {
			t.Fatal("imported bank not reported")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP vigil_banks_entries Entries of each active hash bank, by bank and origin (file: --banks-dir; postgres: imported).
# TYPE vigil_banks_entries gauge
vigil_banks_entries{bank="imported",origin="postgres"} 1
vigil_banks_entries{bank="local",origin="file"} 1
vigil_banks_entries{bank="shared",origin="postgres"} 2
`), "vigil_banks_entries"); err != nil {
		t.Error(err)
	}

	// A bank that does not compile: the last good set stays.
	before := testutil.ToFloat64(r.m.reloads.WithLabelValues("error"))
	store.put(hashbank.Bank{Name: "broken", HashType: "phash", Threshold: 40, Entries: []hashbank.Entry{{ID: "x", Hash: "0000000000000001"}}})
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(r.m.reloads.WithLabelValues("error")) == before {
		if time.Now().After(deadline) {
			t.Fatal("broken bank not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := names(); strings.Contains(got, "broken") || !strings.Contains(got, "imported") {
		t.Fatalf("after a broken bank: %s", got)
	}

	// The guard quarantines an entry: recorded in the store.
	g := r.Guard()
	for range 3 {
		g.Observe(bankMatch("imported", "imported-a"))
	}
	q := <-quarantines
	if q.Bank != "imported" || testutil.ToFloat64(r.m.quarantined) != 2 {
		t.Fatalf("quarantine %+v, gauge %v", q, testutil.ToFloat64(r.m.quarantined))
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(store.pairs(store.quarantined)) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("quarantine not recorded: %v", store.pairs(store.quarantined))
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A rule engineer confirms both: back in service, and exempt.
	store.confirm("imported", "imported-a")
	store.confirm("shared", "shared-b")
	deadline = time.Now().Add(10 * time.Second)
	for g.IsQuarantined("imported", "imported-a") || g.IsQuarantined("shared", "shared-b") {
		if time.Now().After(deadline) {
			t.Fatalf("confirmation not applied: %+v", g.Quarantined())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 10 {
		if len(g.Observe(bankMatch("imported", "imported-a"))) != 1 {
			t.Fatal("a confirmed entry was quarantined again")
		}
	}
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(r.m.quarantined); v != 0 {
		t.Errorf("quarantined gauge %v after confirmations", v)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("metric lint: %v %+v", err, probs)
	}

	// An entry of a bank that exists only as files is recorded as well, so
	// its quarantine reaches every worker and outlives restarts.
	for range 20 {
		g.Observe(bankMatch("local", "local-a"))
	}
	deadline = time.Now().Add(10 * time.Second)
	for !slices.Contains(store.pairs(store.quarantined), [2]string{"local", "local-a"}) {
		if time.Now().After(deadline) {
			t.Fatalf("file bank quarantine not recorded: %v (guard %+v)", store.pairs(store.quarantined), g.Quarantined())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBankReloaderWithoutStore: files only, and a store that cannot be
// read fails the start (the worker retries).
func TestBankReloaderWithoutStore(t *testing.T) {
	r, err := NewBankReloader(context.Background(), BankOptions{})
	if err != nil || r.Set() != nil || r.Guard() == nil {
		t.Fatalf("no banks: %v %v", r, err)
	}
	store := newFakeBankStore()
	store.failBanks = true
	if _, err := NewBankReloader(context.Background(), BankOptions{Store: store}); err == nil {
		t.Fatal("unreadable store: no error")
	}
	if _, err := NewBankReloader(context.Background(), BankOptions{Files: []hashbank.Bank{phBank("BAD", "00")}}); err == nil {
		t.Fatal("invalid file bank: no error")
	}
}
