package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/report"
)

// Reports are auditors' statistics over a period.
type Reports interface {
	// TransparencyReport computes the report of p as of now. Returns
	// ErrInvalid for an invalid period or one not ended by now.
	TransparencyReport(ctx context.Context, p moderation.ReportPeriod, now time.Time) (moderation.TransparencyReport, error)
	// ExportDecisions calls fn with every decision made in p, in id
	// order, as it is read; an error from fn stops it and is returned.
	ExportDecisions(ctx context.Context, p moderation.ReportPeriod, fn func(moderation.DecisionRecord) error) error
	// QueueStats summarises the open items by category and status as of
	// now (postgres.QueueStats).
	QueueStats(ctx context.Context, now time.Time) ([]moderation.QueueStat, error)
}

// errHTTP10Export refuses the decisions export to an HTTP/1.0 client,
// which could not tell a cut stream from a complete one.
var errHTTP10Export = &apiError{status: http.StatusHTTPVersionNotSupported, code: "http_version_not_supported",
	msg: "the decisions export is streamed, and over HTTP/1.0 a cut stream looks complete: " +
		"use HTTP/1.1 or later, or vigilctl report decisions (which writes the whole file or none)"}

// exportFlushRows is how many export rows are sent to the client at once.
const exportFlushRows = 256

// exportIdle is how long one flush of an export may take: the server's
// write timeout would cut a long export, so each flush moves the write
// deadline on instead, and only a client that stops reading is cut.
const exportIdle = time.Minute

// reportTime is how long a transparency report may take to compute and
// send.
const reportTime = 5 * time.Minute

// period reads and validates the from and to parameters.
func period(q *query) (moderation.ReportPeriod, error) {
	from, to := q.str("from", 64), q.str("to", 64)
	if q.err != nil {
		return moderation.ReportPeriod{}, q.err
	}
	return moderation.ParseReportPeriod(from, to)
}

// attachment sets the headers of a download named name.
func attachment(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}

// transparencyReport serves the transparency report of [from, to) as
// JSON (the default), CSV or Markdown, rendered by package report exactly
// as vigilctl report transparency renders it; CSV and Markdown as
// attachments. Reason codes carry their titles from s.ReasonCodes.
func (s *Server) transparencyReport(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "from", "to", "format")
	format := q.oneOf("format", string(moderation.FormatJSON), string(moderation.FormatCSV), string(moderation.FormatMarkdown))
	p, err := period(q)
	if err != nil {
		return err
	}
	f, err := moderation.ParseReportFormat(format, moderation.FormatJSON)
	if err != nil {
		return err
	}
	if s.Reports == nil {
		return errors.New("reports are not configured")
	}
	// A year's report can take longer than the server's write timeout to
	// compute; give it reportTime from now instead of from the request.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reportTime))
	rep, err := s.Reports.TransparencyReport(r.Context(), p, s.Clock.Now())
	if err != nil {
		return err
	}
	rep.TitleReasons(s.ReasonCodes)
	var b bytes.Buffer
	if err := report.Write(&b, f, rep); err != nil {
		return err
	}
	if f == moderation.FormatJSON {
		w.Header().Set("Content-Type", report.ContentType(f))
	} else {
		attachment(w, report.ContentType(f), report.Filename(p, f))
	}
	// Its length, so that every client (HTTP/1.0 too) can tell a complete
	// report from a cut one.
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
	return nil
}

// exportDecisions streams every decision made in [from, to) as CSV, row
// by row as the database returns them. Errors found before the first row
// is sent are answered as JSON; after that the response is aborted (the
// connection is cut without the final chunk), so a client never takes a
// truncated export for a complete one. HTTP/1.0 has no chunks: a stream
// of unknown length ends when the connection closes, so a cut export
// would look complete there; such requests get 505 instead.
func (s *Server) exportDecisions(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if !r.ProtoAtLeast(1, 1) {
		return errHTTP10Export
	}
	p, err := period(params(r, "from", "to"))
	if err != nil {
		return err
	}
	if s.Reports == nil {
		return errors.New("reports are not configured")
	}
	rc := http.NewResponseController(w)
	dw := report.NewDecisionWriter(w)
	started, rows := false, 0
	start := func() {
		if !started {
			started = true
			// Deadlines are wall-clock time, whatever s.Clock says; this
			// one also covers a query slow to return its first row.
			_ = rc.SetWriteDeadline(time.Now().Add(exportIdle))
			attachment(w, report.ContentType(moderation.FormatCSV), report.ExportFilename(p))
			w.WriteHeader(http.StatusOK)
		}
	}
	err = s.Reports.ExportDecisions(r.Context(), p, func(d moderation.DecisionRecord) error {
		start()
		if err := dw.Write(d); err != nil {
			return err
		}
		if rows++; rows%exportFlushRows == 0 {
			if err := dw.Flush(); err != nil {
				return err
			}
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return err
			}
			_ = rc.SetWriteDeadline(time.Now().Add(exportIdle))
		}
		return nil
	})
	if err == nil {
		start()
		if err = dw.Header(); err == nil {
			err = dw.Flush()
		}
	}
	if err != nil && !started {
		return err
	}
	if err != nil {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the client went away
		}
		s.Log.Log(r.Context(), level, "decisions export stopped midway; aborting the response", "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
