//go:build !linux

package textmatch

// threadCPU is not available here: benchmarks fall back to wall time.
func threadCPU() (int64, bool) { return 0, false }
