package backtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// compile builds an engine from one YAML rule file.
func compile(t testing.TB, yaml string) *engine.Engine {
	t.Helper()
	s, err := ruleset.Compile([]ruleset.File{{Name: "rules.yaml", Data: []byte(yaml)}})
	if err != nil {
		t.Fatalf("compiling rules: %v\n%s", err, yaml)
	}
	return engine.New(s)
}

func post(id, text string) moderation.Post {
	return moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a"}, Text: text,
		CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

const baseline = `
rules:
  - id: threat.attack
    description: attack calls
    category: violent_threat
    severity: high
    keywords: [attack the]
  - id: spam.crypto
    description: crypto spam
    category: spam
    severity: low
    keywords: [free bitcoin]
`

// The candidate widens threat.attack (adds "bomb the"), drops spam.crypto
// and adds hate.vermin.
const candidate = `
rules:
  - id: threat.attack
    description: attack calls
    category: violent_threat
    severity: high
    keywords: [attack the, bomb the]
  - id: hate.vermin
    description: dehumanising
    category: hate
    severity: medium
    keywords: [are vermin]
`

func TestBacktestSmallCorpus(t *testing.T) {
	ctx := context.Background()
	r := New(Options{Baseline: compile(t, baseline), Candidate: compile(t, candidate), Samples: 2})
	corpus := []moderation.Post{
		post("p1", "we will attack the city"),         // both; decided violation
		post("p2", "bomb the bridge tonight"),         // newly flagged; decided violation
		post("p3", "bomb the exam, said a student"),   // newly flagged; decided no_violation
		post("p4", "free bitcoin for all"),            // no longer flagged; decided no_violation
		post("p5", "free bitcoin giveaway"),           // no longer flagged; undecided
		post("p6", "they are vermin"),                 // newly flagged (new rule); violation
		post("p7", "nice weather"),                    // neither
		post("p8", "attack the fortress in the game"), // both; no_violation
	}
	for _, p := range corpus {
		if err := r.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	decisions := map[string]Outcome{
		"p1": Violation, "p2": Violation, "p3": NoViolation, "p4": NoViolation,
		"p6": Violation, "p8": NoViolation, "p7": Violation, // p7 was never flagged: ignored
	}
	if got, want := r.FlaggedPostIDs(), []string{"p1", "p2", "p3", "p4", "p5", "p6", "p8"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flagged ids %v, want %v", got, want)
	}
	rep := r.Report(decisions)
	if rep.Posts != 8 || rep.FlaggedBefore != 4 || rep.FlaggedAfter != 5 || rep.NewlyFlagged != 3 || rep.NoLongerFlagged != 2 || rep.Decided != 6 {
		t.Errorf("summary %+v", rep)
	}
	byRule := map[string]RuleReport{}
	for _, rr := range rep.Rules {
		byRule[rr.Rule] = rr
	}
	prec := func(p Precision) string {
		if p.Value == nil {
			return fmt.Sprintf("%d/%d+%d=n/a", p.Flagged, p.Violation, p.NoViolation)
		}
		return fmt.Sprintf("%d/%d+%d=%.2f", p.Flagged, p.Violation, p.NoViolation, *p.Value)
	}
	for _, c := range []struct {
		rule          string
		before, after string
		newly, gone   int
	}{
		{"threat.attack", "2/1+1=0.50", "4/2+2=0.50", 2, 0},
		{"spam.crypto", "2/0+1=0.00", "0/0+0=n/a", 0, 2},
		{"hate.vermin", "0/0+0=n/a", "1/1+0=1.00", 1, 0},
	} {
		rr, ok := byRule[c.rule]
		if !ok {
			t.Errorf("%s missing from report", c.rule)
			continue
		}
		if prec(rr.Before) != c.before || prec(rr.After) != c.after || rr.NewlyFlagged != c.newly || rr.NoLongerFlagged != c.gone || !rr.Changed {
			t.Errorf("%s: before %s after %s newly %d gone %d changed %v; want %s %s %d %d", c.rule,
				prec(rr.Before), prec(rr.After), rr.NewlyFlagged, rr.NoLongerFlagged, rr.Changed, c.before, c.after, c.newly, c.gone)
		}
	}
	// Samples: at most 2, in corpus order, with outcomes and spans.
	ta := byRule["threat.attack"]
	if len(ta.NewSamples) != 2 || ta.NewSamples[0].PostID != "p2" || ta.NewSamples[0].Outcome != Violation ||
		ta.NewSamples[1].Outcome != NoViolation || len(ta.NewSamples[0].Spans) == 0 {
		t.Errorf("threat.attack samples %+v", ta.NewSamples)
	}
	if sc := byRule["spam.crypto"]; len(sc.GoneSamples) != 2 || sc.GoneSamples[1].Outcome != Unknown {
		t.Errorf("spam.crypto samples %+v", sc.GoneSamples)
	}
	// Changed rules come first.
	for i := 1; i < len(rep.Rules); i++ {
		if !rep.Rules[i-1].Changed && rep.Rules[i].Changed {
			t.Errorf("unchanged rule %s listed before changed %s", rep.Rules[i-1].Rule, rep.Rules[i].Rule)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for a, want := range map[string]Outcome{"remove": Violation, "report": Violation, "no_violation": NoViolation, "escalate": Unknown, "": Unknown} {
		if got := OutcomeOf(a); got != want {
			t.Errorf("OutcomeOf(%q) = %v, want %v", a, got, want)
		}
	}
}

func TestSampleTruncatesOnRuneBoundary(t *testing.T) {
	r := New(Options{SampleChars: 5})
	s := r.sample(post("x", "ééééé"), moderation.Match{Spans: []moderation.Span{{Start: 0, End: 2}, {Start: 4, End: 6}}})
	if s.Text != "éé" || len(s.Spans) != 1 {
		t.Errorf("sample %q spans %v", s.Text, s.Spans)
	}
}
