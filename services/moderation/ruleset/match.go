package ruleset

import (
	"math"
	"slices"
	"strings"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/textmatch"
)

// maxSpans bounds the spans reported per match: enough to highlight a
// post, bounded so a spam wall cannot blow up a verdict.
const maxSpans = 32

// Match appends to dst one match per rule that fires on text, with the
// byte spans of the original text that made it fire. lang is the post's
// BCP 47 language tag ("" if unknown: every rule applies). Safe for
// concurrent use; allocates nothing when no rule fires.
func (s *Set) Match(text, lang string, dst []moderation.Match) []moderation.Match {
	c := s.c
	sc := c.pool.Get().(*scratch)
	sc.hits, sc.cand, sc.exGroup = sc.hits[:0], sc.cand[:0], -1
	if c.m != nil {
		sc.hits = c.m.FindAll(text, sc.hits)
	}
	for _, h := range sc.hits {
		for _, r := range c.cands[h.Term] {
			if !sc.seen[r] {
				sc.seen[r] = true
				sc.cand = append(sc.cand, r)
			}
		}
	}
	for _, r := range c.always {
		if !sc.seen[r] {
			sc.seen[r] = true
			sc.cand = append(sc.cand, r)
		}
	}
	// Rule order is file order: keep verdicts deterministic.
	slices.Sort(sc.cand)
	primary := lang
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		primary = lang[:i]
	}
	for _, ri := range sc.cand {
		sc.seen[ri] = false
		r := &c.rules[ri]
		if !langOK(r.langs, primary) {
			continue
		}
		sc.spans = sc.spans[:0]
		if !c.eval(r.cond, r, text, sc) {
			continue
		}
		if r.unless != nil {
			mark := len(sc.spans)
			if c.eval(r.unless, r, text, sc) {
				continue
			}
			sc.spans = sc.spans[:mark]
		}
		dst = append(dst, moderation.Match{RuleID: r.info.ID, RuleVersion: s.version, Category: r.info.Category,
			Severity: r.info.Severity, Spans: sortedSpans(sc.spans)})
	}
	c.pool.Put(sc)
	return dst
}

func langOK(langs []string, primary string) bool {
	if len(langs) == 0 || primary == "" {
		return true
	}
	for _, l := range langs {
		if strings.EqualFold(l, primary) {
			return true
		}
	}
	return false
}

// sortedSpans copies spans sorted, without duplicates, at most maxSpans.
func sortedSpans(in []moderation.Span) []moderation.Span {
	slices.SortFunc(in, func(a, b moderation.Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	out := make([]moderation.Span, 0, min(len(in), maxSpans))
	for i, sp := range in {
		if i > 0 && sp == in[i-1] {
			continue
		}
		if len(out) == maxSpans {
			break
		}
		out = append(out, sp)
	}
	return out
}

func (c *compiled) inGroup(h *textmatch.Hit, g int32) bool {
	for _, x := range c.groups[h.Term] {
		if x == g {
			return true
		}
	}
	return false
}

// excepted reports whether an exception hit of r covers hit h. The
// exception hits are gathered once per exception group, sorted by start with the
// running maximum of their ends: a covering one exists when the latest
// end among those starting at or before h reaches h's end. A post full of
// terms and exceptions costs n log n, not n².
func (c *compiled) excepted(h *textmatch.Hit, r *rule, sc *scratch) bool {
	if r.exGroup < 0 {
		return false
	}
	if sc.exGroup != r.exGroup {
		sc.exGroup = r.exGroup
		sc.exIdx = sc.exIdx[:0]
		for i := range sc.hits {
			if c.inGroup(&sc.hits[i], r.exGroup) {
				sc.exIdx = append(sc.exIdx, int32(i))
			}
		}
		slices.SortFunc(sc.exIdx, func(a, b int32) int { return int(sc.hits[a].Start - sc.hits[b].Start) })
		sc.exStart, sc.exEnd = sc.exStart[:0], sc.exEnd[:0]
		var end int32 = -1
		for _, i := range sc.exIdx {
			end = max(end, sc.hits[i].End)
			sc.exStart = append(sc.exStart, sc.hits[i].Start)
			sc.exEnd = append(sc.exEnd, end)
		}
	}
	// The last exception starting at or before h.
	k, _ := slices.BinarySearch(sc.exStart, h.Start+1)
	return k > 0 && sc.exEnd[k-1] >= h.End
}

// eval reports whether cond holds, appending the spans that made it hold.
func (c *compiled) eval(n *cond, r *rule, text string, sc *scratch) bool {
	switch n.op {
	case opTerms:
		mark, cnt := len(sc.spans), 0
		for i := range sc.hits {
			h := &sc.hits[i]
			if c.inGroup(h, n.group) && !c.excepted(h, r, sc) {
				cnt++
				sc.spans = append(sc.spans, moderation.Span{Start: int(h.Start), End: int(h.End)})
			}
		}
		if cnt >= n.count {
			return true
		}
		sc.spans = sc.spans[:mark]
		return false
	case opNear:
		return c.evalNear(n, r, sc)
	case opRegex:
		if n.re == nil {
			return false
		}
		if n.pre >= 0 {
			found := false
			for i := range sc.hits {
				if c.inGroup(&sc.hits[i], n.pre) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		locs := n.re.FindAllStringIndex(text, maxSpans)
		for _, l := range locs {
			sc.spans = append(sc.spans, moderation.Span{Start: l[0], End: l[1]})
		}
		return len(locs) > 0
	case opAny:
		ok := false
		for _, k := range n.kids {
			if c.eval(k, r, text, sc) {
				ok = true
			}
		}
		return ok
	case opAll:
		mark := len(sc.spans)
		for _, k := range n.kids {
			if !c.eval(k, r, text, sc) {
				sc.spans = sc.spans[:mark]
				return false
			}
		}
		return true
	case opNone:
		mark := len(sc.spans)
		for _, k := range n.kids {
			if c.eval(k, r, text, sc) {
				sc.spans = sc.spans[:mark]
				return false
			}
		}
		sc.spans = sc.spans[:mark]
		return true
	}
	return false
}

// evalNear holds when every group has an occurrence, all of them within a
// window of n.within words: the words of the first and the last chosen hit
// are at most n.within apart, so "within N words of each other" holds for
// every pair, not only against the first group. Each window is anchored at
// a hit of some group, which is the window's earliest word; a hit serves
// one group only, so near: [kill, kill] needs two occurrences.
func (c *compiled) evalNear(n *cond, r *rule, sc *scratch) bool {
	// The eligible hits, by word: each window's candidates are then one
	// range found by binary search, not a pass over every hit (a spam
	// wall of terms would cost the square of its hits).
	sc.near = sc.near[:0]
	for i := range sc.hits {
		if h := &sc.hits[i]; c.inAnyGroup(h, n.nearGroups) && !c.excepted(h, r, sc) {
			sc.near = append(sc.near, int32(i))
		}
	}
	slices.SortStableFunc(sc.near, func(a, b int32) int { return int(sc.hits[a].Word - sc.hits[b].Word) })
	byWord := func(w int32) int {
		k, _ := slices.BinarySearchFunc(sc.near, w, func(i, w int32) int { return int(sc.hits[i].Word - w) })
		return k
	}
	c.indexGroups(n, sc)
	for i := range sc.hits {
		a := &sc.hits[i]
		if !c.inAnyGroup(a, n.nearGroups) || c.excepted(a, r, sc) {
			continue
		}
		lo, hi := a.Word, a.Word+int32(n.within)
		from, to := byWord(lo), byWord(hi+1)
		mark := len(sc.spans)
		sc.chosen = sc.chosen[:0]
		all := true
		for k, g := range n.nearGroups {
			found := -1
			if !slices.Contains(sc.chosen, int32(i)) && c.inGroup(a, g) {
				// The anchor first, so that it is always one of the
				// chosen hits.
				found = i
			} else {
				// Else the window's first hit (in text order) of the
				// group. Spaced-out letters ("a b a b …") are one word
				// of any number of hits, so a window is not a few
				// hits: a pass over it per anchor cost the square of
				// the hits (a 64 KB post took 6 s of a worker).
				found = sc.firstInWindow(k, from, to)
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

// noHit is above every hit index: the minimum of an empty range.
const noHit = math.MaxInt32

// indexGroups fills sc.grp* for the groups of near condition n over
// sc.near: per group, the positions in near of its hits and a segment
// tree of their hit indices.
func (c *compiled) indexGroups(n *cond, sc *scratch) {
	sc.grpOff, sc.grpPos = append(sc.grpOff[:0], 0), sc.grpPos[:0]
	for _, g := range n.nearGroups {
		for p, j := range sc.near {
			if c.inGroup(&sc.hits[j], g) {
				sc.grpPos = append(sc.grpPos, int32(p))
			}
		}
		sc.grpOff = append(sc.grpOff, int32(len(sc.grpPos)))
	}
	sc.grpTree = slices.Grow(sc.grpTree[:0], 2*len(sc.grpPos))[:2*len(sc.grpPos)]
	for k := range n.nearGroups {
		off, m := int(sc.grpOff[k]), int(sc.grpOff[k+1]-sc.grpOff[k])
		t := sc.grpTree[2*off : 2*off+2*m]
		for q := range m {
			t[m+q] = sc.near[sc.grpPos[off+q]]
		}
		for q := m - 1; q > 0; q-- {
			t[q] = min(t[2*q], t[2*q+1])
		}
	}
	sc.nearPos = slices.Grow(sc.nearPos[:0], len(sc.hits))[:len(sc.hits)]
	for p, j := range sc.near {
		sc.nearPos[j] = int32(p)
	}
}

// firstInWindow returns the smallest hit index of group k (of the near
// condition indexGroups saw) among near[from:to], leaving out the hits
// already chosen, or -1. Each chosen hit met splits a range in two, so a
// call costs a few tree queries, whatever the window holds.
func (sc *scratch) firstInWindow(k, from, to int) int {
	off, end := int(sc.grpOff[k]), int(sc.grpOff[k+1])
	pos := sc.grpPos[off:end]
	lo, _ := slices.BinarySearch(pos, int32(from))
	hi, _ := slices.BinarySearch(pos, int32(to))
	t := sc.grpTree[2*off : 2*end]
	best := int32(noHit)
	sc.ranges = append(sc.ranges[:0], [2]int32{int32(lo), int32(hi)})
	for len(sc.ranges) > 0 {
		rg := sc.ranges[len(sc.ranges)-1]
		sc.ranges = sc.ranges[:len(sc.ranges)-1]
		j := treeMin(t, len(pos), int(rg[0]), int(rg[1]))
		switch {
		case j == noHit:
		case slices.Contains(sc.chosen, j):
			q, _ := slices.BinarySearch(pos, sc.nearPos[j])
			sc.ranges = append(sc.ranges, [2]int32{rg[0], int32(q)}, [2]int32{int32(q) + 1, rg[1]})
		default:
			best = min(best, j)
		}
	}
	if best == noHit {
		return -1
	}
	return int(best)
}

// treeMin is the minimum of leaves [l, r) of the bottom-up segment tree t
// over m leaves (t[m+q] is leaf q), or noHit.
func treeMin(t []int32, m, l, r int) int32 {
	res := int32(noHit)
	for l, r = l+m, r+m; l < r; l, r = l>>1, r>>1 {
		if l&1 == 1 {
			res = min(res, t[l])
			l++
		}
		if r&1 == 1 {
			r--
			res = min(res, t[r])
		}
	}
	return res
}

// inAnyGroup reports whether hit h belongs to one of groups.
func (c *compiled) inAnyGroup(h *textmatch.Hit, groups []int32) bool {
	for _, g := range groups {
		if c.inGroup(h, g) {
			return true
		}
	}
	return false
}
