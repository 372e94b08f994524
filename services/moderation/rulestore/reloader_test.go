package rulestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeStore is an in-memory Store whose Listen delivers what publish sends.
type fakeStore struct {
	mu       sync.Mutex
	versions []moderation.RuleVersion
	notify   chan int64
}

func newFakeStore() *fakeStore { return &fakeStore{notify: make(chan int64, 16)} }

func rulesYAML(id, keyword, severity string) string {
	return fmt.Sprintf("rules:\n  - id: %s\n    description: d\n    category: spam\n    severity: %s\n    keywords: [%s]\n", id, severity, keyword)
}

func (s *fakeStore) publish(content string) int64 {
	s.mu.Lock()
	n := int64(len(s.versions) + 1)
	s.versions = append(s.versions, moderation.RuleVersion{Version: n, Author: "t",
		Files: []moderation.RuleFile{{Name: "r.yaml", Data: []byte(content)}}})
	s.mu.Unlock()
	s.notify <- n
	return n
}

func (s *fakeStore) Latest(ctx context.Context) (moderation.RuleVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.versions) == 0 {
		return moderation.RuleVersion{}, moderation.ErrNotFound
	}
	return s.versions[len(s.versions)-1], nil
}

func (s *fakeStore) Version(ctx context.Context, n int64) (moderation.RuleVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 1 || int(n) > len(s.versions) {
		return moderation.RuleVersion{}, moderation.ErrNotFound
	}
	return s.versions[n-1], nil
}

func (s *fakeStore) LatestVersion(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.versions)), nil
}

func (s *fakeStore) Listen(ctx context.Context, ready func(), notify func(int64)) error {
	ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case v := <-s.notify:
			notify(v)
		}
	}
}

func fallback() (*ruleset.Set, error) {
	return ruleset.Compile([]ruleset.File{{Name: "local.yaml", Data: []byte(rulesYAML("local", "hello", "low"))}})
}

func matchRule(t *testing.T, r *Reloader, text string) string {
	t.Helper()
	v, err := r.Engine().Evaluate(context.Background(), moderation.Post{ID: "p", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Matches) == 0 {
		return ""
	}
	return fmt.Sprintf("%s@%d", v.Matches[0].RuleID, v.Matches[0].RuleVersion)
}

type info map[string]string

func (i info) SetInfo(k, v string) { i[k] = v }

func TestReloaderFollowsPublishedVersions(t *testing.T) {
	store := newFakeStore()
	reg := prometheus.NewRegistry()
	swaps := make(chan int64, 16)
	inf := info{}
	r, err := New(context.Background(), Options{Store: store, Fallback: fallback, Registerer: reg, Info: inf,
		Poll: time.Hour, OnSwap: func(v int64) { swaps <- v }})
	if err != nil {
		t.Fatal(err)
	}
	<-swaps
	if r.Version() != 0 || matchRule(t, r, "hello") != "local@0" || inf["rule_version"] != "0" {
		t.Fatalf("nothing published: version %d, match %s", r.Version(), matchRule(t, r, "hello"))
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

	store.publish(rulesYAML("one", "alpha", "low"))
	if v := <-swaps; v != 1 || matchRule(t, r, "alpha") != "one@1" || matchRule(t, r, "hello") != "" {
		t.Fatalf("after v1: swap %d, %s", v, matchRule(t, r, "alpha"))
	}
	// A broken version is skipped; the next good one is taken.
	store.publish(rulesYAML("two", "beta", "apocalyptic"))
	store.publish(rulesYAML("three", "gamma", "high"))
	if v := <-swaps; v != 3 {
		t.Fatalf("swapped to %d, want 3", v)
	}
	if matchRule(t, r, "gamma") != "three@3" || inf["rule_version"] != "3" {
		t.Fatalf("after v3: %s", matchRule(t, r, "gamma"))
	}
	if got := testutil.ToFloat64(r.m.version); got != 3 {
		t.Errorf("active version gauge %v", got)
	}
	if err := testutil.GatherAndCompare(reg, stringsReader(`
# HELP vigil_rules_info 1 for the active rule version, as a label; 0 for none.
# TYPE vigil_rules_info gauge
vigil_rules_info{version="3"} 1
`), "vigil_rules_info"); err != nil {
		t.Error(err)
	}
	// Only a broken version: the last good one stays.
	before := testutil.ToFloat64(r.m.reloads.WithLabelValues("error"))
	store.publish(rulesYAML("four", "delta", "apocalyptic"))
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(r.m.reloads.WithLabelValues("error")) == before {
		if time.Now().After(deadline) {
			t.Fatal("broken version 4 not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.Version() != 3 {
		t.Fatalf("active %d after a broken version, want 3", r.Version())
	}
	if err := r.Check(context.Background()); err != nil {
		t.Errorf("re-check of a known broken version: %v", err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("metric lint: %v %+v", err, probs)
	}
}

func TestReloaderStartsFromNewestGoodVersion(t *testing.T) {
	store := newFakeStore()
	store.publish(rulesYAML("one", "alpha", "low"))
	store.publish(rulesYAML("two", "beta", "apocalyptic"))
	r, err := New(context.Background(), Options{Store: store, Fallback: fallback})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version() != 1 {
		t.Fatalf("started on %d, want 1 (2 does not compile)", r.Version())
	}
	// Without a fallback and nothing published, start fails.
	if _, err := New(context.Background(), Options{Store: newFakeStore()}); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("nothing published, no fallback: %v", err)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
