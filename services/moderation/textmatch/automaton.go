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
// when the dense table would exceed its budget) sparse rows plus a failure
// link.
type dfa struct {
	cls        [256]uint8
	startByte  [256]bool // bytes that begin some pattern
	oneStart   bool      // exactly one byte begins every pattern: startOnly
	startOnly  byte
	stride     uint32
	denseLimit uint32   // nDense*stride: ids below it are dense
	nDense     uint32   // states with a dense row: the first nDense in BFS order
	trans      []uint32 // dense rows
	// Sparse rows, indexed by state index - nDense: the state's own
	// transitions spEdges[off:own], then those it inherits from the sparse
	// states of its failure chain up to the next row's off; any other
	// class goes to the dense row failDense (an id), the first dense state
	// on that chain. One short search and one dense load instead of a
	// search per state of the chain, each laid out to cost one cache miss.
	spRows  []spRow
	spEdges []spEdge
	fail    []uint32 // per state index: failure target id; only while building
	// Outputs, indexed by state index: pattern ids outs[outOff[i]:outOff[i+1]].
	outOff  []uint32
	outs    []int32
	nStates int
	// clsD and clsS are the classes of the run markers (0 when unused):
	// markStretch follows a markDouble edge of the trie or stays put.
	clsD, clsS uint8
}

// spRow is a sparse state's row: its edges spEdges[off:next row's off],
// own ones before own.
type spRow struct {
	off, own, failDense uint32
}

// spEdge is one transition of a sparse row.
type spEdge struct {
	next uint32 // target id, with matchFlag
	cls  uint8
}

// errTooLarge is returned when the automaton would not fit 31-bit ids.
var errTooLarge = errors.New("too many patterns: automaton exceeds 2^31 transitions")

// buildDFA compiles patterns (byte strings; empty ones are ignored) into a
// dfa. denseBudget bounds the dense table in bytes.
func buildDFA(pats []string, denseBudget int, stretch bool) (*dfa, error) {
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
	for q := 0; q < len(order); q++ {
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
		nDense = budget / rowBytes
		if nDense < 1 {
			nDense = 1
		}
	}
	d.denseLimit, d.nDense = uint32(nDense)*stride, uint32(nDense)
	d.trans = make([]uint32, nDense*int(stride))
	d.fail = make([]uint32, ns) // ids without flag
	// Sparse rows for states past the budget.
	if nDense < ns {
		d.spRows = make([]spRow, ns-nDense+1)
	}
	flagOf := make([]bool, ns) // bfs index -> has outputs (own or inherited)

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
	d.outOff = make([]uint32, ns+1)
	for q := 0; q < ns; q++ {
		nd := nodes[order[q]]
		// Failure link of q's children is computed when q is processed;
		// q's own fail is known here.
		d.outOff[q] = uint32(len(d.outs))
		for o := nd.out; o >= 0; o = outNext[o] {
			d.outs = append(d.outs, o)
		}
		if q != 0 {
			fi := d.index(d.fail[q])
			d.outs = append(d.outs, d.outs[d.outOff[fi]:d.outOff[fi+1]]...)
		}
		flagOf[q] = uint32(len(d.outs)) > d.outOff[q]
		d.outOff[q+1] = uint32(len(d.outs))
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
	// Set match flags on every dense transition and build sparse rows.
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
	for q := nDense; q < ns; q++ {
		row := &d.spRows[q-nDense]
		row.off = uint32(len(d.spEdges))
		// Own children, then those of the sparse failure chain that a
		// longer suffix does not already provide.
		f := uint32(q)
		for f >= uint32(nDense) {
			for ch := nodes[order[f]].child; ch >= 0; ch = nodes[ch].sib {
				label := nodes[ch].label
				if f != uint32(q) && slices.ContainsFunc(d.spEdges[row.off:], func(e spEdge) bool { return e.cls == label }) {
					continue
				}
				ci := idx[ch]
				id := d.id(ci)
				if flagOf[ci] {
					id |= matchFlag
				}
				d.spEdges = append(d.spEdges, spEdge{next: id, cls: label})
			}
			if f == uint32(q) {
				row.own = uint32(len(d.spEdges))
			}
			f = d.index(d.fail[f])
		}
		row.failDense = f * stride
	}
	if nDense < ns {
		d.spRows[ns-nDense].off = uint32(len(d.spEdges))
	}
	d.fail = nil
	return d, nil
}

// id is the state id of state index q: premultiplied by the stride for a
// dense state (its row is trans[id:id+stride]), denseLimit plus its sparse
// index for the others (its row is spRows[id-denseLimit]), so that no
// transition divides.
func (d *dfa) id(q uint32) uint32 {
	if q < d.nDense {
		return q * d.stride
	}
	return d.denseLimit + (q - d.nDense)
}

// index is the state index of an (unflagged) id.
func (d *dfa) index(id uint32) uint32 {
	if id < d.denseLimit {
		return id / d.stride
	}
	return d.nDense + (id - d.denseLimit)
}

// slow is the transition from a sparse state id (unflagged).
func (d *dfa) slow(s uint32, c uint8) uint32 {
	k := s - d.denseLimit
	row := &d.spRows[k]
	edges := d.spEdges[row.off:d.spRows[k+1].off]
	if c == d.clsS && c != 0 {
		// The stretch marker follows the state's own markDouble edge.
		for _, e := range edges[:row.own-row.off] {
			if e.cls == d.clsD {
				return e.next
			}
		}
		return s
	}
	for _, e := range edges {
		if e.cls == c {
			return e.next
		}
	}
	return d.trans[row.failDense+uint32(c)]
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

// outputs returns the pattern ids recognised in (unflagged) state s.
func (d *dfa) outputs(s uint32) []int32 {
	i := d.index(s)
	return d.outs[d.outOff[i]:d.outOff[i+1]]
}

// memBytes estimates the automaton's heap size.
func (d *dfa) memBytes() int {
	return 4*len(d.trans) + 12*len(d.spRows) + 8*len(d.spEdges) + 4*len(d.outOff) + 4*len(d.outs)
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
	d, err := buildDFA(patterns, denseBudget, false)
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
		for i := 0; i < len(text); i++ {
			s = transAt(base, s+uint32(d.cls[text[i]]))
			if s&matchFlag != 0 {
				s &^= matchFlag
				n += len(d.outputs(s))
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
				dst = append(dst, RawHit{Pattern: p, End: int32(i + 1)})
			}
		}
	}
	return dst
}
