package ruleset

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dataDir is the shared test data, a sibling of the repository.
var dataDir = filepath.Join("..", "..", "..", "..", "shared", "data")

func needData(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(dataDir, sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VIGIL_INTEGRATION") == "require" {
			t.Fatalf("shared data missing: %v", err)
		}
		t.Skipf("shared data missing: %v", err)
	}
	return p
}

// yRule is a rule as the tests generate it (marshalled to YAML so that
// terms are quoted correctly).
type yRule struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	Category    string `yaml:"category"`
	Severity    string `yaml:"severity"`
	Keywords    []any  `yaml:"keywords,omitempty"`
	Match       any    `yaml:"match,omitempty"`
	Exceptions  []any  `yaml:"exceptions,omitempty"`
	Unless      any    `yaml:"unless,omitempty"`
}

func compileRules(t testing.TB, rules []yRule, opts Options) *Set {
	t.Helper()
	b, err := yaml.Marshal(map[string]any{"categories": []string{"profanity"}, "rules": rules})
	if err != nil {
		t.Fatal(err)
	}
	s, err := CompileWith([]File{{Name: "gen.yaml", Data: b}}, opts)
	if err != nil {
		msg := err.Error()
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		t.Fatalf("compile: %s", msg)
	}
	return s
}

type hcCase struct {
	fn, id, text, label, focus, ref string
}

func loadHateCheck(t testing.TB) ([]hcCase, map[string][]string) {
	t.Helper()
	dir := needData(t, "hatecheck")
	f, err := os.Open(filepath.Join(dir, "test_suite_cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var cases []hcCase
	for _, r := range rows[1:] {
		cases = append(cases, hcCase{fn: r[col["functionality"]], id: r[col["case_id"]], text: r[col["test_case"]],
			label: r[col["label_gold"]], focus: r[col["focus_words"]], ref: r[col["ref_case_id"]]})
	}
	pf, err := os.Open(filepath.Join(dir, "template_placeholders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	prows, err := csv.NewReader(pf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ph := map[string][]string{}
	for _, r := range prows[1:] {
		for _, v := range strings.Split(r[1], ",") {
			ph[r[0]] = append(ph[r[0]], strings.TrimSpace(v))
		}
	}
	return cases, ph
}

// focusCondition turns a HateCheck focus phrase ("cut ... throats",
// "[SLUR_S]") of a plain case into a rule condition.
func focusCondition(c hcCase, ph map[string][]string, mod func(string) any) (any, bool) {
	focus := c.focus
	if focus == "" || focus == "-" {
		return nil, false
	}
	if strings.HasPrefix(focus, "[") {
		// The slur of this case: the placeholder value in its text.
		low := strings.ToLower(c.text)
		best := ""
		for _, v := range ph[focus] {
			if regexp.MustCompile(`\b`+regexp.QuoteMeta(strings.ToLower(v))+`\b`).MatchString(low) && len(v) > len(best) {
				best = v
			}
		}
		if best == "" {
			return nil, false
		}
		focus = best
	}
	if parts := strings.Split(focus, " ... "); len(parts) > 1 {
		var near []any
		for _, p := range parts {
			near = append(near, mod(p))
		}
		return map[string]any{"near": near, "within": 6}, true
	}
	return map[string]any{"terms": []any{mod(focus)}}, true
}

// TestHateCheckSpelling: spell_* cases must be caught by rules built from
// the focus words of their plain versions.
func TestHateCheckSpelling(t *testing.T) {
	cases, ph := loadHateCheck(t)
	byID := map[string]hcCase{}
	for _, c := range cases {
		byID[c.id] = c
	}
	modes := []struct {
		name string
		mod  func(string) any
		opts Options
	}{
		{"exact", func(s string) any { return s }, Options{}},
		{"fuzzy", func(s string) any { return map[string]any{"term": s, "fuzzy": 1} }, Options{}},
		{"substring", func(s string) any { return map[string]any{"term": s, "substring": true} }, Options{AllowSubstringInWords: true}},
		{"substring+fuzzy", func(s string) any { return map[string]any{"term": s, "substring": true, "fuzzy": 1} }, Options{AllowSubstringInWords: true}},
	}
	floors := map[string]map[string]float64{
		"exact":           {"spell_leet_h": 0.95, "spell_space_add_h": 0.95},
		"fuzzy":           {"spell_leet_h": 0.95, "spell_space_add_h": 0.95, "spell_char_swap_h": 0.6, "spell_char_del_h": 0.5},
		"substring":       {"spell_space_del_h": 0.9},
		"substring+fuzzy": {"spell_space_del_h": 0.9, "spell_char_swap_h": 0.6},
	}
	neither := loadNeither(t)
	fns := []string{"spell_char_swap_h", "spell_char_del_h", "spell_space_del_h", "spell_space_add_h", "spell_leet_h"}
	for _, mode := range modes {
		// One rule per plain case referenced by a spell_* case.
		var rules []yRule
		ruleOf := map[string]string{}
		for _, c := range cases {
			if !strings.HasPrefix(c.fn, "spell_") {
				continue
			}
			ref, ok := byID[c.ref]
			if !ok {
				continue
			}
			if _, done := ruleOf[ref.id]; done {
				continue
			}
			cond, ok := focusCondition(ref, ph, mode.mod)
			if !ok {
				ruleOf[ref.id] = ""
				continue
			}
			id := "hc." + ref.id
			ruleOf[ref.id] = id
			rules = append(rules, yRule{ID: id, Description: ref.focus, Category: "hate", Severity: "high", Match: cond})
		}
		s := compileRules(t, rules, mode.opts)
		// The price: posts flagged among Davidson tweets coders judged
		// neither hateful nor offensive.
		flagged := 0
		for _, tw := range neither {
			if len(s.Match(tw, "en", nil)) > 0 {
				flagged++
			}
		}
		t.Logf("%-16s flags %d/%d = %.3f of Davidson 'neither' tweets", mode.name, flagged, len(neither), float64(flagged)/float64(len(neither)))
		for _, fn := range fns {
			n, caught, skipped := 0, 0, 0
			var missed []string
			for _, c := range cases {
				if c.fn != fn {
					continue
				}
				id := ruleOf[c.ref]
				if id == "" {
					skipped++ // focus "-": no keyword makes the plain case hateful
					continue
				}
				n++
				ok := false
				for _, m := range s.Match(c.text, "en", nil) {
					ok = ok || m.RuleID == id
				}
				if ok {
					caught++
				} else if len(missed) < 4 {
					missed = append(missed, c.text)
				}
			}
			recall := float64(caught) / float64(n)
			t.Logf("%-16s %-18s recall %3d/%3d = %.3f (%d cases without focus words skipped); missed e.g. %q", mode.name, fn, caught, n, recall, skipped, missed)
			if floor, ok := floors[mode.name][fn]; ok && recall < floor {
				t.Errorf("%s %s recall %.3f, want ≥ %.2f", mode.name, fn, recall, floor)
			}
		}
	}
}

// TestHateCheckFalsePositives: keyword rules built from the focus words of
// HateCheck's hateful cases fire on its non-hateful counter-speech, homonym
// and profanity cases; an `unless` context (quotation, reported speech)
// brings that down, at some cost in recall on the hateful cases.
func TestHateCheckFalsePositives(t *testing.T) {
	cases, ph := loadHateCheck(t)
	plain := func(s string) any { return s }
	var base []yRule
	seen := map[string]bool{}
	for _, c := range cases {
		if !strings.HasSuffix(c.fn, "_h") || strings.HasPrefix(c.fn, "spell_") {
			continue
		}
		cond, ok := focusCondition(c, ph, plain)
		if !ok {
			continue
		}
		key := fmt.Sprint(cond)
		if seen[key] {
			continue
		}
		seen[key] = true
		base = append(base, yRule{ID: fmt.Sprintf("hc.%d", len(base)), Description: c.focus, Category: "hate", Severity: "high", Match: cond})
	}
	unless := map[string]any{"any": []any{
		map[string]any{"regex": `"[^"]{4,}"`},
		map[string]any{"terms": []any{"saying", "say that", "you say", "said", "calling", "call me", "call for", "call out",
			"statements like", "things like", "stuff like", "comments like", "messages like", "posts like", "threats like",
			"writing that", "write things", "threatening to", "telling", "stop calling", "hurts to see"}},
	}}
	withUnless := make([]yRule, len(base))
	for i, r := range base {
		r.Unless = unless
		withUnless[i] = r
	}
	sets := []struct {
		name string
		s    *Set
	}{{"keywords", compileRules(t, base, Options{})}, {"keywords+unless", compileRules(t, withUnless, Options{})}}
	nh := []string{"slur_homonym_nh", "slur_reclaimed_nh", "counter_quote_nh", "counter_ref_nh", "profanity_nh"}
	rates := map[string]map[string]float64{}
	for _, set := range sets {
		rates[set.name] = map[string]float64{}
		for _, fn := range append(nh, "hateful (all *_h)") {
			n, flagged := 0, 0
			for _, c := range cases {
				if fn == "hateful (all *_h)" && !(strings.HasSuffix(c.fn, "_h") && !strings.HasPrefix(c.fn, "spell_")) || fn != "hateful (all *_h)" && c.fn != fn {
					continue
				}
				n++
				if len(set.s.Match(c.text, "en", nil)) > 0 {
					flagged++
				}
			}
			r := float64(flagged) / float64(n)
			rates[set.name][fn] = r
			what := "false-positive rate"
			if fn == "hateful (all *_h)" {
				what = "recall"
			}
			t.Logf("%-16s %-20s %s %3d/%3d = %.3f", set.name, fn, what, flagged, n, r)
		}
	}
	if rates["keywords+unless"]["counter_quote_nh"] > 0.2 || rates["keywords+unless"]["counter_ref_nh"] > 0.6 {
		t.Errorf("unless contexts leave counter-speech false positives at %.2f / %.2f", rates["keywords+unless"]["counter_quote_nh"], rates["keywords+unless"]["counter_ref_nh"])
	}
	if rates["keywords+unless"]["hateful (all *_h)"] < 0.6 {
		t.Errorf("recall on hateful cases with unless %.2f, want ≥ 0.6", rates["keywords+unless"]["hateful (all *_h)"])
	}
}

type dsEntry struct {
	ID         string   `json:"id"`
	Match      string   `json:"match"`
	Severity   int      `json:"severity"`
	Exceptions []string `json:"exceptions"`
}

// TestDsojevicExceptions: the 596 published "not a match inside this word"
// exceptions must never fire their term's rule, with word boundaries (the
// default) and with substring matching plus the exceptions.
func TestDsojevicExceptions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(needData(t, "dsojevic-profanity-list"), "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []dsEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	sev := []string{"", "low", "medium", "high", "critical"}
	type exCase struct{ rule, word string }
	var exs []exCase
	var terms []exCase
	build := func(substring, withExceptions bool) []yRule {
		var rules []yRule
		for i, e := range entries {
			r := yRule{ID: dsID(i, e), Description: e.ID, Category: "profanity", Severity: sev[e.Severity]}
			for _, alt := range strings.Split(e.Match, "|") {
				alt = strings.ReplaceAll(alt, "*", "")
				if substring {
					r.Keywords = append(r.Keywords, map[string]any{"term": alt, "substring": true})
				} else {
					r.Keywords = append(r.Keywords, alt)
				}
			}
			if withExceptions {
				for _, w := range expand(e) {
					r.Exceptions = append(r.Exceptions, w)
				}
			}
			rules = append(rules, r)
		}
		return rules
	}
	for i, e := range entries {
		for _, w := range expand(e) {
			exs = append(exs, exCase{dsID(i, e), w})
		}
		for _, alt := range strings.Split(e.Match, "|") {
			terms = append(terms, exCase{dsID(i, e), strings.ReplaceAll(alt, "*", "")})
		}
	}
	fires := func(s *Set, rule, text string) bool {
		for _, m := range s.Match(text, "en", nil) {
			if m.RuleID == rule {
				return true
			}
		}
		return false
	}
	for _, mode := range []struct {
		name                  string
		substring, exceptions bool
		wantExceptionsClean   bool
	}{
		{"word-boundary", false, false, false},
		{"word-boundary + exceptions", false, true, true},
		{"substring, no exceptions", true, false, false},
		{"substring + exceptions", true, true, true},
	} {
		s := compileRules(t, build(mode.substring, mode.exceptions), Options{AllowSubstringInWords: true})
		bad := 0
		var eg []string
		for _, x := range exs {
			if fires(s, x.rule, "well, "+x.word+" indeed") {
				bad++
				if len(eg) < 5 {
					eg = append(eg, x.word)
				}
			}
		}
		hit := 0
		for _, x := range terms {
			if fires(s, x.rule, "you "+x.word+"!") {
				hit++
			}
		}
		t.Logf("%-26s exception words matched %3d/%d (e.g. %q); plain terms matched %d/%d = %.3f",
			mode.name, bad, len(exs), eg, hit, len(terms), float64(hit)/float64(len(terms)))
		if mode.wantExceptionsClean && bad != 0 {
			t.Errorf("%s: %d exception words matched, want 0: e.g. %q", mode.name, bad, eg)
		}
		if float64(hit)/float64(len(terms)) < 0.97 {
			t.Errorf("%s: plain term recall %d/%d, want ≥ 0.97", mode.name, hit, len(terms))
		}
	}
	if len(exs) < 590 {
		t.Errorf("only %d exception words expanded, want 596+", len(exs))
	}
}

// expand writes out an entry's exception patterns ("sp*" with * standing
// for each of the entry's terms).
func expand(e dsEntry) []string {
	var out []string
	for _, x := range e.Exceptions {
		for _, alt := range strings.Split(e.Match, "|") {
			out = append(out, strings.ReplaceAll(x, "*", strings.ReplaceAll(alt, "*", "")))
		}
	}
	return out
}

// dsID makes a valid, unique rule id from a dsojevic entry.
func dsID(i int, e dsEntry) string {
	return fmt.Sprintf("ds.%d.%s", i, strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, e.ID))
}

// loadNeither returns the Davidson tweets labelled neither hate speech nor
// offensive (class 2).
func loadNeither(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(needData(t, "davidson-tweets"), "labeled_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows[1:] {
		if r[5] == "2" {
			out = append(out, r[6])
		}
	}
	return out
}
