package moderation

import (
	"encoding/json"
	"fmt"
	"time"
)

// MaxReportPeriod bounds a transparency report's period and a decisions
// export's window: a yearly report (366 days covers a leap year) reads at
// most a year of history, and a typo cannot ask for a decade.
const MaxReportPeriod = 366 * 24 * time.Hour

// ReportPeriod is the half-open interval [From, To) a report covers: an
// event at From is in it, an event at To is in the next period, so
// consecutive periods neither overlap nor leave gaps.
type ReportPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Contains reports whether t is in [From, To).
func (p ReportPeriod) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// ParseReportTime reads an RFC 3339 timestamp or a calendar date
// YYYY-MM-DD, which means that day's midnight UTC. Returns ErrInvalid.
func ParseReportTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is required (RFC 3339 or YYYY-MM-DD): %w", name, ErrInvalid)
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q must be an RFC 3339 timestamp or a date YYYY-MM-DD: %w", name, s, ErrInvalid)
	}
	return t, nil
}

// ParseReportPeriod reads a period's bounds (ParseReportTime) and checks
// that from is before to and that the period is at most MaxReportPeriod.
// Returns ErrInvalid.
func ParseReportPeriod(from, to string) (ReportPeriod, error) {
	f, err := ParseReportTime("from", from)
	if err != nil {
		return ReportPeriod{}, err
	}
	t, err := ParseReportTime("to", to)
	if err != nil {
		return ReportPeriod{}, err
	}
	p := ReportPeriod{From: f.UTC(), To: t.UTC()}
	return p, p.Validate()
}

// Validate checks From < To and a length of at most MaxReportPeriod.
// Returns ErrInvalid.
func (p ReportPeriod) Validate() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return fmt.Errorf("the period needs both from and to: %w", ErrInvalid)
	case !p.From.Before(p.To):
		return fmt.Errorf("from (%s) must be before to (%s); to is exclusive: %w",
			p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), ErrInvalid)
	case p.To.Sub(p.From) > MaxReportPeriod:
		return fmt.Errorf("the period from %s to %s is longer than %d days: %w",
			p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), int(MaxReportPeriod/(24*time.Hour)), ErrInvalid)
	}
	return nil
}

// Detection sources: which engines flagged an item, from its matches.
// They partition the items, so rows by source add up to the total.
const (
	SourceKeyword     = "keyword_rule"           // keyword rules only
	SourceHashBank    = "hash_bank"              // hash banks only
	SourceBoth        = "keyword_rule+hash_bank" // at least one of each
	SourceNoneMatched = "none"                   // no match recorded
)

// DetectionSource names the engines behind matches: SourceKeyword when
// only keyword rules (RuleID set) matched, SourceHashBank when only hash
// banks (Bank set) did, SourceBoth, or SourceNoneMatched.
func DetectionSource(matches []Match) string {
	var kw, hb bool
	for _, m := range matches {
		kw = kw || m.RuleID != ""
		hb = hb || m.Bank != ""
	}
	switch {
	case kw && hb:
		return SourceBoth
	case hb:
		return SourceHashBank
	case kw:
		return SourceKeyword
	}
	return SourceNoneMatched
}

// ActionCounts counts decisions by their action.
type ActionCounts struct {
	Remove      int64 `json:"remove"`
	NoViolation int64 `json:"no_violation"`
	Escalate    int64 `json:"escalate"`
	Report      int64 `json:"report"`
}

// Add counts n decisions of action a; other actions are ignored.
func (c *ActionCounts) Add(a Action, n int64) {
	switch a {
	case ActionRemove:
		c.Remove += n
	case ActionNoViolation:
		c.NoViolation += n
	case ActionEscalate:
		c.Escalate += n
	case ActionReport:
		c.Report += n
	}
}

// Total is the sum over every action.
func (c ActionCounts) Total() int64 { return c.Remove + c.NoViolation + c.Escalate + c.Report }

// TimeToAction summarises, over the items whose first final decision falls
// in the period, the time from the flag to that decision. Percentiles are
// exact and nearest-rank (Postgres percentile_disc): each is the time of a
// real item, the smallest such that at least that share of the items took
// no longer. All are zero when Items is zero.
type TimeToAction struct {
	Items int64         `json:"items"`
	P50   time.Duration `json:"-"`
	P90   time.Duration `json:"-"`
	P99   time.Duration `json:"-"`
	Max   time.Duration `json:"-"`
}

// MarshalJSON writes the durations as seconds (null without items).
func (t TimeToAction) MarshalJSON() ([]byte, error) {
	sec := func(d time.Duration) *float64 {
		if t.Items == 0 {
			return nil
		}
		s := d.Seconds()
		return &s
	}
	return json.Marshal(struct {
		Items int64    `json:"items"`
		P50   *float64 `json:"p50_seconds"`
		P90   *float64 `json:"p90_seconds"`
		P99   *float64 `json:"p99_seconds"`
		Max   *float64 `json:"max_seconds"`
	}{t.Items, sec(t.P50), sec(t.P90), sec(t.P99), sec(t.Max)})
}

// ReportCounts are the numbers of a transparency report for one group of
// items (all of them, one category, one detection source). An item's
// first final decision is its earliest decision other than escalate (ties
// by decision id); later final decisions are reversals of it.
type ReportCounts struct {
	// Flagged counts items flagged in the period.
	Flagged int64 `json:"items_flagged"`
	// Decided counts items whose first final decision was made in the
	// period, whenever they were flagged.
	Decided int64 `json:"items_decided"`
	// Decisions counts every decision made in the period by its action:
	// first decisions, escalations and reversals (under their new action).
	Decisions ActionCounts `json:"decisions_by_action"`
	// Referrals counts decisions in the period that referred the post to
	// law enforcement (action report, which also takes it down).
	Referrals int64 `json:"referrals_to_law_enforcement"`
	// Reversals counts decisions in the period that reversed an earlier
	// decision.
	Reversals int64 `json:"reversals"`
	// Restored counts those reversals that restored content: a remove or
	// report reversed to no_violation.
	Restored int64 `json:"restored"`
	// TimeToAction covers the items counted in Decided.
	TimeToAction TimeToAction `json:"time_to_action"`
	// SLAMet and SLAMissed split Decided: the first final decision at or
	// before the SLA deadline the item had when it was decided, or after.
	SLAMet    int64 `json:"sla_met"`
	SLAMissed int64 `json:"sla_missed"`
	// OpenAtEnd counts items flagged before the period's end with no final
	// decision before it; OverdueAtEnd those of them whose SLA deadline had
	// passed by the end (deadline before To).
	OpenAtEnd    int64 `json:"open_at_end"`
	OverdueAtEnd int64 `json:"open_overdue_at_end"`
}

// ReportGroup is the numbers of one category or detection source.
type ReportGroup struct {
	Key string `json:"key"`
	ReportCounts
}

// ReasonCount counts the decisions of the period that cited one reason
// code, by action.
type ReasonCount struct {
	Code string `json:"reason_code"`
	// Title is the code's title in the reason codes given to
	// TitleReasons: empty without them, or for a code no longer in them.
	// Operator text, escaped by every rendering.
	Title     string       `json:"title"`
	Decisions ActionCounts `json:"decisions_by_action"`
}

// TransparencyReport is what a hosting provider publishes about its
// moderation of a period (EU Regulation 2021/784 on terrorist content
// online, Art. 7): items flagged and decided, decisions by action,
// referrals, reversals and restorations, time to action and SLA
// compliance, in total, by category (the item's category, the most severe
// of its matches) and by detection source (SourceKeyword…). Decisions are
// counted when they were made, items when they were flagged or first
// decided, as each ReportCounts field says; the open backlog is as of the
// period's end. Groups are what was recorded at the time (an item's
// category and source at its first flag, at its decisions), so a later
// re-flag moves no past number (docs/reports.md).
type TransparencyReport struct {
	Period      ReportPeriod  `json:"period"`
	GeneratedAt time.Time     `json:"generated_at"`
	Total       ReportCounts  `json:"total"`
	ByCategory  []ReportGroup `json:"by_category"`
	BySource    []ReportGroup `json:"by_detection_source"`
	// ByReason counts the decisions of the period by reason code, in code
	// order.
	ByReason []ReasonCount `json:"decisions_by_reason_code"`
	// Appeals counts users' appeals against removals and referrals
	// (Art. 7(3)(d): the number and outcome of complaints), in total and
	// by the category recorded with the decision appealed against, in
	// category order.
	Appeals           AppealCounts  `json:"appeals"`
	AppealsByCategory []AppealGroup `json:"appeals_by_category"`
}

// AppealCounts are the appeal numbers of a report: appeals received in
// the period (by the user's submission time, as the platform forwards
// it), appeals resolved in it by outcome and their time from receipt to
// resolution, and appeals received before the end and not resolved
// before it.
type AppealCounts struct {
	Received   int64 `json:"received"`
	Upheld     int64 `json:"upheld"`
	Reinstated int64 `json:"reinstated"`
	// TimeToResolution covers the appeals resolved in the period.
	TimeToResolution ResolutionTime `json:"time_to_resolution"`
	OpenAtEnd        int64          `json:"open_at_end"`
}

// ResolutionTime is the median time from an appeal's receipt to its
// resolution over Resolved appeals: exact and nearest-rank, as
// TimeToAction's percentiles. Zero when Resolved is zero.
type ResolutionTime struct {
	Resolved int64         `json:"resolved"`
	Median   time.Duration `json:"-"`
}

// MarshalJSON writes the median as seconds (null without appeals).
func (t ResolutionTime) MarshalJSON() ([]byte, error) {
	var median *float64
	if t.Resolved > 0 {
		s := t.Median.Seconds()
		median = &s
	}
	return json.Marshal(struct {
		Resolved int64    `json:"resolved"`
		Median   *float64 `json:"median_seconds"`
	}{t.Resolved, median})
}

// AppealGroup is the appeal numbers of one category.
type AppealGroup struct {
	Key string `json:"key"`
	AppealCounts
}

// TitleReasons sets the title of every reason code of ByReason from
// codes (the configured reason codes, as ParseReasonCodes reads them). A
// code not in codes, one retired since it was cited, keeps an empty title.
func (r *TransparencyReport) TitleReasons(codes ReasonCodes) {
	for i := range r.ByReason {
		rc, _ := codes.Lookup(r.ByReason[i].Code)
		r.ByReason[i].Title = rc.Title
	}
}

// DecisionRecord is one decision as a decisions export lists it: the
// decision with the item it is about.
type DecisionRecord struct {
	DecisionID  int64
	ItemID      int64
	PostID      string
	Category    string // the item's when decided (its category may rise later)
	Action      Action
	ReasonCode  string
	Actor       string // username
	DecidedAt   time.Time
	FlaggedAt   time.Time
	SLADeadline time.Time // the item's deadline when decided
	Reverses    *int64
}

// WithinSLA reports whether the decision was made at or before its SLA
// deadline.
func (r DecisionRecord) WithinSLA() bool { return !r.DecidedAt.After(r.SLADeadline) }

// ReportFormat is how a report is rendered.
type ReportFormat string

// Report formats.
const (
	FormatJSON     ReportFormat = "json"
	FormatCSV      ReportFormat = "csv"
	FormatMarkdown ReportFormat = "markdown"
)

// ParseReportFormat reads json, csv or markdown ("" is def). Returns
// ErrInvalid.
func ParseReportFormat(s string, def ReportFormat) (ReportFormat, error) {
	switch f := ReportFormat(s); f {
	case "":
		return def, nil
	case FormatJSON, FormatCSV, FormatMarkdown:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want json, csv or markdown: %w", s, ErrInvalid)
}
