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
