package hashindex

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// slot is appendSlots for one key.
func slot(k uint32) uint32 { return appendSlots(nil, []uint32{k})[0] }

// TestSlotBijection: slot numbers the 2^16 keys one to one, and each orbit
// (bytes complemented, swapped) lies in one aligned block of eight slots.
func TestSlotBijection(t *testing.T) {
	seen := make([]bool, 1<<16)
	for k := uint32(0); k < 1<<16; k++ {
		s := slot(k)
		if s >= 1<<16 || seen[s] {
			t.Fatalf("slot(%#x) = %d: out of range or taken", k, s)
		}
		seen[s] = true
		swap := k>>8 | k&0xff<<8
		for _, o := range []uint32{k ^ 0xff, k ^ 0xff00, k ^ 0xffff, swap, swap ^ 0xff, swap ^ 0xff00, swap ^ 0xffff} {
			if slot(o)/8 != s/8 {
				t.Fatalf("orbit of %#x split: %#x in block %d, not %d", k, o, slot(o)/8, s/8)
			}
		}
	}
}

// TestLayoutPermutes: the layout is a permutation of the 256 bits, keeps
// distances, and maps every chunk of a hash's exact rotations and flips
// (coefficient signs and transposes, no median noise) into the orbit of
// the original's chunk, except chunk 11 under the flips.
func TestLayoutPermutes(t *testing.T) {
	l := newPDQLayout()
	var used [256]bool
	for _, p := range l.pos {
		if used[p] {
			t.Fatalf("bit %d used twice", p)
		}
		used[p] = true
	}
	rng := rand.New(rand.NewPCG(31, 32))
	bit := func(h [4]uint64, i, j int) uint64 { k := 16*i + j; return h[k/64] >> (k % 64) & 1 }
	for range 200 {
		var h, g [4]uint64
		for w := range h {
			h[w], g[w] = rng.Uint64(), rng.Uint64()
		}
		ph, pg := l.permute(h[:]), l.permute(g[:])
		if dist(ph[:], pg[:]) != dist(h[:], g[:]) {
			t.Fatal("distance changed")
		}
		if ph != [4]uint64(l.permuteAll(h[:])) {
			t.Fatal("permute and permuteAll differ")
		}
		// transposed and flipped copies: v(i,j) = h(j,i) ^ [i even]
		for _, tr := range []bool{false, true} {
			for _, fx := range []bool{false, true} {
				for _, fy := range []bool{false, true} {
					var v [4]uint64
					for i := 0; i < 16; i++ {
						for j := 0; j < 16; j++ {
							b := bit(h, i, j)
							if tr {
								b = bit(h, j, i)
							}
							if fx && i%2 == 0 {
								b ^= 1
							}
							if fy && j%2 == 0 {
								b ^= 1
							}
							k := 16*i + j
							v[k/64] |= b << (k % 64)
						}
					}
					pv := l.permute(v[:])
					for c := 0; c < 16; c++ {
						a, b := uint32(ph[c/4]>>(16*(c%4))&0xffff), uint32(pv[c/4]>>(16*(c%4))&0xffff)
						if slot(a)/8 != slot(b)/8 && (c != 11 || tr && !fx && !fy) {
							t.Fatalf("chunk %d (tr %v fx %v fy %v): %#x and %#x in different orbits", c, tr, fx, fy, a, b)
						}
					}
				}
			}
		}
	}
}

// TestOrbitMove: for every map of the orbit and random keys, moveSlot
// of k's slot is the slot of σ(k), and orbitMove finds a σ exactly when
// the two keys share an orbit.
func TestOrbitMove(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for range 20000 {
		k := uint32(rng.IntN(1 << 16))
		if rng.IntN(8) == 0 {
			k = k&0xff | (k&0xff^uint32(0xff*rng.IntN(2)))<<8 // a == b orbits
		}
		sw := rng.IntN(2)
		to := k
		if sw == 1 {
			to = (k>>8 | k<<8) & 0xffff
		}
		to ^= uint32(0xff*rng.IntN(2)) | uint32(0xff00*rng.IntN(2))
		mv, ok := orbitMove(k, to)
		if !ok {
			t.Fatalf("%#x -> %#x: no move found", k, to)
		}
		// The ball of k maps onto the ball of to (not element by element:
		// another σ than the test's may map k to to).
		var got, want []uint32
		for _, f := range appendBall(nil, 0, 16, 2) {
			got = append(got, moveSlot(slot(k^f), mv))
			want = append(want, slot(to^f))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%#x -> %#x: moved ball slots differ", k, to)
		}
		o := uint32(rng.IntN(1 << 16))
		so, sk := slot(o), slot(k)
		same := so>>3 == sk>>3
		if sk >= 65024 {
			same = so>>2 == sk>>2
		}
		if _, ok := orbitMove(k, o); ok != same {
			t.Fatalf("%#x, %#x: move found %v, same orbit %v", k, o, ok, same)
		}
	}
}

// TestMoveConstants: the packed moves are those the slot codes imply
// (see orbitMove).
func TestMoveConstants(t *testing.T) {
	pack := func(sw, cx, cy uint32) uint32 {
		var mv uint32
		for c := uint32(0); c < 8; c++ {
			fx, fy, s := c&1, c>>1&1, c>>2
			if sw == 1 {
				fx, fy, s = fy, fx, s^1
			}
			mv |= (fx ^ cx | (fy^cy)<<1 | s<<2) << (3 * c)
			if c < 4 {
				mv |= (fx ^ cx | (fy^cy)<<1) << (24 + 2*c)
			}
		}
		return mv
	}
	if identityMove != pack(0, 0, 0) || swapMove != pack(1, 0, 0) ||
		flipLowMove != pack(0, 1, 0)^pack(0, 0, 0) || flipHighMove != pack(0, 0, 1)^pack(0, 0, 0) {
		t.Fatal("move constants disagree with the slot codes")
	}
}

// TestPermuteBits: permute (nibble tables) sends each caller bit k, alone
// and with every other bit set, to index bit pos[k].
func TestPermuteBits(t *testing.T) {
	l := newPDQLayout()
	for k := 0; k < 256; k++ {
		var h, all [4]uint64
		h[k/64] = 1 << (k % 64)
		for w := range all {
			all[w] = ^h[w]
		}
		var want [4]uint64
		p := l.pos[k]
		want[p/64] = 1 << (p % 64)
		if got := l.permute(h[:]); got != want {
			t.Fatalf("bit %d: got %x, want %x", k, got, want)
		}
		if got := l.permute(all[:]); got != [4]uint64{^want[0], ^want[1], ^want[2], ^want[3]} {
			t.Fatalf("all bits but %d: got %x", k, got)
		}
	}
}
