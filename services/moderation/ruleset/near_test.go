package ruleset

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// naiveNear is evalNear as first written, a pass over every hit per anchor
// and group: the reference the indexed version must agree with.
func (c *compiled) naiveNear(n *cond, r *rule, sc *scratch) bool {
	for i := range sc.hits {
		a := &sc.hits[i]
		if !c.inAnyGroup(a, n.nearGroups) || c.excepted(a, r, sc) {
			continue
		}
		lo, hi := a.Word, a.Word+int32(n.within)
		mark := len(sc.spans)
		sc.chosen = sc.chosen[:0]
		all := true
		for _, g := range n.nearGroups {
			found := -1
			if !slices.Contains(sc.chosen, int32(i)) && c.inGroup(a, g) {
				found = i
			}
			for j := 0; found < 0 && j < len(sc.hits); j++ {
				b := &sc.hits[j]
				if b.Word >= lo && b.Word <= hi && !slices.Contains(sc.chosen, int32(j)) &&
					c.inGroup(b, g) && !c.excepted(b, r, sc) {
					found = j
				}
			}
			if found < 0 {
				all = false
				break
			}
			sc.chosen = append(sc.chosen, int32(found))
			b := &sc.hits[found]
			sc.spans = append(sc.spans, moderation.Span{Start: int(b.Start), End: int(b.End)})
		}
		if all {
			return true
		}
		sc.spans = sc.spans[:mark]
	}
	return false
}

// TestNearAgreesWithNaive: on random texts of near terms, exceptions,
// spaced-out letters and filler, the indexed near windows choose the same
// hits as a pass over every hit.
func TestNearAgreesWithNaive(t *testing.T) {
	t.Parallel()
	s, err := Compile([]File{{Name: "n.yaml", Data: []byte(`rules:
  - id: two
    description: d
    category: violent_threat
    severity: high
    match:
      near: [cut, [throat, throats]]
      within: 2
  - id: three
    description: d
    category: violent_threat
    severity: high
    match:
      near: [a b, cut, [bomb, cut]]
      within: 6
    exceptions: [cut the cake]
  - id: same
    description: d
    category: violent_threat
    severity: high
    match:
      near: [kill, kill, kill]
      within: 4
`)}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.c
	words := []string{"cut", "throat", "throats", "bomb", "kill", "a b", "the cake", "x", "c u t", "k i l l", "...", "word"}
	rng := rand.New(rand.NewPCG(7, 11))
	checked := 0
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := rng.IntN(40); k >= 0; k-- {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		text := b.String()
		for ri := range c.rules {
			r := &c.rules[ri]
			nc := r.cond
			if nc.op != opNear {
				continue
			}
			run := func(f func(*cond, *rule, *scratch) bool) (bool, []moderation.Span) {
				sc := &scratch{exGroup: -1}
				sc.hits = c.m.FindAll(text, nil)
				ok := f(nc, r, sc)
				return ok, sc.spans
			}
			ok1, sp1 := run(c.evalNear)
			ok2, sp2 := run(c.naiveNear)
			if ok1 != ok2 || !slices.Equal(sp1, sp2) {
				t.Fatalf("rule %s on %q: indexed %v %v, naive %v %v", r.info.ID, text, ok1, sp1, ok2, sp2)
			}
			if ok1 {
				checked++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d windows held: the texts test little", checked)
	}
}
