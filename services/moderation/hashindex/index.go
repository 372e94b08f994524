package hashindex

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"
)

// Result is one stored hash within the query radius.
type Result struct {
	ID       uint32 // the id given to Build or Add
	Distance int
	// Query is the index of the query (in SearchMany) that found the hash
	// at this distance; 0 for Search.
	Query int
}

// Options tune an index. The zero value picks sensible defaults.
type Options struct {
	// Chunks is m, the number of chunks each hash is cut into. More chunks
	// mean fewer probes per table but more tables (memory: 4 bytes per hash
	// per table). Default: about bits/20 for 64-bit hashes of large sets,
	// 16 for 256-bit hashes.
	Chunks int
	// TailMax is the number of hashes Add keeps in the linear tail before
	// rebuilding the tables. Default: max(4096, n/8).
	TailMax int
}

// Index is an immutable Hamming-radius index over hashes of one width.
type Index struct {
	words  int      // uint64 words per hash: 1 or 4
	data   []uint64 // built hashes, words per entry, in table-0 order
	ids    []uint32 // id of each built entry
	chunks []chunk
	tables []table  // tables[0] has no ids: data is stored in its order
	tail   []uint64 // hashes added since the build, linear scan
	tailID []uint32
	opt    Options
	pool   *sync.Pool // *scratch buffers for queries
}

type chunk struct {
	word, shift, nbits int // bits [shift, shift+nbits) of word; never crosses a word
}

type table struct {
	off []uint32 // 2^nbits + 1 offsets into pos
	pos []uint32 // positions into data (nil for table 0: identity)
}

// New64 builds an index over 64-bit hashes; ids[i] labels hashes[i] (nil
// means ids 0..n-1).
func New64(hashes []uint64, ids []uint32, opt Options) (*Index, error) {
	return build(1, hashes, ids, opt)
}

// New256 builds an index over 256-bit hashes; ids[i] labels hashes[i] (nil
// means ids 0..n-1).
func New256(hashes [][4]uint64, ids []uint32, opt Options) (*Index, error) {
	flat := make([]uint64, 0, 4*len(hashes))
	for _, h := range hashes {
		flat = append(flat, h[:]...)
	}
	return build(4, flat, ids, opt)
}

func build(words int, flat []uint64, ids []uint32, opt Options) (*Index, error) {
	n := len(flat) / words
	if ids == nil {
		ids = make([]uint32, n)
		for i := range ids {
			ids[i] = uint32(i)
		}
	} else if len(ids) != n {
		return nil, fmt.Errorf("building index: %d ids for %d hashes", len(ids), n)
	}
	nbits := 64 * words
	m := opt.Chunks
	if m <= 0 {
		m = defaultChunks(nbits, n)
	}
	// Chunks never straddle words, and a chunk of over 24 bits would need
	// a 64 MB offsets table.
	if m%words != 0 || m > 64 || (64+m/words-1)/(m/words) > 24 {
		return nil, fmt.Errorf("building index: %d chunks for %d-bit hashes: want a multiple of %d with chunks of at most 24 bits", m, nbits, words)
	}
	x := &Index{words: words, opt: opt, chunks: makeChunks(words, m), pool: &sync.Pool{}}
	x.buildTables(flat, ids)
	return x, nil
}

// defaultChunks aims for chunks of about log2(n) bits (one entry per
// bucket on average, the optimum in Norouzi et al.), capped at 20 bits so a
// table's offsets stay under 4 MB, and at least 12 bits.
func defaultChunks(nbits, n int) int {
	if nbits == 256 {
		return 16
	}
	lg := max(bits.Len(uint(n)), 12)
	lg = min(lg, 20)
	return max(1, (nbits+lg-1)/lg)
}

// makeChunks splits each word into equal parts: m chunks over words words,
// m a multiple of words (or one word with any m).
func makeChunks(words, m int) []chunk {
	per := m / words
	var out []chunk
	for w := 0; w < words; w++ {
		shift := 0
		for c := 0; c < per; c++ {
			nb := 64 / per
			if c < 64%per {
				nb++
			}
			out = append(out, chunk{word: w, shift: shift, nbits: nb})
			shift += nb
		}
	}
	return out
}

func (c chunk) key(h []uint64) uint32 {
	return uint32(h[c.word] >> c.shift & (1<<c.nbits - 1))
}

func (x *Index) buildTables(flat []uint64, ids []uint32) {
	w := x.words
	n := len(flat) / w
	// Table 0 orders the data itself: counting sort by chunk 0.
	c0 := x.chunks[0]
	off0 := make([]uint32, 1<<c0.nbits+1)
	for i := 0; i < n; i++ {
		off0[c0.key(flat[i*w:])+1]++
	}
	for k := 1; k < len(off0); k++ {
		off0[k] += off0[k-1]
	}
	next := slices.Clone(off0[:len(off0)-1])
	x.data = make([]uint64, len(flat))
	x.ids = make([]uint32, n)
	for i := 0; i < n; i++ {
		k := c0.key(flat[i*w:])
		p := next[k]
		next[k]++
		copy(x.data[int(p)*w:int(p+1)*w], flat[i*w:(i+1)*w])
		x.ids[p] = ids[i]
	}
	x.tables = make([]table, len(x.chunks))
	x.tables[0] = table{off: off0}
	for t := 1; t < len(x.chunks); t++ {
		c := x.chunks[t]
		off := make([]uint32, 1<<c.nbits+1)
		for i := 0; i < n; i++ {
			off[c.key(x.data[i*w:])+1]++
		}
		for k := 1; k < len(off); k++ {
			off[k] += off[k-1]
		}
		next := slices.Clone(off[:len(off)-1])
		pos := make([]uint32, n)
		for i := 0; i < n; i++ {
			k := c.key(x.data[i*w:])
			pos[next[k]] = uint32(i)
			next[k]++
		}
		x.tables[t] = table{off: off, pos: pos}
	}
	x.tail, x.tailID = nil, nil
}

// Len returns the number of hashes in the index.
func (x *Index) Len() int { return len(x.ids) + len(x.tailID) }

// Bits returns the hash width.
func (x *Index) Bits() int { return 64 * x.words }

// Bytes estimates the memory held by the index: hashes, ids, tables.
func (x *Index) Bytes() int {
	b := 8*(len(x.data)+len(x.tail)) + 4*(len(x.ids)+len(x.tailID))
	for _, t := range x.tables {
		b += 4 * (len(t.off) + len(t.pos))
	}
	return b
}

// Add64 returns a new index with more 64-bit hashes; x is unchanged and
// may still be queried concurrently.
func (x *Index) Add64(hashes []uint64, ids []uint32) (*Index, error) {
	if x.words != 1 {
		return nil, fmt.Errorf("adding 64-bit hashes to a %d-bit index", x.Bits())
	}
	return x.add(hashes, ids)
}

// Add256 returns a new index with more 256-bit hashes; x is unchanged.
func (x *Index) Add256(hashes [][4]uint64, ids []uint32) (*Index, error) {
	if x.words != 4 {
		return nil, fmt.Errorf("adding 256-bit hashes to a %d-bit index", x.Bits())
	}
	flat := make([]uint64, 0, 4*len(hashes))
	for _, h := range hashes {
		flat = append(flat, h[:]...)
	}
	return x.add(flat, ids)
}

func (x *Index) add(flat []uint64, ids []uint32) (*Index, error) {
	if len(ids) != len(flat)/x.words {
		return nil, fmt.Errorf("adding to index: %d ids for %d hashes", len(ids), len(flat)/x.words)
	}
	tailMax := x.opt.TailMax
	if tailMax <= 0 {
		tailMax = max(4096, x.Len()/8)
	}
	if len(x.tailID)+len(ids) > tailMax {
		all := slices.Concat(x.data, x.tail, flat)
		allIDs := slices.Concat(x.ids, x.tailID, ids)
		opt := x.opt
		if opt.Chunks <= 0 {
			opt.Chunks = defaultChunks(64*x.words, len(allIDs))
		}
		return build(x.words, all, allIDs, opt)
	}
	y := *x
	y.tail = slices.Concat(x.tail, flat)
	y.tailID = slices.Concat(x.tailID, ids)
	return &y, nil
}

// Search64 appends to dst every 64-bit hash within radius of q.
func (x *Index) Search64(dst []Result, q uint64, radius int) []Result {
	if x.words != 1 {
		return dst
	}
	qq := [1]uint64{q}
	return x.search(dst, qq[:], radius, 0)
}

// Search256 appends to dst every 256-bit hash within radius of q.
func (x *Index) Search256(dst []Result, q [4]uint64, radius int) []Result {
	if x.words != 4 {
		return dst
	}
	return x.search(dst, q[:], radius, 0)
}

// SearchMany256 answers several queries in one call (the eight dihedral
// hashes of an image, typically) and returns each stored hash once, at its
// smallest distance to any query, with Query set to that query's index.
func (x *Index) SearchMany256(dst []Result, qs [][4]uint64, radius int) []Result {
	if x.words != 4 {
		return dst
	}
	start := len(dst)
	for i := range qs {
		dst = x.search(dst, qs[i][:], radius, i)
	}
	return dedupe(dst, start)
}

// SearchMany64 is SearchMany256 for 64-bit hashes.
func (x *Index) SearchMany64(dst []Result, qs []uint64, radius int) []Result {
	if x.words != 1 {
		return dst
	}
	start := len(dst)
	for i := range qs {
		dst = x.search(dst, qs[i:i+1], radius, i)
	}
	return dedupe(dst, start)
}

func dedupe(dst []Result, start int) []Result {
	rs := dst[start:]
	if len(rs) < 2 {
		return dst
	}
	slices.SortFunc(rs, func(a, b Result) int {
		if a.ID != b.ID {
			return int(a.ID) - int(b.ID)
		}
		if a.Distance != b.Distance {
			return a.Distance - b.Distance
		}
		return a.Query - b.Query
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		if r.ID != out[len(out)-1].ID {
			out = append(out, r)
		}
	}
	return dst[:start+len(out)]
}

func dist(a, b []uint64) int {
	if len(a) == 1 {
		return bits.OnesCount64(a[0] ^ b[0])
	}
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

func (x *Index) search(dst []Result, q []uint64, radius, qi int) []Result {
	if radius < 0 {
		return dst
	}
	w := x.words
	m := len(x.chunks)
	if radius >= 64*w || len(x.ids) < 64 {
		// Degenerate: every bucket qualifies or the set is tiny.
		for i := range x.ids {
			if d := dist(x.data[i*w:i*w+w], q); d <= radius {
				dst = append(dst, Result{ID: x.ids[i], Distance: d, Query: qi})
			}
		}
	} else {
		var qkeys [64]uint32
		var radii [64]int
		base, extra := radius/m, radius%m
		for t := 0; t < m; t++ {
			qkeys[t] = x.chunks[t].key(q)
			// Refined pigeonhole: chunks 0..extra at radius base, the rest
			// at base-1 (sum of (radii+1) over chunks exceeds radius).
			radii[t] = base
			if t > extra {
				radii[t] = base - 1
			}
		}
		cand := x.scratch()
		for t := 0; t < m; t++ {
			if radii[t] < 0 {
				continue
			}
			c := x.chunks[t]
			tb := &x.tables[t]
			// Gather candidate positions first, then verify them in a tight
			// loop: independent loads let the CPU overlap cache misses.
			cand.pos = probe(cand.pos[:0], tb, qkeys[t], c.nbits, radii[t])
			for _, p := range cand.pos {
				h := x.data[int(p)*w : int(p)*w+w]
				d := dist(h, q)
				if d > radius {
					continue
				}
				// Found already through an earlier table?
				seen := false
				for u := 0; u < t; u++ {
					if radii[u] >= 0 && bits.OnesCount32(x.chunks[u].key(h)^qkeys[u]) <= radii[u] {
						seen = true
						break
					}
				}
				if !seen {
					dst = append(dst, Result{ID: x.ids[p], Distance: d, Query: qi})
				}
			}
		}
		x.pool.Put(cand)
	}
	for i := range x.tailID {
		if d := dist(x.tail[i*w:i*w+w], q); d <= radius {
			dst = append(dst, Result{ID: x.tailID[i], Distance: d, Query: qi})
		}
	}
	return dst
}

// probe appends the data positions in every bucket within Hamming
// distance r of key k (nbits-bit keys), each bucket once.
func probe(dst []uint32, tb *table, k uint32, nbits, r int) []uint32 {
	add := func(dst []uint32, key uint32) []uint32 {
		lo, hi := tb.off[key], tb.off[key+1]
		if tb.pos == nil {
			for j := lo; j < hi; j++ {
				dst = append(dst, j)
			}
			return dst
		}
		return append(dst, tb.pos[lo:hi]...)
	}
	dst = add(dst, k)
	switch {
	case r <= 0:
	case r == 1:
		for a := 0; a < nbits; a++ {
			dst = add(dst, k^1<<a)
		}
	case r == 2:
		for a := 0; a < nbits; a++ {
			ka := k ^ 1<<a
			dst = add(dst, ka)
			for b := a + 1; b < nbits; b++ {
				dst = add(dst, ka^1<<b)
			}
		}
	default:
		var rec func(dst []uint32, key uint32, from, left int) []uint32
		rec = func(dst []uint32, key uint32, from, left int) []uint32 {
			for b := from; b < nbits; b++ {
				kk := key ^ 1<<b
				dst = add(dst, kk)
				if left > 1 {
					dst = rec(dst, kk, b+1, left-1)
				}
			}
			return dst
		}
		dst = rec(dst, k, 0, r)
	}
	return dst
}

type scratch struct{ pos []uint32 }

// scratch returns a candidate buffer from the index's own pool (not a
// package-level one), so concurrent queries do not allocate per call.
func (x *Index) scratch() *scratch {
	if s, ok := x.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{}
}
