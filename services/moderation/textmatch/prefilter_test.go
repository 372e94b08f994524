package textmatch

import (
	"html"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// noPrefilter returns a copy of m that scans every text.
func noPrefilter(m *Matcher) *Matcher {
	c := *m
	c.pf = nil
	return &c
}

// checkPrefilter fails unless m finds the same hits in text with and
// without its prefilter, and the prefilter's two scans give the verdict
// of one. It reports whether the prefilter passed text.
func checkPrefilter(t testing.TB, m, plain *Matcher, text string, a, b []Hit) ([]Hit, []Hit, bool) {
	t.Helper()
	a, b = m.FindAll(text, a[:0]), plain.FindAll(text, b[:0])
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("text %q:\nwith prefilter    %v\nwithout prefilter %v", text, a, b)
	}
	if m.pf == nil {
		return a, b, true
	}
	if split, one := m.pf.filterASCII(text), m.pf.final(m.pf.scan(m.pf.start, text)); split != one {
		t.Fatalf("text %q: split scans say %v, one scan %v", text, split, one)
	}
	pass := m.pf.filter(text)
	if one := m.pf.final(m.pf.scanRunes(m.pf.start, text)); one != pass {
		t.Fatalf("text %q: filter says %v, one scan of runes %v", text, pass, one)
	}
	return a, b, pass
}

// TestPrefilterSound checks that the prefilter never rejects a text with
// a hit: every tweet (as stored, and with its HTML entities decoded to
// emoji and other non-ASCII text) gives identical hits with and without
// it, for term
// sets of several sizes, with substring and fuzzy terms, and with steps
// of the pipeline turned off or a custom leet table. It also logs how many
// tweets the prefilter passes.
func TestPrefilterSound(t *testing.T) {
	c := corpus(t)
	words := benchTerms(t, c.posts, 100) // the benchmark's
	// Every ninth term a substring one, and a short fuzzy one.
	mixed := append(termsOf(words), Term{Text: "crow", Fuzzy: 1})
	for i := 3; i < len(mixed); i += 9 {
		mixed[i].Substring = true
	}
	// Every term fuzzy (the benchmark's full_fuzzy), and the 100 terms
	// with fuzzy terms of every kind beside them.
	allFuzzy := termsOf(words)
	for i := range allFuzzy {
		allFuzzy[i].Fuzzy = 1
	}
	withFuzzy := append(termsOf(words), pfFuzzyTerms...)
	cases := []struct {
		name  string
		terms []Term
		opts  Options
	}{
		{"100 terms", termsOf(words), Options{}},
		{"50 terms", termsOf(words[:50]), Options{}},
		{"substring and fuzzy", mixed, Options{}},
		{"two fuzzy terms", append(termsOf(words), Term{Text: "hatred", Fuzzy: 1}, Term{Text: "racist", Fuzzy: 1}), Options{}},
		{"fuzzy terms", withFuzzy, Options{}},
		{"every term fuzzy", allFuzzy, Options{}},
		{"fuzzy, no squeeze", withFuzzy, Options{Disable: StepSqueeze}},
		{"fuzzy, no separators", withFuzzy, Options{Disable: StepSeparators}},
		{"fuzzy, custom leet", withFuzzy, Options{Leet: map[rune]rune{'4': 'a', '1': 'i', '#': 'h', 'x': 'k'}, LeetAlt: map[rune]rune{'1': 'l'}}},
		{"no squeeze", termsOf(words), Options{Disable: StepSqueeze}},
		{"no separators", termsOf(words), Options{Disable: StepSeparators}},
		{"no case folding", termsOf(words), Options{Disable: StepCaseFold}},
		{"no leet", termsOf(words), Options{Disable: StepLeet}},
		{"custom leet", termsOf(words), Options{Leet: map[rune]rune{'4': 'a', '1': 'i', '#': 'h', 'x': 'k'}, LeetAlt: map[rune]rune{'1': 'l'}}},
	}
	// The tweets with their HTML entities decoded: emoji and other text
	// outside ASCII as users send it.
	posts := slices.Clone(c.posts)
	for _, p := range c.posts {
		if u := html.UnescapeString(p); u != p {
			posts = append(posts, u)
		}
	}
	for _, tc := range cases {
		m := withPrefilter(t, tc.terms, tc.opts)
		plain := noPrefilter(m)
		var a, b []Hit
		passed, hits := 0, 0
		var pass bool
		for _, p := range posts {
			a, b, pass = checkPrefilter(t, m, plain, p, a, b)
			if pass {
				passed++
			}
			hits += len(a)
		}
		t.Logf("%s: %d hits, identical; prefilter passed %d of %d texts (%d states)", tc.name, hits, passed, len(posts), len(m.pf.trans)/int(m.pf.stride))
	}
}

// TestPrefilterEvasions runs the evasion suite's rewritings of every term
// through a matcher with and without the prefilter, inside sentences.
// With fuzzy terms beside them, it also rewrites a sample of each fuzzy
// term's variants (every fifth, the first and last included).
func TestPrefilterEvasions(t *testing.T) {
	terms := []Term{{Text: "kill"}, {Text: "attack the"}, {Text: "ass"}, {Text: "hate"}, {Text: "bitch"},
		{Text: "infidels"}, {Text: "shit"}, {Text: "nigger"}, {Text: "go die"}, {Text: "rape"}, {Text: "sub", Substring: true}}
	for _, tc := range []struct {
		name  string
		terms []Term
	}{{"exact", terms}, {"fuzzy", append(slices.Clone(terms), pfFuzzyTerms...)}} {
		m := withPrefilter(t, tc.terms, Options{})
		plain := noPrefilter(m)
		var a, b []Hit
		for _, text := range evasionTexts(m, tc.terms) {
			for _, o := range obfuscations {
				v := o.f(text)
				for _, s := range []string{v, "I " + v + " you", "x" + v + "x", "RT @user: " + v + "!!! &#128514;", v + "s", v + "'s"} {
					a, b, _ = checkPrefilter(t, m, plain, s, a, b)
				}
			}
		}
	}
}

// evasionTexts is the text of each term, and of every fifth variant of
// each fuzzy term (the first and the last included).
func evasionTexts(m *Matcher, terms []Term) []string {
	var out []string
	for _, tm := range terms {
		out = append(out, tm.Text)
		if tm.Fuzzy == 0 {
			continue
		}
		human, _ := m.n.NormalizeTerm(tm.Text)
		vs := fuzzyVariants([]rune(human))
		for i, v := range vs {
			if i%5 == 0 || i == len(vs)-1 {
				out = append(out, string(v))
			}
		}
	}
	return out
}

// FuzzPrefilter compares FindAll with and without the prefilter on
// arbitrary text: the hits must be identical.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"", "kill", "k i l l", "k.i.l.l", "h a t e", "h  a\tt e", "ha te", "attack.the",
		"attack , the", "attack@ the", "attackthe", "ki11 k1ll kil1", "sh!t $hit", "infidel$", "@ss a$$",
		"kill!", "!kill", "kkkiiilll", "as ass asss", "god good", "a b", "a  b", "a.b", "i hate", "i  h8",
		"b22o b2 2o", "don't", "don ' t", "убить", "kill\u200b", "x x x x x x x x x x x x x x x x x x kill",
		"RT @user: you are a sub|ject of #hate&#128514; k|ll", "the the the the the the the the hate the the the",
		"kill😂", "😂kill", "k😂ill", "ｋｉｌｌ", "kіll", "k\u200bill", "ki\u0301ll", "killé", "don’t", "h·a·t·e", "🇰🇮🇱🇱",
		"убить!", "死ねkill", "ガガ kill", "k\u0301ill", "日\u0301kill", "ass\u00a0hole", "attack\u3000the", "\xffkill",
		"hatrde", "hatered", "hatrd", "hxtred", "haterd!", "kil yourself", "kill yourslef", "killyourself", "whroe", "wh0r3",
		"crwo", "c r o w", "shiite", "sh1tte", "b1tchas", "go dei", "nazi skum", "amongrelx", "mongre1", "retarted", "terorist"} {
		f.Add(s)
	}
	terms := append(slices.Clone(fastFuzzTerms), Term{Text: "sub", Substring: true}, Term{Text: "kil l", Substring: true})
	fuzzy := append(slices.Clone(fastFuzzTerms), pfFuzzyTerms...)
	var ms []*Matcher
	for _, o := range []Options{{}, {Disable: StepSqueeze}, {Disable: StepSeparators}, {Disable: StepLeet | StepCaseFold}} {
		ms = append(ms, mustCompile(f, fastFuzzTerms, o), mustCompile(f, terms, o), withPrefilter(f, fuzzy, o))
	}
	for _, m := range ms {
		if m.pf == nil {
			f.Fatal("no prefilter")
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range ms {
			checkPrefilter(t, m, noPrefilter(m), text, nil, nil)
		}
	})
}

// TestPrefilterRandom is FuzzPrefilter's check on random texts made of
// the terms' pieces, separators and leet symbols, which a plain fuzzer
// rarely puts together.
func TestPrefilterRandom(t *testing.T) {
	pieces := []string{"k", "i", "l", "ll", "kill", "a", "s", "ss", "ass", "hate", "h", "t", "e", "attack", "the",
		"1", "!", "@", "$", "|", "+", "3", "8", "0", "'", ".", "-", "_", " ", "  ", "\t", ",", "#", "&", ";",
		"o", "g", "d", "god", "good", "x", "rt", "b", "2", "don", "hmm", "shit", "infidel", "sub",
		// Outside ASCII: ignorables, accents (composed and not), fullwidth,
		// confusables, ß, typographic punctuation, emoji (with a variation
		// selector and a joiner), flags, kana, CJK, a pattern's letters,
		// combining marks, a stray byte.
		"\u200b", "\u00ad", "é", "e\u0301", "\u0301", "ｋ", "ｉ", "ｌ", "і", "а", "ѕ", "ß", "’", "‘", "·", "—", "…",
		"😂", "❤\ufe0f", "👍🏽", "👨\u200d👩", "🇰", "🇮", "🇱", "ガ", "ｶﾞ", "か\u3099", "死ね", "日", "убить", "у", "б",
		"\u0915\u093f", "\xff", "\u00a0", "\u3000", "ﬀ", "Ⓚ", "𝐤"}
	rng := rand.New(rand.NewPCG(1, 2))
	m := mustCompile(t, append(slices.Clone(fastFuzzTerms), Term{Text: "sub", Substring: true}), Options{})
	plain := noPrefilter(m)
	var a, b []Hit
	hits := 0
	for range 300000 {
		var sb strings.Builder
		for n := 1 + rng.IntN(30); n > 0; n-- {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		a, b, _ = checkPrefilter(t, m, plain, sb.String(), a, b)
		hits += len(a)
	}
	t.Logf("%d hits, identical with and without the prefilter", hits)
}

// TestPrefilterLimits checks that term sets too large for the prefilter
// compile without one and still match: too many patterns, too many
// fuzzy terms for the trie (the estimate), and pieces too common to pay.
func TestPrefilterLimits(t *testing.T) {
	var terms []Term
	for i := 0; i < prefilterMaxPats+1; i++ {
		terms = append(terms, Term{Text: "w" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))})
	}
	m := mustCompile(t, terms, Options{})
	if m.pf != nil {
		t.Fatal("prefilter built for too many patterns")
	}
	if got := found(m, "hello "+terms[5].Text+" there"); len(got) != 1 {
		t.Fatalf("found %v", got)
	}

	// Words of rare letters, so that their pieces are rare too.
	rng := rand.New(rand.NewPCG(5, 6))
	fuzzy := make([]Term, 200)
	for i := range fuzzy {
		b := make([]byte, 8)
		for k := range b {
			b[k] = "bcdfgjkmpqvwxz"[rng.IntN(14)]
		}
		fuzzy[i] = Term{Text: string(b), Fuzzy: 1}
	}
	n := mustCompile(t, nil, Options{}).n
	pats, infos, err := n.patterns(fuzzy)
	if err != nil {
		t.Fatal(err)
	}
	ps, freq := newPfCover(pats, infos).patterns(pfCostFirst)
	if tr := newPfTrie(ps); !tr.tooLarge() || freq > prefilterMaxFreq {
		t.Fatalf("200 fuzzy terms: %d nodes, pieces %.4f a letter: want the trie too large, the pieces rare", len(tr.last), freq)
	}
	m = mustCompile(t, fuzzy, Options{})
	if m.pf != nil {
		t.Fatal("prefilter built for too many fuzzy terms")
	}
	if v := fuzzy[5].Text[:3] + fuzzy[5].Text[4:]; len(found(m, "hello "+v+" there")) != 1 { // a deletion
		t.Fatalf("%q not found", v)
	}

	few := fuzzy[:3]
	pats, infos, _ = n.patterns(few)
	if coveredPrefilter(n, pats, infos, math.Inf(1)) == nil {
		t.Fatal("three fuzzy terms: no prefilter")
	}
	if coveredPrefilter(n, pats, infos, 0) != nil {
		t.Fatal("three fuzzy terms: a prefilter though their pieces are too common")
	}
}
