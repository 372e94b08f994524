package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// precisionRow is one rule version's precision as the UI shows it.
type precisionRow struct {
	Rule        string   `json:"rule"`
	Version     int64    `json:"version"`
	Flagged     int64    `json:"flagged"`
	Removed     int64    `json:"removed"`
	NoViolation int64    `json:"no_violation"`
	Decided     int64    `json:"decided"`
	Precision   *float64 `json:"precision"` // null until something is decided
	// MedianSeconds is the median time from flag to first final decision.
	MedianSeconds float64 `json:"median_time_to_decision_seconds"`
	// Low: below the threshold with at least min_decided decided items.
	Low bool `json:"low"`
}

// rulePrecision serves per-rule, per-version precision from moderators'
// decisions (default: the last 30 days); rows the precision policy judges
// low (below the threshold with enough decided items) are marked so the
// UI can highlight them.
func (s *Server) rulePrecision(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "since", "rule")
	since := q.time("since")
	rule := q.str("rule", 256)
	if q.err != nil {
		return q.err
	}
	if s.Precision == nil {
		return errors.New("rule precision is not configured")
	}
	if since.IsZero() {
		since = s.Clock.Now().Add(-30 * 24 * time.Hour)
	}
	ps, err := s.Precision(r.Context(), since, rule)
	if err != nil {
		return err
	}
	pp := moderation.PrecisionPolicy{Threshold: s.PrecisionThreshold, MinDecided: s.PrecisionMinDecided}.WithDefaults()
	rows := make([]precisionRow, 0, len(ps))
	for _, p := range ps {
		row := precisionRow{Rule: p.RuleID, Version: p.RuleVersion, Flagged: p.Flagged, Removed: p.Removed,
			NoViolation: p.NoViolation, Decided: p.Decided(), MedianSeconds: p.MedianDecision.Seconds(), Low: pp.Low(p)}
		if v, ok := p.Precision(); ok {
			row.Precision = &v
		}
		rows = append(rows, row)
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "threshold": pp.Threshold, "min_decided": pp.MinDecided, "rules": rows})
	return nil
}

// entryPrecisionRow is one hash-bank entry's precision as the UI shows it.
type entryPrecisionRow struct {
	Bank          string   `json:"bank"`
	Entry         string   `json:"entry"`
	HashType      string   `json:"hash_type"`
	Flagged       int64    `json:"flagged"`
	Removed       int64    `json:"removed"`
	NoViolation   int64    `json:"no_violation"`
	Decided       int64    `json:"decided"`
	Precision     *float64 `json:"precision"`
	MedianSeconds float64  `json:"median_time_to_decision_seconds"`
	// MedianDistance is the median Hamming distance of the matches.
	MedianDistance float64 `json:"median_distance"`
	Low            bool    `json:"low"`
}

// bankPrecision serves per-entry precision of the hash banks (default:
// the last 30 days), worst first: the entry of a shared list that holds a
// meme's hash shows up here by moderators' no_violation decisions. Entries
// are judged low by the same policy as rules.
func (s *Server) bankPrecision(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "since", "bank", "min_decided", "limit")
	since := q.time("since")
	bank := q.str("bank", 64)
	minDecided := q.int("min_decided", 0, 1_000_000, 0)
	limit := q.int("limit", 1, 1000, 100)
	if bank != "" && !moderation.ValidBankName(bank) {
		q.fail("bank must be a bank name: 1 to 64 of a-z, 0-9, _, . and -, starting with a letter or digit")
	}
	if q.err != nil {
		return q.err
	}
	if s.BankPrecision == nil {
		return errors.New("bank precision is not configured")
	}
	if since.IsZero() {
		since = s.Clock.Now().Add(-30 * 24 * time.Hour)
	}
	ps, err := s.BankPrecision(r.Context(), since, bank, minDecided, int(limit))
	if err != nil {
		return err
	}
	pp := moderation.PrecisionPolicy{Threshold: s.PrecisionThreshold, MinDecided: s.PrecisionMinDecided}.WithDefaults()
	rows := make([]entryPrecisionRow, 0, len(ps))
	for _, p := range ps {
		row := entryPrecisionRow{Bank: p.Bank, Entry: p.EntryID, HashType: p.HashType, Flagged: p.Flagged, Removed: p.Removed,
			NoViolation: p.NoViolation, Decided: p.Decided(), MedianSeconds: p.MedianDecision.Seconds(),
			MedianDistance: p.MedianDistance, Low: pp.LowEntry(p)}
		if v, ok := p.Precision(); ok {
			row.Precision = &v
		}
		rows = append(rows, row)
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "threshold": pp.Threshold, "low_min_decided": pp.MinDecided,
		"limit": limit, "entries": rows})
	return nil
}
