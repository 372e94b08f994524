package textmatch

import (
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// prefilter is a DFA over the raw bytes of a text that proves, at one
// table load per byte, that no term can match it, so that FindAll returns
// without running the normalising scan. With few terms most posts match
// none, and the scan costs several times a plain automaton per byte (word
// ends, separators, the ring); the prefilter costs less than one (see
// filter).
//
// It over-approximates the normaliser on ASCII text: a byte is read as
// every letter it may stand for (a leet digit with a second reading as
// both, a leet symbol as its letter and as a hard separator); a run of one
// letter is one letter; soft separators and white space may be skipped
// anywhere ("k.i.l.l", "h a t e") or be a phrase's space; a hard
// separator is a phrase's space or ends every other partial match; a
// word-bounded term starts only at the start of the text or after a
// separator and is complete only before a separator or at the end. So
// every hit of the scan is a path of the prefilter, which passes more
// ("k ill", "as" in "ass"): TestPrefilterSound and FuzzPrefilter check
// that it never rejects a text FindAll finds a hit in. A fuzzy term is
// read as a few pieces of it that every variant holds (prefilter_fuzzy.go).
// A rune outside ASCII reads as the normaliser's per-rune steps make it
// (an emoji as a hard separator, "é" as "e", a Cyrillic "і" as "i"),
// except where that depends on what follows or the prefilter cannot tell
// (kana, kept combining marks, any symbol of a non-ASCII pattern): then
// the text goes to the scan.
type prefilter struct {
	cls    [256]uint8
	stride uint32
	// trans holds premultiplied state ids. Id 0 is "maybe": absorbing,
	// reached by a completed term, a rune the prefilter cannot read, or
	// a byte outside ASCII (class 0, which only split and scan, the ASCII
	// scans, can feed). Ids from endFrom on are states in which a
	// word-bounded term has just been completed: a match if the text ends
	// there.
	trans   []uint32
	start   uint32
	endFrom uint32
	// cut marks the separators after which filter may cut a text.
	cut [256]bool
	// For text outside ASCII: the normaliser, the classes of white space,
	// of a hard separator and of a letter of no pattern, the non-ASCII
	// symbols of the patterns, and the classes of common runes.
	n                           *Normalizer
	clsSkip, clsHard, clsLetter uint8
	patRunes                    map[rune]bool
	runeTabs                    []runeTab
}

// Limits of the prefilter: over them (or prefilterMaxNodes, or
// prefilterMaxFreq) Compile builds none. Large term sets match most posts
// anyway, and the scan's fast loop wins there.
const (
	prefilterMaxPats   = 2000
	prefilterMaxSubset = 1 << 13 // states of the subset construction
	prefilterMaxStates = 1 << 12 // states once minimised (600 KB)
)

// Below pfSplitMin bytes filter runs one scan; pfSync is how far past its
// half the first scan may run to meet the second.
const (
	pfSplitMin = 24
	pfSync     = 16
)

// filter reports whether a term may match text: false is a proof that
// FindAll finds nothing.
//
// ASCII text is scanned by the automaton alone. In other text a rune
// outside ASCII is read by runeStep: a table for the common ones (emoji,
// typographic punctuation, Latin, Greek and Cyrillic letters), else the
// normaliser's per-rune steps.
//
// A scan is one chain of dependent loads, so the text is cut near its
// middle and its halves are scanned at once, the second from the start
// state. The first then goes on into the second half until it is in the
// state the second was in at the same byte: from there on they are one
// scan, and the second's verdict is the whole text's. Where they do not
// meet within pfSync bytes, the first scans on to the end. The cut is
// made after a space or a hard separator, where a word may start as it
// may at the start: they usually meet at the next letter or two.
func (p *prefilter) filter(text string) bool {
	if isASCII(text) {
		return p.filterASCII(text)
	}
	return p.filterRunes(text)
}

// isASCII reports whether text is all ASCII: the high bits of its
// bytes, or-ed eight at a time.
func isASCII(text string) bool {
	var acc uint64
	i := 0
	for ; i+8 <= len(text); i += 8 {
		acc |= binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(text[i:i+8]), 8))
	}
	for ; i < len(text); i++ {
		acc |= uint64(text[i])
	}
	return acc&0x8080808080808080 == 0
}

// filterASCII is filter for ASCII text (it passes any other).
func (p *prefilter) filterASCII(text string) bool {
	return p.final(p.split(text))
}

// scan runs the automaton over ASCII text from state s.
func (p *prefilter) scan(s uint32, text string) uint32 {
	base := unsafe.Pointer(unsafe.SliceData(p.trans))
	cls := &p.cls
	for i := 0; i < len(text); i++ {
		s = *(*uint32)(unsafe.Add(base, uintptr(s+uint32(cls[text[i]]))*4))
		if s == 0 {
			return 0
		}
	}
	return s
}

// split runs the automaton over ASCII text in two scans at once (see
// filter) and returns the last state.
func (p *prefilter) split(text string) uint32 {
	q := p.cutAt(text)
	if q == 0 {
		return p.scan(p.start, text)
	}
	base := unsafe.Pointer(unsafe.SliceData(p.trans))
	cls := &p.cls
	a, b := text[:q], text[q:]
	sa, sb := p.start, p.start
	// The second scan's first states, for the first to meet.
	var seen [pfSync]uint32
	i := 0
	for ; i < len(seen); i++ {
		sa = *(*uint32)(unsafe.Add(base, uintptr(sa+uint32(cls[a[i]]))*4))
		sb = *(*uint32)(unsafe.Add(base, uintptr(sb+uint32(cls[b[i]]))*4))
		seen[i] = sb
	}
	for ; i < len(b); i++ {
		sa = *(*uint32)(unsafe.Add(base, uintptr(sa+uint32(cls[a[i]]))*4))
		sb = *(*uint32)(unsafe.Add(base, uintptr(sb+uint32(cls[b[i]]))*4))
	}
	sa = p.scan(sa, a[i:])
	for j := range seen {
		sa = *(*uint32)(unsafe.Add(base, uintptr(sa+uint32(cls[b[j]]))*4))
		if sa == seen[j] {
			return sb
		}
	}
	return p.scan(sa, b[len(seen):])
}

// cutAt is where split cuts text: near its middle, after a space or a
// hard separator, the first half the longer, the second longer than
// pfSync; 0 for none (a short text).
func (p *prefilter) cutAt(text string) int {
	n := len(text)
	if n < pfSplitMin {
		return 0
	}
	q := (n + 1) / 2
	for q < n-pfSync && !p.cut[text[q-1]] {
		q++
	}
	if q >= n-pfSync {
		return 0
	}
	return q
}

// filterRunes is filter for text outside ASCII: split's two scans, each
// reading a rune outside ASCII with runeStep.
func (p *prefilter) filterRunes(text string) bool {
	q := p.cutAt(text)
	if q == 0 {
		return p.final(p.scanRunes(p.start, text))
	}
	base := unsafe.Pointer(unsafe.SliceData(p.trans))
	cls := &p.cls
	n := len(text)
	sa, sb := p.start, p.start
	// The second scan's first states and where they are, for the first
	// to meet (both step rune by rune from q on).
	var seen [pfSync]uint32
	var at [pfSync]int
	k := 0
	ia, ib := 0, q
	for ia < q && ib < n {
		if c := text[ia]; c < utf8.RuneSelf {
			sa = *(*uint32)(unsafe.Add(base, uintptr(sa+uint32(cls[c]))*4))
			ia++
		} else {
			sa, ia = p.runeStep(sa, text, ia)
		}
		if c := text[ib]; c < utf8.RuneSelf {
			sb = *(*uint32)(unsafe.Add(base, uintptr(sb+uint32(cls[c]))*4))
			ib++
		} else {
			sb, ib = p.runeStep(sb, text, ib)
		}
		if k < len(seen) {
			seen[k], at[k] = sb, ib
			k++
		}
	}
	sb = p.scanRunes(sb, text[ib:])
	sa = p.scanRunes(sa, text[ia:q])
	ia = q
	for j := range k {
		for ia < at[j] {
			if c := text[ia]; c < utf8.RuneSelf {
				sa = *(*uint32)(unsafe.Add(base, uintptr(sa+uint32(cls[c]))*4))
				ia++
			} else {
				sa, ia = p.runeStep(sa, text, ia)
			}
		}
		if sa == seen[j] {
			return p.final(sb)
		}
	}
	return p.final(p.scanRunes(sa, text[ia:]))
}

// scanRunes is scan for any text, a rune outside ASCII read by runeStep.
func (p *prefilter) scanRunes(s uint32, text string) uint32 {
	base := unsafe.Pointer(unsafe.SliceData(p.trans))
	cls := &p.cls
	for i := 0; i < len(text) && s != 0; {
		if c := text[i]; c < utf8.RuneSelf {
			s = *(*uint32)(unsafe.Add(base, uintptr(s+uint32(cls[c]))*4))
			i++
		} else {
			s, i = p.runeStep(s, text, i)
		}
	}
	return s
}

// runeStep feeds the rune at text[i:], which is not ASCII, to the
// automaton from state s as the normaliser reads it (runeTabs, else
// runeReading), and returns the state and where the next rune starts.
func (p *prefilter) runeStep(s uint32, text string, i int) (uint32, int) {
	r, size := utf8.DecodeRuneInString(text[i:])
	e := uint8(runeSlow)
	for _, t := range p.runeTabs {
		if r >= t.lo && r < t.lo+rune(len(t.cls)) {
			e = t.cls[r-t.lo]
			break
		}
	}
	switch e {
	case runeNone:
	case runeSlow:
		if !p.runeReading(r, text[i:i+size], func(c uint8) { s = p.trans[s+uint32(c)] }) {
			s = 0
		}
	default:
		s = p.trans[s+uint32(e)]
	}
	return s, i + size
}

// runeTab holds the class of each rune of a range, or runeNone (an
// ignorable), or runeSlow (several classes, or none that the prefilter
// can tell).
type runeTab struct {
	lo  rune
	cls []uint8
}

const (
	runeNone = 0xFE
	runeSlow = 0xFF
)

// runeRanges are where runeTab holds a rune's class: Latin, Greek,
// Cyrillic, Hebrew and Arabic; general punctuation and symbols, arrows,
// dingbats; emoji.
var runeRanges = [...][2]rune{{0x80, 0x800}, {0x2000, 0x2C00}, {0x1F000, 0x1FB00}}

// runeReading calls emit with each class that the rune r (raw in the
// text) reads as, as the scanner's slowRune and foldRune read it, and
// reports false where the prefilter cannot tell: kana, which compose with
// what follows; a symbol of some pattern; a kept combining mark, which may
// take the previous character's boundary.
func (p *prefilter) runeReading(r rune, raw string, emit func(uint8)) bool {
	o := p.n.opts
	switch {
	case r == utf8.RuneError && len(raw) == 1:
		emit(p.clsHard)
		return true
	case o.has(StepIgnorables) && isIgnorable(r):
		return true
	case !o.has(StepNFKC):
		return p.foldReading(r, emit)
	case isKana(r):
		return false
	}
	dec := norm.NFKD.PropertiesString(raw).Decomposition()
	if dec == nil {
		return p.foldReading(r, emit)
	}
	for len(dec) > 0 {
		d, n := utf8.DecodeRune(dec)
		dec = dec[n:]
		if isKana(d) || !p.foldReading(d, emit) {
			return false
		}
	}
	return true
}

// foldReading is scanner.foldRune for the prefilter: rune r after
// decomposition.
func (p *prefilter) foldReading(r rune, emit func(uint8)) bool {
	o := p.n.opts
	if r < utf8.RuneSelf {
		emit(p.cls[r])
		return true
	}
	if o.has(StepDiacritics) && isStrippableMark(r) {
		return true
	}
	if o.has(StepConfusables) {
		r = confusableUpper(r)
	}
	if o.has(StepCaseFold) {
		if r == 'ß' || r == 'ẞ' {
			emit(p.cls['s'])
			emit(p.cls['s'])
			return true
		}
		r = unicode.ToLower(unicode.ToUpper(r))
	}
	if o.has(StepConfusables) {
		r = confusableLower(r)
	}
	if r < utf8.RuneSelf {
		emit(p.cls[r])
		return true
	}
	c := p.clsHard
	switch classifyRune(r) {
	case kindWord:
		switch {
		case p.patRunes[r] || unicode.IsMark(r):
			return false
		case !isNoSpace(r):
			c = p.clsLetter // ends every partial match, starts none
		} // else a boundary of its own that no pattern holds: as a hard separator
	case kindSoft:
		if o.has(StepSeparators) {
			c = p.clsSkip
		}
	case kindSpace:
		c = p.clsSkip
	}
	emit(c)
	return true
}

// buildRuneTabs fills p.runeTabs.
func (p *prefilter) buildRuneTabs() {
	var buf [utf8.UTFMax]byte
	for _, rg := range runeRanges {
		t := runeTab{lo: rg[0], cls: make([]uint8, rg[1]-rg[0])}
		for r := rg[0]; r < rg[1]; r++ {
			n, e := 0, uint8(0)
			ok := p.runeReading(r, string(utf8.AppendRune(buf[:0], r)), func(c uint8) { n, e = n+1, c })
			switch {
			case !ok || n > 1:
				e = runeSlow
			case n == 0:
				e = runeNone
			}
			t.cls[r-rg[0]] = e
		}
		p.runeTabs = append(p.runeTabs, t)
	}
}

// final reports whether a text that ends in state s may hold a match.
func (p *prefilter) final(s uint32) bool { return s == 0 || s >= p.endFrom }

// memBytes is the prefilter's heap size.
func (p *prefilter) memBytes() int {
	n := 4*len(p.trans) + int(unsafe.Sizeof(*p)) + 16*len(p.patRunes)
	for _, t := range p.runeTabs {
		n += len(t.cls)
	}
	return n
}

// Tokens of the prefilter's trie: pfOther stands for every letter of no
// pattern (it ends every partial match alike), pfGap for a phrase's
// space; letters follow.
const (
	pfOther = iota
	pfGap
)

// pfClass is how the prefilter reads one kind of byte: as any of the
// tokens in letters, and as a separator if sep says so (sepSoft: one
// that may be skipped, soft separators and white space; sepHard).
type pfClass struct {
	letters string
	sep     uint8
	maybe   bool // not ASCII: the text goes to the scan
}

// newPrefilter builds the prefilter of patterns (as buildDFA gets them,
// with their infos) for normaliser n, or returns nil when its automaton
// would be too large or pass too many texts to pay for itself.
func newPrefilter(n *Normalizer, pats []string, infos []patInfo) *prefilter {
	return coveredPrefilter(n, pats, infos, prefilterMaxFreq)
}

// coveredPrefilter is newPrefilter with the pieces' frequency bounded by
// maxFreq. The patterns of fuzzy terms are replaced by pieces (pfCover),
// as precisely as the limits allow: from pfCostFirst on, a cover whose
// trie is too large (pfTrie.tooLarge, an estimate that spares the subset
// construction, tens of milliseconds on a term set too large) or whose
// automaton is gives way to a coarser one, for at most pfMaxTries
// constructions; coarser covers have shorter pieces, so none is tried
// once the pieces are too common.
func coveredPrefilter(n *Normalizer, pats []string, infos []patInfo, maxFreq float64) *prefilter {
	if len(infos) > 0 && int(infos[len(infos)-1].term) >= prefilterMaxPats {
		return nil // each term leaves at least one pattern (or none, outside ASCII)
	}
	cv := newPfCover(pats, infos)
	patRunes := nonASCIIRunes(pats)
	tries := 0
	for i, cost := 0, pfCostFirst; i < pfCostLevels; i, cost = i+1, cost*10 {
		ps, freq := cv.patterns(cost)
		if freq > maxFreq {
			return nil
		}
		if tr := newPfTrie(ps); len(ps) <= prefilterMaxPats && !tr.tooLarge() {
			if p := buildPrefilter(n, tr, patRunes); p != nil {
				return p
			}
			tries++
		}
		if len(cv.fuzzy) == 0 || tries == pfMaxTries {
			return nil // coarser covers are the same, or not worth the time
		}
	}
	return nil
}

// prefilterMaxFreq bounds the estimated frequency of the pieces of fuzzy
// terms per letter of text (pieceFreq): past it, a post of a hundred
// letters would hold one more often than not (1-1/e), and the prefilter
// costs more than it saves. Measured on the benchmark's tweets, where
// the estimate is about right: the 100 terms all fuzzy (estimated 0.012
// to 0.030 a letter, by cost) pass 78% of the posts, and FindAll was
// 10-20% slower with the prefilter than without; the 100 terms with two
// fuzzy ones (0.0012) pass 2%, exact ones (0.0002) 1.4%.
const prefilterMaxFreq = 0.01

// pfMaxTries bounds the subset constructions newPrefilter runs.
const pfMaxTries = 2

// buildPrefilter builds the prefilter of the trie tr, or returns nil
// past its limits.
func buildPrefilter(n *Normalizer, tr *pfTrie, patRunes map[rune]bool) *prefilter {
	p := &prefilter{n: n, patRunes: patRunes}
	classes := p.classify(tr)
	if len(classes) >= runeNone {
		return nil
	}
	ss, ok := tr.subsets(classes)
	if !ok || !p.minimise(ss, len(classes)) {
		return nil
	}
	p.buildRuneTabs()
	return p
}

// nonASCIIRunes returns the symbols outside ASCII of every pattern: a
// text holding one goes to the scan (runeReading), which is what makes
// leaving the patterns outside ASCII out of the trie sound.
func nonASCIIRunes(pats []string) map[rune]bool {
	rs := map[rune]bool{}
	for _, pat := range pats {
		for _, r := range pat {
			if r >= utf8.RuneSelf {
				rs[r] = true
			}
		}
	}
	return rs
}

// pfTrie is the trie of the prefilter's patterns over tokens:
// kids[t*ntok+tok] is the child of node t on tok, 0 for none (no root is
// a child). Node 0 is the root of patterns that start on a word
// boundary, node 1 of those that start anywhere. last is the token that
// leads to a node; bounded says that a pattern ends there if a separator
// or the end of the text follows, sub that one ends there whatever
// follows.
type pfTrie struct {
	ntok         int
	tokOf        [utf8.RuneSelf]uint8 // ASCII symbol -> token; pfOther if none
	kids         []int32
	last         []uint8
	bounded, sub []bool
	hasSub       bool // node 1 has children
}

// newPfTrie builds the trie of ps. Runs of a letter are one letter, as
// are the two letters a glued phrase may put side by side ("xx").
func newPfTrie(ps []pfPattern) *pfTrie {
	tr := &pfTrie{ntok: pfGap + 1}
	for _, pt := range ps {
		for i := 0; i < len(pt.text); i++ {
			if c := pt.text[i]; c != ' ' && c != markDouble && c != markStretch && tr.tokOf[c] == pfOther {
				tr.tokOf[c] = uint8(tr.ntok)
				tr.ntok++
			}
		}
	}
	tr.kids = make([]int32, 2*tr.ntok)
	tr.last = []uint8{pfOther, pfOther}
	tr.bounded, tr.sub = []bool{false, false}, []bool{false, false}
	for _, pt := range ps {
		tr.insert(pt)
	}
	tr.hasSub = slices.ContainsFunc(tr.kids[tr.ntok:2*tr.ntok], func(k int32) bool { return k != 0 })
	return tr
}

// insert adds one pattern to the trie.
func (tr *pfTrie) insert(pt pfPattern) {
	cur := int32(0)
	if pt.start == pfAnywhere {
		cur = 1
	}
	for i := 0; i < len(pt.text); i++ {
		var tok uint8
		switch c := pt.text[i]; c {
		case markDouble, markStretch:
			continue // a run is one letter here
		case ' ':
			tok = pfGap
		default:
			tok = tr.tokOf[c]
		}
		if tr.last[cur] == tok {
			continue // "xx" (a glued phrase) is read as one x
		}
		k := int(cur)*tr.ntok + int(tok)
		if tr.kids[k] == 0 {
			tr.kids[k] = int32(len(tr.last))
			tr.last = append(tr.last, tok)
			tr.bounded, tr.sub = append(tr.bounded, false), append(tr.sub, false)
			tr.kids = append(tr.kids, make([]int32, tr.ntok)...)
		}
		cur = tr.kids[k]
	}
	if pt.end == pfAnywhere {
		tr.sub[cur] = true
	} else {
		tr.bounded[cur] = true
	}
}

// prefilterMaxNodes bounds the trie before the subset construction is
// tried, which on a set too large runs for tens of milliseconds before it
// gives up. Every node of a word-bounded pattern is in a state of its
// own after the text that spells its path, and skipped spaces and soft
// separators add sets of nodes, so the states grow faster than the
// trie: in the benchmark lists, 140 terms (772 nodes) fit, 150 (899)
// exceed prefilterMaxStates, and none of more than 1,200 nodes (190 terms
// and up) fits; 100 terms have 675 nodes, 100 with two fuzzy terms 1,052
// (TestPrefilterEstimate checks that the estimate skips no list that
// would fit).
const prefilterMaxNodes = 1200

// tooLarge reports whether the subset construction is not worth trying.
func (tr *pfTrie) tooLarge() bool { return len(tr.last) > prefilterMaxNodes }

// classify fills p.cls (and cut, clsSkip, clsHard, clsLetter) from the
// normaliser's ASCII table and returns the classes: bytes read alike
// share one. Class 0 is non-ASCII; runes outside ASCII read as white
// space, a hard separator or a letter of no pattern may have no ASCII
// byte of their class.
func (p *prefilter) classify(tr *pfTrie) []pfClass {
	classes := []pfClass{{maybe: true}}
	index := map[pfClass]uint8{classes[0]: 0}
	class := func(c pfClass) uint8 {
		k, ok := index[c]
		if !ok {
			k = uint8(len(classes))
			index[c] = k
			classes = append(classes, c)
		}
		return k
	}
	n := p.n
	p.clsSkip = class(pfClass{sep: sepSoft})
	p.clsHard = class(pfClass{sep: sepHard})
	p.clsLetter = class(pfClass{letters: string(rune(pfOther))})
	for b := 0; b < utf8.RuneSelf; b++ {
		e := n.ascii[b]
		var c pfClass
		switch uint8(e >> 8) {
		case kindWord:
			c.letters = string(tr.tokOf[byte(e)])
			if a := n.alt[b]; a != 0 && tr.tokOf[a] != tr.tokOf[byte(e)] {
				c.letters += string(tr.tokOf[a])
			}
		case kindLeetSym:
			c.letters, c.sep = string(tr.tokOf[byte(e)]), sepHard
		case kindSoft:
			c.sep = sepSoft
		case kindSpace:
			c.sep = sepSoft
			p.cut[b] = true
		case kindHard:
			c.sep = sepHard
			p.cut[b] = true
		default:
			c.maybe = true // not in the ASCII table today
		}
		p.cls[b] = class(c)
	}
	return classes
}

// pfSubsets is the subset construction's automaton: state 0 is "maybe",
// trans[q*stride+c] the state after class c in state q, end[q] whether a
// word-bounded pattern is complete in q.
type pfSubsets struct {
	trans []int32
	end   []bool
	start int32
}

// subsets runs the subset construction over classes: a state is the
// sorted set of trie nodes that the readings of the text so far are at.
// It reports false past prefilterMaxSubset states.
func (tr *pfTrie) subsets(classes []pfClass) (pfSubsets, bool) {
	stride := len(classes)
	sets := [][]int32{nil}
	ss := pfSubsets{end: []bool{false}, trans: make([]int32, stride)}
	ids := map[string]int32{}
	add := func(ns []int32) (int32, bool) {
		slices.Sort(ns)
		ns = slices.Compact(ns)
		if i, ok := ids[string(int32Bytes(ns))]; ok {
			return i, true
		}
		if len(sets) >= prefilterMaxSubset {
			return 0, false
		}
		i := int32(len(sets))
		ids[string(int32Bytes(ns))] = i
		sets = append(sets, slices.Clone(ns))
		e := false
		for _, t := range ns {
			e = e || tr.bounded[t]
		}
		ss.end = append(ss.end, e)
		ss.trans = append(ss.trans, make([]int32, stride)...)
		return i, true
	}
	roots := []int32{0}
	if tr.hasSub {
		roots = append(roots, 1)
	}
	ss.start, _ = add(roots)
	var next []int32
	for q := 1; q < len(sets); q++ {
		for ci, c := range classes {
			if c.maybe {
				continue // trans = 0
			}
			var maybe bool
			if next, maybe = tr.step(sets[q], c, next[:0]); maybe {
				continue // trans = 0
			}
			i, ok := add(next)
			if !ok {
				return ss, false
			}
			ss.trans[q*stride+ci] = i
		}
	}
	return ss, true
}

// step appends to next the nodes that the nodes of set are at after a
// byte of class c, and reports whether a pattern may be complete.
func (tr *pfTrie) step(set []int32, c pfClass, next []int32) ([]int32, bool) {
	if tr.hasSub {
		next = append(next, 1) // a substring may start anywhere
	}
	maybe := false
	for _, t := range set {
		for k := 0; k < len(c.letters); k++ {
			x := c.letters[k]
			if t > 1 && tr.last[t] == x {
				next = append(next, t) // the run goes on
			} else if nx := tr.kids[int(t)*tr.ntok+int(x)]; nx != 0 {
				next = append(next, nx)
				maybe = maybe || tr.sub[nx]
			}
		}
		if c.sep == sepNone {
			continue
		}
		maybe = maybe || tr.bounded[t]
		if c.sep == sepSoft || tr.last[t] == pfGap {
			next = append(next, t) // skipped, or more of a phrase's space
		}
		if nx := tr.kids[int(t)*tr.ntok+pfGap]; nx != 0 {
			next = append(next, nx)
		}
	}
	if c.sep != sepNone {
		next = append(next, 0) // a word may start after it
	}
	return next, maybe
}

// int32Bytes views ns as bytes, for map keys.
func int32Bytes(ns []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ns))), 4*len(ns))
}

// minimise merges the states of ss with the same future (Moore) and
// fills p.trans, p.start, p.endFrom and p.stride. It reports false past
// prefilterMaxStates states.
func (p *prefilter) minimise(ss pfSubsets, stride int) bool {
	block, nblocks := mooreBlocks(ss, stride)
	if nblocks > prefilterMaxStates {
		return false
	}
	// Number the blocks: "maybe" first, the end states last, so that the
	// end test is one comparison.
	nst := len(ss.end)
	order := make([]int32, nblocks) // block -> number
	for i := range order {
		order[i] = -1
	}
	order[block[0]] = 0
	k := int32(1)
	for _, pass := range []bool{false, true} {
		for q := 1; q < nst; q++ {
			if b := block[q]; order[b] < 0 && ss.end[q] == pass {
				order[b] = k
				k++
			}
		}
		if !pass {
			p.endFrom = uint32(k) * uint32(stride)
		}
	}
	p.stride = uint32(stride)
	p.trans = make([]uint32, nblocks*stride)
	for q := 1; q < nst; q++ {
		row := p.trans[int(order[block[q]])*stride:]
		for ci, t := range ss.trans[q*stride : (q+1)*stride] {
			row[ci] = uint32(order[block[t]]) * uint32(stride)
		}
	}
	p.start = uint32(order[block[ss.start]]) * uint32(stride)
	return true
}

// mooreBlocks partitions the states of ss by their future, starting
// from "maybe", end states and the rest, and returns each state's block
// and the number of blocks.
func mooreBlocks(ss pfSubsets, stride int) ([]int32, int) {
	nst := len(ss.end)
	block := make([]int32, nst)
	for q := 1; q < nst; q++ {
		block[q] = 1
		if ss.end[q] {
			block[q] = 2
		}
	}
	nblocks := 0
	sig := make([]int32, stride+1)
	nb := make([]int32, nst)
	for {
		seen := make(map[string]int32, nblocks)
		for q := range nst {
			sig[0] = block[q]
			for ci, t := range ss.trans[q*stride : (q+1)*stride] {
				sig[ci+1] = block[t]
			}
			b, ok := seen[string(int32Bytes(sig))]
			if !ok {
				b = int32(len(seen))
				seen[string(int32Bytes(sig))] = b
			}
			nb[q] = b
		}
		block, nb = nb, block
		if len(seen) == nblocks {
			return block, nblocks
		}
		nblocks = len(seen)
	}
}
