package backtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
)

// The Davidson et al. (2017) corpus: 24,783 real tweets, each judged by at
// least three coders (hate speech, offensive language, or neither), and
// the authors' lexicon of hate n-grams. The repository is cloned with
// shared/ beside it.
const (
	davidsonTweets  = "../../../../shared/data/davidson-tweets/labeled_data.csv"
	davidsonLexicon = "../../../../shared/data/davidson-tweets/refined_ngram_dict.csv"
)

type tweet struct {
	id    string
	class int // coders' majority: 0 hate speech, 1 offensive language, 2 neither
	text  string
}

func readDavidson(t *testing.T) ([]tweet, map[string]float64) {
	t.Helper()
	f, err := os.Open(davidsonTweets)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("VIGIL_INTEGRATION") == "require" {
			t.Fatalf("%s is required (VIGIL_INTEGRATION=require): %v", davidsonTweets, err)
		}
		t.Skipf("%s missing, skipping: %v", davidsonTweets, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	if _, err := cr.Read(); err != nil { // header
		t.Fatal(err)
	}
	var tweets []tweet
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		class, err := strconv.Atoi(rec[5])
		if err != nil {
			t.Fatalf("row %s: class %q", rec[0], rec[5])
		}
		tweets = append(tweets, tweet{id: "davidson-" + rec[0], class: class, text: rec[6]})
	}
	raw, err := os.ReadFile(davidsonLexicon)
	if err != nil {
		t.Fatal(err)
	}
	// The lexicon's lines end with a bare carriage return.
	lr := csv.NewReader(bytes.NewReader(bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))))
	recs, err := lr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	lex := map[string]float64{}
	for _, r := range recs[1:] {
		p, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatalf("lexicon %v: %v", r, err)
		}
		lex[r[0]] = p
	}
	return tweets, lex
}

// lexiconRules writes one rule per n-gram whose prophate is at least min.
func lexiconRules(lex map[string]float64, min float64) string {
	var grams []string
	for g, p := range lex {
		if p >= min {
			grams = append(grams, g)
		}
	}
	sort.Strings(grams)
	var b strings.Builder
	b.WriteString("rules:\n")
	for _, g := range grams {
		fmt.Fprintf(&b, "  - id: %q\n    description: %q\n    category: hate\n    severity: medium\n    keywords: [%q]\n",
			"davidson."+strings.ReplaceAll(g, " ", "-"), "Davidson et al. lexicon n-gram, prophate "+strconv.FormatFloat(lex[g], 'f', 3, 64), g)
	}
	return b.String()
}

// TestBacktestDavidson backtests the authors' lexicon on their own
// corpus, taking the coders' majority class as the past decision: hate
// speech = removed, offensive or neither = no violation. The baseline
// holds the n-grams with prophate >= 0.6, the candidate all of them, so
// the changed rules are the weaker n-grams. docs/rules-workflow.md shows
// how to check the printed precisions against the CSV by hand.
func TestBacktestDavidson(t *testing.T) {
	tweets, lex := readDavidson(t)
	if len(tweets) != 24783 || len(lex) < 170 {
		t.Fatalf("read %d tweets and %d n-grams, want 24783 and the lexicon (see SOURCE.md)", len(tweets), len(lex))
	}
	ctx := context.Background()
	r := New(Options{Baseline: compile(t, lexiconRules(lex, 0.6)), Candidate: compile(t, lexiconRules(lex, 0)), Samples: 3})
	decisions := map[string]Outcome{}
	class := map[string]int{}
	for _, tw := range tweets {
		if err := r.Add(ctx, post(tw.id, tw.text)); err != nil {
			t.Fatal(err)
		}
		class[tw.id] = tw.class
		decisions[tw.id] = NoViolation
		if tw.class == 0 {
			decisions[tw.id] = Violation
		}
	}
	rep := r.Report(decisions)

	// Every flagged tweet was judged by the coders.
	if rep.Decided != len(r.FlaggedPostIDs()) {
		t.Errorf("decided %d of %d flagged tweets", rep.Decided, len(r.FlaggedPostIDs()))
	}
	if rep.FlaggedAfter < rep.FlaggedBefore || rep.NoLongerFlagged != 0 || rep.NewlyFlagged != rep.FlaggedAfter-rep.FlaggedBefore {
		t.Errorf("a superset of rules: flagged %d -> %d, newly %d, no longer %d",
			rep.FlaggedBefore, rep.FlaggedAfter, rep.NewlyFlagged, rep.NoLongerFlagged)
	}
	// Cross-check every rule's counts against the labels of the tweets the
	// candidate engine flags for it, evaluated independently here.
	cand := compile(t, lexiconRules(lex, 0))
	type tally struct{ flagged, hate int }
	want := map[string]*tally{}
	for _, tw := range tweets {
		v, err := cand.Evaluate(ctx, post(tw.id, tw.text))
		if err != nil {
			t.Fatal(err)
		}
		for k := range byRule(v.Matches) {
			if want[k] == nil {
				want[k] = &tally{}
			}
			want[k].flagged++
			if tw.class == 0 {
				want[k].hate++
			}
		}
	}
	changed, lowPrecision := 0, 0
	var hate, flagged int
	for _, rr := range rep.Rules {
		w := want[rr.Rule]
		if w == nil || rr.After.Flagged != w.flagged || rr.After.Violation != w.hate || rr.After.NoViolation != w.flagged-w.hate {
			t.Errorf("%s: report %+v, labels %+v", rr.Rule, rr.After, w)
		}
		if rr.Changed {
			changed++
			if rr.Before.Flagged != 0 || rr.NewlyFlagged != rr.After.Flagged {
				t.Errorf("%s: changed (new) rule with before %+v newly %d", rr.Rule, rr.Before, rr.NewlyFlagged)
			}
		}
		if rr.After.Value != nil && *rr.After.Value < 0.2 {
			lowPrecision++
		}
		hate += rr.After.Violation
		flagged += rr.After.Flagged
	}
	if changed == 0 {
		t.Error("no rule changed")
	}
	// The lexicon's n-grams were chosen for hate speech, yet coders judged
	// most tweets containing them merely offensive (Davidson et al.'s
	// point): overall precision is low, and that is what a backtest must
	// show before such rules flood the queue.
	overall := float64(hate) / float64(flagged)
	if overall < 0.05 || overall > 0.9 {
		t.Errorf("overall precision %.3f is implausible", overall)
	}

	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\tprophate\tflagged\thate\tprecision\tchanged\t")
	for _, rr := range rep.Rules {
		g := strings.ReplaceAll(strings.TrimPrefix(rr.Rule, "davidson."), "-", " ")
		p := "n/a"
		if rr.After.Value != nil {
			p = strconv.FormatFloat(*rr.After.Value, 'f', 3, 64)
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%d\t%d\t%s\t%v\t\n", rr.Rule, lex[g], rr.After.Flagged, rr.After.Violation, p, rr.Changed)
	}
	tw.Flush()
	t.Logf("davidson backtest: %d tweets, flagged %d -> %d (+%d), %d rules fired, %d changed, %d below 0.2 precision, overall precision %.3f\n%s",
		rep.Posts, rep.FlaggedBefore, rep.FlaggedAfter, rep.NewlyFlagged, len(rep.Rules), changed, lowPrecision, overall, buf.String())
}
