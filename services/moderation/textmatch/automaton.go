package textmatch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// matchFlag marks, inside a transition word, a target state with outputs,
// so the scan loop tests one bit instead of loading per-state data.
const matchFlag = 1 << 31

// dfa is an Aho-Corasick automaton over bytes, compiled to a dense
// byte-class DFA. State ids are premultiplied by the stride (the number of
// byte classes), so a transition is trans[id+class]. States are numbered in
// breadth-first order; the first nDense have dense rows and the rest (only
// when the dense table would exceed its budget) sparse blocks.
type dfa struct {
	cls        [256]uint8
	startByte  [256]bool // bytes that begin some pattern
	oneStart   bool      // exactly one byte begins every pattern: startOnly
	startOnly  byte
	stride     uint32
	denseLimit uint32   // nDense*stride: ids below it are dense
	nDense     uint32   // states with a dense row: the first nDense in BFS order
	trans      []uint32 // dense rows
	// sp holds the sparse states, one block each; a sparse id is
	// denseLimit plus its block's offset (see spHeader). A block holds all
	// a transition and a candidate need, so that in a table far larger
	// than the cache each costs about one miss: the state's own edges and
	// those it inherits from the sparse states of its failure chain, the
	// first dense state on that chain (for every other class), and the
	// state's outputs. Blocks are laid out in depth-first order, heaviest
	// subtree first, so that a walk down a word mostly reads forward.
	sp   []uint32
	fail []uint32 // per state index: failure target id; only while building
	// Outputs of the dense states, indexed by state index:
	// outs[outOff[i]:outOff[i+1]], as buildDFA's infos give them (for Raw,
	// patInfo.term is the pattern id).
	outOff  []uint32
	outs    []patInfo
	nStates int
	// clsD and clsS are the classes of the run markers (0 when unused):
	// markStretch follows a markDouble edge of the trie or stays put.
	clsD, clsS uint8
}

// A sparse block at offset o of dfa.sp is, in uint32 words:
//
//	sp[o]    failDense: id of the first dense state on the failure chain
//	sp[o+1]  edges | own<<8: edge count, and how many are the state's own
//	         (they come first; the rest are inherited)
//	sp[o+2]  number of outputs
//	         then the edge classes, four bytes a word, (edges+3)/4 words,
//	         the edge targets (ids with matchFlag), one word each,
//	         and the outputs, one patInfo (two words) each.
//
// Blocks of at most 16 words do not straddle a 64-byte line.
const spHeader = 3

// denseDepth is the depth down to which the states of an automaton too
// large to be all dense get dense rows (see buildDFA).
const denseDepth = 3

// errTooLarge is returned when the automaton would not fit 31-bit ids.
var errTooLarge = errors.New("too many patterns: automaton exceeds 2^31 transitions")

// buildDFA compiles patterns (byte strings; empty ones are ignored) into a
// dfa. denseBudget bounds the dense table in bytes. infos, if not nil,
// holds what each pattern's outputs record; else their term is the
// pattern id.
func buildDFA(pats []string, denseBudget int, stretch bool, infos []patInfo) (*dfa, error) {
	d := &dfa{}
	// Byte classes: each byte used by a pattern gets its own class, the
	// rest share class 0, which always leads back to the root.
	var used [256]bool
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
		if len(p) > 0 {
			d.startByte[p[0]] = true
		}
	}
	if stretch {
		used[markStretch] = true
		used[markDouble] = true
	}
	nStart := 0
	for b := 0; b < 256; b++ {
		if d.startByte[b] {
			nStart++
			d.startOnly = byte(b)
		}
	}
	d.oneStart = nStart == 1
	n := uint32(1)
	for b := 0; b < 256; b++ {
		if used[b] {
			d.cls[b] = uint8(n)
			n++
		}
	}
	if n > 256 {
		// 256 used bytes + class 0: merge class 0 into the least used. Rare
		// (binary patterns); keep it simple and give up.
		return nil, fmt.Errorf("patterns use every byte value: %w", errTooLarge)
	}
	d.stride = n
	if stretch {
		d.clsD, d.clsS = d.cls[markDouble], d.cls[markStretch]
	}

	// Trie with first-child/next-sibling lists; the root has a direct table.
	type node struct {
		child, sib int32
		label      uint8
		out        int32 // head of the output list of patterns ending here
	}
	nodes := make([]node, 1, 1024)
	nodes[0] = node{child: -1, sib: -1, out: -1}
	var rootKids [256]int32
	for i := range rootKids {
		rootKids[i] = -1
	}
	outNext := make([]int32, len(pats))
	for pi, p := range pats {
		if len(p) == 0 {
			outNext[pi] = -2
			continue
		}
		cur := int32(0)
		for i := 0; i < len(p); i++ {
			b := d.cls[p[i]]
			var nx int32 = -1
			if cur == 0 {
				nx = rootKids[b]
			} else {
				for c := nodes[cur].child; c >= 0; c = nodes[c].sib {
					if nodes[c].label == b {
						nx = c
						break
					}
				}
			}
			if nx < 0 {
				nx = int32(len(nodes))
				nodes = append(nodes, node{child: -1, sib: nodes[cur].child, label: b, out: -1})
				nodes[cur].child = nx
				if cur == 0 {
					rootKids[b] = nx
				}
			}
			cur = nx
		}
		outNext[pi] = nodes[cur].out
		nodes[cur].out = int32(pi)
	}
	ns := len(nodes)
	if uint64(ns)*uint64(d.stride) >= matchFlag {
		return nil, errTooLarge
	}
	d.nStates = ns

	// Breadth-first numbering.
	order := make([]int32, 0, ns) // bfs index -> node
	idx := make([]uint32, ns)     // node -> bfs index
	order = append(order, 0)
	// shallow counts the states of depth denseDepth or less, the first
	// ones in BFS order; levelEnd is where the level of order[q] ends.
	shallow, depth, levelEnd := 0, 0, 1
	for q := 0; q < len(order); q++ {
		if q == levelEnd {
			depth, levelEnd = depth+1, len(order)
		}
		if depth <= denseDepth {
			shallow++
		}
		for c := nodes[order[q]].child; c >= 0; c = nodes[c].sib {
			idx[c] = uint32(len(order))
			order = append(order, c)
		}
	}
	stride := d.stride
	budget := denseBudget
	if budget <= 0 {
		budget = 64 << 20
	}
	nDense := ns
	if rowBytes := int(stride) * 4; nDense*rowBytes > budget {
		// Too large to be all dense: dense rows for the shallow states
		// only, within the budget. A deep state is entered on few classes,
		// and its compact sparse block keeps its edges in one cache line
		// where a dense row spreads them over several (at 100,000 terms
		// this is faster than filling the budget, and smaller).
		nDense = min(budget/rowBytes, shallow)
		if nDense < 1 {
			nDense = 1
		}
	}
	d.denseLimit, d.nDense = uint32(nDense)*stride, uint32(nDense)
	d.trans = make([]uint32, nDense*int(stride))
	d.fail = make([]uint32, ns) // ids without flag
	flagOf := make([]bool, ns)  // bfs index -> has outputs (own or inherited)

	// delta follows goto/fail from state index si on class c, returning a
	// flagged id. Dense rows are complete; sparse ones fall back to fail.
	var delta func(si uint32, c uint8) uint32
	delta = func(si uint32, c uint8) uint32 {
		for {
			if si < uint32(nDense) {
				return d.trans[si*stride+uint32(c)]
			}
			nd := nodes[order[si]]
			for ch := nd.child; ch >= 0; ch = nodes[ch].sib {
				if nodes[ch].label == c {
					ci := idx[ch]
					id := d.id(ci)
					if flagOf[ci] {
						id |= matchFlag
					}
					return id
				}
			}
			si = d.index(d.fail[si])
		}
	}
	// Outputs in BFS order: own patterns then the failure state's.
	outOff := make([]uint32, ns+1)
	var outs []int32
	for q := 0; q < ns; q++ {
		nd := nodes[order[q]]
		// Failure link of q's children is computed when q is processed;
		// q's own fail is known here.
		outOff[q] = uint32(len(outs))
		for o := nd.out; o >= 0; o = outNext[o] {
			outs = append(outs, o)
		}
		if q != 0 {
			fi := d.index(d.fail[q])
			outs = append(outs, outs[outOff[fi]:outOff[fi+1]]...)
		}
		flagOf[q] = uint32(len(outs)) > outOff[q]
		outOff[q+1] = uint32(len(outs))
		// Children: failure links.
		for ch := nd.child; ch >= 0; ch = nodes[ch].sib {
			ci := idx[ch]
			if q == 0 {
				d.fail[ci] = 0
			} else {
				d.fail[ci] = delta(d.index(d.fail[q]), nodes[ch].label) &^ matchFlag
			}
		}
		// Dense row.
		if q < nDense {
			row := d.trans[q*int(stride) : (q+1)*int(stride)]
			if q != 0 {
				copy(row, d.trans[d.fail[q]:d.fail[q]+stride]) // fail is dense (shallower)
			}
			for ch := nd.child; ch >= 0; ch = nodes[ch].sib {
				row[nodes[ch].label] = d.id(idx[ch]) // flag set below
			}
		}
	}
	// Set match flags on every dense transition.
	for i, t := range d.trans {
		if flagOf[d.index(t)] {
			d.trans[i] = t | matchFlag
		}
	}
	if d.clsS != 0 {
		for q := 0; q < nDense; q++ {
			t := uint32(q) * stride // stay put, unflagged: nothing new ends here
			for ch := nodes[order[q]].child; ch >= 0; ch = nodes[ch].sib {
				if nodes[ch].label == d.clsD {
					t = d.id(idx[ch])
					if flagOf[idx[ch]] {
						t |= matchFlag
					}
				}
			}
			d.trans[uint32(q)*stride+uint32(d.clsS)] = t
		}
	}
	d.outOff = outOff[:nDense+1]
	d.outs = make([]patInfo, outOff[nDense])
	info := func(p int32) patInfo {
		if infos != nil {
			return infos[p]
		}
		return patInfo{term: p}
	}
	for k, p := range outs[:outOff[nDense]] {
		d.outs[k] = info(p)
	}
	if nDense < ns {
		kids := make([][]int32, ns) // BFS index -> children's BFS indices
		label := make([]uint8, ns)  // BFS index -> class of the edge into it
		for q := 0; q < ns; q++ {
			for ch := nodes[order[q]].child; ch >= 0; ch = nodes[ch].sib {
				kids[q] = append(kids[q], int32(idx[ch]))
				label[idx[ch]] = nodes[ch].label
			}
		}
		if err := d.layoutSparse(kids, label, outs, outOff, flagOf, info); err != nil {
			return nil, err
		}
	}
	d.fail = nil
	return d, nil
}

// layoutSparse builds the blocks of the sparse states (see spHeader) and
// points every transition to them. Until then a sparse state's id is
// denseLimit plus its index past nDense; kids are the trie children and
// label the class of the edge into each state, outs, outOff the outputs
// of every state and flagOf whether it has any, all by BFS index; info
// gives what an output records.
func (d *dfa) layoutSparse(kids [][]int32, label []uint8, outs []int32, outOff []uint32, flagOf []bool, info func(int32) patInfo) error {
	ns, nDense, stride := uint32(d.nStates), d.nDense, d.stride
	flagged := func(ci uint32) uint32 {
		id := d.id(ci)
		if flagOf[ci] {
			id |= matchFlag
		}
		return id
	}
	// Edges of each sparse state: own children, then those of the sparse
	// failure chain that a longer suffix does not already provide.
	type edge struct {
		next uint32
		cls  uint8
	}
	type row struct {
		edges     []edge
		own       int
		failDense uint32
	}
	rows := make([]row, ns-nDense)
	for q := nDense; q < ns; q++ {
		r := &rows[q-nDense]
		f := q
		for f >= nDense {
			for _, ci := range kids[f] {
				l := label[ci]
				if f != q && slices.ContainsFunc(r.edges, func(e edge) bool { return e.cls == l }) {
					continue
				}
				r.edges = append(r.edges, edge{next: flagged(uint32(ci)), cls: l})
			}
			if f == q {
				r.own = len(r.edges)
			}
			f = d.index(d.fail[f])
		}
		r.failDense = f * stride
	}
	// Depth-first order, heaviest subtree first.
	size := make([]int32, ns)
	for q := int(ns) - 1; q >= 0; q-- {
		size[q]++
		for _, c := range kids[q] {
			size[q] += size[c]
		}
	}
	newID := make([]uint32, ns-nDense) // sparse index -> id
	var off uint32
	stack := []int32{0}
	for len(stack) > 0 {
		q := uint32(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if q >= nDense {
			r := &rows[q-nDense]
			n := uint32(len(r.edges))
			words := spHeader + (n+3)/4 + n + 2*(outOff[q+1]-outOff[q])
			if words <= 16 && off/16 != (off+words-1)/16 {
				off = (off + 15) &^ 15
			}
			newID[q-nDense] = d.denseLimit + off
			off += words
		}
		ks := kids[q]
		slices.SortFunc(ks, func(a, b int32) int { return int(size[a] - size[b]) })
		stack = append(stack, ks...) // the heaviest child is popped first
	}
	if uint64(d.denseLimit)+uint64(off) >= matchFlag {
		return errTooLarge
	}
	remap := func(t uint32) uint32 {
		if t&^matchFlag < d.denseLimit {
			return t
		}
		return newID[t&^matchFlag-d.denseLimit] | t&matchFlag
	}
	d.sp = make([]uint32, off)
	for k, r := range rows {
		o := newID[k] - d.denseLimit
		q := nDense + uint32(k)
		n := uint32(len(r.edges))
		nOut := outOff[q+1] - outOff[q]
		d.sp[o], d.sp[o+1], d.sp[o+2] = r.failDense, n|uint32(r.own)<<8, nOut
		tg := o + spHeader + (n+3)/4
		if n > 0 {
			clsBytes := unsafe.Slice((*byte)(unsafe.Pointer(&d.sp[o+spHeader])), 4*((n+3)/4))
			for j, e := range r.edges {
				clsBytes[j] = e.cls
				d.sp[tg+uint32(j)] = remap(e.next)
			}
		}
		ob := tg + n
		if nOut > 0 {
			pi := unsafe.Slice((*patInfo)(unsafe.Pointer(&d.sp[ob])), nOut)
			for j, p := range outs[outOff[q]:outOff[q+1]] {
				pi[j] = info(p)
			}
		}
	}
	for i, t := range d.trans {
		d.trans[i] = remap(t)
	}
	return nil
}

// id is the state id of state index q while building: premultiplied by
// the stride for a dense state (its row is trans[id:id+stride]),
// denseLimit plus its sparse index for the others until layoutSparse
// replaces those with block offsets, so that no transition divides.
func (d *dfa) id(q uint32) uint32 {
	if q < d.nDense {
		return q * d.stride
	}
	return d.denseLimit + (q - d.nDense)
}

// index is the state index of an (unflagged) id, while building.
func (d *dfa) index(id uint32) uint32 {
	if id < d.denseLimit {
		return id / d.stride
	}
	return d.nDense + (id - d.denseLimit)
}

// slow is the transition from a sparse state id (unflagged): a search of
// its block's classes, else the dense row of its failDense. Every block
// has a word past its header: a state without edges is a leaf, and a leaf
// has an output.
func (d *dfa) slow(s uint32, c uint8) uint32 {
	o := s - d.denseLimit
	sp := d.sp[o:]
	n := sp[1] & 0xFF
	tg := spHeader + (n+3)/4
	classes := unsafe.Slice((*byte)(unsafe.Pointer(&sp[spHeader])), 4*((n+3)/4))
	if c == d.clsS && c != 0 {
		// The stretch marker follows the state's own markDouble edge.
		own := sp[1] >> 8 & 0xFF
		for k := uint32(0); k < own; k++ {
			if classes[k] == d.clsD {
				return sp[tg+k]
			}
		}
		return s
	}
	for k := uint32(0); k < n; k++ {
		if classes[k] == c {
			return sp[tg+k]
		}
	}
	return d.trans[sp[0]+uint32(c)]
}

// transAt loads trans[k] from trans's base without a bounds check. Safe by
// construction: every stored id is a state index times the stride, plus a
// class below the stride, so id+class < len(trans) for dense states, the
// only ones passed. A function, not a method, so that a loop need not keep
// the dfa pointer live.
func transAt(base unsafe.Pointer, k uint32) uint32 {
	return *(*uint32)(unsafe.Add(base, uintptr(k)*4))
}

// next is one transition; the result may carry matchFlag.
func (d *dfa) next(s uint32, c uint8) uint32 {
	if s < d.denseLimit {
		return d.trans[s+uint32(c)]
	}
	return d.slow(s, c)
}

// outputs returns the patterns recognised in (unflagged) state s: from
// outs for a dense state, from its own block for a sparse one.
func (d *dfa) outputs(s uint32) []patInfo {
	if s < d.denseLimit {
		i := s / d.stride
		return d.outs[d.outOff[i]:d.outOff[i+1]]
	}
	sp := d.sp[s-d.denseLimit:]
	k := sp[2]
	if k == 0 {
		return nil
	}
	n := sp[1] & 0xFF
	o := spHeader + (n+3)/4 + n
	_ = sp[o+2*k-1]
	return unsafe.Slice((*patInfo)(unsafe.Pointer(&sp[o])), k)
}

// memBytes estimates the automaton's heap size.
func (d *dfa) memBytes() int {
	return 4*len(d.trans) + 4*len(d.sp) + 4*len(d.outOff) + 8*len(d.outs)
}

// Raw finds literal byte strings with no normalisation at all: the
// automaton alone, for callers that normalise themselves and as the
// baseline of the benchmarks. Safe for concurrent use.
type Raw struct {
	d *dfa
}

// RawHit is one occurrence of pattern Pattern ending at byte End.
type RawHit struct {
	Pattern int32
	End     int32
}

// NewRaw compiles patterns into a Raw matcher. denseBudget bounds the dense
// table in bytes (zero: 64 MiB).
func NewRaw(patterns []string, denseBudget int) (*Raw, error) {
	d, err := buildDFA(patterns, denseBudget, false, nil)
	if err != nil {
		return nil, fmt.Errorf("compiling raw automaton: %w", err)
	}
	return &Raw{d: d}, nil
}

// MemBytes is the approximate heap size of the compiled automaton.
func (r *Raw) MemBytes() int { return r.d.memBytes() }

// States is the number of automaton states.
func (r *Raw) States() int { return r.d.nStates }

// Count returns how many pattern occurrences (overlapping ones included)
// text contains.
func (r *Raw) Count(text string) int {
	d := r.d
	n := 0
	s := uint32(0)
	trans := d.trans
	limit := d.denseLimit
	if !d.oneStart && limit == uint32(d.nStates)*d.stride {
		// Every state dense: the tight loop, one class load and one
		// transition load per byte.
		base := unsafe.Pointer(&trans[0])
		outOff, stride := d.outOff, d.stride
		for i := 0; i < len(text); i++ {
			s = transAt(base, s+uint32(d.cls[text[i]]))
			if s&matchFlag != 0 {
				s &^= matchFlag
				k := s / stride
				n += int(outOff[k+1] - outOff[k])
			}
		}
		return n
	}
	for i := 0; i < len(text); i++ {
		if s == 0 && d.oneStart {
			// Skip loop: with one possible first byte, memchr (SIMD) to it.
			// With many, a per-byte skip test mispredicts more than it saves.
			j := strings.IndexByte(text[i:], d.startOnly)
			if j < 0 {
				return n
			}
			i += j
		}
		c := d.cls[text[i]]
		if s < limit {
			s = trans[s+uint32(c)]
		} else {
			s = d.slow(s, c)
		}
		if s&matchFlag != 0 {
			s &^= matchFlag
			n += len(d.outputs(s))
		}
	}
	return n
}

// FindAll appends every occurrence to dst.
func (r *Raw) FindAll(text string, dst []RawHit) []RawHit {
	d := r.d
	s := uint32(0)
	for i := 0; i < len(text); i++ {
		s = d.next(s, d.cls[text[i]])
		if s&matchFlag != 0 {
			s &^= matchFlag
			for _, p := range d.outputs(s) {
				dst = append(dst, RawHit{Pattern: p.term, End: int32(i + 1)})
			}
		}
	}
	return dst
}
