package hashindex

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"unsafe"
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
	// mean fewer probes per table but more tables. Default: 16-bit chunks
	// (4 for 64-bit hashes, 16 for 256-bit hashes), the best trade-off for
	// radius 8–12 (64-bit) and 31 (PDQ) over 10^5–10^7 hashes.
	Chunks int
	// TailMax is the number of hashes Add keeps in the linear tail before
	// rebuilding the tables. Default: max(4096, n/8).
	TailMax int
}

// Index is an immutable Hamming-radius index over hashes of one width.
//
// Layout (all flat arrays, compressed-sparse-row buckets, no per-bucket
// slice headers or maps):
//   - data holds the hashes (words per entry) sorted by chunk 0, so table 0
//     is data itself: bucket k of table 0 is data[off[k]:off[k+1]];
//   - ids maps a position in data to the caller's id (uint32);
//   - tables 1..m-1 each have 2^bits+1 uint32 offsets and one entry per
//     hash. For 64-bit hashes the entry is a 32-bit signature (chunk 0 and
//     part of another chunk, see sig): a probe filters a bucket on 48 of the
//     64 bits without touching data, and finds the rare survivors again in
//     table 0. For 256-bit hashes it is the uint32 position in data plus
//     (fp) the 16 bits of the partner chunk, filtered on in the bucket (see
//     plan); table 0 has an fp array too.
//
// For PDQ (16 chunks) "key" above means the key's slot in lay, and the
// hashes are stored in lay's bit order (see layout).
type Index struct {
	words  int      // uint64 words per hash: 1 or 4
	data   []uint64 // built hashes, words per entry, in table-0 order
	ids    []uint32 // id of each built entry
	chunks []chunk
	tables []table  // tables[0] has no values: data is stored in its order
	tail   []uint64 // hashes added since the build, linear scan
	tailID []uint32
	opt    Options
	pool   *sync.Pool // *scratch buffers for queries
	simd   bool       // filter buckets with the AVX2 kernels
	// lay, for 256-bit hashes in 16 chunks, is the bit and bucket order
	// that puts the dihedral variants of a query in neighbouring buckets:
	// data, tail and queries are in its bit order, offsets in its slot
	// order. nil: caller's bit order, buckets by key.
	lay *layout
}

type chunk struct {
	word, shift, nbits int // bits [shift, shift+nbits) of word; never crosses a word
}

type table struct {
	off []uint32 // 2^nbits + 1 offsets into sig, or pos and fp
	sig []uint32 // 64-bit index: each entry's chunk 0 and part of another chunk, sorted within the bucket
	pos []uint32 // 256-bit index: positions into data (nil for table 0)
	fp  []uint16 // 256-bit index: the partner chunk's low 16 bits, per entry
}

// fpPad is how many entries past its end the fingerprint filters read (a
// bucket's first 32 entries whatever its length with AVX2, four at a time
// without).
const fpPad = 32

// lanes replicates a 16-bit value into the four lanes of a uint64.
const lanes = 0x0001000100010001

// fpBytes views fp (with its padding) as bytes, for four-entry loads.
func fpBytes(fp []uint16) []byte {
	fp = fp[:cap(fp)]
	if len(fp) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&fp[0])), 2*len(fp))
}

// near4 reports whether one of the four 16-bit lanes of v (fingerprints
// XOR the query's) has at most lim bits set, 0 ≤ lim ≤ 16: a SWAR
// popcount per lane and one compare for all four, so a bucket costs one
// predictable branch per four entries.
func near4(v uint64, lim int) bool {
	v -= v >> 1 & 0x5555555555555555
	v = v&0x3333333333333333 + v>>2&0x3333333333333333
	v = (v + v>>4) & 0x0f0f0f0f0f0f0f0f
	v = (v + v>>8) & 0x00ff00ff00ff00ff
	// A lane holds at most 16, so adding 0x7fff-lim carries into its top
	// bit exactly when it exceeds lim, and never into the next lane.
	return ^(v+uint64(0x7fff-lim)*lanes)&0x8000800080008000 != 0
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
	var lay *layout
	if words == 4 && m == 16 {
		lay = newPDQLayout()
		flat = lay.permuteAll(flat)
	}
	return newIndex(words, flat, ids, opt, m, lay), nil
}

// newIndex builds the tables over flat, already in lay's bit order.
func newIndex(words int, flat []uint64, ids []uint32, opt Options, m int, lay *layout) *Index {
	x := &Index{words: words, opt: opt, chunks: makeChunks(words, m), pool: &sync.Pool{}, simd: haveAVX2(), lay: lay}
	x.buildTables(flat, ids)
	return x
}

// bucketKeys returns, in dst's memory, the bucket of each hash of flat in
// table t: its chunk key, or with a layout the key's slot.
func (x *Index) bucketKeys(dst []uint32, flat []uint64, t int) []uint32 {
	c, w := x.chunks[t], x.words
	dst = dst[:0]
	for i := 0; i+w <= len(flat); i += w {
		dst = append(dst, c.key(flat[i:]))
	}
	if x.lay != nil {
		// In place: each slot is written after its key is read.
		dst = appendSlots(dst[:0], dst)
	}
	return dst
}

// defaultChunks picks 16-bit chunks whatever the radius: a table's offsets
// are then 256 KB, a radius-1 probe visits 17 buckets and a radius-2 probe
// 137. Measured on 1M hashes with the signature tables, 4 chunks beat 5
// (13-bit: 57 probes but 128-entry buckets) and 6; with the AVX2 filter
// too, 5 chunks gave 44.5x the scan at radius 8 and 1.2x at radius 12
// against 127x and 10x for 4, and 12% more memory. For PDQ at radius 31,
// 16 beat 12 (21-bit chunks: 8 MB offset tables) and 20.
func defaultChunks(nbits, _ int) int {
	return nbits / 16
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

// sig is the 32-bit signature stored for h in 64-bit table t ≥ 1: chunk 0
// in the low bits (it locates h in table 0, which is the data itself), then
// the chunks after t, in turn, for as many bits as fit. With table t's own
// chunk known from the bucket, a probe checks 48 of the 64 bits (16-bit
// chunks) inside the bucket (4 bytes an entry, a 16-entry bucket in one
// cache line) and reads the data only for the rare entries that pass.
func (x *Index) sig(t int, h uint64) uint32 {
	hh := [1]uint64{h}
	c0 := x.chunks[0]
	s := uint64(c0.key(hh[:]))
	used := c0.nbits
	m := len(x.chunks)
	for u := (t % (m - 1)) + 1; used < 32 && u != t; u = u%(m-1) + 1 {
		c := x.chunks[u]
		s |= uint64(c.key(hh[:])) << used
		used += c.nbits
	}
	return uint32(s)
}

// sigPad is how many entries past its end the AVX2 filter may read in a
// signature array (a bucket's first 24, then eight at a time).
const sigPad = 24

// countSort returns the CSR offsets of keys (2^nbits+1 entries).
func countSort(n int, nbits int, key func(i int) uint32) []uint32 {
	off := make([]uint32, 1<<nbits+1)
	for i := 0; i < n; i++ {
		off[key(i)+1]++
	}
	for k := 1; k < len(off); k++ {
		off[k] += off[k-1]
	}
	return off
}

func (x *Index) buildTables(flat []uint64, ids []uint32) {
	w := x.words
	n := len(flat) / w
	// Table 0 orders the data itself: counting sort by chunk 0.
	c0 := x.chunks[0]
	keys := x.bucketKeys(nil, flat, 0)
	off0 := countSort(n, c0.nbits, func(i int) uint32 { return keys[i] })
	next := slices.Clone(off0[:len(off0)-1])
	// The AVX2 filter reads whole vectors past a table-0 bucket's end.
	x.data = make([]uint64, len(flat), len(flat)+sigPad)
	x.ids = make([]uint32, n)
	for i := 0; i < n; i++ {
		k := keys[i]
		p := next[k]
		next[k]++
		copy(x.data[int(p)*w:int(p+1)*w], flat[i*w:(i+1)*w])
		x.ids[p] = ids[i]
	}
	x.tables = make([]table, len(x.chunks))
	x.tables[0] = table{off: off0}
	for t := 1; t < len(x.chunks); t++ {
		c := x.chunks[t]
		keys = x.bucketKeys(keys, x.data[:n*w], t)
		off := countSort(n, c.nbits, func(i int) uint32 { return keys[i] })
		next := slices.Clone(off[:len(off)-1])
		tb := table{off: off}
		if w == 1 {
			// The AVX2 filter reads whole vectors past a bucket's end.
			tb.sig = make([]uint32, n, n+sigPad)
			for i := 0; i < n; i++ {
				k := c.key(x.data[i:])
				tb.sig[next[k]] = x.sig(t, x.data[i])
				next[k]++
			}
			// Equal signatures adjacent: search resolves each once.
			for k := 0; k+1 < len(off); k++ {
				if off[k+1]-off[k] > 1 {
					slices.Sort(tb.sig[off[k]:off[k+1]])
				}
			}
		} else {
			pc := x.chunks[t^1]
			tb.pos = make([]uint32, n)
			tb.fp = make([]uint16, n, n+fpPad)
			for i := 0; i < n; i++ {
				h := x.data[i*w:]
				k := keys[i]
				tb.pos[next[k]] = uint32(i)
				tb.fp[next[k]] = uint16(pc.key(h))
				next[k]++
			}
		}
		x.tables[t] = tb
	}
	if w > 1 {
		pc := x.chunks[1]
		fp0 := make([]uint16, n, n+fpPad)
		for i := range fp0 {
			fp0[i] = uint16(pc.key(x.data[i*w:]))
		}
		x.tables[0].fp = fp0
	}
	x.tail, x.tailID = nil, nil
}

// Len returns the number of hashes in the index.
func (x *Index) Len() int { return len(x.ids) + len(x.tailID) }

// Bits returns the hash width.
func (x *Index) Bits() int { return 64 * x.words }

// Bytes returns the memory held by the index: hashes, ids, tables.
func (x *Index) Bytes() int {
	b := 8*(len(x.data)+len(x.tail)) + 4*(len(x.ids)+len(x.tailID))
	for _, t := range x.tables {
		b += 4*(len(t.off)+len(t.pos)+len(t.sig)) + 2*len(t.fp)
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
	if x.lay != nil {
		flat = x.lay.permuteAll(flat)
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
		return newIndex(x.words, all, allIDs, x.opt, len(x.chunks), x.lay), nil
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
	qs := [1]uint64{q}
	return x.search(dst, qs[:], 1, radius)
}

// Search256 appends to dst every 256-bit hash within radius of q.
func (x *Index) Search256(dst []Result, q [4]uint64, radius int) []Result {
	if x.words != 4 {
		return dst
	}
	return x.search(dst, q[:], 1, radius)
}

// SearchMany256 answers several queries in one call (the eight dihedral
// hashes of an image, typically) and returns each stored hash once, at its
// smallest distance to any query, with Query set to the first query at
// that distance, sorted by id.
//
// The queries share one pass: the probes of every query are gathered into
// one candidate list per table, and a query whose two keys of a chunk pair
// equal an earlier query's skips that pair's tables, its candidates being
// checked with the earlier query's. With the PDQ layout (see layout), the
// rotations and flips of one image probe neighbouring buckets, and a
// query whose key of a table is in an earlier query's orbit moves that
// query's bucket slots instead of computing its own (orbitMove), so eight
// real variants cost about 3.3 queries, not eight (BENCHMARKS.md). Each
// stored hash is reported once, through a small set of the positions
// reported (verifyMany).
func (x *Index) SearchMany256(dst []Result, qs [][4]uint64, radius int) []Result {
	if x.words != 4 || len(qs) == 0 {
		return dst
	}
	var arr [32]uint64
	flat := arr[:0]
	if len(qs) > 8 {
		// Batches of eight keep the per-candidate work in registers.
		start := len(dst)
		for i := 0; i < len(qs); i += 8 {
			j := min(i+8, len(qs))
			k := len(dst)
			dst = x.SearchMany256(dst, qs[i:j], radius)
			for r := k; r < len(dst); r++ {
				dst[r].Query += i
			}
		}
		return dedupe(dst, start)
	}
	for _, q := range qs {
		flat = append(flat, q[:]...)
	}
	start := len(dst)
	dst = x.search(dst, flat, len(qs), radius)
	sortByID(dst[start:])
	return dst
}

// sortByID orders one call's results by id (SearchMany's documented
// order; there are few results, so this is cheap).
func sortByID(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int { return int(a.ID) - int(b.ID) })
}

// SearchMany64 is SearchMany256 for 64-bit hashes.
func (x *Index) SearchMany64(dst []Result, qs []uint64, radius int) []Result {
	if x.words != 1 || len(qs) == 0 {
		return dst
	}
	if len(qs) > 8 {
		start := len(dst)
		for i := 0; i < len(qs); i += 8 {
			j := min(i+8, len(qs))
			k := len(dst)
			dst = x.SearchMany64(dst, qs[i:j], radius)
			for r := k; r < len(dst); r++ {
				dst[r].Query += i
			}
		}
		return dedupe(dst, start)
	}
	start := len(dst)
	dst = x.search(dst, qs, len(qs), radius)
	sortByID(dst[start:])
	return dst
}

// dedupe keeps, for each id, the result at the smallest distance (then the
// smallest query index).
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

func dist4(h []uint64, q []uint64) int {
	h = h[:4:4]
	q = q[:4:4]
	return bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) +
		bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3])
}

// plan is the per-call probe plan.
//
// 64-bit index: each chunk is its own group. With radius = base*m + extra,
// extra+1 tables are probed at base and the rest at base-1, so the
// (radius+1)s sum to more than radius and, by pigeonhole, a hash within
// radius is within its table's radius in at least one table.
//
// 256-bit index: chunks pair up, (0,1), (2,3), …, and the pairs get bounds
// R whose (R+1)s sum to radius+1, so a hash within radius has, in some pair,
// d_a + d_b ≤ R; then min(d_a, d_b) ≤ R/2. Each table of the pair is
// probed at R/2 and each entry's bucket stores the partner chunk (16 bits),
// so d_a + d_b ≤ R is checked inside the bucket, sequentially, and only
// about 1% of the candidates (for PDQ at radius 31) touch the hash data.
type plan struct {
	m, nq  int
	radius int
	paired bool
	radii  [64]int // probe radius per table; < 0: not probed
	bound  [64]int // pair bound (paired only)
	keys   [8][64]uint32
	// 256-bit index: same[t][q], for the first query q with its key and
	// partner key in table t, is the set of later queries with the same
	// two keys, whose probes of t would be q's again (the dihedral variants
	// of an image often agree on a chunk pair); dup[t] is the set of those
	// later queries, which table t does not probe.
	same [64][8]uint8
	dup  [64]uint8
}

func (x *Index) makePlan(p *plan, qs []uint64, nq, radius int) {
	m := len(x.chunks)
	*p = plan{m: m, nq: nq, radius: radius, paired: x.words > 1}
	if p.paired {
		g := m / 2
		base, extra := (radius+1)/g, (radius+1)%g
		for t := 0; t < m; t++ {
			b := base - 1
			if t/2 < extra {
				b = base
			}
			p.bound[t] = b
			p.radii[t] = -1
			if b >= 0 {
				p.radii[t] = b / 2
			}
		}
	} else {
		// The last extra+1 tables get the larger radius: table 0 (8-byte
		// hashes) is probed at the smaller one, the compact tables at the
		// larger.
		base, extra := radius/m, radius%m
		for t := 0; t < m; t++ {
			p.radii[t] = base - 1
			if t >= m-1-extra {
				p.radii[t] = base
			}
		}
	}
	for i := 0; i < nq; i++ {
		h := qs[i*x.words : i*x.words+x.words]
		for t, c := range x.chunks {
			p.keys[i][t] = c.key(h)
		}
	}
	if !p.paired || nq == 1 {
		return
	}
	for t := 0; t < m; t++ {
		// Each query's key and partner key in one word: the first earlier
		// query equal to it is never itself a duplicate (its own first
		// equal one would come before).
		var kp [8]uint64
		for i := 0; i < nq; i++ {
			kp[i] = uint64(p.keys[i][t]) | uint64(p.keys[i][t^1])<<32
		}
		for i := 1; i < nq; i++ {
			for j := 0; j < i; j++ {
				if kp[i] == kp[j] {
					p.same[t][j] |= 1 << i
					p.dup[t] |= 1 << i
					break
				}
			}
		}
	}
}

// probes returns how many buckets one query visits.
func (p *plan) probes(x *Index) int {
	n := 0
	for t := 0; t < p.m; t++ {
		if p.radii[t] >= 0 {
			n += ballSize(x.chunks[t].nbits, p.radii[t])
		}
	}
	return n
}

func ballSize(nbits, r int) int {
	s, c := 0, 1
	for k := 0; k <= r && k <= nbits; k++ {
		s += c
		c = c * (nbits - k) / (k + 1)
	}
	return s
}

// first reports whether (table t, query qi) is the first pair, in search
// order (tables outer, queries inner), whose probe reaches stored hash h
// (visits its bucket and, paired, lets it through the filter) and whose
// query is within radius of it. Every stored hash within radius
// of some query is reached by at least one such pair (pigeonhole), so
// reporting only from the first one returns each hash exactly once, with
// no visited set.
func (p *plan) first(x *Index, h []uint64, qs []uint64, t, qi int) bool {
	w := x.words
	// The queries within radius, then their probes in search order: each
	// chunk key of h is extracted once, not once per (table, query).
	var near uint8
	for j := 0; j < p.nq; j++ {
		if dist(h, qs[j*w:j*w+w]) <= p.radius {
			near |= 1 << j
		}
	}
	return p.firstNear(x, h, near, t, qi)
}

// firstNear is first with near, the set of queries within radius of h,
// already known.
func (p *plan) firstNear(x *Index, h []uint64, near uint8, t, qi int) bool {
	for u := 0; u <= t; u++ {
		if p.radii[u] < 0 {
			continue
		}
		m := near
		if u == t {
			m &= 1<<qi - 1
		}
		if m == 0 {
			continue
		}
		k := x.chunks[u].key(h)
		var pk uint32
		if p.paired {
			pk = x.chunks[u^1].key(h)
		}
		for ; m != 0; m &= m - 1 {
			j := bits.TrailingZeros8(m)
			d := bits.OnesCount32(k ^ p.keys[j][u])
			if d > p.radii[u] {
				continue
			}
			if !p.paired || d+bits.OnesCount16(uint16(pk)^uint16(p.keys[j][u^1])) <= p.bound[u] {
				return false
			}
		}
	}
	return true
}

// best returns the smallest distance from h to any query and the first
// query at that distance.
func best(h []uint64, qs []uint64, nq, w int) (int, int) {
	bd, bq := 1<<30, 0
	for j := 0; j < nq; j++ {
		if d := dist(h, qs[j*w:j*w+w]); d < bd {
			bd, bq = d, j
		}
	}
	return bd, bq
}

// search answers nq ≤ 8 queries (qs holds nq hashes, words each).
func (x *Index) search(dst []Result, qs []uint64, nq, radius int) []Result {
	if radius < 0 {
		return dst
	}
	w := x.words
	start := len(dst)
	linear := radius >= 64*w || len(x.ids) < 256
	s := x.scratch()
	defer x.pool.Put(s)
	if x.lay != nil {
		for i := 0; i < nq; i++ {
			s.qperm[i] = x.lay.permute(qs[4*i : 4*i+4])
		}
		qs = unsafe.Slice(&s.qperm[0][0], 4*nq)
	}
	p := &s.plan
	if !linear {
		x.makePlan(p, qs, nq, radius)
		// Past the point where probing costs more than reading everything
		// (each probe costs about as much as scanning 64 hashes).
		linear = nq*p.probes(x)*64 >= len(x.ids)
	}
	if linear {
		for i := range x.ids {
			h := x.data[i*w : i*w+w]
			if d, bq := best(h, qs, nq, w); d <= radius {
				dst = append(dst, Result{ID: x.ids[i], Distance: d, Query: bq})
			}
		}
	} else if w == 1 {
		dst = x.search64(dst, s, qs, p)
	} else {
		dst = x.search256(dst, s, qs, p)
	}
	for i := range x.tailID {
		h := x.tail[i*w : i*w+w]
		if d, bq := best(h, qs, nq, w); d <= radius {
			dst = append(dst, Result{ID: x.tailID[i], Distance: d, Query: bq})
		}
	}
	if nq > 1 && len(x.tailID) > 0 {
		return dedupe(dst, start)
	}
	return dst
}

// run is one probed bucket: entries [lo, hi) of table t, for query q.
// The assembly kernels read lo, hi, q and d at byte offsets 0, 4, 13 and
// 14 of 16-byte runs (TestRunLayout).
type run struct {
	lo, hi uint32
	key    uint32 // the bucket's key (64-bit index; 0 in moved 256-bit runs)
	t, q   uint8
	d      uint8 // Hamming distance of the bucket's key to the query's
}

// gather appends every probed bucket of every (table, query) pair, in search
// order, with s.tstart marking where each table's runs begin. Probing is
// bound by memory latency, not by arithmetic, so the offsets of every key
// are prefetched before the first is read, and the callers prefetch the
// buckets before filtering them: prefetches retire at once, where a loop
// of plain loads stalls on the oldest miss once the reorder buffer is
// full (on the dev machine this took a 64-bit radius-8 query from ~7.5 to
// ~5.5 µs and a PDQ radius-31 one from ~28 to ~22 µs). With AVX2, the
// 64-bit gather is an assembly loop that prefetches each bucket as soon as
// its offsets are read (another 5–25%), and so is the PDQ gather
// (gatherSlots). Without prefetch instructions (other platforms, purego)
// a touch loop of independent loads does the same, less well.
//
// With the PDQ layout, a query whose key of table t is a rotated or
// flipped copy of an earlier query's (63 % of the (table, query) pairs
// of real dihedral variants) computes no ball of keys: it reads the
// earlier query's bucket slots moved within their orbits (moveSlot), from
// the offset lines that query already prefetched. With several queries
// and the assembly kernels (groupFilter), gather writes no runs: it
// groups each table's probes by owner (gatherGroups), and search256
// prefetches the groups' buckets a few tables ahead of their filter.
func (x *Index) gather(s *scratch, p *plan) []run {
	// Every key first, and its offsets prefetched, so that the offset
	// misses of all tables overlap too.
	keys := s.keys[:0]
	slots := s.slots[:0]
	s.groups, s.pairs = s.groups[:0], 0
	for t := 0; t < p.m; t++ {
		if p.radii[t] < 0 {
			continue
		}
		for qi := 0; qi < p.nq; qi++ {
			if p.dup[t]>>qi&1 != 0 {
				continue
			}
			k0 := len(keys)
			s.at[t][qi] = int32(k0)
			if x.lay != nil && x.moveFrom(s, p, t, qi) {
				continue
			}
			keys = appendBall(keys, p.keys[qi][t], x.chunks[t].nbits, p.radii[t])
			sl := keys
			if x.lay != nil {
				slots = appendSlots(slots, keys[k0:])
				sl = slots
			}
			if havePrefetch {
				prefetchKeys(&x.tables[t].off[0], &sl[k0], len(keys)-k0)
			}
		}
	}
	s.keys, s.slots = keys, slots
	if x.lay == nil {
		slots = keys
	}
	runs := s.runs[:0]
	entries := 0
	grouped := x.groupFilter(p)
	for t := 0; t < p.m; t++ {
		s.tstart[t] = len(runs)
		if grouped {
			s.tstart[t] = len(s.groups)
		}
		if p.radii[t] < 0 {
			continue
		}
		off := x.tables[t].off
		nk := ballSize(x.chunks[t].nbits, p.radii[t])
		if grouped {
			x.gatherGroups(s, p, t, nk)
			continue
		}
		for qi := 0; qi < p.nq; qi++ {
			if p.dup[t]>>qi&1 != 0 {
				continue
			}
			qk := p.keys[qi][t]
			if x.asmGather256() {
				// Own probes, or a moved copy of query f-1's (moveFrom):
				// its slots and keys, the distances unchanged.
				a, sq, mv := int(s.at[t][qi]), qk, uint32(identityMove)
				if f := s.from[t][qi]; f > 0 {
					a, sq, mv = int(s.at[t][f-1]), p.keys[f-1][t], s.mv[t][qi]
				} else {
					keys = keys[nk:]
				}
				n0 := len(runs)
				runs = slices.Grow(runs, nk)[:n0+nk]
				n, e := gatherSlots(&off[0], &s.slots[a], &s.keys[a], nk, sq, uint32(t)|uint32(qi)<<8, &runs[n0], &x.tables[t].fp[:1][0], mv)
				runs, entries = runs[:n0+n], entries+e
				continue
			}
			if f := s.from[t][qi]; f > 0 {
				// A moved copy of query f-1's probes (moveFrom): its
				// slots and keys, the distances unchanged.
				runs, entries = x.gatherMoved(s, runs, entries, t, qi, int(f-1), nk)
				continue
			}
			if x.asmGather() {
				base, shift := unsafe.Pointer(&x.data[0]), 3
				if t > 0 {
					base, shift = unsafe.Pointer(&x.tables[t].sig[0]), 2
				}
				n0 := len(runs)
				runs = slices.Grow(runs, nk)[:n0+nk]
				n, e := gatherRuns(&off[0], &keys[0], nk, qk, uint32(t)|uint32(qi)<<8, &runs[n0], base, shift)
				runs, entries = runs[:n0+n], entries+e
				keys = keys[nk:]
				continue
			}
			for i, k := range keys[:nk] {
				sl := slots[i]
				lo, hi := off[sl], off[sl+1]
				if lo < hi {
					// Field by field into place: a composite literal is
					// built on the stack by narrow stores and copied with
					// one wide load, which stalls on store forwarding
					// (gather took ~5 µs of a 64-bit query that way, ~1 µs
					// now).
					runs = slices.Grow(runs, 1)[:len(runs)+1]
					rn := &runs[len(runs)-1]
					rn.lo, rn.hi, rn.key = lo, hi, k
					rn.t, rn.q, rn.d = uint8(t), uint8(qi), uint8(bits.OnesCount32(k^qk))
					entries += int(hi - lo)
				}
			}
			keys, slots = keys[nk:], slots[nk:]
		}
	}
	s.tstart[p.m] = len(runs)
	if grouped {
		s.tstart[p.m] = len(s.groups)
	}
	s.runs, s.entries = runs, entries
	return runs
}

// group is the probes of one table shared by an owner query and the
// queries moved from it (moveFrom): each member reads the owner's bucket
// slots moved by its own orbitMove, at the owner's distances. The
// assembly kernels read mv, pk, tq and n at byte offsets 0, 32, 64 and 96
// (TestGroupLayout).
type group struct {
	mv [8]uint32 // each member's move of the owner's slots (the owner: identityMove)
	pk [8]uint32 // each member's partner key (its key of table t^1)
	tq [8]uint32 // t | q<<8 of each member, as filterGroup reports it
	n  int       // members
	at int       // the owner's keys and slots start at s.keys[at], s.slots[at]
	qk uint32    // the owner's key of table t
	// entries is the members' buckets' total size (prefetchGroups).
	entries int
}

// groupAhead is how many tables ahead of the filter the grouped path
// prefetches buckets (1, 2 and all 16 measured the same; 2 keeps the
// prefetches spread over the filter's work).
const groupAhead = 2

// groupFilter: several queries with the assembly kernels are gathered and
// filtered by group, not by run (filterGroup): each member's bucket is
// read from the orbit offsets its owner's slot already loaded, with one
// distance and limit per slot for the whole group, and through a window
// that reads no line outside the bucket. Measured on 1M PDQ hashes, the
// CPU per (slot, member) is about that of a run (both are bound by the
// chain offset → fingerprints → branch), but the windows read ~16 %
// fewer fingerprint lines for eight real variants and ~26 % fewer for
// unrelated queries, which made eight unrelated queries ~15 % faster. A
// single query keeps the run kernels (gatherSlots, filterFPAVX2).
func (x *Index) groupFilter(p *plan) bool { return x.asmGather256() && p.nq > 1 }

// gatherGroups appends table t's groups to s.groups, one per query that
// probes its own ball, with the queries moved from it as members (their
// buckets are prefetched by prefetchGroups, a few tables ahead of the
// filter).
func (x *Index) gatherGroups(s *scratch, p *plan, t, nk int) {
	for qi := 0; qi < p.nq; qi++ {
		if p.dup[t]>>qi&1 != 0 || s.from[t][qi] != 0 {
			continue
		}
		s.groups = append(s.groups, group{at: int(s.at[t][qi]), qk: p.keys[qi][t]})
		g := &s.groups[len(s.groups)-1]
		g.add(identityMove, p.keys[qi][t^1], t, qi)
		for v := qi + 1; v < p.nq; v++ {
			if p.dup[t]>>v&1 == 0 && int(s.from[t][v]) == qi+1 {
				g.add(s.mv[t][v], p.keys[v][t^1], t, v)
			}
		}
		s.pairs += g.n * nk
	}
}

// prefetchGroups prefetches the buckets of table t's groups gs and
// records each group's entries.
func (x *Index) prefetchGroups(s *scratch, gs []group, t, nk int) {
	tb := &x.tables[t]
	for gi := range gs {
		g := &gs[gi]
		g.entries = prefetchGroup(&tb.off[0], &s.slots[g.at], nk, &tb.fp[:1][0], g)
	}
}

// add appends member q of table t, its slots moved by mv.
func (g *group) add(mv, pk uint32, t, q int) {
	g.mv[g.n], g.pk[g.n], g.tq[g.n] = mv, pk, uint32(t)|uint32(q)<<8
	g.n++
}

// moveFrom reports whether query qi's key of table t is a rotated or
// flipped copy of an earlier query's (orbitMove), recording it in s so that
// gather moves that query's slots instead of computing a ball of its own.
func (x *Index) moveFrom(s *scratch, p *plan, t, qi int) bool {
	s.from[t][qi] = 0
	for j := 0; j < qi; j++ {
		if p.dup[t]>>j&1 != 0 || s.from[t][j] != 0 {
			continue
		}
		if mv, ok := orbitMove(p.keys[j][t], p.keys[qi][t]); ok {
			s.from[t][qi], s.mv[t][qi] = uint8(j+1), mv
			return true
		}
	}
	return false
}

// gatherMoved appends the runs of query qi in table t, whose probes are
// query j's moved by s.mv[t][qi]: the same nk keys' slots, each within its
// orbit, at the same distances. The orbits' offsets are the lines j's
// probes prefetched.
func (x *Index) gatherMoved(s *scratch, runs []run, entries, t, qi, j, nk int) ([]run, int) {
	off := x.tables[t].off
	a := int(s.at[t][j])
	keys, slots := s.keys[a:a+nk], s.slots[a:a+nk]
	mv := s.mv[t][qi]
	jk := s.plan.keys[j][t]
	n0 := len(runs)
	runs = slices.Grow(runs, nk)[:n0+nk]
	n := n0
	for i, sl := range slots {
		sl = moveSlot(sl, mv)
		lo, hi := off[sl], off[sl+1]
		rn := &runs[n]
		rn.lo, rn.hi, rn.key = lo, hi, 0
		rn.t, rn.q, rn.d = uint8(t), uint8(qi), uint8(bits.OnesCount32(keys[i]^jk))
		entries += int(hi - lo)
		if lo < hi {
			n++
		}
	}
	return runs[:n], entries
}

// asmGather256: the PDQ gather is the assembly one, which prefetches each
// bucket's fingerprints as soon as its offsets are read.
func (x *Index) asmGather256() bool { return x.simd && x.lay != nil }

// asmGather: the 64-bit gather is the assembly one, which prefetches each
// bucket as soon as its offsets are read.
func (x *Index) asmGather() bool { return x.simd && x.words == 1 }

func (x *Index) search64(dst []Result, s *scratch, qs []uint64, p *plan) []Result {
	runs := x.gather(s, p)
	var sink uint64
	if x.asmGather() {
		// gather prefetched the buckets.
	} else if havePrefetch {
		if n0 := s.tstart[1]; n0 > 0 {
			prefetchRuns(unsafe.Pointer(&x.data[0]), &runs[0], n0, 3)
		}
		for t := 1; t < p.m; t++ {
			if a, b := s.tstart[t], s.tstart[t+1]; a < b {
				prefetchRuns(unsafe.Pointer(&x.tables[t].sig[0]), &runs[a], b-a, 2)
			}
		}
	} else {
		for _, rn := range runs {
			if rn.t == 0 {
				// Table 0 buckets are hashes, 8 bytes each: every line.
				for i := rn.lo; i < rn.hi; i += 8 {
					sink += x.data[i]
				}
				sink += x.data[rn.hi-1]
			} else {
				sig := x.tables[rn.t].sig
				sink += uint64(sig[rn.lo] + sig[rn.hi-1])
			}
		}
	}
	r := p.radius
	s.pass = s.pass[:0]
	qsig := &s.qsig
	for t := 1; t < p.m; t++ {
		if p.radii[t] >= 0 {
			for qi := 0; qi < p.nq; qi++ {
				qsig[qi][t] = x.sig(t, qs[qi])
			}
		}
	}
	if n0 := s.tstart[1]; x.simd && n0 > 0 {
		out := s.filterOut()
		k := filterHashesAVX2(&x.data[0], &runs[0], n0, &qs[0], r, &out[0])
		for i := 0; i+2 < k; i += 3 {
			rn := &runs[out[i]]
			for m := out[i+2]; m != 0; m &= m - 1 {
				j := rn.lo + out[i+1] + uint32(bits.TrailingZeros32(m))
				dst = x.report64(dst, j, qs, p, int(rn.q))
			}
		}
	} else {
		for ri := range runs[:s.tstart[1]] {
			rn := &runs[ri]
			seg := x.data[rn.lo:rn.hi]
			q := qs[rn.q]
			for j := nextNear64(seg, 0, q, r); j < len(seg); j = nextNear64(seg, j+1, q, r) {
				dst = x.report64(dst, rn.lo+uint32(j), qs, p, int(rn.q))
			}
		}
	}
	if x.simd {
		x.filterSIMD(s, runs, p)
	} else {
		x.filterGo(s, runs, p)
	}
	// The signatures that passed are found again in table 0: their offsets
	// and buckets are touched first, each round of misses in flight
	// together, instead of three dependent misses one signature at a time.
	off0 := x.tables[0].off
	mask0 := uint32(1)<<x.chunks[0].nbits - 1
	for _, ps := range s.pass {
		sink += uint64(off0[ps.sig&mask0])
	}
	for _, ps := range s.pass {
		if k0 := ps.sig & mask0; off0[k0] < off0[k0+1] {
			sink += x.data[off0[k0]] + x.data[off0[k0+1]-1]
		}
	}
	s.sink = sink
	for _, ps := range s.pass {
		dst = x.resolve64(dst, ps.sig, ps.key, int(ps.t), int(ps.q), qs, p)
	}
	return dst
}

// report64 reports data[i], within radius of query qi and reached through
// table 0, if (0, qi) is the first probe to reach it.
func (x *Index) report64(dst []Result, i uint32, qs []uint64, p *plan, qi int) []Result {
	hh := [1]uint64{x.data[i]}
	if !p.first(x, hh[:], qs, 0, qi) {
		return dst
	}
	d, bq := best(hh[:], qs, p.nq, 1)
	return append(dst, Result{ID: x.ids[i], Distance: d, Query: bq})
}

// filterGo appends to s.pass the signatures of tables 1.. that pass their
// bucket's filter, in run order, each distinct signature of a bucket once.
func (x *Index) filterGo(s *scratch, runs []run, p *plan) {
	for ri := s.tstart[1]; ri < len(runs); ri++ {
		rn := &runs[ri]
		seg := x.tables[rn.t].sig[rn.lo:rn.hi]
		qg := s.qsig[rn.q][rn.t]
		lim := p.radius - int(rn.d)
		for j := nextNear32(seg, 0, qg, lim); j < len(seg); j = nextNear32(seg, j+1, qg, lim) {
			if j > 0 && seg[j-1] == seg[j] {
				continue // same signature: resolved with the first
			}
			s.pass = append(s.pass, passed{sig: seg[j], key: rn.key, t: rn.t, q: rn.q})
		}
	}
}

// filterSIMD is filterGo with the AVX2 kernel: one call per table, whole
// buckets per vector step, one branch per bucket, so the variable bucket
// lengths cost no mispredicted loop exits.
func (x *Index) filterSIMD(s *scratch, runs []run, p *plan) {
	out := s.filterOut()
	for t := 1; t < p.m; t++ {
		a, b := s.tstart[t], s.tstart[t+1]
		if a == b {
			continue
		}
		sig := x.tables[t].sig
		k := filterSigsAVX2(&sig[:1][0], &runs[a], b-a, &s.qsig[0][t], p.radius, &out[0])
		for i := 0; i+2 < k; i += 3 {
			rn := &runs[a+int(out[i])]
			seg := sig[rn.lo:rn.hi]
			for m := out[i+2]; m != 0; m &= m - 1 {
				j := int(out[i+1]) + bits.TrailingZeros32(m)
				if j > 0 && seg[j-1] == seg[j] {
					continue // same signature: resolved with the first
				}
				s.pass = append(s.pass, passed{sig: seg[j], key: rn.key, t: rn.t, q: rn.q})
			}
		}
	}
}

// filterOut returns room for the AVX2 filters' output over s.runs (or
// s.groups' s.pairs (slot, member) pairs): at most one triple per run and
// per further four entries.
func (s *scratch) filterOut() []uint32 {
	if need := 3 * (max(len(s.runs), s.pairs) + s.entries/4 + 1); cap(s.out) < need {
		s.out = make([]uint32, need)
	}
	return s.out[:cap(s.out)]
}

// passed is a signature that passed its bucket's filter.
type passed struct {
	sig, key uint32
	t, q     uint8
}

// resolve64 finds again, in table 0, the stored hashes with signature g in
// bucket key of table t (rare: a signature passes for ~1 in 1,000
// entries), and reports those within radius that probe (t, qi) is the
// first to reach.
func (x *Index) resolve64(dst []Result, g, key uint32, t, qi int, qs []uint64, p *plan) []Result {
	off0 := x.tables[0].off
	k0 := g & (1<<x.chunks[0].nbits - 1)
	q := qs[qi]
	for i := off0[k0]; i < off0[k0+1]; i++ {
		h := x.data[i]
		if bits.OnesCount64(h^q) > p.radius {
			continue
		}
		hh := [1]uint64{h}
		if x.chunks[t].key(hh[:]) != key || x.sig(t, h) != g || !p.first(x, hh[:], qs, t, qi) {
			continue
		}
		d, bq := best(hh[:], qs, p.nq, 1)
		dst = append(dst, Result{ID: x.ids[i], Distance: d, Query: bq})
	}
	return dst
}

// nextNear32 returns the index of the first entry of seg from j on within
// lim bits of q, or len(seg). Almost no entry passes, so it tests four at
// a time with one branch (on their smallest distance), without bounds
// checks, in a small function whose loop keeps everything in registers.
func nextNear32(seg []uint32, j int, q uint32, lim int) int {
	for ; j+4 <= len(seg); j += 4 {
		s := seg[j : j+4 : j+4]
		if min(bits.OnesCount32(s[0]^q), bits.OnesCount32(s[1]^q), bits.OnesCount32(s[2]^q), bits.OnesCount32(s[3]^q)) <= lim {
			break
		}
	}
	for ; j < len(seg); j++ {
		if bits.OnesCount32(seg[j]^q) <= lim {
			return j
		}
	}
	return j
}

// nextNear64 is nextNear32 over the hashes themselves (table 0).
func nextNear64(seg []uint64, j int, q uint64, lim int) int {
	for ; j+4 <= len(seg); j += 4 {
		s := seg[j : j+4 : j+4]
		if min(bits.OnesCount64(s[0]^q), bits.OnesCount64(s[1]^q), bits.OnesCount64(s[2]^q), bits.OnesCount64(s[3]^q)) <= lim {
			break
		}
	}
	for ; j < len(seg); j++ {
		if bits.OnesCount64(seg[j]^q) <= lim {
			return j
		}
	}
	return j
}

func (x *Index) search256(dst []Result, s *scratch, qs []uint64, p *plan) []Result {
	runs := x.gather(s, p)
	// Filter every bucket on its entries' partner chunks (sequential reads
	// of 2-byte fingerprints); keep the survivors' positions.
	var sink uint16
	if x.asmGather256() {
		// gather prefetched the buckets.
	} else if havePrefetch {
		for t, a := 0, 0; t < p.m; t++ {
			if b := s.tstart[t+1]; a < b {
				prefetchRuns(unsafe.Pointer(&x.tables[t].fp[0]), &runs[a], b-a, 1)
				a = b
			}
		}
	} else {
		for _, rn := range runs {
			sink += x.tables[rn.t].fp[rn.lo]
		}
	}
	// cand: entries (index in their table) that pass, ctq: the t | q<<8
	// of the probe that passed them.
	cand, ctq := s.cand[:0], s.ends[:0]
	var out []uint32
	if x.simd {
		out = s.filterOut()
	}
	grouped := x.groupFilter(p)
	for t := 0; t < groupAhead && grouped && t < p.m; t++ {
		x.prefetchGroups(s, s.groups[s.tstart[t]:s.tstart[t+1]], t, ballSize(x.chunks[t].nbits, max(0, p.radii[t])))
	}
	for t := 0; t < p.m; t++ {
		if u := t + groupAhead; grouped && u < p.m {
			x.prefetchGroups(s, s.groups[s.tstart[u]:s.tstart[u+1]], u, ballSize(x.chunks[u].nbits, max(0, p.radii[u])))
		}
		a, b := s.tstart[t], s.tstart[t+1]
		if a == b {
			continue
		}
		c0 := len(cand)
		switch {
		case grouped:
			cand, ctq = x.filterGroups(cand, ctq, s.groups[a:b], s, t, p, s.out[:cap(s.out)])
		case x.simd:
			k := filterFPAVX2(&x.tables[t].fp[:1][0], &runs[a], b-a, &p.keys[0][t^1], p.bound[t], &out[0])
			for i := 0; i+2 < k; i += 3 {
				rn := &runs[a+int(out[i])]
				j0, tq := rn.lo+out[i+1], uint32(rn.t)|uint32(rn.q)<<8
				for m := out[i+2]; m != 0; m &= m - 1 {
					cand = append(cand, j0+uint32(bits.TrailingZeros32(m)))
					ctq = append(ctq, tq)
				}
			}
		default:
			cand, ctq = x.filterFPGo(cand, ctq, runs, a, b, p)
		}
		// The survivors' pos (or, in table 0, data) lines are fetched
		// while the next tables are filtered, not after them all.
		if havePrefetch && len(cand) > c0 {
			if t == 0 {
				prefetchHashes(&x.data[0], &cand[c0], len(cand)-c0)
			} else {
				prefetchKeys(&x.tables[t].pos[0], &cand[c0], len(cand)-c0)
			}
		}
	}
	if !havePrefetch {
		// Entries of tables 1.. lead to data through pos: all their
		// lines are touched before any is used, so that the misses
		// overlap.
		for i, k := range cand {
			if t := uint8(ctq[i]); t != 0 {
				sink += uint16(x.tables[t].pos[k])
			}
		}
	}
	for i, k := range cand {
		if t := uint8(ctq[i]); t != 0 {
			cand[i] = x.tables[t].pos[k]
		}
	}
	s.cand, s.ends = cand, ctq
	data := x.data
	if havePrefetch {
		if len(cand) > 0 {
			prefetchHashes(&data[0], &cand[0], len(cand))
		}
	} else {
		for _, i := range cand {
			sink += uint16(data[i*4])
		}
	}
	s.sink = uint64(sink)
	if p.nq > 1 {
		return x.verifyMany(dst, s, qs, p)
	}
	r := p.radius
	for ci, i := range cand {
		t, qi := int(uint8(ctq[ci])), int(uint8(ctq[ci]>>8))
		h := data[i*4 : i*4+4 : i*4+4]
		if dist4(h, qs[qi*4:qi*4+4:qi*4+4]) <= r {
			dst = x.report256(dst, h, qs, p, t, qi, i)
		}
		// The queries whose probes of this table are this one's.
		for m := p.same[t][qi]; m != 0; m &= m - 1 {
			j := bits.TrailingZeros8(m)
			if dist4(h, qs[j*4:j*4+4:j*4+4]) <= r {
				dst = x.report256(dst, h, qs, p, t, j, i)
			}
		}
	}
	return dst
}

// verifyMany reports the candidates s.cand (positions in data) of several
// queries: each hash within radius of the query whose probe passed it (or
// of a query sharing that probe) is reported once, at its best distance,
// using a small set of the positions reported. Every hash within radius
// of some query is a candidate of that query's (pigeonhole), so this is
// exact; it replaces the first-probe rule, whose distances to all queries
// and walk over the earlier tables, repeated for each of the many
// (table, query) pairs that reach a near hash, cost eight variants ~10 %
// of their CPU.
func (x *Index) verifyMany(dst []Result, s *scratch, qs []uint64, p *plan) []Result {
	seen := s.seenSet(len(s.cand))
	mask := uint32(len(seen) - 1)
	shift := 32 - bits.Len32(mask)
	data, r := x.data, p.radius
	for ci, i := range s.cand {
		t, qi := uint8(s.ends[ci]), uint8(s.ends[ci]>>8)
		h := data[i*4 : i*4+4 : i*4+4]
		m := p.same[t][qi] | 1<<qi
		for ; m != 0; m &= m - 1 {
			j := bits.TrailingZeros8(m)
			if dist4(h, qs[j*4:j*4+4:j*4+4]) <= r {
				break
			}
		}
		if m == 0 {
			continue
		}
		k := (i * 0x9e3779b1) >> shift
		for seen[k] != 0 && seen[k] != i+1 {
			k = (k + 1) & mask
		}
		if seen[k] != 0 {
			continue // reported already
		}
		seen[k] = i + 1
		d, bq := best(h, qs, p.nq, 4)
		dst = append(dst, Result{ID: x.ids[i], Distance: d, Query: bq})
	}
	return dst
}

// seenSet returns a cleared open-addressing set (positions + 1, 0 empty)
// with room for n keys at most a quarter full.
func (s *scratch) seenSet(n int) []uint32 {
	size := 64
	for size < 4*n {
		size *= 2
	}
	if cap(s.seen) < size {
		s.seen = make([]uint32, size)
	}
	seen := s.seen[:size]
	clear(seen)
	return seen
}

// filterGroups filters table t's groups with filterGroup and appends the
// survivors and their probes' t | q<<8.
func (x *Index) filterGroups(cand, ctq []uint32, gs []group, s *scratch, t int, p *plan, out []uint32) ([]uint32, []uint32) {
	tb := &x.tables[t]
	nk := ballSize(x.chunks[t].nbits, p.radii[t])
	for gi := range gs {
		g := &gs[gi]
		if need := 3 * (g.n*nk + g.entries/16 + 1); len(out) < need {
			out = make([]uint32, need)
			s.out = out
		}
		k := filterGroup(&tb.off[0], &s.slots[g.at], &s.keys[g.at], nk, g.qk, p.bound[t], &tb.fp[:1][0], g, &out[0])
		for i := 0; i+2 < k; i += 3 {
			j0, tq := out[i], out[i+2]
			for m := out[i+1]; m != 0; m &= m - 1 {
				cand = append(cand, j0+uint32(bits.TrailingZeros32(m)))
				ctq = append(ctq, tq)
			}
		}
	}
	return cand, ctq
}

// filterFPGo is filterFPAVX2 in Go for runs[a:b] (one table): four
// entries per test; it appends the survivors and their probes' t | q<<8.
func (x *Index) filterFPGo(cand, ctq []uint32, runs []run, a, b int, p *plan) ([]uint32, []uint32) {
	for ri := a; ri < b; ri++ {
		rn := &runs[ri]
		t := int(rn.t)
		fp := x.tables[t].fp
		pk := uint16(p.keys[rn.q][t^1])
		lim := p.bound[t] - int(rn.d)
		pkv := uint64(pk) * lanes
		fpb := fpBytes(fp)
		for j := rn.lo; j < rn.hi; j += 4 {
			// Four entries per test (reading up to three past the
			// bucket, into the next or the padding); the rare group
			// that passes is checked entry by entry, whatever the
			// byte order.
			if !near4(binary.NativeEndian.Uint64(fpb[2*j:])^pkv, lim) {
				continue
			}
			for k := j; k < min(j+4, rn.hi); k++ {
				if bits.OnesCount16(fp[k]^pk) <= lim {
					cand = append(cand, k)
					ctq = append(ctq, uint32(t)|uint32(rn.q)<<8)
				}
			}
		}
	}
	return cand, ctq
}

// report256 reports data[4i:], h, within radius of query qi and reached
// through table t, if (t, qi) is the first probe to reach it. Each
// distance to a query is computed once, for both the first-probe check
// and the best query.
func (x *Index) report256(dst []Result, h, qs []uint64, p *plan, t, qi int, i uint32) []Result {
	var near uint8
	bd, bq := 1<<30, 0
	for j := 0; j < p.nq; j++ {
		d := dist4(h, qs[4*j:4*j+4:4*j+4])
		if d <= p.radius {
			near |= 1 << j
		}
		if d < bd {
			bd, bq = d, j
		}
	}
	if !p.firstNear(x, h, near, t, qi) {
		return dst
	}
	return append(dst, Result{ID: x.ids[i], Distance: bd, Query: bq})
}

// appendBall appends every nbits-bit key within Hamming distance r of k,
// each once.
func appendBall(dst []uint32, k uint32, nbits, r int) []uint32 {
	dst = append(dst, k)
	switch {
	case r <= 0:
	case r == 1:
		for a := 0; a < nbits; a++ {
			dst = append(dst, k^1<<a)
		}
	case r == 2:
		for a := 0; a < nbits; a++ {
			ka := k ^ 1<<a
			dst = append(dst, ka)
			for b := a + 1; b < nbits; b++ {
				dst = append(dst, ka^1<<b)
			}
		}
	default:
		var rec func(dst []uint32, key uint32, from, left int) []uint32
		rec = func(dst []uint32, key uint32, from, left int) []uint32 {
			for b := from; b < nbits; b++ {
				kk := key ^ 1<<b
				dst = append(dst, kk)
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

type scratch struct {
	plan  plan
	qsig  [8][64]uint32
	keys  []uint32
	slots []uint32 // bucket slot of each key (layout only)
	// from[t][q] is 1 + the earlier query whose probes of table t query q
	// reuses, moved by mv[t][q] (layout only; 0: none); at[t][q] is
	// where query q's keys of table t start in keys.
	from  [64][8]uint8
	mv    [64][8]uint32
	at    [64][8]int32
	qperm [8][4]uint64
	runs  []run
	// groups, with groupFilter, are the probes instead of runs; pairs is
	// their (slot, member) count.
	groups []group
	pairs  int
	// tstart[t] is the first run (with groupFilter, group) of table t;
	// entries the runs' total size.
	tstart  [65]int
	entries int
	pass    []passed
	out     []uint32 // AVX2 filter output
	cand    []uint32
	ends    []uint32 // t | q<<8 of the probe that passed each cand (256-bit search)
	seen    []uint32 // positions reported, for verifyMany
	sink    uint64   // keeps the touch loops from being optimised away
}

// scratch returns query buffers from the index's own pool (not a
// package-level one), so concurrent queries do not allocate per call.
func (x *Index) scratch() *scratch {
	if s, ok := x.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{}
}
