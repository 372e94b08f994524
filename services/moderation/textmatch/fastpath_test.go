package textmatch

import (
	"reflect"
	"testing"
)

// TestFastLettersExact checks that fastLetters, the ASCII loop that leaves
// the ring entries of letters inside words unwritten, changes no hit: every
// tweet is matched with it and with the general path alone, at sizes from a
// few terms per post to nearly every word a term.
func TestFastLettersExact(t *testing.T) {
	c := corpus(t)
	for _, tc := range []struct{ n, budget int }{{100, 0}, {2000, 0}, {20000, 0}, {2000, 1 << 16}, {20000, 1 << 20}, {100000, 0}} {
		// The small budgets force sparse blocks: fastLetters' slow
		// transitions. At 100,000 terms (above the default budget) most
		// states are sparse and nearly every word prefix is a candidate.
		n := tc.n
		// Without the prefilter, so that every tweet is scanned.
		m := noPrefilter(mustCompile(t, termsOf(benchTerms(t, c.posts, n)), Options{DenseBudget: tc.budget}))
		general := *m
		general.generalOnly = true
		var a, b []Hit
		total := 0
		for _, p := range c.posts {
			a = m.FindAll(p, a[:0])
			b = general.FindAll(p, b[:0])
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%d terms, post %q:\nfast loop    %v\ngeneral path %v", n, p, a, b)
			}
			total += len(a)
		}
		t.Logf("%d terms (dense budget %d): %d hits, identical with and without the fast loop", n, tc.budget, total)
	}
}

// fastFuzzTerms exercise what fastLetters handles itself: doubled and
// single letters (squeezing), phrases, one-letter words, leet digits and
// symbols, prefixes of each other, and a non-Latin and a no-space term.
var fastFuzzTerms = []Term{{Text: "kill"}, {Text: "ass"}, {Text: "as"}, {Text: "god"}, {Text: "good"},
	{Text: "attack the"}, {Text: "a b"}, {Text: "i hate"}, {Text: "hate"}, {Text: "h8"}, {Text: "b22o"},
	{Text: "don't"}, {Text: "the"}, {Text: "hmmm"}, {Text: "kkk"}, {Text: "x"}, {Text: "rt"},
	{Text: "hatred", Fuzzy: 1}, {Text: "убить"}, {Text: "死ね"}, {Text: "ooo"}, {Text: "loool"},
	{Text: "shit"}, {Text: "infidels"}, {Text: "akill"}, {Text: "kis"}}

// FuzzFastLetters compares fastLetters with the general path on arbitrary
// text: the hits must be identical.
func FuzzFastLetters(f *testing.F) {
	for _, s := range []string{"", "kill", "KILL the", "as ass asss assss", "god good goood", "attack  the",
		"a b c", "I h a t e you", "i hate", "don't kill", "k.i.l.l k..i", "hmm hmmm hmmmm", "b22o &#8220;",
		"RT @user: kill!!", "kkk kk k", "x x x", "a.b a-b a_ b", "kill'kill", "ll.l kiil.l", "убить kill",
		"死ねkill", "goo\u200bd", "ass\u0301", "a\tb\nc", "rt rt", "lo ol loool", "hate's", "h8 h8te",
		"sh!t @ss infidel$ $$4", "ki11 k1ll 1i1 ki1l.l 11", "a@ s$s !!x kill! k!ll", "RT @kill: @@a |+ +t", "ki$ $ x$"} {
		f.Add(s)
	}
	// Without the prefilter, so that every text is scanned.
	m := noPrefilter(mustCompile(f, fastFuzzTerms, Options{}))
	sparse := noPrefilter(mustCompile(f, fastFuzzTerms, Options{DenseBudget: 1})) // every state but the root sparse
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range []*Matcher{m, sparse} {
			general := *m
			general.generalOnly = true
			a := m.FindAll(text, nil)
			b := general.FindAll(text, nil)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("text %q, dense budget %d:\nfast loop    %v\ngeneral path %v", text, m.n.opts.DenseBudget, a, b)
			}
		}
	})
}
