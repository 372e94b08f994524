//go:build !amd64 || purego

package hashindex

import "unsafe"

func haveAVX2() bool { return false }

func filterSigsAVX2(sig *uint32, runs *run, nruns int, qsig *uint32, radius int, out *uint32) int {
	panic("hashindex: no AVX2 filter on this platform")
}

func prefetchRuns(base unsafe.Pointer, runs *run, nruns int, shift int) {}

func prefetchKeys(off *uint32, keys *uint32, n int) {}

const havePrefetch = false

func prefetchHashes(data *uint64, pos *uint32, n int) {}

func filterHashesAVX2(data *uint64, runs *run, nruns int, qs *uint64, radius int, out *uint32) int {
	panic("hashindex: no AVX2 filter on this platform")
}

func gatherRuns(off *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, base unsafe.Pointer, shift int) (n int, entries int) {
	panic("hashindex: no assembly gather on this platform")
}

func filterFPAVX2(fp *uint16, runs *run, nruns int, qpk *uint32, bound int, out *uint32) int {
	panic("hashindex: no AVX2 filter on this platform")
}

func gatherSlots(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, fp *uint16, mv uint32) (n int, entries int) {
	panic("hashindex: no assembly gather on this platform")
}

func prefetchGroup(off *uint32, slots *uint32, nk int, fp *uint16, grp *group) (entries int) {
	panic("hashindex: no assembly gather on this platform")
}

func filterGroup(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, bound int, fp *uint16, grp *group, out *uint32) int {
	panic("hashindex: no AVX2 filter on this platform")
}
