//go:build !purego

package hashindex

import "unsafe"

// filterSigsAVX2 tests the buckets runs[:nruns] (all of one table) against
// their query signatures, eight entries per vector, and writes one triple
// (run index, first entry, entry bitmask) per group of entries with a
// signature within radius-d of the query's; it returns the number of
// uint32s written. sig must have 23 readable entries past its last bucket
// and out the room filterOut gives; qsig is &qsig[0][t].
//
//go:noescape
func filterSigsAVX2(sig *uint32, runs *run, nruns int, qsig *uint32, radius int, out *uint32) int

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() uint32

// haveAVX2 reports whether the CPU and OS support the AVX2, BMI1, BMI2
// and POPCNT instructions the assembly kernels use.
func haveAVX2() bool {
	max, _, _, _ := cpuid(0, 0)
	if max < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const popcnt, osxsave, avx = 1 << 23, 1 << 27, 1 << 28
	if c1&popcnt == 0 || c1&osxsave == 0 || c1&avx == 0 || xgetbv0()&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	const bmi1, avx2, bmi2 = 1 << 3, 1 << 5, 1 << 8
	return b7&bmi1 != 0 && b7&avx2 != 0 && b7&bmi2 != 0
}

// prefetchRuns issues a prefetch for the first and last cache line of
// each bucket (and the second, for 8-byte entries: shift 3) of runs,
// whose entries are 1<<shift bytes from base. Unlike loads, prefetches
// retire at once, so every miss of a query is in flight together.
//
//go:noescape
func prefetchRuns(base unsafe.Pointer, runs *run, nruns int, shift int)

// prefetchKeys prefetches off[k] for the n keys at keys (off: any uint32
// array, e.g. a table's pos at the filter's survivors).
//
//go:noescape
func prefetchKeys(off *uint32, keys *uint32, n int)

// havePrefetch: this platform has the prefetch kernels (SSE, so every
// amd64 CPU).
const havePrefetch = true

// prefetchHashes prefetches the 32-byte hashes data[4*pos[i]:] for i < n.
//
//go:noescape
func prefetchHashes(data *uint64, pos *uint32, n int)

// filterHashesAVX2 is filterSigsAVX2 for table 0, whose entries are the
// 64-bit hashes themselves: four per vector, tested against the full
// radius, qs[q] being query q. data must have 23 readable entries past
// its end.
//
//go:noescape
func filterHashesAVX2(data *uint64, runs *run, nruns int, qs *uint64, radius int, out *uint32) int

// gatherRuns appends to runs (room for nk) a run for every non-empty
// bucket among the nk keys of one (table, query) pair, tq = t | q<<8, and
// prefetches each bucket's lines as soon as its offsets are known (entries
// 1<<shift bytes from base). It returns the runs written and their total
// entries.
//
//go:noescape
func gatherRuns(off *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, base unsafe.Pointer, shift int) (n int, entries int)

// filterFPAVX2 is filterSigsAVX2 for the 256-bit tables: sixteen 16-bit
// partner-chunk fingerprints per vector, each run tested against its
// query's partner key (qpk is &plan.keys[0][t^1]) within bound-d. fp must
// have fpPad readable entries past its end.
//
//go:noescape
func filterFPAVX2(fp *uint16, runs *run, nruns int, qpk *uint32, bound int, out *uint32) int

// gatherSlots is gatherRuns for the PDQ layout: it reads the buckets at
// moveSlot(slots[i], mv) (identityMove: the slots themselves), whose
// distances to the query are those of keys[i] to qk, prefetches their
// fingerprint lines (fp) and writes runs with key 0.
//
//go:noescape
func gatherSlots(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, fp *uint16, mv uint32) (n int, entries int)

// prefetchGroup prefetches the first and last fingerprint line of every
// member's bucket of g (each of the owner's nk slots moved by the
// member's move) and returns their total entries.
//
//go:noescape
func prefetchGroup(off *uint32, slots *uint32, nk int, fp *uint16, grp *group) (entries int)

// filterGroup is filterFPAVX2 for one group (see group): each member's
// bucket of each of the owner's nk slots (keys: the slots' keys, qk the
// owner's key), tested against the member's partner key within
// bound-d. It writes (first entry, entry bitmask, t | q<<8) triples and
// returns the number of uint32s written. fp must have fpPad readable
// entries past its end.
//
//go:noescape
func filterGroup(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, bound int, fp *uint16, grp *group, out *uint32) int
