package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Write renders r in format f to w.
func Write(w io.Writer, f moderation.ReportFormat, r moderation.TransparencyReport) error {
	switch f {
	case moderation.FormatMarkdown:
		return Markdown(w, r)
	case moderation.FormatCSV:
		return CSV(w, r)
	case moderation.FormatJSON:
		return JSON(w, r)
	}
	return fmt.Errorf("rendering the report: format %q: want json, csv or markdown: %w", f, moderation.ErrInvalid)
}

// ContentType is the media type of format f.
func ContentType(f moderation.ReportFormat) string {
	switch f {
	case moderation.FormatMarkdown:
		return "text/markdown; charset=utf-8"
	case moderation.FormatCSV:
		return "text/csv; charset=utf-8"
	}
	return "application/json"
}

// Filename names the file of the report of p in format f, for downloads
// and as a default: vigil-transparency-FROM-TO.EXT, bounds in UTC.
func Filename(p moderation.ReportPeriod, f moderation.ReportFormat) string {
	ext := map[moderation.ReportFormat]string{moderation.FormatMarkdown: "md", moderation.FormatCSV: "csv"}[f]
	if ext == "" {
		ext = "json"
	}
	return "vigil-transparency-" + stamp(p) + "." + ext
}

// ExportFilename names the CSV export of the decisions made in p.
func ExportFilename(p moderation.ReportPeriod) string {
	return "vigil-decisions-" + stamp(p) + ".csv"
}

func stamp(p moderation.ReportPeriod) string {
	const layout = "20060102T150405Z"
	return p.From.UTC().Format(layout) + "-" + p.To.UTC().Format(layout)
}

// JSON writes r as one indented JSON document.
func JSON(w io.Writer, r moderation.TransparencyReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("rendering the report as JSON: %w", err)
	}
	return nil
}

// csvHeader names the columns of the CSV rendering. Every row carries the
// period; section is total, category, detection_source, reason_code,
// appeals or appeals_category, key names the category, source or code.
// Reason-code rows fill only the title (the code's, when known) and the
// decisions_* columns; appeals rows (the total, key empty, then one per
// category) only the appeals_* columns, which the other rows leave empty.
var csvHeader = []string{
	"period_from", "period_to", "section", "key", "title",
	"items_flagged", "items_decided",
	"decisions_remove", "decisions_no_violation", "decisions_escalate", "decisions_report",
	"referrals_to_law_enforcement", "reversals", "restored",
	"time_to_action_p50_seconds", "time_to_action_p90_seconds", "time_to_action_p99_seconds", "time_to_action_max_seconds",
	"sla_met", "sla_missed", "open_at_end", "open_overdue_at_end",
	"appeals_received", "appeals_upheld", "appeals_reinstated", "appeals_time_to_resolution_median_seconds", "appeals_open_at_end",
}

// CSV writes r as one row per group: the total, each category, each
// detection source, each reason code. Durations are seconds, empty when
// nothing was decided; every cell goes through SafeCell.
func CSV(w io.Writer, r moderation.TransparencyReport) error {
	cw := NewCSVWriter(w)
	from, to := timestamp(r.Period.From), timestamp(r.Period.To)
	_ = cw.Write(csvHeader)
	row := func(section, key string, c moderation.ReportCounts) {
		t := c.TimeToAction
		sec := func(d time.Duration) string {
			if t.Items == 0 {
				return ""
			}
			return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		}
		_ = cw.Write([]string{from, to, section, key, "",
			itoa(c.Flagged), itoa(c.Decided),
			itoa(c.Decisions.Remove), itoa(c.Decisions.NoViolation), itoa(c.Decisions.Escalate), itoa(c.Decisions.Report),
			itoa(c.Referrals), itoa(c.Reversals), itoa(c.Restored),
			sec(t.P50), sec(t.P90), sec(t.P99), sec(t.Max),
			itoa(c.SLAMet), itoa(c.SLAMissed), itoa(c.OpenAtEnd), itoa(c.OverdueAtEnd),
			"", "", "", "", ""})
	}
	row("total", "", r.Total)
	for _, g := range r.ByCategory {
		row("category", g.Key, g.ReportCounts)
	}
	for _, g := range r.BySource {
		row("detection_source", g.Key, g.ReportCounts)
	}
	for _, rc := range r.ByReason {
		d := rc.Decisions
		cells := make([]string, len(csvHeader))
		copy(cells, []string{from, to, "reason_code", rc.Code, rc.Title, "", "", itoa(d.Remove), itoa(d.NoViolation), itoa(d.Escalate), itoa(d.Report)})
		_ = cw.Write(cells)
	}
	appeals := func(section, key string, a moderation.AppealCounts) {
		cells := make([]string, len(csvHeader))
		copy(cells, []string{from, to, section, key})
		median := ""
		if a.TimeToResolution.Resolved > 0 {
			median = strconv.FormatFloat(a.TimeToResolution.Median.Seconds(), 'f', -1, 64)
		}
		copy(cells[len(csvHeader)-5:], []string{itoa(a.Received), itoa(a.Upheld), itoa(a.Reinstated), median, itoa(a.OpenAtEnd)})
		_ = cw.Write(cells)
	}
	appeals("appeals", "", r.Appeals)
	for _, g := range r.AppealsByCategory {
		appeals("appeals_category", g.Key, g.AppealCounts)
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("rendering the report as CSV: %w", err)
	}
	return nil
}

// Markdown writes r as the publishable report: title, period, generation
// time, a summary, tables by category, detection source and reason code,
// the appeals (in total and by category), and the definitions of every
// number. Text from the data (categories,
// reason codes and their titles) is escaped, so it renders as text. When
// no reason code has a title (the report was made without the reason
// codes: TitleReasons), a line under the table says so.
func Markdown(w io.Writer, r moderation.TransparencyReport) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Content moderation transparency report\n\n")
	p("| | |\n|---|---|\n")
	p("| Period | %s (inclusive) to %s (exclusive) |\n", timestamp(r.Period.From), timestamp(r.Period.To))
	p("| Generated | %s |\n\n", timestamp(r.GeneratedAt))

	t := r.Total
	p("## Summary\n\n| Measure | Value |\n|---|---:|\n")
	for _, m := range []struct {
		name  string
		value string
	}{
		{"Items flagged in the period", itoa(t.Flagged)},
		{"Items decided (first final decision in the period)", itoa(t.Decided)},
		{"Decisions: remove", itoa(t.Decisions.Remove)},
		{"Decisions: report to law enforcement", itoa(t.Decisions.Report)},
		{"Decisions: no violation", itoa(t.Decisions.NoViolation)},
		{"Decisions: escalate", itoa(t.Decisions.Escalate)},
		{"Referrals to law enforcement", itoa(t.Referrals)},
		{"Reversals", itoa(t.Reversals)},
		{"Content restored by a reversal", itoa(t.Restored)},
		{"Time to action, median (p50)", duration(t.TimeToAction, t.TimeToAction.P50)},
		{"Time to action, p90", duration(t.TimeToAction, t.TimeToAction.P90)},
		{"Time to action, p99", duration(t.TimeToAction, t.TimeToAction.P99)},
		{"Time to action, maximum", duration(t.TimeToAction, t.TimeToAction.Max)},
		{"Decided within the SLA", share(t.SLAMet, t.Decided)},
		{"Decided after the SLA", share(t.SLAMissed, t.Decided)},
		{"Open at the end of the period", itoa(t.OpenAtEnd)},
		{"Open and overdue at the end of the period", itoa(t.OverdueAtEnd)},
	} {
		p("| %s | %s |\n", m.name, m.value)
	}

	groups := func(title, column, note string, gs []moderation.ReportGroup) {
		p("\n## %s\n\n", title)
		if note != "" {
			p("%s\n\n", note)
		}
		if len(gs) == 0 {
			p("None in the period.\n")
			return
		}
		p("| %s | Flagged | Decided | Remove | Report | No violation | Escalate | Reversals | Restored | TTA p50 | TTA p90 | TTA p99 | TTA max | SLA met | SLA missed | Open at end | Overdue at end |\n", column)
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, g := range gs {
			c, tt := g.ReportCounts, g.TimeToAction
			p("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d | %d | %d | %d |\n",
				escape(g.Key), c.Flagged, c.Decided, c.Decisions.Remove, c.Decisions.Report, c.Decisions.NoViolation, c.Decisions.Escalate,
				c.Reversals, c.Restored, duration(tt, tt.P50), duration(tt, tt.P90), duration(tt, tt.P99), duration(tt, tt.Max),
				c.SLAMet, c.SLAMissed, c.OpenAtEnd, c.OverdueAtEnd)
		}
	}
	groups("By category", "Category", "An item's category is that of its most severe match, as recorded when it was flagged or decided (see the definitions).", r.ByCategory)
	groups("By detection source", "Source", "What flagged the item: keyword rules only (keyword\\_rule), hash banks of known images only (hash\\_bank), both, or none recorded (none). Every item is in exactly one row.", r.BySource)

	p("\n## Decisions by reason code\n\n")
	if len(r.ByReason) == 0 {
		p("None in the period.\n")
	} else {
		p("| Reason code | Title | Remove | Report | No violation | Escalate | Total |\n|---|---|---:|---:|---:|---:|---:|\n")
		titled := false
		for _, rc := range r.ByReason {
			d := rc.Decisions
			titled = titled || rc.Title != ""
			p("| %s | %s | %d | %d | %d | %d | %d |\n", escape(rc.Code), escape(rc.Title), d.Remove, d.Report, d.NoViolation, d.Escalate, d.Total())
		}
		if !titled {
			p("\nTitles not shown: the report was generated without the list of reason codes.\n")
		}
	}
	a := r.Appeals
	p("\n## Appeals\n\nUsers' complaints against the removal of their content or its referral to law enforcement, forwarded by the platform and resolved by a lead other than the one who made the decision.\n\n")
	p("| Measure | Value |\n|---|---:|\n")
	p("| Appeals received in the period | %d |\n", a.Received)
	p("| Appeals resolved: decision upheld | %d |\n", a.Upheld)
	p("| Appeals resolved: content reinstated | %d |\n", a.Reinstated)
	p("| Time from receipt to resolution, median | %s |\n", resolution(a.TimeToResolution))
	p("| Appeals open at the end of the period | %d |\n", a.OpenAtEnd)
	if len(r.AppealsByCategory) > 0 {
		p("\n| Category | Received | Upheld | Reinstated | Median time to resolution | Open at end |\n|---|---:|---:|---:|---:|---:|\n")
		for _, g := range r.AppealsByCategory {
			p("| %s | %d | %d | %d | %s | %d |\n", escape(g.Key), g.Received, g.Upheld, g.Reinstated, resolution(g.TimeToResolution), g.OpenAtEnd)
		}
	}
	p("\n## Definitions\n\n%s", definitions)
	if err := b.Flush(); err != nil {
		return fmt.Errorf("rendering the report as Markdown: %w", err)
	}
	return nil
}

// definitions is what every number of the report counts, as published.
const definitions = `- The period is half-open: it includes its start and excludes its end. Times are UTC.
- An item is one flagged post. Its first final decision is its earliest decision other than an escalation; later final decisions are reversals of it.
- **Items flagged**: items flagged during the period.
- **Items decided**: items whose first final decision was made during the period, whenever they were flagged.
- **Decisions**: every decision made during the period, by action, including escalations and reversals (counted under their new action). A report to law enforcement also takes the post down.
- **Referrals to law enforcement**: decisions made during the period with the action report.
- **Reversals**: decisions made during the period that reversed an earlier decision; **restored**: those that reversed a removal (remove or report) to no violation, so the content was put back.
- **Time to action** (TTA in the tables): for the items decided, the time from flagging to the first final decision. Percentiles are exact nearest-rank values: the time of a real item, the smallest such that at least that share of the items took no longer.
- **SLA met / missed**: items decided, split by whether the first final decision came at or before the item's SLA deadline (set per category when the item was flagged) or after it.
- **Open at end**: items flagged before the end of the period without a final decision before it; **overdue at end**: those of them whose SLA deadline had passed by the end.
- **Appeals**: complaints by users against the removal (remove) or referral (report) of their content, forwarded by the platform. **Received**: appeals the user submitted during the period; **upheld** and **reinstated**: appeals resolved during the period, the decision kept, or reversed to no violation so the content was put back (such a reversal also counts under reversals and restored); **time from receipt to resolution**: for the appeals resolved, the exact nearest-rank median; **open at end**: appeals received before the end of the period and not resolved before it. Appeals count under the category recorded with the decision appealed against.
- **Category and detection source** are those recorded at the time: decisions (and the items decided, by their first final decision) count under what their item was when the decision was made; items flagged and items open at the end under what they were when first flagged. A post flagged again later, under another category or by another engine, changes no report of a past period.
`

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// duration shows d for people: "250ms" or "42.5s" under a minute, else
// "30m 05s" or "26h 00m 05s" (whole seconds, hours not folded into days);
// "n/a" when no item was decided.
func duration(t moderation.TimeToAction, d time.Duration) string {
	if t.Items == 0 {
		return "n/a"
	}
	if d < time.Minute && d > -time.Minute {
		return d.Round(time.Millisecond).String()
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%s%dh %02dm %02ds", sign, s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%s%dm %02ds", sign, s/60, s%60)
}

// resolution shows an appeals' median time to resolution as duration
// does, "n/a" when none was resolved.
func resolution(t moderation.ResolutionTime) string {
	return duration(moderation.TimeToAction{Items: t.Resolved}, t.Median)
}

// share shows n and its percentage of total.
func share(n, total int64) string {
	if total == 0 {
		return itoa(n)
	}
	return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(total))
}

// escape makes s literal text in a Markdown table cell: control characters
// become spaces, and the characters that start emphasis, links, code, HTML
// or end the cell are backslash-escaped.
func escape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c < 0x20 || c == 0x7f:
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>~!&|#", c):
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
