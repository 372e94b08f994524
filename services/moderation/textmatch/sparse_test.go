package textmatch

import (
	"reflect"
	"slices"
	"testing"
)

// TestSparseRowsExact checks that states past the dense budget (sparse
// blocks merged along their failure chain, outputs inline) behave exactly
// like dense ones: every tweet gives the same raw count, raw hits and
// hits with a dense automaton and with one whose budget leaves most
// states sparse.
func TestSparseRowsExact(t *testing.T) {
	c := corpus(t)
	words := benchTerms(t, c.posts, 5000)
	dense, err := NewRaw(words, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := mustCompile(t, termsOf(words), Options{})
	for _, budget := range []int{1, 1 << 12, 1 << 18} {
		sparse, err := NewRaw(words, budget)
		if err != nil {
			t.Fatal(err)
		}
		ms := mustCompile(t, termsOf(words), Options{DenseBudget: budget})
		if ms.d.denseLimit == uint32(ms.d.nStates)*ms.d.stride {
			t.Fatalf("budget %d: every state dense", budget)
		}
		var a, b []Hit
		var rd, rs []RawHit
		total := 0
		for _, p := range c.posts {
			if x, y := dense.Count(p), sparse.Count(p); x != y {
				t.Fatalf("budget %d, post %q: raw count %d dense, %d sparse", budget, p, x, y)
			}
			rd, rs = dense.FindAll(p, rd[:0]), sparse.FindAll(p, rs[:0])
			if !slices.Equal(rd, rs) {
				t.Fatalf("budget %d, post %q: raw hits\ndense  %v\nsparse %v", budget, p, rd, rs)
			}
			a = m.FindAll(p, a[:0])
			b = ms.FindAll(p, b[:0])
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("budget %d, post %q:\ndense  %v\nsparse %v", budget, p, a, b)
			}
			total += len(a)
		}
		t.Logf("budget %d: %d of %d states sparse, %d hits, identical", budget,
			ms.d.nStates-int(ms.d.denseLimit/ms.d.stride), ms.d.nStates, total)
	}
}
