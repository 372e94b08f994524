package moderation_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func TestAppealInputValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := moderation.AppealInput{PostID: "p1", AppealID: "a1", Statement: strings.Repeat("字", moderation.MaxStatementLen), ReceivedAt: now}
	if err := ok.Validate(now); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	for name, mut := range map[string]func(*moderation.AppealInput){
		"no post":         func(in *moderation.AppealInput) { in.PostID = "" },
		"control in post": func(in *moderation.AppealInput) { in.PostID = "p\x01" },
		"no appeal id":    func(in *moderation.AppealInput) { in.AppealID = "" },
		"long appeal id":  func(in *moderation.AppealInput) { in.AppealID = strings.Repeat("a", moderation.MaxAppealIDBytes+1) },
		"long statement":  func(in *moderation.AppealInput) { in.Statement += "x" },
		"NUL statement":   func(in *moderation.AppealInput) { in.Statement = "a\x00" },
		"invalid UTF-8":   func(in *moderation.AppealInput) { in.Statement = "a\xff" },
		"no receipt time": func(in *moderation.AppealInput) { in.ReceivedAt = time.Time{} },
		"future receipt":  func(in *moderation.AppealInput) { in.ReceivedAt = now.Add(moderation.MaxAppealClockSkew + time.Second) },
	} {
		in := ok
		mut(&in)
		if err := in.Validate(now); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	stored := moderation.Appeal{PostID: "p1", Statement: ok.Statement, ReceivedAt: now.Add(123 * time.Nanosecond).Truncate(time.Microsecond)}
	if !ok.Same(stored) {
		t.Error("the same complaint is not Same")
	}
	other := ok
	other.Statement = "else"
	if other.Same(stored) {
		t.Error("another statement is Same")
	}
}

func TestAppealResolutionValidate(t *testing.T) {
	t.Parallel()
	codes := moderation.DefaultReasonCodes
	for _, c := range []struct {
		in moderation.AppealResolution
		ok bool
	}{
		{moderation.AppealResolution{Outcome: "reinstate", ReasonCode: "NV-1"}, true},
		{moderation.AppealResolution{Outcome: "uphold", ReasonCode: "TC-1", Note: "stands"}, true},
		{moderation.AppealResolution{Outcome: "reinstate", ReasonCode: "TC-1"}, false},
		{moderation.AppealResolution{Outcome: "uphold", ReasonCode: "NV-2"}, false},
		{moderation.AppealResolution{Outcome: "uphold", ReasonCode: "ESC-1"}, false},
		{moderation.AppealResolution{Outcome: "uphold", ReasonCode: "NOPE-1"}, false},
		{moderation.AppealResolution{Outcome: "uphold", ReasonCode: "TC-1", Note: strings.Repeat("n", moderation.MaxNoteLen+1)}, false},
		{moderation.AppealResolution{Outcome: "upheld", ReasonCode: "TC-1"}, false},
	} {
		err := c.in.Validate(codes)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, moderation.ErrInvalid)) {
			t.Errorf("%+v: %v, want ok %v", c.in, err, c.ok)
		}
	}
}
