package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
	if *since < 0 {
		return fmt.Errorf("rules precision: --since %v: want a duration of 0 (all) or more", *since)
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
			_ = enc.Encode(struct {
				moderation.RulePrecision
				Precision      *float64 `json:"precision"`
				MedianDecision float64  `json:"median_time_to_decision_seconds"`
				Low            bool     `json:"low"`
			}{p, orNull(p.Precision()), p.MedianDecision.Seconds(), pp.Low(p)})
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

// entryAdvice says what to do about a low entry.
const entryAdvice = `An entry with low precision most likely holds the hash of a common image (a meme, a
logo, a blank frame) and flags harmless posts; check its items in the review queue
(cluster BANK:ENTRY). If it is wrong, take it out of service on every worker with
'vigilctl banks quarantine -m REASON BANK ENTRY', remove it from its bank file under
rules/banks/ or from the source list, and tell the list's maintainers.
'vigilctl banks quarantined' lists the entries out of service.`

func runBanksPrecision(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "banks precision", "Usage: vigilctl banks precision [--since DURATION] [--bank NAME] [--min-decided N] [--threshold P]\n\n"+
		"Per hash-bank entry: items matched, removed (remove or report), no violation,\n"+
		"precision = removed / (removed + no violation), the median time from flag to decision\n"+
		"and the median Hamming distance, from moderators' latest decisions; worst first.\n"+
		"--min-decided lists only entries with that many decided items. Entries below\n"+
		"--threshold with at least --low-min-decided decided items (the rules' policy) are\n"+
		"marked LOW.")
	dbURL := databaseFlag(fs)
	since := fs.Duration("since", 30*24*time.Hour, "count items flagged within this long (0: all)")
	bank := fs.String("bank", "", "only this bank's entries")
	minDecided := fs.Int64("min-decided", 0, "list only entries with at least this many decided items")
	threshold := fs.Float64("threshold", moderation.DefaultPrecisionPolicy.Threshold, "precision below which an entry is marked LOW")
	lowMin := fs.Int64("low-min-decided", moderation.DefaultPrecisionPolicy.MinDecided, "decided items needed before an entry can be marked LOW")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "banks precision"); err != nil {
		return err
	}
	if *since < 0 {
		return fmt.Errorf("banks precision: --since %v: want a duration of 0 (all) or more", *since)
	}
	policy := moderation.PrecisionPolicy{Threshold: *threshold, MinDecided: *lowMin}
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("banks precision: %w", err)
	}
	if *minDecided < 0 {
		return fmt.Errorf("banks precision: --min-decided %d: want 0 or more", *minDecided)
	}
	if *bank != "" && !moderation.ValidBankName(*bank) {
		return fmt.Errorf("banks precision: --bank %q is no bank name (a-z, 0-9, _, . and -)", *bank)
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	f := postgres.EntryPrecisionFilter{Bank: *bank, MinDecided: *minDecided}
	if *since > 0 {
		f.Since = time.Now().Add(-*since)
	}
	ps, err := postgres.BankEntryPrecision(ctx, pool, f)
	if err != nil {
		return err
	}
	printEntryPrecision(env, ps, policy, *asJSON)
	return nil
}

func printEntryPrecision(env Env, ps []moderation.BankEntryPrecision, pp moderation.PrecisionPolicy, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, p := range ps {
			_ = enc.Encode(struct {
				moderation.BankEntryPrecision
				Decided        int64    `json:"decided"`
				Precision      *float64 `json:"precision"`
				MedianDecision float64  `json:"median_time_to_decision_seconds"`
				Low            bool     `json:"low"`
			}{p, p.Decided(), orNull(p.Precision()), p.MedianDecision.Seconds(), pp.LowEntry(p)})
		}
		return
	}
	if len(ps) == 0 {
		fmt.Fprintln(env.Stderr, "no bank entries matched flagged items in the period (with the decided items asked for)")
		return
	}
	lowMark := "  LOW"
	if IsTerminal(env.Stdout) {
		lowMark = "  \x1b[1;31mLOW\x1b[0m"
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BANK\tENTRY\tFLAGGED\tREMOVED\tNO VIOLATION\tPRECISION\tMEDIAN TO DECISION\tMEDIAN DISTANCE\t")
	low := 0
	for _, p := range ps {
		prec, med := "-", "-"
		if v, ok := p.Precision(); ok {
			prec = fmt.Sprintf("%.2f", v)
			med = p.MedianDecision.Round(time.Second).String()
		}
		mark := ""
		if pp.LowEntry(p) {
			mark = lowMark
			low++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s%s\t%s\t%g\t\n", p.Bank, shownID(p.EntryID), p.Flagged, p.Removed, p.NoViolation, prec, mark, med, p.MedianDistance)
	}
	tw.Flush()
	if low > 0 {
		fmt.Fprintf(env.Stdout, "\n%d entr%s below precision %.2f (with at least %d decided items).\n%s\n",
			low, map[bool]string{true: "y", false: "ies"}[low == 1], pp.Threshold, pp.MinDecided, entryAdvice)
	}
}

// shownID is an entry id as printed: quoted, with escapes, if it holds a
// character that is not printable (ids come from shared lists and are
// printable UTF-8 (moderation.PrintableText), which still admits
// characters that reorder a terminal line, such as U+202E).
func shownID(id string) string {
	if strings.IndexFunc(id, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
		return strconv.Quote(id)
	}
	return id
}

// orNull is a precision for JSON: null when nothing was decided.
func orNull(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}
