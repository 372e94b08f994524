package moderation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// RuleFile is one rule file of a published version: its path relative to
// the rules directory and its exact bytes.
type RuleFile struct {
	Name string `json:"name"`
	Data []byte `json:"-"`
}

// RuleVersion is one published, immutable rule set. Versions are numbered
// 1, 2, 3… without gaps; a rollback publishes an old version's files again
// as a new version, so the numbers only ever grow.
type RuleVersion struct {
	Version   int64     `json:"version"`
	Author    string    `json:"author"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
	// SHA256 is the hex digest of the files (RulesDigest), so two versions
	// with the same content are recognisable.
	SHA256 string `json:"sha256"`
	// RollbackOf is the version whose content this one republished, or 0.
	RollbackOf int64      `json:"rollback_of,omitempty"`
	Rules      int        `json:"rules"`
	Files      []RuleFile `json:"files,omitempty"`
}

// RulesDigest is a digest of a set of rule files, independent of their
// order: names and contents, each length-prefixed.
func RulesDigest(files []RuleFile) string {
	fs := append([]RuleFile(nil), files...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		l := uint64(len(b))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(b)
	}
	for _, f := range fs {
		put([]byte(f.Name))
		put(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RulePrecision is how moderators judged the items one rule version
// flagged. Removed counts removals and reports to authorities (the rule
// was right); NoViolation counts items judged not violating (the rule was
// wrong); items still pending or escalated count only in Flagged.
type RulePrecision struct {
	RuleID      string `json:"rule"`
	RuleVersion int64  `json:"version"`
	Flagged     int64  `json:"flagged"`
	Removed     int64  `json:"removed"`
	NoViolation int64  `json:"no_violation"`
	// MedianDecision is the median time from flag to the item's first
	// final decision (0 if none is decided).
	MedianDecision time.Duration `json:"median_time_to_decision_ns"`
}

// Decided is the number of items with a final outcome.
func (p RulePrecision) Decided() int64 { return p.Removed + p.NoViolation }

// Precision is Removed / Decided, and ok is false when nothing is decided.
func (p RulePrecision) Precision() (float64, bool) {
	d := p.Decided()
	if d == 0 {
		return 0, false
	}
	return float64(p.Removed) / float64(d), true
}

// PrecisionPolicy is when a rule version counts as low precision: below
// Threshold with at least MinDecided decided items. One decision or two
// say nothing about a rule, so the API, the UI, the
// vigil_rules_low_precision metric and vigilctl rules precision all judge
// with this one definition.
type PrecisionPolicy struct {
	Threshold  float64
	MinDecided int64
}

// DefaultPrecisionPolicy flags rules below 0.5 with 20 decided items.
var DefaultPrecisionPolicy = PrecisionPolicy{Threshold: 0.5, MinDecided: 20}

// WithDefaults fills the fields that are zero or less from
// DefaultPrecisionPolicy.
func (pp PrecisionPolicy) WithDefaults() PrecisionPolicy {
	if pp.Threshold <= 0 {
		pp.Threshold = DefaultPrecisionPolicy.Threshold
	}
	if pp.MinDecided <= 0 {
		pp.MinDecided = DefaultPrecisionPolicy.MinDecided
	}
	return pp
}

// Validate refuses a threshold outside (0, 1] (precision is a share) and
// a negative MinDecided; zero values stand for the defaults.
func (pp PrecisionPolicy) Validate() error {
	if pp.Threshold < 0 || pp.Threshold > 1 {
		return fmt.Errorf("precision threshold %v: want a share between 0 and 1: %w", pp.Threshold, ErrInvalid)
	}
	if pp.MinDecided < 0 {
		return fmt.Errorf("minimum decided items %d: want 0 or more: %w", pp.MinDecided, ErrInvalid)
	}
	return nil
}

// Low reports whether p's precision is below the threshold with at least
// MinDecided decided items.
func (pp PrecisionPolicy) Low(p RulePrecision) bool {
	v, ok := p.Precision()
	return ok && p.Decided() >= pp.MinDecided && v < pp.Threshold
}

// LowEntry is Low for one hash-bank entry: the same threshold and minimum
// judge a rule and an entry.
func (pp PrecisionPolicy) LowEntry(p BankEntryPrecision) bool {
	return pp.Low(p.counts())
}

// BankEntryPrecision is how moderators judged the items one hash-bank
// entry matched, with RulePrecision's definitions. A bank goes wrong one
// entry at a time (a shared list holding the hash of a meme or a logo),
// which the per-bank row ("bank:NAME") averages away.
type BankEntryPrecision struct {
	Bank        string `json:"bank"`
	EntryID     string `json:"entry"`
	HashType    string `json:"hash_type"`
	Flagged     int64  `json:"flagged"`
	Removed     int64  `json:"removed"`
	NoViolation int64  `json:"no_violation"`
	// MedianDecision is the median time from flag to the item's first
	// final decision (0 if none is decided).
	MedianDecision time.Duration `json:"median_time_to_decision_ns"`
	// MedianDistance is the median Hamming distance of the entry's
	// matches (an item's closest one): near 0, the entry is the very
	// image flagged; near the bank's threshold, the threshold is loose.
	MedianDistance float64 `json:"median_distance"`
}

func (p BankEntryPrecision) counts() RulePrecision {
	return RulePrecision{Flagged: p.Flagged, Removed: p.Removed, NoViolation: p.NoViolation}
}

// Decided is the number of items with a final outcome.
func (p BankEntryPrecision) Decided() int64 { return p.counts().Decided() }

// Precision is Removed / Decided, and ok is false when nothing is decided.
func (p BankEntryPrecision) Precision() (float64, bool) { return p.counts().Precision() }
