package textmatch

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// pfFuzzyTerms are fuzzy terms of every kind the prefilter's cover
// meets: four letters (transpositions only: kept whole), five (with
// deletions and insertions), six and more (with substitutions), doubled
// letters, a leet digit, phrases (two and three words, a one-letter
// word), a substring term, and a term outside ASCII.
var pfFuzzyTerms = []Term{{Text: "crow", Fuzzy: 1}, {Text: "whore", Fuzzy: 1}, {Text: "hatred", Fuzzy: 1},
	{Text: "racist", Fuzzy: 1}, {Text: "faggot", Fuzzy: 1}, {Text: "retarded", Fuzzy: 1}, {Text: "terrorist", Fuzzy: 1},
	{Text: "kill yourself", Fuzzy: 1}, {Text: "go die", Fuzzy: 1}, {Text: "b1tchass", Fuzzy: 1}, {Text: "nazi scum", Fuzzy: 1},
	{Text: "mongrel", Fuzzy: 1, Substring: true}, {Text: "shitte", Fuzzy: 1}, {Text: "menages a trois", Fuzzy: 1},
	{Text: "убийца", Fuzzy: 1}, {Text: "vittu", Fuzzy: 1}}

// withPrefilter compiles terms with a prefilter even where its pieces are
// too common to pay for themselves (prefilterMaxFreq), so that its
// soundness is tested on every term set.
func withPrefilter(t testing.TB, terms []Term, o Options) *Matcher {
	t.Helper()
	m := mustCompile(t, terms, o)
	if m.pf == nil {
		pats, infos, err := m.n.patterns(terms)
		if err != nil {
			t.Fatal(err)
		}
		m.pf = coveredPrefilter(m.n, pats, infos, math.Inf(1))
	}
	if m.pf == nil {
		t.Fatal("no prefilter")
	}
	return m
}

// TestPrefilterFuzzyVariants puts every variant of every fuzzy term
// (the terms above, and the benchmark's 100 terms all fuzzy) in text,
// as it is, in a sentence, glued to letters, upper-cased and in leet:
// the hits must be identical with and without the prefilter, so every
// variant a piece stands for must pass it.
func TestPrefilterFuzzyVariants(t *testing.T) {
	t.Run("fuzzy terms", func(t *testing.T) { checkVariants(t, append(slices.Clone(fastFuzzTerms), pfFuzzyTerms...)) })
	t.Run("every term fuzzy", func(t *testing.T) {
		c := corpus(t)
		all := termsOf(benchTerms(t, c.posts, 100))
		for i := range all {
			all[i].Fuzzy = 1
		}
		checkVariants(t, all)
	})
}

// checkVariants is TestPrefilterFuzzyVariants for one term set.
func checkVariants(t *testing.T, terms []Term) {
	leet := obfuscations[slices.IndexFunc(obfuscations, func(o obfuscation) bool { return o.name == "leet" })].f
	m := withPrefilter(t, terms, Options{})
	plain := noPrefilter(m)
	var a, b []Hit
	texts, hits := 0, 0
	for _, tm := range terms {
		if tm.Fuzzy == 0 {
			continue
		}
		human, _ := m.n.NormalizeTerm(tm.Text)
		for _, v := range fuzzyVariants([]rune(human)) {
			s := string(v)
			for _, text := range []string{s, "so " + s + " now", "x" + s + "s", strings.ToUpper(s) + "!", "@u " + leet(s) + " ok"} {
				a, b, _ = checkPrefilter(t, m, plain, text, a, b)
				texts++
				hits += len(a)
			}
		}
	}
	t.Logf("%d texts, %d hits, identical with and without the prefilter", texts, hits)
}

// TestPrefilterRandomFuzzy is TestPrefilterRandom for fuzzy terms: random
// texts of terms with one or two random edits anywhere (the first letter
// and the spaces included, which fuzzy matching never edits), pieces of
// terms, separators, leet symbols and common words.
func TestPrefilterRandomFuzzy(t *testing.T) {
	terms := append(slices.Clone(fastFuzzTerms), pfFuzzyTerms...)
	fillers := []string{" ", "  ", ".", "-", "'", "!", "?", ",", "#", "@", "1", "3", "0", "$", "|", "\t", "😂", "é", "і",
		"the", "you", "a", "i", "so", "is", "ha", "ed", "er", "ing", "s", "x", "re", "st"}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, o := range []Options{{}, {Disable: StepSqueeze}} {
		m := withPrefilter(t, terms, o)
		plain := noPrefilter(m)
		var a, b []Hit
		hits, passed := 0, 0
		var pass bool
		for range 100000 {
			var sb strings.Builder
			for n := 1 + rng.IntN(8); n > 0; n-- {
				switch tm := terms[rng.IntN(len(terms))].Text; rng.IntN(4) {
				case 0, 1:
					sb.WriteString(randomEdits(rng, tm, 1+rng.IntN(2)))
				case 2:
					i := rng.IntN(len(tm))
					sb.WriteString(tm[i:min(len(tm), i+1+rng.IntN(5))])
				default:
					sb.WriteString(fillers[rng.IntN(len(fillers))])
				}
			}
			a, b, pass = checkPrefilter(t, m, plain, sb.String(), a, b)
			hits += len(a)
			if pass {
				passed++
			}
		}
		t.Logf("disable %b: %d hits, identical with and without the prefilter; it passed %d of 100000", o.Disable, hits, passed)
	}
}

// randomEdits applies n random edits (deletion, insertion, substitution,
// adjacent transposition, a doubled letter, upper case) to s, anywhere.
func randomEdits(rng *rand.Rand, s string, n int) string {
	rs := []rune(s)
	for range n {
		if len(rs) < 2 {
			break
		}
		i := rng.IntN(len(rs))
		c := rune('a' + rng.IntN(26))
		switch rng.IntN(6) {
		case 0:
			rs = slices.Delete(rs, i, i+1)
		case 1:
			rs = slices.Insert(rs, i, c)
		case 2:
			rs[i] = c
		case 3:
			if i+1 < len(rs) {
				rs[i], rs[i+1] = rs[i+1], rs[i]
			}
		case 4:
			rs = slices.Insert(rs, i, rs[i])
		default:
			rs[i] = []rune(strings.ToUpper(string(rs[i])))[0]
		}
	}
	return string(rs)
}

// TestPrefilterFuzzyBeside checks the case that used to lose the
// prefilter: two six-letter fuzzy terms beside the benchmark's 100 terms.
// With every term fuzzy, the pieces (fuck-, -itch, niga-) are too common
// in the tweets for a prefilter to pay, and the estimate says so.
func TestPrefilterFuzzyBeside(t *testing.T) {
	c := corpus(t)
	words := benchTerms(t, c.posts, 100)
	m := mustCompile(t, append(termsOf(words), Term{Text: "hatred", Fuzzy: 1}, Term{Text: "racist", Fuzzy: 1}), Options{})
	if m.pf == nil {
		t.Fatal("no prefilter")
	}
	t.Logf("two fuzzy terms: the prefilter passes %d of %d tweets (%d states)", prefilterPasses(m, c.posts), len(c.posts), len(m.pf.trans)/int(m.pf.stride))
	all := termsOf(words)
	for i := range all {
		all[i].Fuzzy = 1
	}
	if m := mustCompile(t, all, Options{}); m.pf != nil {
		t.Errorf("every term fuzzy: a prefilter (passes %d of %d tweets)", prefilterPasses(m, c.posts), len(c.posts))
	}
	t.Logf("every term fuzzy: forced, the prefilter would pass %d of %d tweets", prefilterPasses(withPrefilter(t, all, Options{}), c.posts), len(c.posts))
}

// TestPrefilterEstimate checks that the trie-size estimate skips the
// subset construction only for term sets (the benchmark lists, from 100
// to 300 terms, exact and with fuzzy terms) whose automaton would exceed
// the limits anyway, and that it does skip a list of 1,000 terms.
func TestPrefilterEstimate(t *testing.T) {
	c := corpus(t)
	n, err := NewNormalizer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	check := func(name string, terms []Term) bool {
		pats, infos, err := n.patterns(terms)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := newPfCover(pats, infos).patterns(pfCostFirst)
		tr := newPfTrie(ps)
		if !tr.tooLarge() {
			return false
		}
		skipped++
		if p := buildPrefilter(n, tr, nil); p != nil {
			t.Errorf("%s: %d nodes, estimated too large, but the prefilter fits (%d states)", name, len(tr.last), len(p.trans)/int(p.stride))
		}
		return true
	}
	for size := 100; size <= 300; size += 20 {
		words := benchTerms(t, c.posts, size)
		if check("exact", termsOf(words)) && size == 100 {
			t.Error("the 100-term list is estimated too large")
		}
		check("fuzzy", append(termsOf(words), pfFuzzyTerms...))
	}
	t.Logf("%d of 22 sets skipped by the estimate", skipped)
	if !check("1000", termsOf(benchTerms(t, c.posts, 1000))) {
		t.Error("1,000 terms not estimated too large")
	}
}
