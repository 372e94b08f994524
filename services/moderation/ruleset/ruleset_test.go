package ruleset

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func compileYAML(t testing.TB, y string) *Set {
	t.Helper()
	s, err := Compile([]File{{Name: "t.yaml", Data: []byte(y)}})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

// fired returns the ids of the rules that fire on text.
func fired(s *Set, text, lang string) []string {
	var ids []string
	for _, m := range s.Match(text, lang, nil) {
		ids = append(ids, m.RuleID)
	}
	return ids
}

const operators = `
categories: [profanity]
lists:
  weapons: [gun, knife, {term: bomb}]
  violence: [kill, shoot, stab]
rules:
  - id: kw
    description: keywords, word boundaries
    category: violent_threat
    severity: high
    keywords: [kill, attack the]
  - id: sub
    description: substring opt-in with exceptions
    category: profanity
    severity: low
    keywords: [{term: arse, substring: true}]
    exceptions: [sparse, parse, arsenal]
  - id: re
    description: regex with a literal prefilter
    category: spam
    severity: low
    regex: '(?i)free\s+bitcoin\s+\d+'
  - id: allof
    description: all of two lists
    category: violent_threat
    severity: critical
    match:
      all: ["@violence", "@weapons"]
  - id: anyof
    description: any
    category: hate
    severity: medium
    match:
      any: [vermin, {terms: [scum]}]
  - id: noneof
    description: none cancels
    category: hate
    severity: medium
    match:
      all:
        - terms: [filth]
        - none: [film, movie]
  - id: near
    description: proximity
    category: violent_threat
    severity: high
    match:
      near: [cut, [throat, throats]]
      within: 3
  - id: count
    description: threshold
    category: spam
    severity: low
    match:
      terms: [buy, cheap]
      count: 3
  - id: lang
    description: only Russian posts
    category: violent_threat
    severity: high
    languages: [ru]
    keywords: [убить]
  - id: unless
    description: reporting context cancels
    category: hate
    severity: high
    keywords: [i hate women]
    unless:
      any: ['if you say', regex: '"[^"]*i hate women[^"]*"']
  - id: fuzzy
    description: fuzzy opt-in
    category: hate
    severity: medium
    keywords: [{term: hatred, fuzzy: 1}]
`

func TestOperators(t *testing.T) {
	t.Parallel()
	s := compileYAML(t, operators)
	tests := []struct {
		text, lang string
		want       []string
	}{
		{"I will kill you", "", []string{"kw"}},
		{"what a skill", "", nil},
		{"k1ll them, attack   the base", "", []string{"kw"}},
		{"you arse", "", []string{"sub"}},
		{"smartarse", "", []string{"sub"}},
		{"a sparse parse of the arsenal", "", nil},
		{"FREE  bitcoin 100 now", "", []string{"re"}},
		{"free bitcoin", "", nil},
		{"I will stab you with a knife", "", []string{"allof"}},
		{"a knife", "", nil},
		{"you scum", "", []string{"anyof"}},
		{"such filth", "", []string{"noneof"}},
		{"the film had filth in it", "", nil},
		{"I will cut their female throats", "", []string{"near"}},
		{"cut the bread, and much later think of throats", "", nil},
		{"buy cheap, buy now", "", []string{"count"}},
		{"buy cheap", "", nil},
		{"надо убить", "ru", []string{"lang"}},
		{"надо убить", "ru-RU", []string{"lang"}},
		{"надо убить", "", []string{"lang"}},
		{"надо убить", "en", nil},
		{"I hate women", "", []string{"unless"}},
		{`If you say "I hate women", then you are a bigot`, "", nil},
		{"so much hatrd", "", []string{"fuzzy"}},
	}
	for _, tt := range tests {
		if got := fired(s, tt.text, tt.lang); !slices.Equal(got, tt.want) {
			t.Errorf("%q (%s): fired %q, want %q", tt.text, tt.lang, got, tt.want)
		}
	}
}

func TestSpansInOriginal(t *testing.T) {
	t.Parallel()
	s := compileYAML(t, operators)
	text := "Ｉ will ｋ.1.l.l — attack\u200b the"
	ms := s.Match(text, "", nil)
	if len(ms) != 1 {
		t.Fatalf("matches %+v", ms)
	}
	var got []string
	for _, sp := range ms[0].Spans {
		got = append(got, text[sp.Start:sp.End])
	}
	if want := []string{"ｋ.1.l.l", "attack\u200b the"}; !slices.Equal(got, want) {
		t.Errorf("spans cover %q, want %q", got, want)
	}
	if ms[0].Severity != moderation.SeverityHigh || ms[0].Category != "violent_threat" {
		t.Errorf("match %+v", ms[0])
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile([]File{{Name: "invalid.yaml", Data: data}})
	if !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("err %v, want ErrInvalid", err)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err %T, want ErrorList", err)
	}
	want := []string{
		`invalid.yaml:4:10: list "empty" is empty`,
		`invalid.yaml:9:15: unknown severity "extreme"`,
		`invalid.yaml:11:5: unknown field "colour" in rule`,
		`invalid.yaml:16:12: invalid regex: error parsing regexp: missing closing )`,
		`invalid.yaml:19:15: unknown category "nonsense"`,
		`invalid.yaml:21:16: term "!!!": term is empty after normalisation`,
		`invalid.yaml:21:23: empty term`,
		`invalid.yaml:28:11: unknown term list "nosuchlist"`,
		`invalid.yaml:29:11: substring term "ass" matches inside common words (assassin,`,
		`invalid.yaml:30:5: duplicate rule id "bad.fields" (first defined at invalid.yaml:6:5)`,
		`invalid.yaml:41:15: within must be between 1 and 1000 words`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing error %q", w)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", msg)
	}
	if len(list) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(list), len(want), msg)
	}
}

// TestDuplicateRuleIsStillChecked: a rule whose id repeats another's has
// its own problems listed too, not only the duplicate id (they used to
// surface one validate run later).
func TestDuplicateRuleIsStillChecked(t *testing.T) {
	t.Parallel()
	data := "rules:\n" +
		"  - id: a.one\n    category: spam\n    severity: low\n    keywords: [x]\n" +
		"  - id: a.one\n    category: nonsense\n    severity: extreme\n    keywords: [y]\n"
	_, err := Compile([]File{{Name: "dup.yaml", Data: []byte(data)}})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err %v, want an ErrorList", err)
	}
	msg := err.Error()
	for _, w := range []string{`dup.yaml:6:5: duplicate rule id "a.one"`, `dup.yaml:7:15: unknown category "nonsense"`, `dup.yaml:8:15: unknown severity "extreme"`} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
	if len(list) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(list), msg)
	}
}

func TestYAMLSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := Compile([]File{{Name: "a.yaml", Data: []byte("rules:\n  - id: x\n   bad")}, {Name: "b.yaml", Data: []byte("rules: [")}})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("err %v", err)
	}
	if !strings.HasPrefix(list[0].Error(), "a.yaml:") || !strings.HasPrefix(list[1].Error(), "b.yaml:1:") {
		t.Errorf("first error %q", list[0])
	}
}

// TestYAMLSyntaxErrorPlaces: syntax errors name the line to fix, and
// their message does not repeat it.
func TestYAMLSyntaxErrorPlaces(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		want      string // the error, FILE:LINE:COL: message (prefix)
	}{
		{"tab indent", "rules:\n  - id: c.one\n\tcategory: x\n", "t.yaml:3:1: invalid YAML: a tab indents this line; YAML indents with spaces only"},
		{"tab after spaces", "rules:\n  - id: c.one\n    category: x\n  \tseverity: high\n", "t.yaml:4:3: invalid YAML: a tab indents this line"},
		{"unclosed quote", "rules:\n  - id: a\n    description: \"open\n    category: x\n", "t.yaml:3:"},
		{"bad indent", "rules:\n  - id: b\n    category: x\n     severity: high\n", "t.yaml:4:1: invalid YAML: mapping values are not allowed in this context"},
		// yaml.v3 numbers parser errors one line too early; they are
		// placed at the bracket or block that opened, on its own line.
		{"unclosed bracket at end", "rules:\n  - id: a\n    category: hate\n    keywords: [foo, bar\n", "t.yaml:4:15: invalid YAML: did not find expected ',' or ']' (the '[' opened here is never closed"},
		{"unclosed bracket mid-file", "rules:\n  - id: a\n    keywords: [foo, bar\n    category: hate\n", "t.yaml:3:15: invalid YAML: did not find expected ',' or ']'"},
		{"JSON missing comma", "{\"rules\": [\n  {\"id\": \"a\"},\n  {\"id\": \"b\" \"category\": \"hate\"}\n]}\n", "t.yaml:3:3: invalid YAML: did not find expected ',' or '}'"},
		{"bracket on line 1", "[a, b\n", "t.yaml:1:1: invalid YAML: did not find expected ',' or ']'"},
		{"stray bracket", "rules:\n  - id: a\n    keywords: [foo]]\n", "t.yaml:2:5: invalid YAML: did not find expected key (in the mapping that starts here"},
		{"list item indent", "rules:\n  - id: a\n   category: hate\n", "t.yaml:2:3: invalid YAML: did not find expected '-' indicator"},
		{"no newline at end", "rules: [", "t.yaml:1:1: invalid YAML: did not find expected node content"},
		{"invalid UTF-8", "rules:\n  - id: a\n    keywords: [f\xffoo]\n", "t.yaml:3:17: invalid YAML: invalid UTF-8"},
		{"Latin-1", "rules:\n  - id: a\n    keywords: [caf\xe9]\n", "t.yaml:3:19: invalid YAML: invalid UTF-8 (rule files are UTF-8 text; was this one saved as Latin-1?)"},
		{"control character", "rules:\n  - id: a\x01\n", "t.yaml:2:10: invalid YAML: control character U+0001 is not allowed in YAML"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile([]File{{Name: "t.yaml", Data: []byte(c.src)}})
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("err %v", err)
			}
			got := list[0].Error()
			if !strings.HasPrefix(got, c.want) || strings.Contains(got, "YAML: line") || strings.Contains(got, "yaml: line") {
				t.Errorf("got  %q\nwant %q...", got, c.want)
			}
			if c.name == "unclosed quote" && !strings.Contains(got, "never closed") {
				t.Errorf("got %q, want a hint at the unclosed quote", got)
			}
		})
	}
}

// TestTermChecks: terms a rule engineer probably did not mean are
// refused with a message that says what to do, and a runaway term is
// quoted shortened.
func TestTermChecks(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("abcdefghij", 1000)
	for _, c := range []struct {
		term string
		want string // "" = valid
	}{
		{"k.*ll", `term "k.*ll" looks like a regular expression (".*"), but terms are literal words: write it under regex:`},
		{`\bkill\b`, `looks like a regular expression ("\\b")`},
		{"[kK]ill", `looks like a regular expression ("[kK]")`},
		{"(kill|murder)", `looks like a regular expression`},
		{"^kill", `looks like a regular expression ("^")`},
		{"kil{2}", `looks like a regular expression ("{2}")`},
		{long, `term "abcdefghijabcdefghijabcdefghijabcdefghij"… (10000 characters): term is longer than`},
		// Leet and separator symbols that regular expressions also use.
		{"$hit", ""}, {"he||o", ""}, {"f*ck", ""}, {"k.i.l.l", ""}, {"c++", ""}, {"what?", ""},
	} {
		src := "rules:\n  - id: a\n    category: hate\n    severity: low\n    keywords: [" + strconv.Quote(c.term) + "]\n"
		_, err := Compile([]File{{Name: "t.yaml", Data: []byte(src)}})
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v, want valid", c.term, err)
			}
			continue
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || !strings.HasPrefix(list[0].Error(), "t.yaml:5:16: ") || !strings.Contains(list[0].Error(), c.want) {
			t.Errorf("%.60q: %v\nwant t.yaml:5:16: …%s", c.term, err, c.want)
			continue
		}
		if len(list[0].Error()) > 200 {
			t.Errorf("message of %d bytes", len(list[0].Error()))
		}
	}
}

func TestLoadDirDemo(t *testing.T) {
	t.Parallel()
	s, err := LoadDir("../../../rules")
	if err != nil {
		t.Fatal(err)
	}
	if got := fired(s, "We will ATTACK THE base", ""); !slices.Contains(got, "demo.attack-call") {
		t.Errorf("demo rule did not fire: %q", got)
	}
	var ids []string
	for _, r := range s.Rules() {
		ids = append(ids, r.ID)
	}
	if !slices.Contains(ids, "demo.attack-call") {
		t.Errorf("Rules() = %q", ids)
	}
}

func TestVersionAndConcurrency(t *testing.T) {
	t.Parallel()
	s := compileYAML(t, operators).WithVersion(7)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				ms := s.Match("I will kill you with a knife", "", nil)
				if len(ms) != 2 || ms[0].RuleVersion != 7 {
					t.Errorf("matches %+v", ms)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMatchNoAllocs(t *testing.T) {
	s := compileYAML(t, operators)
	dst := make([]moderation.Match, 0, 4)
	s.Match("warm up", "", dst)
	allocs := testing.AllocsPerRun(200, func() {
		dst = s.Match("RT @someone: a perfectly ordinary post about skills and sparse arrays", "en", dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per post with no match", allocs)
	}
}

// TestNearWindow checks that near holds only when every group fits in one
// window of `within` words, in any order, with one occurrence per group.
func TestNearWindow(t *testing.T) {
	t.Parallel()
	s := compileYAML(t, `
rules:
  - id: three
    description: three groups
    category: violent_threat
    severity: high
    match:
      near: [bomb, [station, stations], tomorrow]
      within: 4
  - id: twice
    description: one term twice
    category: spam
    severity: low
    match:
      near: [kill, kill]
      within: 3
`)
	tests := []struct {
		text string
		want []string
	}{
		{"bomb the station tomorrow", []string{"three"}},
		{"tomorrow the station gets one big bomb", nil},
		{"tomorrow the station: bomb", []string{"three"}},
		// Each of station and tomorrow is within 4 words of bomb, but they
		// are 8 words apart: not "within 4 words of each other".
		{"station one two three bomb one two three tomorrow", nil},
		{"bomb one two three four five station tomorrow", nil},
		{"bomb x station y tomorrow", []string{"three"}},
		{"kill", nil},
		{"kill kill", []string{"twice"}},
		{"kill one two three kill", nil},
		{"kill one two kill", []string{"twice"}},
	}
	for _, tt := range tests {
		if got := fired(s, tt.text, ""); !slices.Equal(got, tt.want) {
			t.Errorf("%q: fired %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestSpamWalls: posts made of thousands of hits (near windows, exceptions)
// are evaluated right; each window and exception lookup is a binary search,
// so such a post costs n log n, not n² (a 64 KB wall took 0.6 s before).
// Spaced-out letters ("c u t c u t …") are one word of thousands of hits:
// a near window then holds every hit, and each group's first hit in it is
// a segment-tree query, not a pass over the window (a 64 KB post of them
// took 6 s).
func TestSpamWalls(t *testing.T) {
	t.Parallel()
	s, err := Compile([]File{{Name: "w.yaml", Data: []byte(`rules:
  - id: near
    description: proximity
    category: violent_threat
    severity: high
    match:
      near: [cut, throat]
      within: 3
  - id: cut
    description: exceptions
    category: violent_threat
    severity: low
    keywords: [cut]
    exceptions: [cut the cake]
`)}})
	if err != nil {
		t.Fatal(err)
	}
	wall := strings.Repeat("cut ", 5000) + strings.Repeat("word ", 10) + "throat"
	cakes := strings.Repeat("cut the cake ", 3000)
	spaced := strings.Repeat("c u t ", 10000)
	tests := []struct {
		text string
		want []string
	}{
		{wall, []string{"cut"}},
		{wall + " cut", []string{"near", "cut"}},
		{"throat " + wall, []string{"near", "cut"}},
		{cakes, nil},
		{cakes + "cut", []string{"cut"}},
		{strings.Repeat("cut the cake throat ", 2000), []string{"near"}},
		{spaced, []string{"cut"}},
		{spaced + "throat", []string{"near", "cut"}},
		{"throat " + spaced, []string{"near", "cut"}},
		{spaced + strings.Repeat("word ", 2) + "throat", []string{"near", "cut"}},
		{spaced + strings.Repeat("word ", 3) + "throat", []string{"cut"}},
	}
	for i, tc := range tests {
		var got []string
		for _, m := range s.Match(tc.text, "en", nil) {
			got = append(got, m.RuleID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("case %d: rules %v, want %v", i, got, tc.want)
		}
	}
}
