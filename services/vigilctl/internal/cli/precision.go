package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func runRulesPrecision(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules precision", "Usage: vigilctl rules precision [--since DURATION] [--rule ID] [--threshold P]\n\n"+
		"Per rule and version: items flagged, removed (remove or report), no violation,\n"+
		"precision = removed / (removed + no violation), and the median time from flag to\n"+
		"decision, from moderators' latest decisions. Rules below --threshold with at least\n"+
		"--min-decided decided items are marked LOW.")
	dbURL := databaseFlag(fs)
	since := fs.Duration("since", 30*24*time.Hour, "count items flagged within this long (0: all)")
	rule := fs.String("rule", "", "only this rule (or bank:NAME)")
	threshold := fs.Float64("threshold", moderation.DefaultPrecisionPolicy.Threshold, "precision below which a rule is marked LOW")
	minDecided := fs.Int64("min-decided", moderation.DefaultPrecisionPolicy.MinDecided, "decided items needed before a rule can be marked LOW")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "rules precision"); err != nil {
		return err
	}
	policy := moderation.PrecisionPolicy{Threshold: *threshold, MinDecided: *minDecided}
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("rules precision: %w", err)
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	f := postgres.PrecisionFilter{Rule: *rule}
	if *since > 0 {
		f.Since = time.Now().Add(-*since)
	}
	ps, err := postgres.RulePrecision(ctx, pool, f)
	if err != nil {
		return err
	}
	printPrecision(env, ps, policy, *asJSON)
	return nil
}

func printPrecision(env Env, ps []moderation.RulePrecision, pp moderation.PrecisionPolicy, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, p := range ps {
			v, ok := p.Precision()
			var pr *float64
			if ok {
				pr = &v
			}
			_ = enc.Encode(struct {
				moderation.RulePrecision
				Precision      *float64 `json:"precision"`
				MedianDecision float64  `json:"median_time_to_decision_seconds"`
				Low            bool     `json:"low"`
			}{p, pr, p.MedianDecision.Seconds(), pp.Low(p)})
		}
		return
	}
	if len(ps) == 0 {
		fmt.Fprintln(env.Stderr, "no flagged items in the period")
		return
	}
	lowMark := "  LOW"
	if IsTerminal(env.Stdout) {
		lowMark = "  \x1b[1;31mLOW\x1b[0m" // highlighted on a terminal
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tVERSION\tFLAGGED\tREMOVED\tNO VIOLATION\tPRECISION\tMEDIAN TO DECISION\t")
	low := 0
	for _, p := range ps {
		prec, med := "-", "-"
		if v, ok := p.Precision(); ok {
			prec = fmt.Sprintf("%.2f", v)
			med = p.MedianDecision.Round(time.Second).String()
		}
		mark := ""
		if pp.Low(p) {
			mark = lowMark
			low++
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s%s\t%s\t\n", p.RuleID, p.RuleVersion, p.Flagged, p.Removed, p.NoViolation, prec, mark, med)
	}
	tw.Flush()
	if low > 0 {
		fmt.Fprintf(env.Stdout, "\n%d rule version(s) below precision %.2f (with at least %d decided items)\n", low, pp.Threshold, pp.MinDecided)
	}
}
