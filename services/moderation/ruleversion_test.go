package moderation_test

import (
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func TestPrecisionPolicyLow(t *testing.T) {
	t.Parallel()
	pp := moderation.PrecisionPolicy{}.WithDefaults()
	if pp != moderation.DefaultPrecisionPolicy || pp.Threshold != 0.5 || pp.MinDecided != 20 {
		t.Fatalf("defaults %+v", pp)
	}
	for _, tc := range []struct {
		name                 string
		removed, noViolation int64
		low                  bool
	}{
		{"nothing decided", 0, 0, false},
		{"one no_violation is too few to judge", 0, 1, false},
		{"19 decided", 0, 19, false},
		{"20 decided, below", 9, 11, true},
		{"20 decided, at the threshold", 10, 10, false},
		{"many, precise", 90, 10, false},
	} {
		p := moderation.RulePrecision{Removed: tc.removed, NoViolation: tc.noViolation}
		if got := pp.Low(p); got != tc.low {
			t.Errorf("%s: Low = %v, want %v", tc.name, got, tc.low)
		}
	}
}
