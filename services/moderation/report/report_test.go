package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/report"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	moderationtest.Golden(t, *update, name, got)
}

// sample is a report with every kind of row, a category that tries to
// break out of its Markdown cell and a reason code that is a formula.
func sample() moderation.TransparencyReport {
	m := time.Minute
	tc := moderation.ReportCounts{
		Flagged: 5, Decided: 3, Decisions: moderation.ActionCounts{Remove: 2, NoViolation: 1, Escalate: 1, Report: 2},
		Referrals: 2, Reversals: 2, Restored: 1,
		TimeToAction: moderation.TimeToAction{Items: 3, P50: 30 * m, P90: 2 * time.Hour, P99: 2 * time.Hour, Max: 2*time.Hour + 1500*time.Millisecond},
		SLAMet:       2, SLAMissed: 1, OpenAtEnd: 2,
	}
	hostile := moderation.ReportCounts{Flagged: 1, OpenAtEnd: 1, OverdueAtEnd: 1}
	total := tc
	total.Flagged += hostile.Flagged
	total.OpenAtEnd++
	total.OverdueAtEnd++
	fast := moderation.ReportCounts{Flagged: 1, Decided: 1, Decisions: moderation.ActionCounts{NoViolation: 1}, SLAMet: 1,
		TimeToAction: moderation.TimeToAction{Items: 1, P50: 250 * time.Millisecond, P90: 250 * time.Millisecond, P99: 250 * time.Millisecond, Max: 250 * time.Millisecond}}
	return moderation.TransparencyReport{
		Period:      moderation.ReportPeriod{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		GeneratedAt: time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		Total:       total,
		ByCategory: []moderation.ReportGroup{
			{Key: "hate|<b>bold</b>\n*x*", ReportCounts: hostile},
			{Key: "terrorist_content", ReportCounts: tc},
		},
		BySource: []moderation.ReportGroup{
			{Key: moderation.SourceKeyword, ReportCounts: tc},
			{Key: moderation.SourceHashBank, ReportCounts: hostile},
			{Key: moderation.SourceBoth, ReportCounts: fast},
		},
		ByReason: []moderation.ReasonCount{
			{Code: "ESC-1", Title: "Unsure: needs a lead's judgement", Decisions: moderation.ActionCounts{Escalate: 1}},
			{Code: "=1+1", Title: "@SUM(A1)|<i>x</i>", Decisions: moderation.ActionCounts{Remove: 2, Report: 2}},
		},
		Appeals: moderation.AppealCounts{Received: 4, Upheld: 2, Reinstated: 1, OpenAtEnd: 1,
			TimeToResolution: moderation.ResolutionTime{Resolved: 3, Median: 26*time.Hour + 5*time.Second}},
		AppealsByCategory: []moderation.AppealGroup{
			{Key: "-hate|<b>x</b>", AppealCounts: moderation.AppealCounts{Received: 1, OpenAtEnd: 1}},
			{Key: "terrorist_content", AppealCounts: moderation.AppealCounts{Received: 3, Upheld: 2, Reinstated: 1,
				TimeToResolution: moderation.ResolutionTime{Resolved: 3, Median: 26*time.Hour + 5*time.Second}}},
		},
	}
}

func render(t *testing.T, f moderation.ReportFormat, r moderation.TransparencyReport) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, f, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMarkdownGolden: the publishable report, byte for byte; cells from
// the data cannot end their cell, start HTML or emphasis.
func TestMarkdownGolden(t *testing.T) {
	got := render(t, moderation.FormatMarkdown, sample())
	golden(t, "transparency.md.golden", got)
	if !bytes.Contains(got, []byte(`| hate\|\<b\>bold\</b\> \*x\* | 1 |`)) {
		t.Errorf("hostile category not escaped:\n%s", got)
	}
	if !bytes.Contains(got, []byte(`| =1+1 | @SUM(A1)\|\<i\>x\</i\> | 2 |`)) || bytes.Contains(got, []byte("Titles not shown")) {
		t.Errorf("reason-code title not escaped, or said missing:\n%s", got)
	}
	if !bytes.Contains(got, []byte("| Time from receipt to resolution, median | 26h 00m 05s |")) ||
		!bytes.Contains(got, []byte(`| -hate\|\<b\>x\</b\> | 1 | 0 | 0 | n/a | 1 |`)) {
		t.Errorf("appeals section:\n%s", got)
	}
	// Without the reason codes (vigilctl without --reason-codes), the
	// title column is empty and a line says why.
	untitled := sample()
	untitled.ByReason = []moderation.ReasonCount{{Code: "ESC-1", Decisions: moderation.ActionCounts{Escalate: 1}}}
	if got := render(t, moderation.FormatMarkdown, untitled); !bytes.Contains(got, []byte("| ESC-1 |  | 0 |")) ||
		!bytes.Contains(got, []byte("Titles not shown: the report was generated without the list of reason codes.")) {
		t.Errorf("report without titles:\n%s", got)
	}
	empty := render(t, moderation.FormatMarkdown, moderation.TransparencyReport{Period: sample().Period})
	if !bytes.Contains(empty, []byte("| Time to action, median (p50) | n/a |")) || bytes.Count(empty, []byte("None in the period.")) != 3 ||
		!bytes.Contains(empty, []byte("| Time from receipt to resolution, median | n/a |")) || bytes.Contains(empty, []byte("| Category | Received |")) {
		t.Errorf("empty report:\n%s", empty)
	}
}

// TestCSV: one row per group with the period on each, durations in
// seconds, and no cell a spreadsheet would run.
func TestCSV(t *testing.T) {
	t.Parallel()
	recs, err := csv.NewReader(bytes.NewReader(render(t, moderation.FormatCSV, sample()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+1+2+3+2+1+2 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	head := strings.Join(recs[0], ",")
	if !strings.HasPrefix(head, "period_from,period_to,section,key,title,items_flagged,items_decided,decisions_remove") {
		t.Errorf("header %s", head)
	}
	total := strings.Join(recs[1], ",")
	if want := "2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,total,,,6,3,2,1,1,2,2,2,1,1800,7200,7200,7201.5,2,1,3,1,,,,,"; total != want {
		t.Errorf("total row\n got %s\nwant %s", total, want)
	}
	if got := strings.Join(recs[8], ","); got != "2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,reason_code,'=1+1,'@SUM(A1)|<i>x</i>,,,2,0,0,2,,,,,,,,,,,,,,,," {
		t.Errorf("reason row %s", got)
	}
	// Appeals: the total, then one row per category, only the appeals
	// columns filled; the median in seconds, empty when none resolved.
	for i, want := range []string{
		"2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,appeals,,,,,,,,,,,,,,,,,,,,4,2,1,93605,1",
		"2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,appeals_category,'-hate|<b>x</b>,,,,,,,,,,,,,,,,,,,1,0,0,,1",
		"2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,appeals_category,terrorist_content,,,,,,,,,,,,,,,,,,,3,2,1,93605,0",
	} {
		if got := strings.Join(recs[9+i], ","); got != want {
			t.Errorf("appeals row %d\n got %s\nwant %s", i, got, want)
		}
	}
	for _, rec := range recs {
		if len(rec) != len(recs[0]) {
			t.Errorf("row of %d cells, header of %d: %v", len(rec), len(recs[0]), rec)
		}
	}
	if recs[5][2] != "detection_source" || recs[5][14] != "" || recs[6][14] != "0.25" {
		t.Errorf("source rows %v %v", recs[5], recs[6])
	}
	for _, rec := range recs {
		for _, c := range rec {
			if startsFormula(c) {
				t.Errorf("cell %q would be run as a formula", c)
			}
		}
	}
}

// TestJSON: durations as seconds, null without decided items.
func TestJSON(t *testing.T) {
	t.Parallel()
	var got struct {
		Period struct{ From, To time.Time }
		Total  struct {
			Flagged int64 `json:"items_flagged"`
			TTA     struct {
				Items int64    `json:"items"`
				P50   *float64 `json:"p50_seconds"`
				Max   *float64 `json:"max_seconds"`
			} `json:"time_to_action"`
		}
		ByCategory []struct {
			Key string `json:"key"`
			TTA struct {
				P50 *float64 `json:"p50_seconds"`
			} `json:"time_to_action"`
		} `json:"by_category"`
		ByReason []struct {
			Code  string `json:"reason_code"`
			Title string `json:"title"`
		} `json:"decisions_by_reason_code"`
	}
	if err := json.Unmarshal(render(t, moderation.FormatJSON, sample()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total.Flagged != 6 || got.Total.TTA.Items != 3 || got.Total.TTA.P50 == nil || *got.Total.TTA.P50 != 1800 ||
		*got.Total.TTA.Max != 7201.5 || got.ByCategory[0].TTA.P50 != nil || len(got.ByReason) != 2 || got.ByReason[0].Title != "Unsure: needs a lead's judgement" || got.Period.To.Month() != 2 {
		t.Errorf("decoded %+v", got)
	}
}

func TestSafeCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                     "",
		"plain":                "plain",
		"=SUM(A1:A2)":          "'=SUM(A1:A2)",
		"+1":                   "'+1",
		"-2":                   "'-2",
		"@cmd":                 "'@cmd",
		"\tx":                  "'\tx",
		"\rx":                  "'\rx",
		"  =1":                 "'  =1",
		"a=b":                  "a=b",
		"'already":             "'already",
		"terrorist_content":    "terrorist_content",
		"2026-01-01T00:00:00Z": "2026-01-01T00:00:00Z",
		// Full-width and small forms: East Asian spreadsheets read ＝ as =.
		"＝HYPERLINK(\"http://evil.example\")": "'＝HYPERLINK(\"http://evil.example\")",
		"＋1":                                  "'＋1",
		"－1":                                  "'－1",
		"＠SUM(1)":                             "'＠SUM(1)",
		"﹦1":                                  "'﹦1",
		"﹢1":                                  "'﹢1",
		"﹣1":                                  "'﹣1",
		"﹫x":                                  "'﹫x",
		// Leading whitespace of every kind, not only spaces.
		"\n=1+1":      "'\n=1+1",
		"\u00a0=1+1":  "'\u00a0=1+1",
		"\u3000＝1+1":  "'\u3000＝1+1",
		" \v\f@x":     "' \v\f@x",
		"\u3000plain": "\u3000plain",
		"ｘ＝1":         "ｘ＝1",
	} {
		if got := report.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecisionWriter: the header once, then one defused row per decision.
func TestDecisionWriter(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := report.NewDecisionWriter(&b)
	rev := int64(7)
	at := time.Date(2026, 1, 10, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, r := range []moderation.DecisionRecord{
		{DecisionID: 7, ItemID: 3, PostID: `=HYPERLINK("http://evil.example","x")`, Category: "@hate", Action: moderation.ActionRemove,
			ReasonCode: "TC-1", Actor: "-lead", DecidedAt: at, FlaggedAt: at.Add(-time.Hour), SLADeadline: at},
		{DecisionID: 8, ItemID: 3, PostID: "p,1\n2", Category: "hate", Action: moderation.ActionNoViolation,
			ReasonCode: "NV-1", Actor: "lead", DecidedAt: at.Add(time.Second), FlaggedAt: at.Add(-time.Hour), SLADeadline: at, Reverses: &rev},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "decision_id,item_id,post_id,category,action,reason_code,actor,decided_at,flagged_at,sla_deadline,within_sla,reversal_of\r\n" +
		`7,3,"'=HYPERLINK(""http://evil.example"",""x"")",'@hate,remove,TC-1,'-lead,2026-01-10T09:30:00Z,2026-01-10T08:30:00Z,2026-01-10T09:30:00Z,true,` + "\r\n" +
		"8,3,\"p,1\r\n2\",hate,no_violation,NV-1,lead,2026-01-10T09:30:01Z,2026-01-10T08:30:00Z,2026-01-10T09:30:00Z,false,7\r\n"
	if b.String() != want {
		t.Errorf("export\n got %q\nwant %q", b.String(), want)
	}
	var empty bytes.Buffer
	w = report.NewDecisionWriter(&empty)
	if err := w.Header(); err != nil || w.Flush() != nil || !strings.HasPrefix(empty.String(), "decision_id,") {
		t.Errorf("header only: %q", empty.String())
	}
}

func TestFilenames(t *testing.T) {
	t.Parallel()
	p := sample().Period
	if got := report.Filename(p, moderation.FormatMarkdown); got != "vigil-transparency-20260101T000000Z-20260201T000000Z.md" {
		t.Errorf("markdown filename %s", got)
	}
	if got := report.ExportFilename(p); got != "vigil-decisions-20260101T000000Z-20260201T000000Z.csv" {
		t.Errorf("export filename %s", got)
	}
}

// startsFormula is the test's own statement of what a spreadsheet may run:
// a first character other than whitespace that is =, +, -, @, a tab, a
// carriage return, or a full-width or small form of the first four.
func startsFormula(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) && r != '\t' && r != '\r' {
			continue
		}
		return strings.ContainsRune("=+-@\t\r＝＋－＠﹦﹢﹣﹫", r)
	}
	return false
}

// FuzzSafeCell: a defused cell never starts (after whitespace) with a
// formula character, and is the input itself or the input behind one
// quote.
func FuzzSafeCell(f *testing.F) {
	for _, s := range []string{"", "=1+1", " -2", "@x", "\t=", "plain", "'=x", "＝1", "\u3000＋1", "\n@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := report.SafeCell(s)
		if got != s && got != "'"+s {
			t.Fatalf("SafeCell(%q) = %q", s, got)
		}
		if startsFormula(got) {
			t.Fatalf("SafeCell(%q) = %q still starts a formula", s, got)
		}
		if got == s && startsFormula(s) {
			t.Fatalf("SafeCell(%q) left a formula alone", s)
		}
	})
}

// TestJSONAppeals: the appeals' median as seconds, null when none was
// resolved; categories in a list of their own.
func TestJSONAppeals(t *testing.T) {
	t.Parallel()
	type counts struct {
		Received int64 `json:"received"`
		TTR      struct {
			Resolved int64    `json:"resolved"`
			Median   *float64 `json:"median_seconds"`
		} `json:"time_to_resolution"`
	}
	var got struct {
		Appeals    counts `json:"appeals"`
		ByCategory []struct {
			Key string `json:"key"`
			counts
		} `json:"appeals_by_category"`
	}
	if err := json.Unmarshal(render(t, moderation.FormatJSON, sample()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Appeals.Received != 4 || got.Appeals.TTR.Resolved != 3 || got.Appeals.TTR.Median == nil || *got.Appeals.TTR.Median != 93605 ||
		len(got.ByCategory) != 2 || got.ByCategory[0].Key != "-hate|<b>x</b>" || got.ByCategory[0].TTR.Median != nil || got.ByCategory[1].Received != 3 {
		t.Errorf("decoded %+v", got)
	}
}
