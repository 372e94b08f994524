package postgres

import "fmt"

// GroupCommitStats reports how many group-commit transactions r ran, how
// many claims and decisions they carried, how many batches were re-run
// without a failed request, and the largest batch.
func GroupCommitStats(r *Reviews) (batches, ops, retries, largest int64) {
	s := r.writes.stats()
	return s.Batches, s.Ops, s.Retries, s.MaxBatch
}

// GroupCommitQueued says how many requests wait for r's writer.
func GroupCommitQueued(r *Reviews) int {
	r.writes.mu.Lock()
	defer r.writes.mu.Unlock()
	return len(r.writes.queue)
}

func GroupCommitTimes(r *Reviews) (execMs, commitMs float64) {
	return float64(r.writes.execNs.Load()) / 1e6, float64(r.writes.commitNs.Load()) / 1e6
}

const ClaimSQLForTest = "see probe"

func GroupCommitPhases(r *Reviews) string {
	g := r.writes
	b := float64(max(g.batches.Load(), 1)) * 1e6
	return fmt.Sprintf("per batch: begin %.2f ms, begin+batch %.2f ms, append %.2f ms, commit %.2f ms",
		float64(g.beginNs.Load())/b, float64(g.batchNs.Load())/b, float64(g.appendNs.Load())/b, float64(g.commitNs.Load())/b)
}
