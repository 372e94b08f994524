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
// that it never rejects a text FindAll finds a hit in. A rune outside
// ASCII reads as the normaliser's per-rune steps make it (an emoji as a
// hard separator, "é" as "e", a Cyrillic "і" as "i"), except where that
// depends on what follows or the prefilter cannot tell (kana, kept
// combining marks, any symbol of a non-ASCII pattern): then the text goes
// to the scan.
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

// Limits of the prefilter: over them Compile builds none. Large term sets
// match most posts anyway, and the scan's fast loop wins there.
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
// would be too large.
func newPrefilter(n *Normalizer, pats []string, infos []patInfo) *prefilter {
	if len(pats) > prefilterMaxPats {
		return nil
	}
	// Patterns with a non-ASCII symbol cannot match ASCII text, and other
	// text goes to the scan anyway: they are left out.
	var tokOf [utf8.RuneSelf]uint8 // ASCII symbol -> token; pfOther if none
	ntok := pfGap + 1
	usable := make([]bool, len(pats))
	patRunes := map[rune]bool{}
	for pi, pat := range pats {
		for _, r := range pat {
			if r >= utf8.RuneSelf {
				patRunes[r] = true
			}
		}
		ok := pat != ""
		for i := 0; i < len(pat) && ok; i++ {
			ok = pat[i] < utf8.RuneSelf
		}
		usable[pi] = ok
		for i := 0; i < len(pat) && ok; i++ {
			if c := pat[i]; c != ' ' && c != markDouble && c != markStretch && tokOf[c] == pfOther {
				tokOf[c] = uint8(ntok)
				ntok++
			}
		}
	}
	// The trie of the patterns' tokens: kids[t*ntok+tok] is the child of
	// node t on tok, 0 for none (no root is a child). Node 0 is the root
	// of word-bounded patterns, node 1 of substring ones. last is the
	// token that leads to a node, bounded and sub whether a word-bounded
	// or a substring pattern ends there.
	kids := make([]int32, 2*ntok)
	last := []uint8{pfOther, pfOther}
	bounded, sub := []bool{false, false}, []bool{false, false}
	for pi, pat := range pats {
		if !usable[pi] {
			continue
		}
		cur := int32(0)
		if infos[pi].substring {
			cur = 1
		}
		for i := 0; i < len(pat); i++ {
			var tok uint8
			switch c := pat[i]; c {
			case markDouble, markStretch:
				continue // a run is one letter here
			case ' ':
				tok = pfGap
			default:
				tok = tokOf[c]
			}
			if last[cur] == tok {
				continue // "xx" (a glued phrase) is read as one x
			}
			k := int(cur)*ntok + int(tok)
			if kids[k] == 0 {
				kids[k] = int32(len(last))
				last = append(last, tok)
				bounded, sub = append(bounded, false), append(sub, false)
				kids = append(kids, make([]int32, ntok)...)
			}
			cur = kids[k]
		}
		if infos[pi].substring {
			sub[cur] = true
		} else {
			bounded[cur] = true
		}
	}
	hasSub := slices.ContainsFunc(kids[ntok:2*ntok], func(k int32) bool { return k != 0 })

	// Byte classes: bytes read alike share one. Class 0 is non-ASCII;
	// runes outside ASCII read as white space, a hard separator or a
	// letter of no pattern may have no ASCII byte of their class.
	p := &prefilter{n: n, patRunes: patRunes}
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
	p.clsSkip = class(pfClass{sep: sepSoft})
	p.clsHard = class(pfClass{sep: sepHard})
	p.clsLetter = class(pfClass{letters: string(rune(pfOther))})
	for b := 0; b < utf8.RuneSelf; b++ {
		e := n.ascii[b]
		var c pfClass
		switch uint8(e >> 8) {
		case kindWord:
			c.letters = string(tokOf[byte(e)])
			if a := n.alt[b]; a != 0 && tokOf[a] != tokOf[byte(e)] {
				c.letters += string(tokOf[a])
			}
		case kindLeetSym:
			c.letters, c.sep = string(tokOf[byte(e)]), sepHard
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
	stride := len(classes)
	if stride >= runeNone {
		return nil
	}

	// Subset construction. A state is the sorted set of trie nodes that
	// the readings of the text so far are at; state 0 is "maybe".
	// trans[q*stride+c] is the state after class c in state q.
	bytesOf := func(ns []int32) []byte {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ns))), 4*len(ns))
	}
	sets := [][]int32{nil}
	end := []bool{false} // a word-bounded pattern is complete
	ids := map[string]int32{}
	trans := make([]int32, stride)
	add := func(ns []int32) (int32, bool) {
		slices.Sort(ns)
		ns = slices.Compact(ns)
		if i, ok := ids[string(bytesOf(ns))]; ok {
			return i, true
		}
		if len(sets) >= prefilterMaxSubset {
			return 0, false
		}
		i := int32(len(sets))
		ids[string(bytesOf(ns))] = i
		sets = append(sets, slices.Clone(ns))
		e := false
		for _, t := range ns {
			e = e || bounded[t]
		}
		end = append(end, e)
		trans = append(trans, make([]int32, stride)...)
		return i, true
	}
	roots := []int32{0}
	if hasSub {
		roots = append(roots, 1)
	}
	start, _ := add(roots)
	var next []int32
	for q := 1; q < len(sets); q++ {
		for ci, c := range classes {
			if c.maybe {
				continue // trans = 0
			}
			next = next[:0]
			if hasSub {
				next = append(next, 1) // a substring may start anywhere
			}
			maybe := false
			for _, t := range sets[q] {
				for k := 0; k < len(c.letters); k++ {
					x := c.letters[k]
					if t > 1 && last[t] == x {
						next = append(next, t) // the run goes on
					} else if nx := kids[int(t)*ntok+int(x)]; nx != 0 {
						next = append(next, nx)
						maybe = maybe || sub[nx]
					}
				}
				if c.sep == sepNone {
					continue
				}
				maybe = maybe || bounded[t]
				if c.sep == sepSoft || last[t] == pfGap {
					next = append(next, t) // skipped, or more of a phrase's space
				}
				if nx := kids[int(t)*ntok+pfGap]; nx != 0 {
					next = append(next, nx)
				}
			}
			if maybe {
				continue // trans = 0
			}
			if c.sep != sepNone {
				next = append(next, 0) // a word may start after it
			}
			i, ok := add(next)
			if !ok {
				return nil
			}
			trans[q*stride+ci] = i
		}
	}

	// Minimise (Moore): states with the same future become one. The
	// first partition: "maybe", end states, the rest.
	nst := len(sets)
	block := make([]int32, nst)
	for q := 1; q < nst; q++ {
		block[q] = 1
		if end[q] {
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
			for ci, t := range trans[q*stride : (q+1)*stride] {
				sig[ci+1] = block[t]
			}
			b, ok := seen[string(bytesOf(sig))]
			if !ok {
				b = int32(len(seen))
				seen[string(bytesOf(sig))] = b
			}
			nb[q] = b
		}
		block, nb = nb, block
		if len(seen) == nblocks {
			break
		}
		nblocks = len(seen)
	}
	if nblocks > prefilterMaxStates {
		return nil
	}
	// Number the blocks: "maybe" first, the end states last, so that the
	// end test is one comparison.
	order := make([]int32, nblocks) // block -> number
	for i := range order {
		order[i] = -1
	}
	order[block[0]] = 0
	k := int32(1)
	for _, pass := range []bool{false, true} {
		for q := 1; q < nst; q++ {
			if b := block[q]; order[b] < 0 && end[q] == pass {
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
		for ci, t := range trans[q*stride : (q+1)*stride] {
			row[ci] = uint32(order[block[t]]) * uint32(stride)
		}
	}
	p.start = uint32(order[block[start]]) * uint32(stride)
	p.buildRuneTabs()
	return p
}
