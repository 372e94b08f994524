package precision

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestCollector(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
	calls := 0
	var since time.Time
	fail := false
	src := func(ctx context.Context, s time.Time) ([]moderation.RulePrecision, error) {
		calls++
		since = s
		if fail {
			return nil, errors.New("db down")
		}
		return []moderation.RulePrecision{
			{RuleID: "hate.x", RuleVersion: 3, Flagged: 40, Removed: 5, NoViolation: 25, MedianDecision: 90 * time.Second},
			{RuleID: "spam.y", RuleVersion: 3, Flagged: 10, Removed: 1, NoViolation: 4}, // low, but too few decided
			{RuleID: "threat.z", RuleVersion: 2, Flagged: 7},                            // nothing decided
		}, nil
	}
	c := NewCollector(src, Options{Clock: clock, Threshold: 0.5, MinDecided: 20, Window: 24 * time.Hour})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `
# HELP vigil_rules_low_precision 1 if the rule version's precision is below the threshold with enough decided items, else 0.
# TYPE vigil_rules_low_precision gauge
vigil_rules_low_precision{rule="hate.x",version="3"} 1
vigil_rules_low_precision{rule="spam.y",version="3"} 0
vigil_rules_low_precision{rule="threat.z",version="2"} 0
# HELP vigil_rules_precision_ratio Removed / (removed + no_violation) of the rule version's items; absent until one is decided.
# TYPE vigil_rules_precision_ratio gauge
vigil_rules_precision_ratio{rule="hate.x",version="3"} 0.16666666666666666
vigil_rules_precision_ratio{rule="spam.y",version="3"} 0.2
# HELP vigil_rules_precision_up 1 if the last precision query succeeded.
# TYPE vigil_rules_precision_up gauge
vigil_rules_precision_up 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vigil_rules_low_precision", "vigil_rules_precision_ratio", "vigil_rules_precision_up"); err != nil {
		t.Error(err)
	}
	if !since.Equal(clock.t.Add(-24 * time.Hour)) {
		t.Errorf("window start %v", since)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %+v", err, probs)
	}
	// Cached within CacheFor; then a failure keeps the last numbers, down.
	_, _ = reg.Gather()
	if calls != 1 {
		t.Errorf("%d queries within the cache period, want 1", calls)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	fail = true
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP vigil_rules_precision_up 1 if the last precision query succeeded.
# TYPE vigil_rules_precision_up gauge
vigil_rules_precision_up 0
`), "vigil_rules_precision_up"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "vigil_rules_flagged_items"); n != 3 {
		t.Errorf("%d flagged series after a failure, want the last 3", n)
	}
}

// TestCollectorBankEntries: with Options.Entries, each bank that matched
// items gets its count of low entries (0 when none, so an alert
// resolves), judged by the rules' policy, asked only for entries with
// enough decided items to be low; a failing query is reported apart.
func TestCollectorBankEntries(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
	src := func(context.Context, time.Time) ([]moderation.RulePrecision, error) {
		return []moderation.RulePrecision{
			{RuleID: "bank:shared", Flagged: 80, Removed: 40, NoViolation: 30},
			{RuleID: "bank:quiet", Flagged: 3, Removed: 3},
			{RuleID: "hate.x", RuleVersion: 3, Flagged: 4, Removed: 4},
		}, nil
	}
	var since time.Time
	var minDecided int64
	fail := false
	entries := func(_ context.Context, s time.Time, n int64) ([]moderation.BankEntryPrecision, error) {
		since, minDecided = s, n
		if fail {
			return nil, errors.New("db down")
		}
		return []moderation.BankEntryPrecision{
			{Bank: "shared", EntryID: "meme", Flagged: 30, Removed: 2, NoViolation: 25},
			{Bank: "shared", EntryID: "logo", Flagged: 25, Removed: 5, NoViolation: 20},
			{Bank: "shared", EntryID: "good", Flagged: 30, Removed: 30},
		}, nil
	}
	c := NewCollector(src, Options{Clock: clock, Window: 24 * time.Hour, Entries: entries})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `
# HELP vigil_banks_low_precision_entries Entries of the hash bank whose precision is below the threshold with enough decided items.
# TYPE vigil_banks_low_precision_entries gauge
vigil_banks_low_precision_entries{bank="quiet"} 0
vigil_banks_low_precision_entries{bank="shared"} 2
# HELP vigil_banks_precision_up 1 if the last per-entry precision query succeeded.
# TYPE vigil_banks_precision_up gauge
vigil_banks_precision_up 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vigil_banks_low_precision_entries", "vigil_banks_precision_up"); err != nil {
		t.Error(err)
	}
	if !since.Equal(clock.t.Add(-24*time.Hour)) || minDecided != moderation.DefaultPrecisionPolicy.MinDecided {
		t.Errorf("entries asked since %v with %d decided", since, minDecided)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %+v", err, probs)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	fail = true
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP vigil_banks_precision_up 1 if the last per-entry precision query succeeded.
# TYPE vigil_banks_precision_up gauge
vigil_banks_precision_up 0
# HELP vigil_rules_precision_up 1 if the last precision query succeeded.
# TYPE vigil_rules_precision_up gauge
vigil_rules_precision_up 1
`), "vigil_banks_precision_up", "vigil_rules_precision_up"); err != nil {
		t.Error(err)
	}
	// Without Options.Entries, no bank-entry series.
	plain := NewCollector(src, Options{Clock: clock})
	if n := testutil.CollectAndCount(plain, "vigil_banks_low_precision_entries", "vigil_banks_precision_up"); n != 0 {
		t.Errorf("%d bank-entry series without Options.Entries", n)
	}
}
