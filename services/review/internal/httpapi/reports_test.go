package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/report"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

// TestTransparencyReportEndpoint: the report of a seeded history in each
// format is exactly what package report renders from the numbers the
// fixture expects, so the API, vigilctl and the Postgres numbers agree;
// CSV and Markdown are attachments. Reason codes carry the titles of the
// server's reason codes.
func TestTransparencyReportEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	fx := moderationtest.SeedReport(t, e.schema.Pool)
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	want := fx.Want
	want.GeneratedAt = e.clock.Now()
	want.ByReason = slices.Clone(want.ByReason)
	want.TitleReasons(moderation.DefaultReasonCodes)
	q := "/api/v1/reports/transparency?from=2026-01-01&to=2026-02-01T00:00:00Z"
	for _, c := range []struct {
		format      moderation.ReportFormat
		query       string
		contentType string
		disposition string
	}{
		{moderation.FormatJSON, "", "application/json", ""},
		{moderation.FormatJSON, "&format=json", "application/json", ""},
		{moderation.FormatCSV, "&format=csv", "text/csv; charset=utf-8", `attachment; filename=vigil-transparency-20260101T000000Z-20260201T000000Z.csv`},
		{moderation.FormatMarkdown, "&format=markdown", "text/markdown; charset=utf-8", `attachment; filename=vigil-transparency-20260101T000000Z-20260201T000000Z.md`},
	} {
		r := e.must(e.do(auditor, "GET", q+c.query, nil), 200)
		var b bytes.Buffer
		if err := report.Write(&b, c.format, want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.body, b.Bytes()) {
			t.Errorf("format %s:\n got %s\nwant %s", c.format, r.body, b.Bytes())
		}
		if !bytes.Contains(r.body, []byte("Terrorist propaganda or recruitment")) {
			t.Errorf("format %s: no title for TC-1:\n%s", c.format, r.body)
		}
		if got := r.header.Get("Content-Type"); got != c.contentType {
			t.Errorf("format %s: Content-Type %q", c.format, got)
		}
		if got := r.header.Get("Content-Disposition"); got != c.disposition {
			t.Errorf("format %s: Content-Disposition %q, want %q", c.format, got, c.disposition)
		}
	}
	// A token with stats:read works too; one without it does not.
	u := e.user("exporter", moderation.RoleAuditor)
	e.must(e.do(e.token(u, moderation.PermStatsRead), "GET", q, nil), 200)
	e.must(e.do(e.token(u, moderation.PermAuditRead), "GET", q, nil), 403)
}

// TestReportParameters: every bad parameter of both endpoints is a 400
// in the API's error format, saying what is wrong.
func TestReportParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	lead := e.session(e.user("lead", moderation.RoleLead))
	future := e.clock.Now().Add(48 * time.Hour).Format(time.DateOnly)
	for _, base := range []string{"/api/v1/reports/transparency", "/api/v1/decisions/export"} {
		for query, want := range map[string]string{
			"":                                                    "from is required",
			"?from=2026-01-01":                                    "to is required",
			"?to=2026-01-01":                                      "from is required",
			"?from=yesterday&to=2026-01-01":                       `from \"yesterday\" must be an RFC 3339 timestamp or a date YYYY-MM-DD`,
			"?from=2026-01-01&to=2026-02-30":                      `to \"2026-02-30\" must be an RFC 3339`,
			"?from=2026-01-01T00:00:00&to=2026-02-1":              "must be an RFC 3339",
			"?from=2026-02-01&to=2026-01-01":                      "must be before to",
			"?from=2026-01-01&to=2026-01-01":                      "must be before to",
			"?from=2024-01-01&to=2025-01-02":                      "longer than 366 days",
			"?from=2026-01-01&to=2026-02-01&x=1":                  `unknown query parameter \"x\"`,
			"?from=2026-01-01&from=2026-01-02&to=2026-02-01":      `query parameter \"from\" given more than once`,
			"?from=" + strings.Repeat("9", 65) + "&to=2026-01-01": "from is longer than 64 bytes",
		} {
			r := e.do(lead, "GET", base+query, nil)
			if r.status != 400 || r.code() != "invalid" || !strings.Contains(string(r.body), want) {
				t.Errorf("GET %s%s: %d %s, want 400 invalid saying %s", base, query, r.status, r.body, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s%s: Content-Type %q", base, query, ct)
			}
		}
	}
	for query, want := range map[string]string{
		"?from=2026-01-01&to=2026-02-01&format=pdf":      "format must be one of json, csv, markdown",
		"?from=2026-01-01&to=2026-02-01&format=Markdown": "format must be one of",
		"?from=2026-01-01&to=" + future:                  "a report covers a period that has ended",
	} {
		r := e.do(lead, "GET", "/api/v1/reports/transparency"+query, nil)
		if r.status != 400 || r.code() != "invalid" || !strings.Contains(string(r.body), want) {
			t.Errorf("GET report%s: %d %s, want 400 saying %s", query, r.status, r.body, want)
		}
	}
	// The export has no format, and may end in the future.
	if r := e.do(lead, "GET", "/api/v1/decisions/export?from=2026-01-01&to=2026-02-01&format=csv", nil); r.status != 400 {
		t.Errorf("export with format: %d %s", r.status, r.body)
	}
	e.must(e.do(lead, "GET", "/api/v1/decisions/export?from=2026-01-01&to="+future, nil), 200)
}

// TestDecisionsExport: every decision of the window, one row each, with
// the header, as an attachment, formula cells defused; an empty window is
// the header alone.
func TestDecisionsExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	fx := moderationtest.SeedReport(t, e.schema.Pool)
	aud := e.session(e.user("aud", moderation.RoleAuditor))
	r := e.must(e.do(aud, "GET", "/api/v1/decisions/export?from=2026-01-01&to=2026-02-01", nil), 200)
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=vigil-decisions-20260101T000000Z-20260201T000000Z.csv" {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(fx.Decisions) || strings.Join(recs[0], ",") != strings.Join(report.DecisionColumns, ",") {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	for i, rec := range recs[1:] {
		if rec[0] != fmt.Sprint(fx.Decisions[i]) {
			t.Errorf("row %d is decision %s, want %d", i, rec[0], fx.Decisions[i])
		}
	}
	first := recs[1]
	if first[2] != "'"+fx.HostilePostID || first[4] != "remove" || first[6] != "lead-1" || first[7] != "2026-01-10T10:30:00Z" ||
		first[8] != "2026-01-10T10:00:00Z" || first[9] != "2026-01-10T11:00:00Z" || first[10] != "true" || first[11] != "" {
		t.Errorf("first row %q", first)
	}
	if recs[2][11] != first[0] || recs[2][4] != "report" {
		t.Errorf("the reversal row %q does not name %s", recs[2], first[0])
	}
	r = e.must(e.do(aud, "GET", "/api/v1/decisions/export?from=2020-01-01&to=2020-01-02", nil), 200)
	if string(r.body) != strings.Join(report.DecisionColumns, ",")+"\r\n" {
		t.Errorf("empty export %q", r.body)
	}
}

// streamingReports emits 600 rows, then waits for release before the
// last one; for a window starting before 2026 it fails after 300 rows.
type streamingReports struct {
	release chan struct{}
}

func (s *streamingReports) TransparencyReport(context.Context, moderation.ReportPeriod, time.Time) (moderation.TransparencyReport, error) {
	return moderation.TransparencyReport{}, errors.New("not used")
}

func (s *streamingReports) QueueStats(context.Context, time.Time) ([]moderation.QueueStat, error) {
	return nil, errors.New("not used")
}

func (s *streamingReports) ExportDecisions(ctx context.Context, p moderation.ReportPeriod, fn func(moderation.DecisionRecord) error) error {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := 600
	if p.From.Year() < 2026 {
		rows = 300
	}
	for i := range rows {
		if err := fn(moderation.DecisionRecord{DecisionID: int64(i + 1), ItemID: 1, PostID: "p", Category: "c", Action: moderation.ActionRemove,
			ReasonCode: "TC-1", Actor: "a", DecidedAt: at, FlaggedAt: at, SLADeadline: at}); err != nil {
			return err
		}
	}
	if rows == 300 {
		return errors.New("connection reset")
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return fn(moderation.DecisionRecord{DecisionID: int64(rows + 1), DecidedAt: at, FlaggedAt: at, SLADeadline: at})
}

// TestDecisionsExportStreams: rows reach the client while the export is
// still reading (it is not buffered whole), and an export failing midway
// cuts the response instead of ending it cleanly.
func TestDecisionsExportStreams(t *testing.T) {
	t.Parallel()
	src := &streamingReports{release: make(chan struct{})}
	e := newEnv(t, func(s *httpapi.Server) { s.Reports = src })
	tok := e.token(e.user("aud", moderation.RoleAuditor), moderation.PermStatsRead)
	get := func(from string) *http.Response {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/decisions/export?from="+from+"&to=2026-02-01", nil)
		req.Header.Set("Authorization", "Bearer "+tok.bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := get("2026-01-01")
	defer res.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(10 * time.Second)
	for n := 0; n < 1+512; n++ { // the header and two flushes of rows
		select {
		case <-lines:
		case <-timeout:
			t.Fatalf("only %d lines arrived before the export finished reading: buffered, not streamed", n)
		}
	}
	close(src.release)
	n := 513
	for range lines {
		n++
	}
	if n != 1+601 {
		t.Errorf("%d lines in all, want 602", n)
	}

	res = get("2025-12-01")
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Error("an export failing midway ended like a complete one")
	}
}

// TestDecisionsExportRefusesHTTP10: an HTTP/1.0 client (no chunked
// encoding, so a cut stream would end like a complete one) gets 505 and
// the API's JSON error pointing to HTTP/1.1 and vigilctl; the
// transparency report, sent whole with its length, still works over it.
func TestDecisionsExportRefusesHTTP10(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(e.user("aud", moderation.RoleAuditor), moderation.PermStatsRead)
	get10 := func(path string) (*http.Response, []byte) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n", path, tok.bearer)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}
	res, body := get10("/api/v1/decisions/export?from=2026-01-01&to=2026-02-01")
	if res.StatusCode != http.StatusHTTPVersionNotSupported || res.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), `"code":"http_version_not_supported"`) || !strings.Contains(string(body), "use HTTP/1.1 or later, or vigilctl report decisions") {
		t.Errorf("HTTP/1.0 export: %d %s", res.StatusCode, body)
	}
	if res, body := get10("/api/v1/reports/transparency?from=2026-01-01&to=2026-02-01"); res.StatusCode != 200 || res.ContentLength != int64(len(body)) {
		t.Errorf("HTTP/1.0 report: %d, length %d for %d bytes", res.StatusCode, res.ContentLength, len(body))
	}
	// HTTP/1.1 is served as before.
	e.must(e.do(tok, "GET", "/api/v1/decisions/export?from=2026-01-01&to=2026-02-01", nil), 200)
}
