package textmatch

import "syscall"

// threadCPU returns the CPU time the calling OS thread has used, in
// nanoseconds, and true (Linux: getrusage(RUSAGE_THREAD)). The caller must
// be locked to its thread.
func threadCPU() (int64, bool) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
