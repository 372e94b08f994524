package ruleset

import (
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
	sc.hits, sc.cand = sc.hits[:0], sc.cand[:0]
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
	for i := 1; i < len(sc.cand); i++ {
		for j := i; j > 0 && sc.cand[j] < sc.cand[j-1]; j-- {
			sc.cand[j], sc.cand[j-1] = sc.cand[j-1], sc.cand[j]
		}
	}
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
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && (in[j].Start < in[j-1].Start || in[j].Start == in[j-1].Start && in[j].End < in[j-1].End); j-- {
			in[j], in[j-1] = in[j-1], in[j]
		}
	}
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

// excepted reports whether an exception of r covers hit h.
func (c *compiled) excepted(h *textmatch.Hit, r *rule, hits []textmatch.Hit) bool {
	if r.exGroup < 0 {
		return false
	}
	for i := range hits {
		e := &hits[i]
		if e.Start <= h.Start && h.End <= e.End && c.inGroup(e, r.exGroup) {
			return true
		}
	}
	return false
}

// eval reports whether cond holds, appending the spans that made it hold.
func (c *compiled) eval(n *cond, r *rule, text string, sc *scratch) bool {
	switch n.op {
	case opTerms:
		mark, cnt := len(sc.spans), 0
		for i := range sc.hits {
			h := &sc.hits[i]
			if c.inGroup(h, n.group) && !c.excepted(h, r, sc.hits) {
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
	for i := range sc.hits {
		a := &sc.hits[i]
		if !c.inAnyGroup(a, n.nearGroups) || c.excepted(a, r, sc.hits) {
			continue
		}
		lo, hi := a.Word, a.Word+int32(n.within)
		mark := len(sc.spans)
		sc.chosen = sc.chosen[:0]
		all := true
		for _, g := range n.nearGroups {
			found := -1
			// The anchor first, so that it is always one of the chosen hits.
			if !slices.Contains(sc.chosen, int32(i)) && c.inGroup(a, g) {
				found = i
			}
			for j := 0; found < 0 && j < len(sc.hits); j++ {
				b := &sc.hits[j]
				if b.Word >= lo && b.Word <= hi && !slices.Contains(sc.chosen, int32(j)) &&
					c.inGroup(b, g) && !c.excepted(b, r, sc.hits) {
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

// inAnyGroup reports whether hit h belongs to one of groups.
func (c *compiled) inAnyGroup(h *textmatch.Hit, groups []int32) bool {
	for _, g := range groups {
		if c.inGroup(h, g) {
			return true
		}
	}
	return false
}
