package moderation

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecisionInputValidate(t *testing.T) {
	long := strings.Repeat("x", MaxNoteLen+1)
	for _, c := range []struct {
		in DecisionInput
		ok bool
	}{
		{DecisionInput{Action: ActionRemove, ReasonCode: "TC-1"}, true},
		{DecisionInput{Action: ActionNoViolation, ReasonCode: "NV-1"}, true},
		{DecisionInput{Action: ActionNoViolation, ReasonCode: "TC-1"}, false}, // code does not apply
		{DecisionInput{Action: ActionEscalate, ReasonCode: "ESC-1"}, true},
		{DecisionInput{Action: ActionReport, ReasonCode: "VT-1"}, false}, // report needs a note
		{DecisionInput{Action: ActionReport, ReasonCode: "VT-1", Note: "case 1"}, true},
		{DecisionInput{Action: ActionRemove, ReasonCode: "TC-1", Note: long}, false},
		{DecisionInput{Action: ActionRemove, ReasonCode: "TC-1", Note: "\xff"}, false},
		{DecisionInput{Action: "delete", ReasonCode: "TC-1"}, false},
		{DecisionInput{Action: ActionRemove, ReasonCode: "XX-9"}, false},
	} {
		err := c.in.Validate(DefaultReasonCodes)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("Validate(%+.40v) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
	if !ActionRemove.Final() || ActionEscalate.Final() {
		t.Error("Final")
	}
}

// TestDecisionNoteLength: the note is bounded in characters, not bytes,
// as the page's field counts them: 4000 letters of Arabic (two bytes
// each), CJK (three) or emoji (four) pass, one more does not.
func TestDecisionNoteLength(t *testing.T) {
	for _, c := range []struct {
		name string
		note string
		ok   bool
	}{
		{"ascii at the limit", strings.Repeat("n", MaxNoteLen), true},
		{"ascii over", strings.Repeat("n", MaxNoteLen+1), false},
		{"arabic at the limit", strings.Repeat("م", MaxNoteLen), true},
		{"arabic over", strings.Repeat("م", MaxNoteLen+1), false},
		{"cjk at the limit", strings.Repeat("注", MaxNoteLen), true},
		{"cjk over", strings.Repeat("注", MaxNoteLen+1), false},
		{"emoji at the limit", strings.Repeat("🚩", MaxNoteLen), true},
		{"emoji over", strings.Repeat("🚩", MaxNoteLen+1), false},
		{"mixed at the limit", strings.Repeat("aم注🚩", MaxNoteLen/4), true},
		{"mixed over", strings.Repeat("aم注🚩", MaxNoteLen/4) + "x", false},
		{"invalid UTF-8, short", "note \xff", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := DecisionInput{Action: ActionRemove, ReasonCode: "TC-1", Note: c.note}.Validate(DefaultReasonCodes)
			if c.ok {
				if err != nil {
					t.Fatalf("note of %d bytes: %v, want it accepted", len(c.note), err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "at most 4000 characters") {
				t.Fatalf("note of %d bytes: %v, want ErrInvalid saying at most 4000 characters", len(c.note), err)
			}
		})
	}
}

func TestParseReasonCodes(t *testing.T) {
	codes, err := ParseReasonCodes("codes.txt", strings.NewReader(`
# policy reasons
TC-1 [remove, report, escalate] Terrorist propaganda
NV-1	No violation
SPAM-12  [remove] Spam
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 3 || codes[1].Title != "No violation" || len(codes[1].Actions) != 0 || len(codes[0].Actions) != 3 {
		t.Fatalf("codes = %+v", codes)
	}
	if rc, _ := codes.Lookup("SPAM-12"); rc.AppliesTo(ActionNoViolation) || !rc.AppliesTo(ActionRemove) {
		t.Fatal("AppliesTo")
	}
	for _, bad := range []string{"", "# only comments", "tc-1 lower", "TC-1", "TC-1 [remove Spam", "TC-1 [delete] x",
		"TC-1 a\nTC-1 b", "TOOLONGPREFIXXXXXX-1 x"} {
		if _, err := ParseReasonCodes("codes.txt", strings.NewReader(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseReasonCodes(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	// Errors name the file and line; every action needs a code.
	for bad, want := range map[string]string{
		"# c\nTC-1 [remove] Terror\nbad code here":       "codes.txt:3: reason code \"bad\" must look like ABC-1",
		"TC-1 [remove, report, escalate] Terror":         "codes.txt: no reason code applies to no_violation",
		"TC-1 [remove] Terror\nNV-1 [no_violation] Fine": "codes.txt: no reason code applies to escalate",
	} {
		if _, err := ParseReasonCodes("codes.txt", strings.NewReader(bad)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseReasonCodes(%q) = %v, want ErrInvalid saying %q", bad, err, want)
		}
	}
	for _, a := range Actions {
		if !slices.ContainsFunc(DefaultReasonCodes, func(rc ReasonCode) bool { return rc.AppliesTo(a) }) {
			t.Errorf("no default reason code applies to %s", a)
		}
	}
}

func FuzzParseReasonCodes(f *testing.F) {
	f.Add("TC-1 [remove] Terror\nNV-1 fine\n")
	f.Add("TC-1 [remove, report] Terror\nNV-1 [no_violation,escalate] fine\n")
	f.Add("# c\n\nA-1\t[escalate,report] t")
	f.Fuzz(func(t *testing.T, s string) {
		codes, err := ParseReasonCodes("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if !reasonCodeRE.MatchString(c.Code) || c.Title == "" || seen[c.Code] {
				t.Fatalf("accepted %+v", c)
			}
			seen[c.Code] = true
		}
	})
}

func TestRetention(t *testing.T) {
	now := time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC)
	for s, want := range map[string]time.Time{
		"6mo":  time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), // AddDate normalises Feb 31
		"180d": now.Add(-180 * 24 * time.Hour),
		"720h": now.Add(-720 * time.Hour),
	} {
		r, err := ParseRetention(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Cutoff(now); !got.Equal(want) {
			t.Errorf("%s: cutoff %v, want %v", s, got, want)
		}
		if r.String() == "" {
			t.Error("empty String")
		}
	}
	for _, bad := range []string{"", "0mo", "-1d", "5m", "six months", "1y"} {
		if _, err := ParseRetention(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRetention(%q) = %v", bad, err)
		}
	}
}

func FuzzParseRetention(f *testing.F) {
	for _, s := range []string{"6mo", "180d", "720h", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRetention(s)
		if err != nil {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if !r.Cutoff(now).Before(now.Add(-59 * time.Minute)) {
			t.Fatalf("%q accepted with a cutoff under an hour ago", s)
		}
	})
}

func TestParseActorDisclosure(t *testing.T) {
	for in, want := range map[string]ActorDisclosure{"": DiscloseName, "name": DiscloseName, "id": DiscloseID, "none": DiscloseNone} {
		if got, err := ParseActorDisclosure(in); err != nil || got != want {
			t.Errorf("ParseActorDisclosure(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseActorDisclosure("email"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseActorDisclosure(email): %v, want ErrInvalid", err)
	}
	if got := DiscloseID.Actor("mona", 7); got != "user:7" {
		t.Errorf("DiscloseID.Actor = %q", got)
	}
}

func TestParseClusterKey(t *testing.T) {
	cases := []struct {
		in          string
		bank, entry string // "" = invalid
	}{
		{"b:e1", "b", "e1"},
		{"gifct.pdq-2026:sha/with:colons", "gifct.pdq-2026", "sha/with:colons"},
		{"b:" + strings.Repeat("é", 128), "b", strings.Repeat("é", 128)},
		{"b", "", ""},
		{":e1", "", ""},
		{"B:e1", "", ""},
		{"-b:e1", "", ""},
		{"b b:e1", "", ""},
		{strings.Repeat("b", 65) + ":e1", "", ""},
		{"b:", "", ""},
		{"b:" + strings.Repeat("x", MaxEntryID+1), "", ""},
		{"b:e\n1", "", ""},
		{"b:e\x001", "", ""},
		{"b:\xff", "", ""},
	}
	for _, c := range cases {
		k, err := ParseClusterKey(c.in)
		if c.bank == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseClusterKey(%q) = %+v, %v; want ErrInvalid", c.in, k, err)
			}
			continue
		}
		if err != nil || k.Bank != c.bank || k.Entry != c.entry || k.String() != c.in {
			t.Errorf("ParseClusterKey(%q) = %+v, %v; want %s / %s", c.in, k, err, c.bank, c.entry)
		}
	}
}

// FuzzParseClusterKey: whatever it accepts names a valid bank and prints
// back to the same id.
func FuzzParseClusterKey(f *testing.F) {
	for _, s := range []string{"b:e1", "b:", ":", "b:a:b", "Z:1", "b:\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseClusterKey(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if !ValidBankName(k.Bank) || k.Entry == "" || k.String() != s {
			t.Fatalf("%q parsed to %+v", s, k)
		}
	})
}
