package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// SafeCell defuses s for spreadsheets: a cell whose first character other
// than whitespace is =, +, -, @, a tab or a carriage return, or the
// full-width or small form of =, +, - or @ (spreadsheets in East Asian
// locales read ＝ as =), would be read as a formula (formula or CSV
// injection), so it gets a single quote in front and is shown as text.
// Post ids, categories and usernames come from outside Vigil's control;
// this is applied to every cell, numbers included (only a negative number
// changes).
func SafeCell(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// formulaLike reports whether a spreadsheet could read s as a formula:
// whether its first character other than whitespace (any Unicode space,
// not only ' ') is one of formulaStarts.
func formulaLike(s string) bool {
	t := strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != '\t' && r != '\r' })
	r, _ := utf8.DecodeRuneInString(t)
	return t != "" && strings.ContainsRune(formulaStarts, r)
}

// formulaStarts are the characters that start a formula: =, +, -, @, tab
// and carriage return, and the full-width (U+FF1D, U+FF0B, U+FF0D,
// U+FF20) and small (U+FE66, U+FE62, U+FE63, U+FE6B) forms of the first
// four.
const formulaStarts = "=+-@\t\r\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B"

// CSVWriter is a csv.Writer whose every cell goes through SafeCell.
type CSVWriter struct {
	w   *csv.Writer
	buf []string
}

// NewCSVWriter writes CSV (RFC 4180, CRLF line ends) to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw}
}

// Write writes one record, each cell defused.
func (c *CSVWriter) Write(record []string) error {
	c.buf = c.buf[:0]
	for _, s := range record {
		c.buf = append(c.buf, SafeCell(s))
	}
	return c.w.Write(c.buf)
}

// Flush writes out what is buffered and returns any error so far.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// DecisionColumns are the columns of a decisions export.
var DecisionColumns = []string{
	"decision_id", "item_id", "post_id", "category", "action", "reason_code", "actor",
	"decided_at", "flagged_at", "sla_deadline", "within_sla", "reversal_of",
}

// DecisionWriter writes a decisions export as CSV, one row per decision,
// after a header row: timestamps in RFC 3339 UTC, within_sla true or
// false, reversal_of the reversed decision's id or empty.
type DecisionWriter struct {
	w      *CSVWriter
	header bool
}

// NewDecisionWriter writes a decisions export to w. Rows are buffered
// (4 KiB); Flush sends them on.
func NewDecisionWriter(w io.Writer) *DecisionWriter { return &DecisionWriter{w: NewCSVWriter(w)} }

// Header writes the header row if it has not been written yet.
func (d *DecisionWriter) Header() error {
	if d.header {
		return nil
	}
	d.header = true
	return d.w.Write(DecisionColumns)
}

// Write writes one decision (the header first, if still due).
func (d *DecisionWriter) Write(r moderation.DecisionRecord) error {
	if err := d.Header(); err != nil {
		return err
	}
	rev := ""
	if r.Reverses != nil {
		rev = strconv.FormatInt(*r.Reverses, 10)
	}
	err := d.w.Write([]string{
		strconv.FormatInt(r.DecisionID, 10), strconv.FormatInt(r.ItemID, 10), r.PostID, r.Category,
		string(r.Action), r.ReasonCode, r.Actor,
		timestamp(r.DecidedAt), timestamp(r.FlaggedAt), timestamp(r.SLADeadline),
		strconv.FormatBool(r.WithinSLA()), rev,
	})
	if err != nil {
		return fmt.Errorf("writing decision %d: %w", r.DecisionID, err)
	}
	return nil
}

// Flush sends the buffered rows on and returns any write error so far.
func (d *DecisionWriter) Flush() error { return d.w.Flush() }
