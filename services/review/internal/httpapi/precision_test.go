package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/precision"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

// TestRulePrecisionLowAgreesWithMetric: the API marks a rule low exactly
// when vigil_rules_low_precision does: below the threshold with at least
// the policy's decided items. It used to mark a rule low after a single
// no_violation.
func TestRulePrecisionLowAgreesWithMetric(t *testing.T) {
	t.Parallel()
	rows := []moderation.RulePrecision{
		{RuleID: "one.decision", RuleVersion: 1, Flagged: 3, NoViolation: 1},
		{RuleID: "nineteen", RuleVersion: 1, Flagged: 19, Removed: 2, NoViolation: 17},
		{RuleID: "twenty", RuleVersion: 1, Flagged: 20, Removed: 2, NoViolation: 18},
		{RuleID: "good", RuleVersion: 2, Flagged: 40, Removed: 30, NoViolation: 10},
		{RuleID: "undecided", RuleVersion: 2, Flagged: 5},
	}
	src := func(context.Context, time.Time) ([]moderation.RulePrecision, error) { return rows, nil }
	e := newEnv(t, func(s *httpapi.Server) {
		s.PrecisionThreshold, s.PrecisionMinDecided = 0, 0 // the defaults: 0.5 and 20
		s.Precision = func(ctx context.Context, since time.Time, _ string) ([]moderation.RulePrecision, error) {
			return src(ctx, since)
		}
	})
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	var got struct {
		Threshold  float64 `json:"threshold"`
		MinDecided int64   `json:"min_decided"`
		Rules      []struct {
			Rule    string `json:"rule"`
			Version int64  `json:"version"`
			Low     bool   `json:"low"`
		} `json:"rules"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/rules/precision", nil), 200).decode(t, &got)
	if got.Threshold != 0.5 || got.MinDecided != 20 || len(got.Rules) != len(rows) {
		t.Fatalf("precision response %+v", got)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(precision.NewCollector(src, precision.Options{}))
	var want strings.Builder
	want.WriteString("# HELP vigil_rules_low_precision 1 if the rule version's precision is below the threshold with enough decided items, else 0.\n# TYPE vigil_rules_low_precision gauge\n")
	var lowRules []string
	for _, r := range got.Rules {
		v := "0"
		if r.Low {
			v = "1"
			lowRules = append(lowRules, r.Rule)
		}
		fmt.Fprintf(&want, "vigil_rules_low_precision{rule=%q,version=\"%d\"} %s\n", r.Rule, r.Version, v)
	}
	if strings.Join(lowRules, ",") != "twenty" {
		t.Errorf("API marks %v low, want only twenty (one decision, or 19, are too few to judge)", lowRules)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want.String()), "vigil_rules_low_precision"); err != nil {
		t.Errorf("the metric disagrees with the API: %v", err)
	}
}

// TestBankPrecision: per-entry precision passes its filters on, marks
// entries low by the rules' policy (too few decisions are not low), and
// refuses malformed parameters.
func TestBankPrecision(t *testing.T) {
	t.Parallel()
	rows := []moderation.BankEntryPrecision{
		{Bank: "shared", EntryID: "meme", HashType: "pdq", Flagged: 30, Removed: 2, NoViolation: 25, MedianDistance: 0},
		{Bank: "shared", EntryID: "<b>two</b>", HashType: "pdq", Flagged: 3, NoViolation: 2},
		{Bank: "shared", EntryID: "good", HashType: "pdq", Flagged: 40, Removed: 38, NoViolation: 1, MedianDecision: 90 * time.Second},
		{Bank: "shared", EntryID: "pending", HashType: "pdq", Flagged: 4},
	}
	var gotArgs string
	e := newEnv(t, func(s *httpapi.Server) {
		s.PrecisionThreshold, s.PrecisionMinDecided = 0, 0 // the defaults: 0.5 and 20
		s.BankPrecision = func(_ context.Context, since time.Time, bank string, minDecided int64, limit int) ([]moderation.BankEntryPrecision, error) {
			gotArgs = fmt.Sprintf("%s %q %d %d", since.UTC().Format(time.RFC3339), bank, minDecided, limit)
			return rows, nil
		}
	})
	eng := e.session(e.user("eng", moderation.RoleRuleEngineer))
	var got struct {
		Threshold     float64 `json:"threshold"`
		LowMinDecided int64   `json:"low_min_decided"`
		Limit         int64   `json:"limit"`
		Entries       []struct {
			Bank          string   `json:"bank"`
			Entry         string   `json:"entry"`
			Decided       int64    `json:"decided"`
			Precision     *float64 `json:"precision"`
			MedianSeconds float64  `json:"median_time_to_decision_seconds"`
			Low           bool     `json:"low"`
		} `json:"entries"`
	}
	e.must(e.do(eng, "GET", "/api/v1/banks/precision", nil), 200).decode(t, &got)
	if want := fmt.Sprintf("%s \"\" 0 100", e.clock.Now().Add(-30*24*time.Hour).UTC().Format(time.RFC3339)); gotArgs != want {
		t.Errorf("defaults passed %s, want %s", gotArgs, want)
	}
	if got.Threshold != 0.5 || got.LowMinDecided != 20 || got.Limit != 100 || len(got.Entries) != len(rows) {
		t.Fatalf("response %+v", got)
	}
	var low []string
	for i, r := range got.Entries {
		if r.Low {
			low = append(low, r.Entry)
		}
		if r.Low != moderation.DefaultPrecisionPolicy.LowEntry(rows[i]) || r.Bank != rows[i].Bank || r.Entry != rows[i].EntryID {
			t.Errorf("entry %d: %+v, from %+v", i, r, rows[i])
		}
	}
	if strings.Join(low, ",") != "meme" {
		t.Errorf("low entries %v, want only meme (two decisions are too few to judge)", low)
	}
	if g := got.Entries[2]; g.Decided != 39 || g.Precision == nil || *g.Precision < 0.97 || g.MedianSeconds != 90 {
		t.Errorf("good entry %+v", g)
	}
	if got.Entries[3].Precision != nil {
		t.Errorf("undecided entry has a precision: %+v", got.Entries[3])
	}
	e.must(e.do(eng, "GET", "/api/v1/banks/precision?since=2026-01-02T03:04:05Z&bank=gifct.v2&min_decided=5&limit=7", nil), 200)
	if gotArgs != `2026-01-02T03:04:05Z "gifct.v2" 5 7` {
		t.Errorf("filters passed %s", gotArgs)
	}
	for q, want := range map[string]string{
		"since=yesterday":                 "since must be an RFC 3339 timestamp",
		"bank=Shared":                     "bank must be a bank name",
		"bank=" + strings.Repeat("a", 65): "bank is longer than 64 bytes",
		"min_decided=-1":                  "min_decided must be an integer from 0",
		"min_decided=many":                "min_decided must be an integer from 0",
		"limit=0":                         "limit must be an integer from 1 to 1000",
		"limit=1001":                      "limit must be an integer from 1 to 1000",
		"rule=bank:shared":                "unknown query parameter",
	} {
		r := e.do(eng, "GET", "/api/v1/banks/precision?"+q, nil)
		if r.status != 400 || r.code() != "invalid" || !strings.Contains(string(r.body), want) {
			t.Errorf("?%s: %d %s, want 400 saying %q", q, r.status, r.body, want)
		}
	}
}
