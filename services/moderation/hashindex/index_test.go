package hashindex

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

func linear64(hs []uint64, q uint64, r int) []Result {
	var out []Result
	for i, h := range hs {
		if d := bits.OnesCount64(h ^ q); d <= r {
			out = append(out, Result{ID: uint32(i), Distance: d})
		}
	}
	return out
}

func linear256(hs [][4]uint64, q [4]uint64, r int) []Result {
	var out []Result
	for i, h := range hs {
		if d := dist(h[:], q[:]); d <= r {
			out = append(out, Result{ID: uint32(i), Distance: d})
		}
	}
	return out
}

func sorted(rs []Result) []Result {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Result) int { return int(a.ID) - int(b.ID) })
	return rs
}

// near flips k random bits of h.
func near64(rng *rand.Rand, h uint64, k int) uint64 {
	for _, b := range rng.Perm(64)[:k] {
		h ^= 1 << b
	}
	return h
}

func near256(rng *rand.Rand, h [4]uint64, k int) [4]uint64 {
	for _, b := range rng.Perm(256)[:k] {
		h[b/64] ^= 1 << (b % 64)
	}
	return h
}

// TestSearchMatchesLinearScan is the exactness property: on random data
// with planted near neighbours at every distance, the index returns exactly
// what a linear scan returns, for many chunk counts and radii, with and
// without an unbuilt tail.
func TestSearchMatchesLinearScan64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 50, 3000, 20000} {
		hs := make([]uint64, n)
		for i := range hs {
			if i > 0 && rng.IntN(3) == 0 {
				hs[i] = near64(rng, hs[rng.IntN(i)], rng.IntN(16))
			} else {
				hs[i] = rng.Uint64()
			}
		}
		for _, m := range []int{0, 3, 4, 5, 8} {
			for _, simd := range simdModes() {
				x, err := New64(hs[:n/2], nil, Options{Chunks: m})
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]uint32, n-n/2)
				for i := range ids {
					ids[i] = uint32(n/2 + i)
				}
				x, err = x.Add64(hs[n/2:], ids)
				if err != nil {
					t.Fatal(err)
				}
				if x.Len() != n {
					t.Fatalf("Len %d want %d", x.Len(), n)
				}
				x.simd = simd
				for range 30 {
					var q uint64
					if n > 0 && rng.IntN(2) == 0 {
						q = near64(rng, hs[rng.IntN(n)], rng.IntN(14))
					} else {
						q = rng.Uint64()
					}
					for _, r := range []int{0, 1, 5, 8, 10, 12, 20} {
						got := sorted(x.Search64(nil, q, r))
						want := linear64(hs, q, r)
						if !slices.Equal(got, want) {
							t.Fatalf("n=%d m=%d r=%d simd=%v: got %v want %v", n, m, r, simd, got, want)
						}
					}
				}
			}
		}
	}
}

// simdModes lists the filter paths this machine can run: the pure-Go one
// always, the AVX2 one where the CPU has it.
func simdModes() []bool {
	if haveAVX2() {
		return []bool{false, true}
	}
	return []bool{false}
}

// TestSearchBigBuckets64 checks both filter paths where buckets are large
// and uneven (0 to ~100 entries: the AVX2 kernel's first 24 entries, its
// eight-at-a-time tail, and every length in between) and full of near
// duplicates, so signatures pass at every position of a bucket.
func TestSearchBigBuckets64(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n = 60_000
	var pool [4][]uint64
	for c := range pool {
		for range 1500 {
			pool[c] = append(pool[c], rng.Uint64()&0xffff)
		}
	}
	hs := make([]uint64, n)
	for i := range hs {
		switch {
		case i > 0 && rng.IntN(3) == 0:
			hs[i] = near64(rng, hs[rng.IntN(i)], rng.IntN(10))
		case rng.IntN(4) == 0:
			hs[i] = rng.Uint64()
		default:
			for c := range pool {
				hs[i] |= pool[c][rng.IntN(len(pool[c]))] << (16 * c)
			}
		}
	}
	x, err := New64(hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		q := near64(rng, hs[rng.IntN(n)], rng.IntN(12))
		for _, r := range []int{0, 3, 7, 8, 10} {
			want := linear64(hs, q, r)
			for _, simd := range simdModes() {
				x.simd = simd
				if got := sorted(x.Search64(nil, q, r)); !slices.Equal(got, want) {
					t.Fatalf("r=%d simd=%v: got %d results want %d", r, simd, len(got), len(want))
				}
			}
		}
	}
}

func TestSearchMatchesLinearScan256(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 10, 5000, 30000} {
		hs := make([][4]uint64, n)
		for i := range hs {
			if i > 0 && rng.IntN(3) == 0 {
				hs[i] = near256(rng, hs[rng.IntN(i)], rng.IntN(50))
			} else {
				hs[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
			}
		}
		for _, m := range []int{0, 12, 16, 20, 32} {
			x, err := New256(hs, nil, Options{Chunks: m})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				// Both fingerprint filters: AVX2 (where the CPU has it)
				// and the SWAR one that purego and other platforms run.
				x.simd = haveAVX2() && i%2 == 0
				var q [4]uint64
				if n > 0 && rng.IntN(2) == 0 {
					q = near256(rng, hs[rng.IntN(n)], rng.IntN(40))
				} else {
					q = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
				}
				for _, r := range []int{0, 7, 16, 31, 32, 45} {
					got := sorted(x.Search256(nil, q, r))
					want := linear256(hs, q, r)
					if !slices.Equal(got, want) {
						t.Fatalf("n=%d m=%d r=%d: got %d results want %d", n, m, r, len(got), len(want))
					}
				}
			}
		}
	}
}

func TestSearchMany(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	hs := make([][4]uint64, 2000)
	for i := range hs {
		hs[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	x, _ := New256(hs, nil, Options{})
	qs := [][4]uint64{near256(rng, hs[7], 10), near256(rng, hs[7], 3), near256(rng, hs[9], 20), hs[9]}
	got := x.SearchMany256(nil, qs, 31)
	want := []Result{{ID: 7, Distance: 3, Query: 1}, {ID: 9, Distance: 0, Query: 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestAddRebuilds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, _ := New64(nil, nil, Options{TailMax: 100})
	var all []uint64
	for i := 0; i < 1000; i++ {
		h := rng.Uint64()
		all = append(all, h)
		y, err := x.Add64([]uint64{h}, []uint32{uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != i {
			t.Fatal("Add mutated the receiver")
		}
		x = y
	}
	if len(x.tailID) > 100 {
		t.Fatalf("tail %d never rebuilt", len(x.tailID))
	}
	for i, h := range all {
		if rs := x.Search64(nil, h, 0); len(rs) != 1 || rs[0].ID != uint32(i) {
			t.Fatalf("hash %d: %v", i, rs)
		}
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New256(nil, nil, Options{Chunks: 6}); err == nil {
		t.Error("6 chunks of 256 bits accepted")
	}
	if _, err := New64(nil, nil, Options{Chunks: 2}); err == nil {
		t.Error("32-bit chunks accepted")
	}
	if _, err := New64([]uint64{1}, []uint32{1, 2}, Options{}); err == nil {
		t.Error("id count mismatch accepted")
	}
}

// TestSearchManyMatchesLinearScan: several queries in one call, on sets
// large enough for the indexed path (not the small-set linear fallback),
// return each stored hash within radius of any query once, at its smallest
// distance, with the first query at that distance.
func TestSearchManyMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 60000 // above the linear fallback for 3 queries
	hs, h64 := planted(rng, n)
	x256, _ := New256(hs, nil, Options{})
	x64, _ := New64(h64, nil, Options{})
	want := func(nq int, d func(i, j int) int, r int) []Result { return linearMany(n, nq, d, r) }
	for range 15 {
		nq := 2 + rng.IntN(2)
		qs := make([][4]uint64, nq)
		q64 := make([]uint64, nq)
		for j := range qs {
			qs[j] = near256(rng, hs[rng.IntN(n)], rng.IntN(36))
			q64[j] = near64(rng, h64[rng.IntN(n)], rng.IntN(10))
		}
		got := x256.SearchMany256(nil, qs, 31)
		exp := want(nq, func(i, j int) int { return dist(hs[i][:], qs[j][:]) }, 31)
		if !slices.Equal(got, exp) {
			t.Fatalf("256: got %v want %v", got, exp)
		}
		got = x64.SearchMany64(nil, q64, 8)
		exp = want(nq, func(i, j int) int { return bits.OnesCount64(h64[i] ^ q64[j]) }, 8)
		if !slices.Equal(got, exp) {
			t.Fatalf("64: got %v want %v", got, exp)
		}
	}
}

// TestBaselinesMatchLinearScan: the benchmark's tuned scans return what
// the plain ones do, odd lengths included.
func TestBaselinesMatchLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 7, 8, 9, 1001} {
		hs := make([]uint64, n)
		h4 := make([][4]uint64, n)
		var flat []uint64
		for i := range hs {
			hs[i] = rng.Uint64() & rng.Uint64()
			h4[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64() & rng.Uint64()}
			flat = append(flat, h4[i][:]...)
		}
		for _, r := range []int{0, 20, 32, 64} {
			if got, want := linearScan64(nil, hs, 0, r), linear64(hs, 0, r); !slices.Equal(got, want) {
				t.Fatalf("64 n=%d r=%d: got %v want %v", n, r, got, want)
			}
			if got, want := linearScan256(nil, flat, [4]uint64{}, 4*r), linear256(h4, [4]uint64{}, 4*r); !slices.Equal(got, want) {
				t.Fatalf("256 n=%d r=%d: got %v want %v", n, r, got, want)
			}
		}
	}
}

// TestSearchManyDihedral: eight queries in one call (the dihedral case:
// one near a stored hash, the others near other stored hashes or random),
// on sets large enough that eight queries still take the indexed path,
// return exactly the union of eight linear scans, each hash once at its
// smallest distance.
func TestSearchManyDihedral(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const n = 150_000
	hs, h64 := planted(rng, n)
	x256, _ := New256(hs, nil, Options{})
	x64, _ := New64(h64, nil, Options{})
	for _, x := range []*Index{x256, x64} {
		var p plan
		r := 8
		if x.words == 4 {
			r = 31
		}
		x.makePlan(&p, make([]uint64, 8*x.words), 8, r)
		if 8*p.probes(x)*64 >= n {
			t.Fatalf("%d-bit: eight queries would take the linear path", x.Bits())
		}
	}
	want := func(nq int, d func(i, j int) int, r int) []Result { return linearMany(n, nq, d, r) }
	for range 6 {
		qs := make([][4]uint64, 8)
		q64 := make([]uint64, 8)
		for j := range qs {
			if j == 0 || rng.IntN(2) == 0 {
				qs[j] = near256(rng, hs[rng.IntN(n)], rng.IntN(36))
				q64[j] = near64(rng, h64[rng.IntN(n)], rng.IntN(10))
			} else {
				qs[j] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
				q64[j] = rng.Uint64()
			}
		}
		got := x256.SearchMany256(nil, qs, 31)
		exp := want(8, func(i, j int) int { return dist(hs[i][:], qs[j][:]) }, 31)
		if !slices.Equal(got, exp) {
			t.Fatalf("256: got %v want %v", got, exp)
		}
		got = x64.SearchMany64(nil, q64, 8)
		exp = want(8, func(i, j int) int { return bits.OnesCount64(h64[i] ^ q64[j]) }, 8)
		if !slices.Equal(got, exp) {
			t.Fatalf("64: got %v want %v", got, exp)
		}
	}
}

// TestSearchAllocs: a query allocates nothing once its scratch is warm.
func TestSearchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	hs := make([]uint64, 50_000)
	h4 := make([][4]uint64, 50_000)
	for i := range hs {
		hs[i] = rng.Uint64()
		h4[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	x64, _ := New64(hs, nil, Options{})
	x256, _ := New256(h4, nil, Options{})
	buf := make([]Result, 0, 64)
	qs := make([][4]uint64, 8)
	for j := range qs {
		qs[j] = near256(rng, h4[j], 10)
	}
	q64 := near64(rng, hs[7], 5)
	for name, f := range map[string]func(){
		"Search64":      func() { buf = x64.Search64(buf[:0], q64, 8) },
		"Search256":     func() { buf = x256.Search256(buf[:0], qs[0], 31) },
		"SearchMany256": func() { buf = x256.SearchMany256(buf[:0], qs, 31) },
	} {
		f()
		if a := testing.AllocsPerRun(50, f); a > 0 {
			t.Errorf("%s: %.1f allocations per query", name, a)
		}
	}
}

// linearMany is SearchMany by linear scan: every id within r of one of nq
// queries, at its best distance and the first query reaching it, by id.
func linearMany(n, nq int, d func(i, j int) int, r int) []Result {
	var out []Result
	for i := 0; i < n; i++ {
		bd, bq := 1<<30, 0
		for j := 0; j < nq; j++ {
			if dd := d(i, j); dd < bd {
				bd, bq = dd, j
			}
		}
		if bd <= r {
			out = append(out, Result{ID: uint32(i), Distance: bd, Query: bq})
		}
	}
	return out
}

// planted returns n random 256-bit and n random 64-bit hashes, a third of
// them near an earlier one (within 40 and 12 bits), so that queries near
// stored hashes have several answers.
func planted(rng *rand.Rand, n int) ([][4]uint64, []uint64) {
	hs := make([][4]uint64, n)
	h64 := make([]uint64, n)
	for i := range hs {
		if i > 0 && rng.IntN(3) == 0 {
			hs[i] = near256(rng, hs[rng.IntN(i)], rng.IntN(40))
			h64[i] = near64(rng, h64[rng.IntN(i)], rng.IntN(12))
		} else {
			hs[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
			h64[i] = rng.Uint64()
		}
	}
	return hs, h64
}

// TestRunLayout pins the fields of run that the assembly kernels read.
func TestRunLayout(t *testing.T) {
	var r run
	got := [5]uintptr{unsafe.Offsetof(r.lo), unsafe.Offsetof(r.hi), unsafe.Offsetof(r.q), unsafe.Offsetof(r.d), unsafe.Sizeof(r)}
	if got != [5]uintptr{0, 4, 13, 14, 16} {
		t.Fatalf("run layout %v: update filter_amd64.s", got)
	}
}

// TestGroupLayout pins the fields of group that the assembly kernels read.
func TestGroupLayout(t *testing.T) {
	var g group
	got := [4]uintptr{unsafe.Offsetof(g.mv), unsafe.Offsetof(g.pk), unsafe.Offsetof(g.tq), unsafe.Offsetof(g.n)}
	if got != [4]uintptr{0, 32, 64, 96} {
		t.Fatalf("group layout %v: update filter_amd64.s", got)
	}
}
