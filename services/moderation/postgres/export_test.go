package postgres

// GroupCommitStats reports how many group-commit transactions r ran, how
// many claims and decisions they carried, how many batches were re-run
// without a failed request, and the largest batch.
func GroupCommitStats(r *Reviews) (batches, ops, retries, largest int64) {
	s := r.writes.stats()
	return s.Batches, s.Ops, s.Retries, s.MaxBatch
}

// GroupCommitQueued says how many requests wait for r's writers.
func GroupCommitQueued(r *Reviews) int {
	r.writes.mu.Lock()
	defer r.writes.mu.Unlock()
	return len(r.writes.queue)
}

// HoldHeadThroughFlush makes r's group commit hold the audit head until
// each commit is durable (the behaviour before the early release).
func HoldHeadThroughFlush(r *Reviews) { r.writes.holdThroughFlush = true }

// FlushWALSQL is the statement that waits for an earlier asynchronous
// commit of the same session to be durable.
const FlushWALSQL = flushWALSQL

// OpTrace is where one claim's or decision's time went in the group commit.
type OpTrace = opTrace

// TraceGroupCommit starts recording r's requests' phases and returns a
// function that stops and returns them.
func TraceGroupCommit(r *Reviews) func() []OpTrace {
	g := r.writes
	g.traceMu.Lock()
	g.traces = new([]opTrace)
	g.traceMu.Unlock()
	g.tracing.Store(true)
	return func() []OpTrace {
		g.tracing.Store(false)
		g.traceMu.Lock()
		defer g.traceMu.Unlock()
		out := *g.traces
		g.traces = nil
		return out
	}
}
