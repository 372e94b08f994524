package moderation_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func TestParseReportPeriod(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		from, to string
		want     moderation.ReportPeriod
		err      string // part of the message; "" when valid
	}{
		{"2025-01-01", "2026-01-01", moderation.ReportPeriod{From: day(2025, 1, 1), To: day(2026, 1, 1)}, ""},
		{"2024-01-01", "2025-01-01", moderation.ReportPeriod{From: day(2024, 1, 1), To: day(2025, 1, 1)}, ""}, // leap year: 366 days
		{"2026-01-01T01:00:00+01:00", "2026-01-02T00:00:00Z", moderation.ReportPeriod{From: day(2026, 1, 1), To: day(2026, 1, 2)}, ""},
		{"2026-01-01T00:00:00.5Z", "2026-01-01T00:00:01Z", moderation.ReportPeriod{From: day(2026, 1, 1).Add(500 * time.Millisecond), To: day(2026, 1, 1).Add(time.Second)}, ""},
		{"", "2026-01-01", moderation.ReportPeriod{}, "from is required"},
		{"2026-01-01", "", moderation.ReportPeriod{}, "to is required"},
		{"yesterday", "2026-01-01", moderation.ReportPeriod{}, `from "yesterday" must be an RFC 3339 timestamp or a date`},
		{"2026-13-01", "2027-01-01", moderation.ReportPeriod{}, "must be an RFC 3339"},
		{"2026-02-30", "2026-03-01", moderation.ReportPeriod{}, "must be an RFC 3339"},
		{"2026-01-01T00:00:00", "2026-01-02", moderation.ReportPeriod{}, "must be an RFC 3339"}, // no zone
		{"2026-01-01", "1/2/2026", moderation.ReportPeriod{}, `to "1/2/2026"`},
		{"2026-01-01", "2026-01-01", moderation.ReportPeriod{}, "must be before to"},
		{"2026-02-01", "2026-01-01", moderation.ReportPeriod{}, "must be before to"},
		{"2025-01-01", "2026-01-02", moderation.ReportPeriod{From: day(2025, 1, 1), To: day(2026, 1, 2)}, ""}, // 366 days
		{"2025-01-01", "2026-01-03", moderation.ReportPeriod{}, "longer than 366 days"},
		{"2024-01-01", "2025-01-01T00:00:01Z", moderation.ReportPeriod{}, "longer than 366 days"},
	} {
		got, err := moderation.ParseReportPeriod(c.from, c.to)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q %q: %v", c.from, c.to, err)
		case c.err == "" && (!got.From.Equal(c.want.From) || !got.To.Equal(c.want.To) || got.From.Location() != time.UTC):
			t.Errorf("%q %q = %+v, want %+v", c.from, c.to, got, c.want)
		case c.err != "" && (!errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q %q: err %v, want ErrInvalid saying %q", c.from, c.to, err, c.err)
		}
	}
}

func TestParseReportFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]moderation.ReportFormat{"": moderation.FormatMarkdown, "json": moderation.FormatJSON,
		"csv": moderation.FormatCSV, "markdown": moderation.FormatMarkdown} {
		if got, err := moderation.ParseReportFormat(in, moderation.FormatMarkdown); err != nil || got != want {
			t.Errorf("ParseReportFormat(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"md", "JSON", "pdf", "csv "} {
		if _, err := moderation.ParseReportFormat(bad, moderation.FormatJSON); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("ParseReportFormat(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func TestReportPeriodContains(t *testing.T) {
	t.Parallel()
	p := moderation.ReportPeriod{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	if !p.Contains(p.From) || p.Contains(p.To) || !p.Contains(p.To.Add(-time.Nanosecond)) || p.Contains(p.From.Add(-time.Nanosecond)) {
		t.Error("the period is not [from, to)")
	}
}

// FuzzParseReportPeriod: whatever the input, an accepted period is a
// non-empty UTC interval of at most MaxReportPeriod, and a refusal is
// ErrInvalid.
func FuzzParseReportPeriod(f *testing.F) {
	f.Add("2025-01-01", "2026-01-01")
	f.Add("2026-01-01T01:00:00+01:00", "2026-01-02T00:00:00.123Z")
	f.Add("2026-02-30", "x")
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := moderation.ParseReportPeriod(from, to)
		if err != nil {
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("%q %q: %v is not ErrInvalid", from, to, err)
			}
			return
		}
		if !p.From.Before(p.To) || p.To.Sub(p.From) > moderation.MaxReportPeriod || p.From.Location() != time.UTC || p.To.Location() != time.UTC {
			t.Fatalf("%q %q accepted as %+v", from, to, p)
		}
	})
}

func TestDetectionSource(t *testing.T) {
	t.Parallel()
	kw := moderation.Match{RuleID: "r1"}
	hb := moderation.Match{Bank: "b", EntryID: "e"}
	for want, ms := range map[string][]moderation.Match{
		moderation.SourceNoneMatched: nil,
		moderation.SourceKeyword:     {kw, kw},
		moderation.SourceHashBank:    {hb},
		moderation.SourceBoth:        {hb, kw},
	} {
		if got := moderation.DetectionSource(ms); got != want {
			t.Errorf("DetectionSource(%+v) = %q, want %q", ms, got, want)
		}
	}
}

// TestTitleReasons: each reason code gets its configured title; one no
// longer configured keeps none.
func TestTitleReasons(t *testing.T) {
	t.Parallel()
	r := moderation.TransparencyReport{ByReason: []moderation.ReasonCount{{Code: "TC-1"}, {Code: "OLD-1", Title: "stale"}}}
	r.TitleReasons(moderation.DefaultReasonCodes)
	if r.ByReason[0].Title != "Terrorist propaganda or recruitment" || r.ByReason[1].Title != "" {
		t.Errorf("titles %+v", r.ByReason)
	}
}
