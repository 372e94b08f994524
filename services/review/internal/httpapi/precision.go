package httpapi

import (
	"errors"
	"net/http"
	"time"
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
	Low           bool    `json:"low"`
}

// rulePrecision serves per-rule, per-version precision from moderators'
// decisions (default: the last 30 days); rows below the configured
// threshold are marked low so the UI can highlight them.
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
	rows := make([]precisionRow, 0, len(ps))
	for _, p := range ps {
		row := precisionRow{Rule: p.RuleID, Version: p.RuleVersion, Flagged: p.Flagged, Removed: p.Removed,
			NoViolation: p.NoViolation, Decided: p.Decided(), MedianSeconds: p.MedianDecision.Seconds()}
		if v, ok := p.Precision(); ok {
			row.Precision = &v
			row.Low = v < s.PrecisionThreshold
		}
		rows = append(rows, row)
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "threshold": s.PrecisionThreshold, "rules": rows})
	return nil
}
