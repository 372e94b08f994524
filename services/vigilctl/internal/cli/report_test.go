package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/report"
)

// TestReportTransparency: the report of a seeded history, in each format,
// to stdout or a file, is exactly what package report renders from the
// numbers the fixture expects (the API serves the same bytes); bad
// periods and formats are refused before connecting.
func TestReportTransparency(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, s.Pool)
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return fx.Now }}
		err := Run(context.Background(), append([]string{"vigilctl", "report", "transparency", "--database-url=" + s.URL}, args...), env)
		return out.String(), errb.String(), err
	}
	rendered := func(f moderation.ReportFormat) string {
		var b bytes.Buffer
		if err := report.Write(&b, f, fx.Want); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out, errOut, err := run("--from", "2026-01-01", "--to", "2026-02-01T00:00:00Z")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if out != rendered(moderation.FormatMarkdown) {
		t.Errorf("markdown\n got %s\nwant %s", out, rendered(moderation.FormatMarkdown))
	}
	if !strings.Contains(out, "| Items flagged in the period | 12 |") || !strings.Contains(out, "| Time to action, median (p50) | 40m 00s |") {
		t.Errorf("markdown summary:\n%s", out)
	}
	if out, _, err := run("--from", "2026-01-01", "--to", "2026-02-01", "--format", "json"); err != nil || out != rendered(moderation.FormatJSON) {
		t.Errorf("json: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "report.csv")
	out, errOut, err = run("--from", "2026-01-01", "--to", "2026-02-01", "--format", "csv", "-o", file)
	if err != nil || out != "" || !strings.Contains(errOut, "wrote "+file) {
		t.Fatalf("-o: %v %q %q", err, out, errOut)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != rendered(moderation.FormatCSV) {
		t.Errorf("file: %v\n%s", err, b)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", "2026-02-01"}, "from is required"},
		{[]string{"--from", "2026-01-01", "--to", "2026-01-01"}, "must be before to"},
		{[]string{"--from", "2024-01-01", "--to", "2026-01-01"}, "longer than 366 days"},
		{[]string{"--from", "2026-01-01", "--to", "2026-02-01", "--format", "pdf"}, `format "pdf"`},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-02"}, "a report covers a period that has ended"},
		{[]string{"--from", "2026-01-01", "--to", "2026-02-01", "extra"}, "unexpected arguments"},
	} {
		out, _, err := run(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || out != "" {
			t.Errorf("%v: %q %v, want an error saying %s", c.args, out, err, c.want)
		}
		if c.want != "unexpected arguments" && !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("%v: %v is not ErrInvalid", c.args, err)
		}
	}

	// Without --reason-codes the titles are empty and the Markdown says
	// so; with it each code has its title (escaped like any cell), and a
	// code missing from the file has none.
	if out, _, _ := run("--from", "2026-01-01", "--to", "2026-02-01"); !strings.Contains(out, "| TC-1 |  | 2 |") || !strings.Contains(out, "Titles not shown") {
		t.Errorf("untitled markdown:\n%s", out)
	}
	codesFile := filepath.Join(t.TempDir(), "reason-codes.txt")
	if err := os.WriteFile(codesFile, []byte("# test codes\nTC-1 Terrorist *propaganda*\nNV-1 [no_violation, escalate] =False positive\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	codes, err := moderation.ReadReasonCodes(codesFile)
	if err != nil {
		t.Fatal(err)
	}
	titled := fx.Want
	titled.ByReason = slices.Clone(titled.ByReason)
	titled.TitleReasons(codes)
	for _, f := range []moderation.ReportFormat{moderation.FormatMarkdown, moderation.FormatCSV} {
		var want bytes.Buffer
		if err := report.Write(&want, f, titled); err != nil {
			t.Fatal(err)
		}
		out, errOut, err := run("--from", "2026-01-01", "--to", "2026-02-01", "--format", string(f), "--reason-codes", codesFile)
		if err != nil || out != want.String() {
			t.Errorf("%s with --reason-codes: %v %s\n got %s\nwant %s", f, err, errOut, out, want.String())
		}
		if f == moderation.FormatMarkdown && (!strings.Contains(out, `| TC-1 | Terrorist \*propaganda\* | 2 |`) || !strings.Contains(out, "| TC-2 |  |") || strings.Contains(out, "Titles not shown")) {
			t.Errorf("titled markdown:\n%s", out)
		}
		if f == moderation.FormatCSV && !strings.Contains(out, ",reason_code,NV-1,'=False positive,") {
			t.Errorf("titled CSV:\n%s", out)
		}
	}
	if err := os.WriteFile(codesFile, []byte("tc1 lower case\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := run("--from", "2026-01-01", "--to", "2026-02-01", "--reason-codes", codesFile); !errors.Is(err, moderation.ErrInvalid) ||
		!strings.Contains(err.Error(), codesFile+":1: reason code") || out != "" {
		t.Errorf("bad reason-code file: %q %v", out, err)
	}
}

// TestReportDecisions: the CSV export of a seeded window, to stdout or a
// file, has the header and one row per decision of the window, with the
// spreadsheet formula in a post id defused; refused windows write
// nothing, and no file.
func TestReportDecisions(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, s.Pool)
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
		err := Run(context.Background(), append([]string{"vigilctl", "report", "decisions", "--database-url=" + s.URL}, args...), env)
		return out.String(), errb.String(), err
	}
	out, errOut, err := run("--from", "2026-01-01", "--to", "2026-02-01")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if lines[0] != strings.Join(report.DecisionColumns, ",") || len(lines) != 1+len(fx.Decisions) {
		t.Fatalf("export: header %q and %d rows, want %d rows", lines[0], len(lines)-1, len(fx.Decisions))
	}
	for i, id := range fx.Decisions {
		if !strings.HasPrefix(lines[1+i], fmt.Sprint(id)+",") {
			t.Errorf("row %d is %q, want decision %d", i+1, lines[1+i], id)
		}
	}
	if !strings.Contains(out, `"'`+strings.ReplaceAll(fx.HostilePostID, `"`, `""`)+`"`) {
		t.Errorf("the formula post id %q is not defused in\n%s", fx.HostilePostID, out)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "decisions.csv")
	if got, errOut, err := run("--from", "2026-01-01", "--to", "2026-02-01", "-o", file); err != nil || got != "" ||
		!strings.Contains(errOut, fmt.Sprintf("wrote %s (%d decisions)", file, len(fx.Decisions))) {
		t.Fatalf("-o: %v %q %q", err, got, errOut)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != out {
		t.Errorf("file differs from stdout: %v", err)
	}
	// An empty window: the header alone.
	if got, _, err := run("--from", "2020-01-01", "--to", "2020-02-01"); err != nil || got != strings.Join(report.DecisionColumns, ",")+"\r\n" {
		t.Errorf("empty window: %v %q", err, got)
	}
	bad := filepath.Join(dir, "bad.csv")
	if _, _, err := run("--from", "2026-02-01", "--to", "2026-01-01", "-o", bad); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("inverted window: %v, want ErrInvalid", err)
	}
	// A database that is not there: no file, not even a partial one.
	var outb, errb bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: &outb, Stderr: &errb}
	if err := Run(context.Background(), []string{"vigilctl", "report", "decisions", "--database-url=postgres://nobody@127.0.0.1:1/none",
		"--from", "2026-01-01", "--to", "2026-02-01", "-o", bad}, env); err == nil {
		t.Error("export from a database that is not there succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in the output directory: %v, want decisions.csv alone", entries)
	}
}
