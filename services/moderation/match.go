package moderation

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Severity orders how harmful a match is; higher is worse.
type Severity int

// Severities, lowest first.
const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < SeverityLow || s > SeverityCritical {
		return "unknown"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name. Returns ErrInvalid for anything else.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && n == s {
			return Severity(i), nil
		}
	}
	return 0, ErrInvalid
}

// Span is a half-open byte range [Start, End) in the original post text.
// In JSON it is the pair [start, end].
type Span struct {
	Start int
	End   int
}

// MarshalJSON encodes the span as [start, end].
func (s Span) MarshalJSON() ([]byte, error) {
	return []byte("[" + strconv.Itoa(s.Start) + "," + strconv.Itoa(s.End) + "]"), nil
}

// UnmarshalJSON decodes [start, end].
func (s *Span) UnmarshalJSON(b []byte) error {
	var pair []int
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("span: %w", err)
	}
	if len(pair) != 2 || pair[0] < 0 || pair[1] < pair[0] {
		return fmt.Errorf("span %s: want [start, end] with 0 <= start <= end: %w", b, ErrInvalid)
	}
	s.Start, s.End = pair[0], pair[1]
	return nil
}

// Match is one reason a post was flagged: a keyword rule (RuleID set) or a
// perceptual-hash bank entry (Bank set).
type Match struct {
	RuleID      string   `json:"rule,omitempty"`
	RuleVersion int64    `json:"version,omitempty"`
	Category    string   `json:"category"`
	Severity    Severity `json:"severity"`
	Spans       []Span   `json:"spans,omitempty"`

	Bank     string `json:"bank,omitempty"`
	EntryID  string `json:"entry,omitempty"`
	HashType string `json:"hash_type,omitempty"`
	Distance int    `json:"distance,omitempty"`
	MediaID  string `json:"media_id,omitempty"`
	// Hash is the hex hash of the media that matched (the review queue
	// clusters items by Bank and EntryID instead: copies of one image
	// differ by a few bits).
	Hash string `json:"hash,omitempty"`
}

// Key identifies a match within one post, so replays upsert instead of
// duplicating: the rule id for keyword matches, bank and entry for hashes.
func (m Match) Key() string {
	if m.RuleID != "" {
		return "rule:" + m.RuleID
	}
	return "bank:" + m.Bank + ":" + m.EntryID + ":" + m.MediaID
}

// Verdict is what the engine concluded about one post. It is never
// persisted by the engine itself.
type Verdict struct {
	PostID      string  `json:"post_id"`
	RuleVersion int64   `json:"rule_version,omitempty"`
	Matches     []Match `json:"matches"`
}

// Flagged reports whether the post needs human review.
func (v Verdict) Flagged() bool { return len(v.Matches) > 0 }

// Top returns the highest severity among the matches and the category of
// the first match with that severity (matches sorted by key for stability).
func (v Verdict) Top() (Severity, string) {
	ms := append([]Match(nil), v.Matches...)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Key() < ms[j].Key() })
	var sev Severity
	var cat string
	for _, m := range ms {
		if m.Severity > sev {
			sev, cat = m.Severity, m.Category
		}
	}
	return sev, cat
}
