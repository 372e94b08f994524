package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/report"
)

func reportCommand() Command {
	return Command{
		Name:    "report",
		Summary: "auditors' reports from the database (transparency, decisions)",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "report", args, []Command{
				{Name: "transparency", Summary: "the transparency report of a period (Markdown, CSV or JSON)", Run: reportTransparency},
				{Name: "decisions", Summary: "every decision of a window as CSV (the API's decisions export)", Run: reportDecisions},
			})
		},
	}
}

// periodFlags registers --from and --to (of the period or window, as what
// says) and returns the function reading them once parsed.
func periodFlags(fs *flag.FlagSet, what string) func() (moderation.ReportPeriod, error) {
	from := fs.String("from", "", "start of the "+what+", inclusive: RFC 3339 or YYYY-MM-DD (required)")
	to := fs.String("to", "", "end of the "+what+", exclusive: RFC 3339 or YYYY-MM-DD (required)")
	return func() (moderation.ReportPeriod, error) { return moderation.ParseReportPeriod(*from, *to) }
}

// reportTransparency renders the transparency report of a period through
// package report, exactly as GET /api/v1/reports/transparency does.
func reportTransparency(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "report transparency", "Usage: vigilctl report transparency --from DATE --to DATE [--format markdown|csv|json] [--reason-codes FILE] [-o FILE]\n\n"+
		"The transparency report of the period [from, to): items flagged and decided, decisions by\n"+
		"action, referrals to law enforcement, reversals and restorations, time to action (p50, p90,\n"+
		"p99, max), SLA met and missed, items open and overdue at the end; in total, by category, by\n"+
		"detection source and by reason code (docs/reports.md defines each number). Dates are\n"+
		"RFC 3339 or YYYY-MM-DD (midnight UTC); the period is at most 366 days and must have ended.\n"+
		"Markdown is the publishable report. With --reason-codes (the file vigil-review is given), each\n"+
		"reason code carries its title; without it titles are empty.")
	dbURL := databaseFlag(fs)
	period := periodFlags(fs, "period")
	format := fs.String("format", string(moderation.FormatMarkdown), "markdown, csv or json")
	codesFile := fs.String("reason-codes", "", "file of policy reason codes (CODE [actions] Title, one a line), to title the reason codes")
	out := fs.String("o", "", "write the report to this file instead of standard output")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "report transparency"); err != nil {
		return err
	}
	p, err := period()
	if err != nil {
		return fmt.Errorf("report transparency: %w", err)
	}
	f, err := moderation.ParseReportFormat(*format, moderation.FormatMarkdown)
	if err != nil {
		return fmt.Errorf("report transparency: %w", err)
	}
	var codes moderation.ReasonCodes
	if *codesFile != "" {
		if codes, err = moderation.ReadReasonCodes(*codesFile); err != nil {
			return fmt.Errorf("report transparency: %w", err)
		}
	}
	pool, err := postgres.Connect(ctx, *dbURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := postgres.NewReports(pool).TransparencyReport(ctx, p, env.now())
	if err != nil {
		return err
	}
	if codes != nil {
		rep.TitleReasons(codes)
	}
	var b bytes.Buffer
	if err := report.Write(&b, f, rep); err != nil {
		return err
	}
	if *out == "" {
		_, err := env.Stdout.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report transparency: writing the report: %w", err)
	}
	fmt.Fprintf(env.Stderr, "wrote %s (%s, %d bytes)\n", *out, f, b.Len())
	return nil
}

// reportDecisions writes every decision made in a window as CSV, exactly
// as GET /api/v1/decisions/export does (report.DecisionWriter), streamed
// from the database. With -o the file appears only once the export is
// complete (written beside it, then renamed), so a failed export never
// leaves a file that looks whole.
func reportDecisions(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags(env, "report decisions", "Usage: vigilctl report decisions --from DATE --to DATE [-o FILE]\n\n"+
		"Every decision made in [from, to) as CSV, one row per decision in id order (docs/reports.md,\n"+
		"\"Decision export\"), cells defused against spreadsheet formulas. Dates are RFC 3339 or\n"+
		"YYYY-MM-DD (midnight UTC); the window is at most 366 days.")
	dbURL := databaseFlag(fs)
	period := periodFlags(fs, "window")
	out := fs.String("o", "", "write the CSV to this file instead of standard output")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "report decisions"); err != nil {
		return err
	}
	p, err := period()
	if err != nil {
		return fmt.Errorf("report decisions: %w", err)
	}
	pool, err := postgres.Connect(ctx, *dbURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()

	var w io.Writer = env.Stdout
	var tmp *os.File
	if *out != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*"); err != nil {
			return fmt.Errorf("report decisions: %w", err)
		}
		defer func() {
			if err != nil {
				_ = tmp.Close()
				_ = os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	bw := bufio.NewWriter(w)
	dw := report.NewDecisionWriter(bw)
	bar := newProgress(env.Stderr, "exporting", "decisions", 0)
	var n int64
	err = postgres.NewReports(pool).ExportDecisions(ctx, p, func(d moderation.DecisionRecord) error {
		n++
		bar.Set(n)
		return dw.Write(d)
	})
	if err == nil {
		err = dw.Header() // an empty window still has its header row
	}
	if err == nil {
		err = errors.Join(dw.Flush(), bw.Flush())
	}
	bar.Done()
	if err != nil {
		return fmt.Errorf("report decisions: %w", err)
	}
	if tmp == nil {
		return nil
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("report decisions: %w", err)
	}
	if err = os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("report decisions: %w", err)
	}
	fmt.Fprintf(env.Stderr, "wrote %s (%d decisions)\n", *out, n)
	return nil
}
