package moderation_test

import (
	"errors"
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
		// A bank entry is judged as a rule is.
		e := moderation.BankEntryPrecision{Bank: "b", EntryID: "e", Removed: tc.removed, NoViolation: tc.noViolation}
		if got := pp.LowEntry(e); got != tc.low {
			t.Errorf("%s: LowEntry = %v, want %v", tc.name, got, tc.low)
		}
	}
}

func TestPrecisionPolicyValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pp moderation.PrecisionPolicy
		ok bool
	}{
		{moderation.PrecisionPolicy{}, true},
		{moderation.DefaultPrecisionPolicy, true},
		{moderation.PrecisionPolicy{Threshold: 1, MinDecided: 1}, true},
		{moderation.PrecisionPolicy{Threshold: 1.5}, false},
		{moderation.PrecisionPolicy{Threshold: -0.5}, false},
		{moderation.PrecisionPolicy{Threshold: 0.5, MinDecided: -1}, false},
	} {
		if err := tc.pp.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, moderation.ErrInvalid)) {
			t.Errorf("%+v: %v, want ok=%v", tc.pp, err, tc.ok)
		}
	}
}
