package textmatch

import (
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Fuzzy terms in the prefilter.
//
// Fuzzy matching, as Compile defines it, is a list of variants
// (fuzzyVariants): from a term's normalised form (runs written out,
// "vittu" is five letters) with at least FuzzyMinRunes runes, its
// adjacent transpositions; from FuzzyDelRunes, the deletion of a letter
// and the insertion of a-z after an ASCII letter; from FuzzySubstRunes,
// the substitution of a letter by a-z. The first rune and the spaces of
// a phrase are never edited, and no letter is inserted at the start of
// a word. Each variant is normalised again and matched like the term,
// with the term's word boundaries (a phrase also matches run together;
// its variants do not). A term of eight letters has about 400 variants,
// and in the prefilter's trie their branches multiply the subset
// states: two six-letter fuzzy terms beside a hundred exact ones
// exceeded its limits. The prefilter therefore replaces the patterns of
// a fuzzy term by a few pieces of the term (pfCover), each a pattern that
// is complete wherever it occurs.
//
// Pigeonhole: a variant is one edit away from the term. Cut the term's
// letters into a prefix and a suffix with one letter between them, or
// at a phrase's space: an edit, a transposition included, touches the
// prefix or the suffix but not both, so every variant holds one of them
// unedited. A variant also starts where the term starts (the first
// letter is never edited) and ends where it ends, so the prefix still
// starts a word and the suffix still ends one, and the pieces may keep
// those boundaries, which makes them rarer in text than bare letters.
// The prefilter reads a run of a letter as one letter, so an edit may
// reach one letter further in its view of a variant than in the
// variant itself: deleting the b of "abac" also merges the a's,
// changing one t of "vittu" to x adds a letter ("vitu" to "vitxu").
//
// So soundness does not rest on that argument: a pattern is dropped
// only if a chosen piece occurs in it as the prefilter reads it (runs as
// one letter, pfTokens), at a place its boundaries allow (pieceOccurs);
// any other is kept whole. Then wherever the scan finds a dropped
// pattern, the prefilter passes the text: the pattern's path through the
// prefilter's automaton holds the piece's. The piece's root is in the
// automaton's state where the piece starts (node 1 is in every state; node
// 0, for a piece bound to a word's start, after every separator and at
// the start of the text, which is where a word-bounded pattern or a word
// of a phrase starts), and from there the piece follows the pattern's
// tokens, runs and skipped separators step for step to a node where it
// is complete (for a piece bound to a word's end, before the separator
// or the end of text that completes the pattern).
//
// The cover is chosen greedily (pfFuzzy.cover) among the pieces of two
// to pfMaxPiece letters, by an estimate of how often each occurs in
// text (pieceFreq) against a cost for each pattern, so that a term gets
// a few long pieces where it can, and keeps some variants whole where a
// piece would be short: of "fckin" the prefix "fck" and the suffix "kin"
// cover all but a few transpositions and deletions, where the
// pigeonhole split would give "fc" and "in". A term too short for any
// piece (four letters: "crow", whose transpositions "corw" and "crwo"
// share none) keeps its variants.

// pfEdge says where a pattern of the prefilter may start or end.
type pfEdge uint8

const (
	pfWord     pfEdge = iota // only on a word boundary
	pfAnywhere               // anywhere, inside a word too
)

// pfPattern is a pattern of the prefilter's trie: normalised symbols as
// buildDFA gets them (markers included), or a piece of a fuzzy term
// (runs as one letter), and where it may start and end.
type pfPattern struct {
	text       string
	start, end pfEdge
	freq       float64 // of a piece, pieceFreq; 0 for a pattern kept whole
}

// pfCover holds the prefilter's patterns before fuzzy terms are
// covered: the ASCII patterns of exact terms as they are (the others
// cannot match ASCII text, and text outside ASCII that holds their
// symbols goes to the scan), and for each fuzzy term its ASCII patterns
// and the pieces that may stand for them.
type pfCover struct {
	fixed []pfPattern
	fuzzy []pfFuzzy
}

// pfFuzzy is a fuzzy term in the prefilter: its patterns (items) and
// the candidate pieces, each with the items it covers.
type pfFuzzy struct {
	items []pfPattern
	cands []pfPiece
}

// newPfCover groups pats by term: Compile gives a term's patterns one
// after the other, its own and its phrase run together first (a term
// whose patterns were not together would only be covered in parts).
func newPfCover(pats []string, infos []patInfo) *pfCover {
	cv := &pfCover{}
	for i := 0; i < len(pats); {
		j := i + 1
		for j < len(pats) && infos[j].term == infos[i].term {
			j++
		}
		cv.addTerm(pats[i:j], infos[i:j])
		i = j
	}
	return cv
}

// addTerm adds the patterns of one term.
func (cv *pfCover) addTerm(pats []string, infos []patInfo) {
	var items []pfPattern
	base, fuzzy := "", false
	for i, pat := range pats {
		fuzzy = fuzzy || infos[i].fuzzy
		if base == "" && !infos[i].fuzzy {
			base = pat
		}
		if pat == "" || !isASCII(pat) {
			continue
		}
		e := pfWord
		if infos[i].substring {
			e = pfAnywhere
		}
		items = append(items, pfPattern{text: pat, start: e, end: e})
	}
	if !fuzzy || len(items) == 0 {
		cv.fixed = append(cv.fixed, items...)
		return
	}
	cv.fuzzy = append(cv.fuzzy, pfFuzzy{items: items, cands: pieceCandidates(pfTokens(base), items)})
}

// The costs newPrefilter tries in turn, the most precise first, each ten
// times the last: the cost of a pattern kept whole, and of a piece on
// top of how often it occurs (pieceFreq). They stand for the states a
// pattern adds to the prefilter (a pattern word-bounded at both ends is
// itself rare in text): the lower, the more variants are kept and the
// longer the pieces, and the larger the automaton.
const (
	pfCostFirst  = 1e-5
	pfCostLevels = 3 // 1e-5, 1e-4, 1e-3
)

// patterns returns the prefilter's patterns, the fuzzy terms covered at
// cost, and the sum of the pieces' frequencies: about how often per
// letter of text some piece occurs.
func (cv *pfCover) patterns(cost float64) ([]pfPattern, float64) {
	out := slices.Clone(cv.fixed)
	for _, f := range cv.fuzzy {
		out = append(out, f.cover(cost)...)
	}
	freq := 0.0
	for _, p := range out {
		freq += p.freq
	}
	return out, freq
}

// pfTokens is pattern as the prefilter's trie reads it: markers dropped,
// a run of a symbol as one (newPfTrie), a space as a phrase's gap.
func pfTokens(pat string) string {
	b := make([]byte, 0, len(pat))
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c == markDouble || c == markStretch || len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// pfPiece is a candidate piece of a fuzzy term: the pattern (with its
// estimated frequency) and the items it covers (a bit set).
type pfPiece struct {
	pat    pfPattern
	covers []uint64
}

// cover returns pieces that cover the term's items, chosen greedily by
// the number of items covered per cost (cost plus the piece's
// frequency), and the items that no piece covers more cheaply than
// cost an item, kept whole.
func (f pfFuzzy) cover(cost float64) []pfPattern {
	covered := make([]uint64, (len(f.items)+63)/64)
	left := len(f.items)
	var out []pfPattern
	for left > 0 {
		best, bestRatio := -1, 1/cost
		for ci, c := range f.cands {
			if r := float64(countNew(c.covers, covered)) / (cost + c.pat.freq); r > bestRatio {
				best, bestRatio = ci, r
			}
		}
		if best < 0 {
			break
		}
		out = append(out, f.cands[best].pat)
		left -= countNew(f.cands[best].covers, covered)
		for w, x := range f.cands[best].covers {
			covered[w] |= x
		}
	}
	for i, it := range f.items {
		if covered[i/64]&(1<<(i%64)) == 0 {
			out = append(out, it)
		}
	}
	return out
}

// countNew counts the bits of covers not in covered.
func countNew(covers, covered []uint64) int {
	n := 0
	for w, x := range covers {
		n += bits.OnesCount64(x &^ covered[w])
	}
	return n
}

// pfMaxPiece bounds the letters of a piece: longer ones cover fewer
// patterns and are no rarer in practice.
const pfMaxPiece = 6

// pieceCandidates lists the pieces of base (at least two symbols and at
// most pfMaxPiece, ASCII, neither starting nor ending with a phrase's
// space), each complete anywhere, and also word-bounded at its start
// or end where base has a word boundary there, with the items it covers.
func pieceCandidates(base string, items []pfPattern) []pfPiece {
	toks := make([]string, len(items))
	for i, it := range items {
		toks[i] = pfTokens(it.text)
	}
	var out []pfPiece
	for i := 0; i < len(base); i++ {
		for j := i + 2; j <= len(base) && j-i <= pfMaxPiece; j++ {
			s := base[i:j]
			if s[0] == ' ' || s[len(s)-1] == ' ' || !isASCII(s) {
				continue
			}
			wordStart := i == 0 || base[i-1] == ' '
			wordEnd := j == len(base) || base[j] == ' '
			for _, e := range [...][2]pfEdge{{pfAnywhere, pfAnywhere}, {pfWord, pfAnywhere}, {pfAnywhere, pfWord}, {pfWord, pfWord}} {
				if e[0] == pfWord && !wordStart || e[1] == pfWord && !wordEnd {
					continue
				}
				pc := pfPiece{pat: pfPattern{text: s, start: e[0], end: e[1], freq: pieceFreq(s, e[0], e[1])}}
				pc.covers = make([]uint64, (len(items)+63)/64)
				for k := range items {
					if pieceOccurs(pc.pat, items[k], toks[k]) {
						pc.covers[k/64] |= 1 << (k % 64)
					}
				}
				out = append(out, pc)
			}
		}
	}
	return out
}

// pieceOccurs reports whether piece occurs in an item whose tokens are
// toks at a place its boundaries allow: a word-bounded edge of the piece
// must fall on a phrase's space of the item, or on the item's own edge
// if that is word-bounded.
func pieceOccurs(piece, item pfPattern, toks string) bool {
	s := piece.text
	for off := 0; ; {
		k := strings.Index(toks[off:], s)
		if k < 0 {
			return false
		}
		p, q := off+k, off+k+len(s)
		startOK := piece.start == pfAnywhere || p == 0 && item.start == pfWord || p > 0 && toks[p-1] == ' '
		endOK := piece.end == pfAnywhere || q == len(toks) && item.end == pfWord || q < len(toks) && toks[q] == ' '
		if startOK && endOK {
			return true
		}
		off = p + 1
	}
}

// pieceFreq estimates how often a piece occurs at a place of a text.
// Each letter counts with its frequency in English to the power 0.7: the
// letters of real words follow each other far more often than
// independent draws would (a common trigram is about 1 in 300, not 1 in
// 3,000); and an edge bound to a word boundary counts a fifth (words are
// about five letters long).
func pieceFreq(s string, start, end pfEdge) float64 {
	c := 1.0
	for i := 0; i < len(s); i++ {
		c *= math.Pow(symbolFreq(s[i]), 0.7)
	}
	if start == pfWord {
		c /= 5
	}
	if end == pfWord {
		c /= 5
	}
	return c
}

// letterFreq holds the frequency of each letter a-z in English text, in
// thousandths, one byte a letter: a 82, b 15, c 28, … e 127, … z 1.
const letterFreq = "\x52\x0f\x1c\x2b\x7f\x16\x14\x3d\x46\x02\x08\x28\x18\x43\x4b\x13\x01\x3c\x3f\x5b\x1c\x0a\x18\x02\x14\x01"

// symbolFreq is letterFreq for a symbol of a pattern: a phrase's space
// as common as a separator between words (one place in five), digits
// and other symbols as rare letters.
func symbolFreq(c byte) float64 {
	switch {
	case c >= 'a' && c <= 'z':
		return float64(letterFreq[c-'a']) / 1000
	case c == ' ':
		return 0.2
	}
	return 0.01
}
