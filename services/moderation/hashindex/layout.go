package hashindex

// layout is the bit order and bucket order of a 256-bit index with 16
// chunks, chosen so that the eight dihedral PDQ hashes of one image
// (imagehash.PDQDihedral) probe buckets that sit next to each other.
//
// PDQ bit k = 16i+j is the DCT coefficient of row i, column j. Turning or
// flipping the image negates the coefficients of one parity (flip-x: i even;
// flip-y: j even; rotate-180: i+j odd) and the quarter turns and diagonal
// flips also transpose, (i, j) → (j, i). Negating a coefficient flips its
// bit, up to the coefficients that lie between the two hashes' medians
// (2–16 bits, in 2–10 chunks, on the reference photos). So the index stores
// every hash with its bits permuted: each chunk holds coefficients of one
// parity class, in transpose pairs or diagonal ones, so that a rotation or
// flip maps a chunk's key within its orbit (see appendSlots), in the same
// chunk.
// An orbit's buckets are adjacent: the eight variants' probes of a table
// read one line of offsets and one stretch of entries; over the reference
// and synthetic images they touch 1.6 times the orbits one query does
// (against 6 times the buckets).
//
// Distances are unchanged by a permutation, so results are exactly those
// of the plain layout; only the order of memory changes.
type layout struct {
	pos [256]uint8 // index bit of caller bit k
	// nib[n][v] is the index-order image of value v in caller nibble n
	// (32 KB): permute ORs 64 lookups instead of moving each set bit
	// through a read-modify-write of one of four words (a chain through
	// memory; it took ~7 % of an eight-variant call's CPU).
	nib [64][16][4]uint64
}

// newPDQLayout builds the layout of a 16-chunk 256-bit index. A transpose
// pair sits at bits p and p+8 of its chunk, so the transpose is a rotation
// of the key by 8, and flip-x and flip-y complement the low byte, the high
// byte or both (chunk 11 aside, which mixes parities: its flips complement
// the low halves of both bytes).
func newPDQLayout() *layout {
	l := &layout{}
	set := func(i, j, p int) { l.pos[16*i+j] = uint8(p) }
	// Chunks 0–7: (even row, odd column), transposes in the high byte.
	for c := 0; c < 8; c++ {
		for p := 0; p < 8; p++ {
			i, j := 2*c, 2*p+1
			set(i, j, 16*c+p)
			set(j, i, 16*c+p+8)
		}
	}
	// Chunks 8–14: the 28 off-diagonal transpose pairs of (even, even)
	// coefficients (chunks 8–10 and the low half of each byte of 11), then
	// the 28 of (odd, odd) ones.
	n := 0
	for par := 0; par < 2; par++ {
		for i := par; i < 16; i += 2 {
			for j := i + 2; j < 16; j += 2 {
				c, p := 8+n/8, n%8
				set(i, j, 16*c+p)
				set(j, i, 16*c+p+8)
				n++
			}
		}
	}
	// Chunk 15: the diagonal, even rows in the low byte.
	for i := 0; i < 16; i++ {
		set(i, i, 16*15+i/2+8*(i%2))
	}
	for n := range l.nib {
		for v := range l.nib[n] {
			for k := 0; k < 4; k++ {
				if v>>k&1 == 1 {
					p := l.pos[4*n+k]
					l.nib[n][v][p>>6] |= 1 << (p & 63)
				}
			}
		}
	}
	return l
}

// appendSlots appends the bucket slot of each 16-bit key. Slots number
// the keys so that each orbit of a key under complementing its low byte,
// its high byte, and swapping them (at most 8 keys) is a contiguous,
// aligned range: the bytes normalised to an even low bit (a and b, 7 bits
// each) name the orbit, the three bits of which ones were complemented and
// swapped the key within it. Orbits with a == b have four keys and come
// last. A bijection on 16 bits, computed without a table.
func appendSlots(dst, keys []uint32) []uint32 {
	for _, k := range keys {
		x, y := k&0xff, k>>8&0xff
		fx, fy := x&1, y&1
		a, b := (x^0xff*fx)>>1, (y^0xff*fy)>>1
		lo, hi := min(a, b), max(a, b)
		s := 8*(hi*(hi-1)/2+lo) + fx + 2*fy + (b-a)>>31*4
		if a == b {
			s = 65024 + 4*a + fx + 2*fy
		}
		dst = append(dst, s)
	}
	return dst
}

// permute returns the index-order bits of the caller's hash h.
func (l *layout) permute(h []uint64) [4]uint64 {
	var o0, o1, o2, o3 uint64
	for w := 0; w < 4; w++ {
		v := h[w]
		tab := (*[16][16][4]uint64)(l.nib[16*w : 16*w+16])
		for n := range tab {
			e := &tab[n][v>>(4*n)&15]
			o0 |= e[0]
			o1 |= e[1]
			o2 |= e[2]
			o3 |= e[3]
		}
	}
	return [4]uint64{o0, o1, o2, o3}
}

// permuteAll returns flat (hashes of 4 words) in index bit order.
func (l *layout) permuteAll(flat []uint64) []uint64 {
	// One table per caller byte: 32 lookups a hash instead of 128 bits.
	tab := make([][256][4]uint64, 32)
	for b := range tab {
		for v := 0; v < 256; v++ {
			for k := 0; k < 8; k++ {
				if v>>k&1 == 1 {
					p := l.pos[8*b+k]
					tab[b][v][p>>6] |= 1 << (p & 63)
				}
			}
		}
	}
	out := make([]uint64, len(flat))
	for i := 0; i+4 <= len(flat); i += 4 {
		var o [4]uint64
		for w := 0; w < 4; w++ {
			v := flat[i+w]
			for b := 0; b < 8; b++ {
				e := &tab[8*w+b][v>>(8*b)&0xff]
				o[0] |= e[0]
				o[1] |= e[1]
				o[2] |= e[2]
				o[3] |= e[3]
			}
		}
		copy(out[i:i+4], o[:])
	}
	return out
}

// orbitMove returns, packed, how a map σ of the orbit (swap the bytes or
// not, then complement either byte or both) with σ(from) == to moves
// slots, or ok false when to is not in from's orbit. Since σ permutes
// bits and complements some, it maps the radius-r ball of from onto that
// of to, and the slot of σ(k) is the slot of k with its low bits
// permuted (moveSlot): a query whose key is a rotated or flipped copy of
// an earlier query's finds its buckets without computing their slots.
//
// The packing: 3 bits for each of the eight codes of a regular orbit's
// slot (fx, fy, swap bit), then 2 bits for each of the four of a
// four-key one. Swapping exchanges fx and fy and flips the swap bit
// (swapMove), then complementing a byte flips its f in every code
// (flipLowMove, flipHighMove).
func orbitMove(from, to uint32) (mv uint32, ok bool) {
	m := from ^ to
	mv = identityMove
	if !wholeBytes(m) {
		m = (from>>8|from<<8)&0xffff ^ to
		mv = swapMove
		if !wholeBytes(m) {
			return 0, false
		}
	}
	return mv ^ flipLowMove*(m&1) ^ flipHighMove*(m>>8&1), true
}

// wholeBytes reports whether each byte of the 16-bit m is 0 or 0xff.
func wholeBytes(m uint32) bool {
	lo, hi := m&0xff, m>>8
	return (lo == 0 || lo == 0xff) && (hi == 0 || hi == 0xff)
}

// The moves of orbitMove: identityMove keeps every slot (orbitMove(k, k)).
const (
	identityMove = 0xe4fac688
	swapMove     = 0xd8650f74
	flipLowMove  = 0x55249249
	flipHighMove = 0xaa492492
)

// moveSlot is the slot of σ(k), sl being the slot of k and mv σ's
// orbitMove: the four-key orbits (a == b, from 65024 on) have no swap bit.
func moveSlot(sl, mv uint32) uint32 {
	if sl < 65024 {
		return sl&^7 | mv>>(3*(sl&7))&7
	}
	return sl&^3 | mv>>(24+2*(sl&3))&3
}
