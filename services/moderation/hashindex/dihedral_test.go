package hashindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactVariants returns the eight dihedral transforms of h with no median
// noise (each negated coefficient's bit flipped, transposes exact), in
// imagehash.Dihedral order: original, rotate 90, 180, 270, flip x, flip y,
// transpose, anti-transpose.
func exactVariants(h [4]uint64) [8][4]uint64 {
	bit := func(i, j int) uint64 { k := 16*i + j; return h[k/64] >> (k % 64) & 1 }
	var out [8][4]uint64
	for v := range out {
		for i := 0; i < 16; i++ {
			for j := 0; j < 16; j++ {
				var b uint64
				switch v {
				case 0:
					b = bit(i, j)
				case 1: // rotate 90: transpose of flip y
					b = bit(j, i) ^ uint64(1-i%2)
				case 2:
					b = bit(i, j) ^ uint64((i+j)%2)
				case 3: // rotate 270: transpose of flip x
					b = bit(j, i) ^ uint64(1-j%2)
				case 4:
					b = bit(i, j) ^ uint64(1-i%2)
				case 5:
					b = bit(i, j) ^ uint64(1-j%2)
				case 6:
					b = bit(j, i)
				case 7:
					b = bit(j, i) ^ uint64((i+j)%2)
				}
				k := 16*i + j
				out[v][k/64] |= b << (k % 64)
			}
		}
	}
	return out
}

// TestExactVariantsMatchPDQDihedral: exactVariants is PDQDihedral up to
// median noise (a few bits), so tests on it exercise the structure real
// queries have.
func TestExactVariantsMatchPDQDihedral(t *testing.T) {
	for _, v := range syntheticVariants(rand.New(rand.NewPCG(41, 42)), 20) {
		ex := exactVariants(v[0])
		for k := range v {
			if d := dist(ex[k][:], v[k][:]); d > 40 {
				t.Fatalf("variant %d: %d bits from the exact transform", k, d)
			}
		}
	}
}

// TestSearchManyRealVariants is the exactness property for structured
// queries: the eight dihedral hashes of real photos and synthetic images
// (PDQDihedral), and the exact transforms of random hashes, over a bank
// with near copies of them (some rotated or flipped) and of each other,
// answered in one call, return exactly what a linear scan of the eight
// returns; so do single queries of each variant. Both filter paths, with
// and without an unbuilt tail.
func TestSearchManyRealVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	sets := photoVariants(t)
	sets = append(sets, syntheticVariants(rng, 60)...)
	for range 30 {
		sets = append(sets, exactVariants([4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}))
	}
	const n = 150_000 // eight queries still take the indexed path
	hs, _ := planted(rng, n)
	for i, v := range sets {
		for c := 0; c < 6; c++ {
			hs[rng.IntN(n)] = near256(rng, v[rng.IntN(8)], rng.IntN(40))
		}
		if i%3 == 0 {
			hs[rng.IntN(n)] = v[rng.IntN(8)]
		}
	}
	half := n - 3000
	base, err := New256(hs[:half], nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uint32, n-half)
	for i := range ids {
		ids[i] = uint32(half + i)
	}
	tailed, err := base.Add256(hs[half:], ids)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := New256(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for si, v := range sets {
		for xi, x := range []*Index{whole, tailed} {
			if n := checkMany256(t, x, hs, v[:], fmt.Sprintf("set %d index %d", si, xi)); xi == 0 {
				found += n
			}
			for _, simd := range simdModes() {
				x.simd = simd
				if si%4 == 0 {
					for k := range v {
						for _, r := range []int{0, 10, 31} {
							if got, w := sorted(x.Search256(nil, v[k], r)), linear256(hs, v[k], r); !slices.Equal(got, w) {
								t.Fatalf("set %d variant %d r %d simd %v: got %v want %v", si, k, r, simd, got, w)
							}
						}
					}
				}
			}
		}
	}
	if found < len(sets) {
		t.Fatalf("only %d answers over %d sets: the planted copies are not exercised", found, len(sets))
	}
}

// TestSearchBigBuckets256: buckets far over the AVX2 kernel's first 32
// entries, full of near duplicates, so fingerprints pass at every position
// (both filter paths, against a linear scan).
func TestSearchBigBuckets256(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	bases := random256(rng, 40)
	hs := make([][4]uint64, 20000)
	for i := range hs {
		hs[i] = near256(rng, bases[rng.IntN(len(bases))], rng.IntN(12))
	}
	x, err := New256(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		q := near256(rng, bases[rng.IntN(len(bases))], rng.IntN(30))
		for _, simd := range simdModes() {
			x.simd = simd
			for _, r := range []int{3, 20, 31} {
				if got, want := sorted(x.Search256(nil, q, r)), linear256(hs, q, r); !slices.Equal(got, want) {
					t.Fatalf("r %d simd %v: got %d results want %d", r, simd, len(got), len(want))
				}
			}
		}
	}
}

// TestDuplicateProbes: queries that agree on a table's chunk pair (so the
// later ones skip that table's probes) still each report what a linear
// scan does, including identical queries and the exact flips of one hash.
func TestDuplicateProbes(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	const n = 150_000
	hs, _ := planted(rng, n)
	x, err := New256(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		h := hs[rng.IntN(n)]
		ex := exactVariants(near256(rng, h, rng.IntN(20)))
		for _, qs := range [][][4]uint64{
			{h, h, h},
			{near256(rng, h, 5), h, near256(rng, h, 5), h, ex[2], ex[4], ex[5]},
			ex[:],
		} {
			want := linearMany(n, len(qs), func(i, j int) int { return dist(hs[i][:], qs[j][:]) }, 31)
			if got := x.SearchMany256(nil, qs, 31); !slices.Equal(got, want) {
				t.Fatalf("got %v want %v", got, want)
			}
		}
	}
}

// TestMovedProbes: queries whose chunk keys (in the index's bit order) are
// byte swaps and complements of query 0's, some with a few bits of noise,
// some in four-key orbits (equal bytes), so that most (table, query) pairs
// read query 0's slots moved within their orbits; over a bank with near
// copies of every query, one call returns exactly a linear scan's answer,
// on both gather paths, and each query alone too.
func TestMovedProbes(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	const n = 150_000
	hs, _ := planted(rng, n)
	lay := newPDQLayout()
	var from [256]int // caller bit of each index bit
	for k, p := range lay.pos {
		from[p] = k
	}
	unpermute := func(o [4]uint64) [4]uint64 {
		var h [4]uint64
		for p := 0; p < 256; p++ {
			if o[p/64]>>(p%64)&1 != 0 {
				k := from[p]
				h[k/64] |= 1 << (k % 64)
			}
		}
		return h
	}
	var sets [][8][4]uint64
	for range 24 {
		var o [4]uint64
		for w := range o {
			o[w] = rng.Uint64()
		}
		for c := 0; c < 16; c++ {
			if rng.IntN(4) == 0 { // a four-key orbit: bytes equal or complementary
				w, sh := c/4, 16*(c%4)
				lo := o[w] >> sh & 0xff
				hi := lo ^ uint64(0xff*rng.IntN(2))
				o[w] = o[w]&^(0xffff<<sh) | (lo|hi<<8)<<sh
			}
		}
		var v [8][4]uint64
		for j := range v {
			var q [4]uint64
			for c := 0; c < 16; c++ {
				w, sh := c/4, 16*(c%4)
				k := o[w] >> sh & 0xffff
				if j > 0 {
					if rng.IntN(2) == 0 {
						k = (k>>8 | k<<8) & 0xffff
					}
					k ^= uint64(0xff*rng.IntN(2)) | uint64(0xff00*rng.IntN(2))
					if rng.IntN(8) == 0 {
						k ^= 1 << rng.IntN(16)
					}
				}
				q[w] |= k << sh
			}
			v[j] = unpermute(q)
		}
		sets = append(sets, v)
		for c := 0; c < 10; c++ {
			hs[rng.IntN(n)] = near256(rng, v[rng.IntN(8)], rng.IntN(36))
		}
	}
	x, err := New256(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for si, v := range sets {
		found += checkMany256(t, x, hs, v[:], fmt.Sprintf("set %d", si))
		for _, simd := range simdModes() {
			x.simd = simd
			for k := range v {
				if got, w := sorted(x.Search256(nil, v[k], 31)), linear256(hs, v[k], 31); !slices.Equal(got, w) {
					t.Fatalf("set %d variant %d simd %v: got %v want %v", si, k, simd, got, w)
				}
			}
		}
	}
	if found < len(sets) {
		t.Fatalf("only %d answers over %d sets", found, len(sets))
	}
}

// TestSearchManyBigBuckets: eight variants (exact transforms, so most
// (table, query) pairs are moved members of a group) over buckets far
// over 32 entries, full of near duplicates, so fingerprints pass at every
// position of a bucket, through filterGroup's windows and its sixteen-at-
// a-time tail: one call returns exactly a linear scan's answer, on both
// filter paths.
func TestSearchManyBigBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	bases := random256(rng, 40)
	const n = 160_000 // eight queries still take the indexed path
	hs := make([][4]uint64, n)
	for i := range hs {
		b := bases[rng.IntN(len(bases))]
		if rng.IntN(2) == 0 {
			b = exactVariants(b)[rng.IntN(8)]
		}
		hs[i] = near256(rng, b, rng.IntN(12))
	}
	x, err := New256(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		qs := exactVariants(near256(rng, bases[rng.IntN(len(bases))], rng.IntN(20)))
		checkMany256(t, x, hs, qs[:], "exact variants")
	}
}

// random256 returns n random 256-bit hashes.
func random256(rng *rand.Rand, n int) [][4]uint64 {
	hs := make([][4]uint64, n)
	for i := range hs {
		hs[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	return hs
}

// checkMany256 checks that one SearchMany256 call with qs at radius 31
// returns exactly a linear scan's answer on both filter paths, and
// returns how many results that is.
func checkMany256(t *testing.T, x *Index, hs, qs [][4]uint64, what string) int {
	t.Helper()
	want := linearMany(len(hs), len(qs), func(i, j int) int { return dist(hs[i][:], qs[j][:]) }, 31)
	for _, simd := range simdModes() {
		x.simd = simd
		if got := x.SearchMany256(nil, qs, 31); !slices.Equal(got, want) {
			t.Fatalf("%s simd %v: got %d results %v want %d %v", what, simd, len(got), got, len(want), want)
		}
	}
	return len(want)
}
