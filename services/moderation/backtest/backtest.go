package backtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
)

// Outcome is a moderator's final judgement of a post.
type Outcome int

// Outcomes. Unknown: never decided, or still pending or escalated.
const (
	Unknown     Outcome = iota
	Violation           // removed, or reported to the authorities
	NoViolation         // judged not violating: the flag was a false positive
)

func (o Outcome) String() string {
	switch o {
	case Violation:
		return "violation"
	case NoViolation:
		return "no_violation"
	}
	return "unknown"
}

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// OutcomeOf maps a decision action (decisions.action) to an outcome:
// remove and report are violations, no_violation is not, escalate is not
// final.
func OutcomeOf(action string) Outcome {
	switch action {
	case "remove", "report":
		return Violation
	case "no_violation":
		return NoViolation
	}
	return Unknown
}

// Options configure a Run.
type Options struct {
	Candidate *engine.Engine
	Baseline  *engine.Engine
	// Samples is how many posts newly flagged and no longer flagged are
	// kept per rule (default 5), in corpus order.
	Samples int
	// SampleChars truncates sample texts (default 200 bytes, on a rune
	// boundary).
	SampleChars int
}

// Run accumulates the two rule sets' verdicts over posts fed to Add.
// It is not safe for concurrent use.
type Run struct {
	opt   Options
	posts int
	rules map[string]*ruleAcc
	// Posts flagged by any rule, before and after.
	flaggedBefore, flaggedAfter, newly, gone int
}

type ruleAcc struct {
	category    string
	before      []string // post ids, corpus order
	after       []string
	newly, gone int
	newSamples  []Sample
	goneSamples []Sample
}

// Sample is one post in a report.
type Sample struct {
	PostID  string            `json:"post_id"`
	Text    string            `json:"text"`
	Spans   []moderation.Span `json:"spans,omitempty"`
	Outcome Outcome           `json:"outcome"`
}

// New returns an empty run.
func New(opt Options) *Run {
	if opt.Samples <= 0 {
		opt.Samples = 5
	}
	if opt.SampleChars <= 0 {
		opt.SampleChars = 200
	}
	return &Run{opt: opt, rules: map[string]*ruleAcc{}}
}

// ruleKey names a match's rule: its id, or bank:<name> for hash matches.
func ruleKey(m moderation.Match) string {
	if m.RuleID != "" {
		return m.RuleID
	}
	return "bank:" + m.Bank
}

func (r *Run) acc(m moderation.Match) *ruleAcc {
	k := ruleKey(m)
	a := r.rules[k]
	if a == nil {
		a = &ruleAcc{category: m.Category}
		r.rules[k] = a
	}
	return a
}

// Add evaluates p (and its decoded images) with both rule sets.
func (r *Run) Add(ctx context.Context, p moderation.Post, images ...engine.Image) error {
	before, err := r.opt.Baseline.Evaluate(ctx, p, images...)
	if err != nil {
		return fmt.Errorf("evaluating post %s with the baseline: %w", p.ID, err)
	}
	after, err := r.opt.Candidate.Evaluate(ctx, p, images...)
	if err != nil {
		return fmt.Errorf("evaluating post %s with the candidate: %w", p.ID, err)
	}
	r.posts++
	if before.Flagged() {
		r.flaggedBefore++
	}
	if after.Flagged() {
		r.flaggedAfter++
	}
	switch {
	case after.Flagged() && !before.Flagged():
		r.newly++
	case before.Flagged() && !after.Flagged():
		r.gone++
	}
	bm := byRule(before.Matches)
	am := byRule(after.Matches)
	for k, m := range bm {
		a := r.acc(m)
		a.before = append(a.before, p.ID)
		if _, ok := am[k]; !ok {
			a.gone++
			if len(a.goneSamples) < r.opt.Samples {
				a.goneSamples = append(a.goneSamples, r.sample(p, m))
			}
		}
	}
	for k, m := range am {
		a := r.acc(m)
		a.after = append(a.after, p.ID)
		if _, ok := bm[k]; !ok {
			a.newly++
			if len(a.newSamples) < r.opt.Samples {
				a.newSamples = append(a.newSamples, r.sample(p, m))
			}
		}
	}
	return nil
}

// byRule keeps one match per rule (the first).
func byRule(ms []moderation.Match) map[string]moderation.Match {
	out := make(map[string]moderation.Match, len(ms))
	for _, m := range ms {
		k := ruleKey(m)
		if _, ok := out[k]; !ok {
			out[k] = m
		}
	}
	return out
}

func (r *Run) sample(p moderation.Post, m moderation.Match) Sample {
	text := p.Text
	if len(text) > r.opt.SampleChars {
		cut := r.opt.SampleChars
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	var spans []moderation.Span
	for _, s := range m.Spans {
		if s.End <= len(text) {
			spans = append(spans, s)
		}
	}
	return Sample{PostID: p.ID, Text: text, Spans: spans}
}

// Posts is how many posts were added.
func (r *Run) Posts() int { return r.posts }

// FlaggedPostIDs lists every post either set flagged: the posts whose past
// decisions the report needs.
func (r *Run) FlaggedPostIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range r.rules {
		for _, ids := range [][]string{a.before, a.after} {
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Precision is a rule's estimated precision over the decided posts it
// flagged.
type Precision struct {
	Flagged     int `json:"flagged"`
	Violation   int `json:"violation"`
	NoViolation int `json:"no_violation"`
	// Value is Violation / (Violation + NoViolation); nil when none of the
	// rule's posts was decided.
	Value *float64 `json:"precision"`
}

// Decided is the number of the rule's posts with a known outcome.
func (p Precision) Decided() int { return p.Violation + p.NoViolation }

func precisionOf(ids []string, decisions map[string]Outcome) Precision {
	p := Precision{Flagged: len(ids)}
	for _, id := range ids {
		switch decisions[id] {
		case Violation:
			p.Violation++
		case NoViolation:
			p.NoViolation++
		}
	}
	if d := p.Decided(); d > 0 {
		v := float64(p.Violation) / float64(d)
		p.Value = &v
	}
	return p
}

// RuleReport is one rule's line of a report.
type RuleReport struct {
	Rule            string    `json:"rule"`
	Category        string    `json:"category"`
	Before          Precision `json:"before"`
	After           Precision `json:"after"`
	NewlyFlagged    int       `json:"newly_flagged"`
	NoLongerFlagged int       `json:"no_longer_flagged"`
	Changed         bool      `json:"changed"`
	NewSamples      []Sample  `json:"newly_flagged_samples,omitempty"`
	GoneSamples     []Sample  `json:"no_longer_flagged_samples,omitempty"`
}

// Report is the result of a backtest.
type Report struct {
	Posts           int          `json:"posts"`
	FlaggedBefore   int          `json:"flagged_before"`
	FlaggedAfter    int          `json:"flagged_after"`
	NewlyFlagged    int          `json:"newly_flagged"`
	NoLongerFlagged int          `json:"no_longer_flagged"`
	Decided         int          `json:"decided"` // flagged posts with a known outcome
	Rules           []RuleReport `json:"rules"`
}

// Report summarises the run. decisions maps post ids to past outcomes
// (nil: none known).
func (r *Run) Report(decisions map[string]Outcome) Report {
	rep := Report{Posts: r.posts, FlaggedBefore: r.flaggedBefore, FlaggedAfter: r.flaggedAfter,
		NewlyFlagged: r.newly, NoLongerFlagged: r.gone}
	for _, id := range r.FlaggedPostIDs() {
		if decisions[id] != Unknown {
			rep.Decided++
		}
	}
	for k, a := range r.rules {
		rr := RuleReport{
			Rule: k, Category: a.category,
			Before: precisionOf(a.before, decisions), After: precisionOf(a.after, decisions),
			NewlyFlagged: a.newly, NoLongerFlagged: a.gone, Changed: a.newly > 0 || a.gone > 0,
			NewSamples: withOutcomes(a.newSamples, decisions), GoneSamples: withOutcomes(a.goneSamples, decisions),
		}
		rep.Rules = append(rep.Rules, rr)
	}
	sort.Slice(rep.Rules, func(i, j int) bool {
		a, b := rep.Rules[i], rep.Rules[j]
		if a.Changed != b.Changed {
			return a.Changed
		}
		return strings.Compare(a.Rule, b.Rule) < 0
	})
	return rep
}

func withOutcomes(ss []Sample, decisions map[string]Outcome) []Sample {
	out := make([]Sample, len(ss))
	for i, s := range ss {
		s.Outcome = decisions[s.PostID]
		out[i] = s
	}
	return out
}
