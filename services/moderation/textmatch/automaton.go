package textmatch

import (
	"errors"
	"fmt"
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
	trans      []uint32 // dense rows
	// Sparse rows, indexed by state index - nDense.
	spOff  []uint32
	spCls  []uint8
	spNext []uint32
	fail   []uint32 // per state index: failure target id (sparse states)
	// Outputs, indexed by state index: pattern ids outs[outOff[i]:outOff[i+1]].
	outOff  []uint32
	outs    []int32
	nStates int
	// clsD and clsS are the classes of the run markers (0 when unused):
	// markStretch follows a markDouble edge of the trie or stays put.
	clsD, clsS uint8
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
	d.denseLimit = uint32(nDense) * stride
	d.trans = make([]uint32, nDense*int(stride))
	d.fail = make([]uint32, ns) // ids without flag
	// Sparse rows for states past the budget.
	if nDense < ns {
		d.spOff = make([]uint32, ns-nDense+1)
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
					id := ci * stride
					if flagOf[ci] {
						id |= matchFlag
					}
					return id
				}
			}
			si = d.fail[si] / stride
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
			fi := d.fail[q] / stride
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
				d.fail[ci] = delta(d.fail[q]/stride, nodes[ch].label) &^ matchFlag
			}
		}
		// Dense row.
		if q < nDense {
			row := d.trans[q*int(stride) : (q+1)*int(stride)]
			if q != 0 {
				copy(row, d.trans[d.fail[q]:d.fail[q]+stride]) // fail is dense (shallower)
			}
			for ch := nd.child; ch >= 0; ch = nodes[ch].sib {
				row[nodes[ch].label] = idx[ch] * stride // flag set below
			}
		}
	}
	// Set match flags on every dense transition and build sparse rows.
	for i, t := range d.trans {
		if flagOf[t/stride] {
			d.trans[i] = t | matchFlag
		}
	}
	if d.clsS != 0 {
		for q := 0; q < nDense; q++ {
			t := uint32(q) * stride // stay put, unflagged: nothing new ends here
			for ch := nodes[order[q]].child; ch >= 0; ch = nodes[ch].sib {
				if nodes[ch].label == d.clsD {
					t = idx[ch] * stride
					if flagOf[idx[ch]] {
						t |= matchFlag
					}
				}
			}
			d.trans[uint32(q)*stride+uint32(d.clsS)] = t
		}
	}
	for q := nDense; q < ns; q++ {
		k := q - nDense
		d.spOff[k] = uint32(len(d.spCls))
		for ch := nodes[order[q]].child; ch >= 0; ch = nodes[ch].sib {
			ci := idx[ch]
			id := ci * stride
			if flagOf[ci] {
				id |= matchFlag
			}
			d.spCls = append(d.spCls, nodes[ch].label)
			d.spNext = append(d.spNext, id)
		}
		d.spOff[k+1] = uint32(len(d.spCls))
	}
	if nDense == ns {
		d.fail = nil
	}
	return d, nil
}

// slow is the transition from a sparse state id (unflagged).
func (d *dfa) slow(s uint32, c uint8) uint32 {
	if c == d.clsS && c != 0 {
		k := s/d.stride - d.denseLimit/d.stride
		for j := d.spOff[k]; j < d.spOff[k+1]; j++ {
			if d.spCls[j] == d.clsD {
				return d.spNext[j]
			}
		}
		return s
	}
	for s >= d.denseLimit {
		k := s/d.stride - d.denseLimit/d.stride
		lo, hi := d.spOff[k], d.spOff[k+1]
		for j := lo; j < hi; j++ {
			if d.spCls[j] == c {
				return d.spNext[j]
			}
		}
		s = d.fail[s/d.stride]
	}
	return d.trans[s+uint32(c)]
}

// at loads trans[k] without a bounds check. Safe by construction: every
// stored id is a state index times the stride, plus a class below the
// stride, so id+class < len(trans) for dense states, the only ones passed.
func (d *dfa) at(base unsafe.Pointer, k uint32) uint32 {
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
	i := s / d.stride
	return d.outs[d.outOff[i]:d.outOff[i+1]]
}

// memBytes estimates the automaton's heap size.
func (d *dfa) memBytes() int {
	return 4*len(d.trans) + len(d.spCls) + 4*len(d.spNext) + 4*len(d.spOff) + 4*len(d.fail) + 4*len(d.outOff) + 4*len(d.outs)
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
			s = d.at(base, s+uint32(d.cls[text[i]]))
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
