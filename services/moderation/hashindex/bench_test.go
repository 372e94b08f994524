package hashindex

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// linearScan64 is the baseline: bits.OnesCount64 over a flat slice,
// unrolled eight ways with one branch per eight hashes (their minimum
// distance), no bounds checks in the loop and no early exit. On the dev
// machine (GOAMD64=v1) this is 1.3–1.4× faster than the plain range loop
// (4-way unrolled: 1.3×; an AND of sign bits instead of min: slower).
func linearScan64(dst []Result, hs []uint64, q uint64, r int) []Result {
	n := len(hs) &^ 7
	for i := 0; i < n; i += 8 {
		h := hs[i : i+8 : i+8]
		d0 := bits.OnesCount64(h[0] ^ q)
		d1 := bits.OnesCount64(h[1] ^ q)
		d2 := bits.OnesCount64(h[2] ^ q)
		d3 := bits.OnesCount64(h[3] ^ q)
		d4 := bits.OnesCount64(h[4] ^ q)
		d5 := bits.OnesCount64(h[5] ^ q)
		d6 := bits.OnesCount64(h[6] ^ q)
		d7 := bits.OnesCount64(h[7] ^ q)
		if min(d0, d1, d2, d3, d4, d5, d6, d7) <= r {
			for j, d := range [8]int{d0, d1, d2, d3, d4, d5, d6, d7} {
				if d <= r {
					dst = append(dst, Result{ID: uint32(i + j), Distance: d})
				}
			}
		}
	}
	for i := n; i < len(hs); i++ {
		if d := bits.OnesCount64(hs[i] ^ q); d <= r {
			dst = append(dst, Result{ID: uint32(i), Distance: d})
		}
	}
	return dst
}

// linearScan256 is the baseline for PDQ: four popcounts per hash over a
// flat []uint64, two hashes per iteration with one branch for both, the
// query in registers, bounds checks hoisted (7–10% faster than one hash per
// iteration).
func linearScan256(dst []Result, flat []uint64, q [4]uint64, r int) []Result {
	n := len(flat) / 4
	n2 := n &^ 1
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	for i := 0; i < n2; i += 2 {
		h := flat[4*i : 4*i+8 : 4*i+8]
		d0 := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) + bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		d1 := bits.OnesCount64(h[4]^q0) + bits.OnesCount64(h[5]^q1) + bits.OnesCount64(h[6]^q2) + bits.OnesCount64(h[7]^q3)
		if min(d0, d1) <= r {
			if d0 <= r {
				dst = append(dst, Result{ID: uint32(i), Distance: d0})
			}
			if d1 <= r {
				dst = append(dst, Result{ID: uint32(i + 1), Distance: d1})
			}
		}
	}
	for i := n2; i < n; i++ {
		h := flat[4*i : 4*i+4 : 4*i+4]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) + bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		if d <= r {
			dst = append(dst, Result{ID: uint32(i), Distance: d})
		}
	}
	return dst
}

type data64 struct {
	hs      []uint64
	queries []uint64
}

func gen64(n, nq, r int) data64 {
	rng := rand.New(rand.NewPCG(11, uint64(n)))
	d := data64{hs: make([]uint64, n)}
	for i := range d.hs {
		d.hs[i] = rng.Uint64()
	}
	// Half the queries are near-duplicates of stored hashes (distance ≤ r),
	// half random (the common case: an image that is in no bank).
	for i := 0; i < nq; i++ {
		if i%2 == 0 {
			d.queries = append(d.queries, near64(rng, d.hs[rng.IntN(n)], rng.IntN(r+1)))
		} else {
			d.queries = append(d.queries, rng.Uint64())
		}
	}
	return d
}

type data256 struct {
	hs      [][4]uint64
	flat    []uint64
	queries [][4]uint64
}

func gen256(n, nq int) data256 {
	rng := rand.New(rand.NewPCG(13, uint64(n)))
	d := data256{hs: make([][4]uint64, n)}
	for i := range d.hs {
		// 1 in 100 is a planted near-duplicate of an earlier hash.
		if i > 0 && i%100 == 0 {
			d.hs[i] = near256(rng, d.hs[rng.IntN(i)], 5+rng.IntN(20))
		} else {
			d.hs[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
		}
	}
	for _, h := range d.hs {
		d.flat = append(d.flat, h[:]...)
	}
	for i := 0; i < nq; i++ {
		if i%2 == 0 {
			d.queries = append(d.queries, near256(rng, d.hs[rng.IntN(n)], rng.IntN(32)))
		} else {
			d.queries = append(d.queries, [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()})
		}
	}
	return d
}

func BenchmarkSearch64R8(b *testing.B) {
	d := gen64(1<<20, 1024, 8)
	x, _ := New64(d.hs, nil, Options{})
	var buf []Result
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		buf = x.Search64(buf[:0], d.queries[i%len(d.queries)], 8)
	}
}

func BenchmarkSearch256R31(b *testing.B) {
	d := gen256(1<<20, 1024)
	x, _ := New256(d.hs, nil, Options{})
	var buf []Result
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		buf = x.Search256(buf[:0], d.queries[i%len(d.queries)], 31)
	}
}

func heapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func ratioLine(name string, o, bl float64) {
	fmt.Printf("BENCH %s %.0f queries/s vs linear-scan %.0f queries/s ratio %.1f\n", name, 1e9/o, 1e9/bl, bl/o)
}

// duel times a and b (f(i) runs query i) alternately, in rounds of about
// 150 ms each, and returns each one's best ns per call. The dev machine is
// shared and noisy: alternating short rounds and keeping the best exposes
// both contenders to the same neighbours.
func duel(rounds int, a, b func(i int)) (float64, float64) {
	calib := func(f func(int)) int {
		start, n := time.Now(), 0
		for time.Since(start) < 30*time.Millisecond {
			f(n)
			n++
		}
		return max(1, int(float64(n)*150e6/float64(time.Since(start))))
	}
	na, nb := calib(a), calib(b)
	best := [2]float64{math.Inf(1), math.Inf(1)}
	k := 0
	for r := 0; r < rounds; r++ {
		for j, f := range []func(int){a, b} {
			n := na
			if j == 1 {
				n = nb
			}
			start := time.Now()
			for i := 0; i < n; i++ {
				f(k)
				k++
			}
			best[j] = min(best[j], float64(time.Since(start).Nanoseconds())/float64(n))
		}
	}
	return best[0], best[1]
}

// TestBenchIndex prints BENCH lines comparing the index with a tuned linear
// scan over 1,000,000 hashes in the same process. Runs only with
// VIGIL_BENCH=1.
func TestBenchIndex(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1")
	}
	const n = 1_000_000
	for _, r := range []int{8, 12} {
		d := gen64(n, 4096, r)
		before := heapBytes()
		start := time.Now()
		x, err := New64(d.hs, nil, Options{Chunks: benchChunks64()})
		if err != nil {
			t.Fatal(err)
		}
		build := time.Since(start)
		mem := heapBytes() - before
		// Check exactness on the benchmark queries while we are here.
		for _, q := range d.queries[:64] {
			if len(x.Search64(nil, q, r)) != len(linearScan64(nil, d.hs, q, r)) {
				t.Fatal("index and scan disagree")
			}
		}
		var buf []Result
		ours, base := duel(7,
			func(i int) { buf = x.Search64(buf[:0], d.queries[i%len(d.queries)], r) },
			func(i int) { buf = linearScan64(buf[:0], d.hs, d.queries[i%len(d.queries)], r) })
		ratioLine(fmt.Sprintf("hashindex/64bit-1M-r%d", r), ours, base)
		if r == 8 {
			fmt.Printf("BENCH hashindex/64bit-1M-build %.3f s\n", build.Seconds())
			fmt.Printf("BENCH hashindex/64bit-1M-memory %.1f MB (raw hashes %.1f MB, ratio %.2f; %d tables)\n",
				float64(mem)/1e6, float64(8*n)/1e6, float64(mem)/float64(8*n), len(x.tables))
		}
		runtime.KeepAlive(x)
	}

	d := gen256(n, 4096)
	// Real dihedral variants (imagehash.PDQDihedral of the reference
	// photos, then of random synthetic images), each original planted in
	// the bank within 0–15 bits, and for half of them a rotated or flipped
	// copy too, so that the eight-variant queries have answers.
	vrng := rand.New(rand.NewPCG(29, 31))
	vsets := photoVariants(t)
	vsets = append(vsets, syntheticVariants(vrng, 512-len(vsets))...)
	for i, v := range vsets {
		d.hs[1000*i+1] = near256(vrng, v[0], vrng.IntN(16))
		if i%2 == 0 {
			d.hs[1000*i+2] = near256(vrng, v[1+vrng.IntN(7)], vrng.IntN(16))
		}
	}
	d.flat = d.flat[:0]
	for _, h := range d.hs {
		d.flat = append(d.flat, h[:]...)
	}
	before := heapBytes()
	start := time.Now()
	x, err := New256(d.hs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	build := time.Since(start)
	mem := heapBytes() - before
	hits := 0
	for _, q := range d.queries[:64] {
		got, want := len(x.Search256(nil, q, 31)), len(linearScan256(nil, d.flat, q, 31))
		if got != want {
			t.Fatal("index and scan disagree")
		}
		hits += got
	}
	if hits == 0 {
		t.Fatal("no planted near-duplicates found")
	}
	var buf []Result
	ours, base := duel(7,
		func(i int) { buf = x.Search256(buf[:0], d.queries[i%len(d.queries)], 31) },
		func(i int) { buf = linearScan256(buf[:0], d.flat, d.queries[i%len(d.queries)], 31) })
	ratioLine("hashindex/pdq-1M-r31", ours, base)
	fmt.Printf("BENCH hashindex/pdq-1M-build %.3f s\n", build.Seconds())
	fmt.Printf("BENCH hashindex/pdq-1M-memory %.1f MB (raw hashes %.1f MB, ratio %.2f; %d tables)\n",
		float64(mem)/1e6, float64(32*n)/1e6, float64(mem)/float64(32*n), len(x.tables))

	// The eight real dihedral variants of an image in one call vs its
	// original alone, on the same index.
	vhits := 0
	for i, v := range vsets[:16] {
		got := x.SearchMany256(nil, v[:], 31)
		want := linearMany(n, 8, func(i, j int) int { return dist(d.hs[i][:], v[j][:]) }, 31)
		if !slices.Equal(got, want) {
			t.Fatalf("variant set %d: index and scan disagree", i)
		}
		vhits += len(got)
	}
	if vhits == 0 {
		t.Fatal("no planted variant found")
	}
	dih, one := duel(9,
		func(i int) { buf = x.SearchMany256(buf[:0], vsets[i%len(vsets)][:], 31) },
		func(i int) { buf = x.Search256(buf[:0], vsets[i%len(vsets)][0], 31) })
	fmt.Printf("BENCH hashindex/pdq-1M-dihedral8 %.1f us/call vs single-query %.1f us/call ratio %.2f (cost of 8 = %.2fx one; %.0fx faster than one linear scan; real variants: PDQDihedral of %d images, %.1f answers per call)\n",
		dih/1e3, one/1e3, one/dih, dih/one, base/dih, len(vsets), float64(vhits)/16)

	// The same with seven random hashes as the "variants" (what this line
	// measured before real variants: nothing shared between the queries).
	rng := rand.New(rand.NewPCG(17, 19))
	var qs [][8][4]uint64
	for i := 0; i < 512; i++ {
		var v [8][4]uint64
		v[0] = d.queries[i]
		for k := 1; k < 8; k++ {
			v[k] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
		}
		qs = append(qs, v)
	}
	dih, one = duel(7,
		func(i int) { buf = x.SearchMany256(buf[:0], qs[i%len(qs)][:], 31) },
		func(i int) { buf = x.Search256(buf[:0], qs[i%len(qs)][0], 31) })
	fmt.Printf("BENCH hashindex/pdq-1M-dihedral8-unrelated %.1f us/call vs single-query %.1f us/call ratio %.2f (cost of 8 = %.2fx one; %.0fx faster than one linear scan)\n",
		dih/1e3, one/1e3, one/dih, dih/one, base/dih)
	runtime.KeepAlive(x)
}

func benchChunks64() int {
	if v := os.Getenv("VIGIL_BENCH_CHUNKS64"); v != "" {
		var m int
		fmt.Sscan(v, &m)
		return m
	}
	return 0
}
