package app

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// PartitionReader reads one partition in order (a kafka-go Reader bound to
// a partition).
type PartitionReader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	Close() error
}

// Group is the consumer group (a *kafkago.ConsumerGroup).
type Group interface {
	Next(ctx context.Context) (*kafkago.Generation, error)
	Close() error
}

// Consumer runs the consumer group: for each generation it processes every
// assigned partition in its own goroutine, in offset order, batch after
// batch, and commits offsets only for batches the Processor made durable.
//
// Guarantees:
//   - At least once: a partition's committed offset never passes a message
//     whose effects (flag or dead letter) are not durable. A crash replays
//     at most the batches since the last commit; the queue's idempotent
//     enqueue makes that harmless.
//   - Rebalances: when a generation ends (a worker joins or leaves, or the
//     group is closed on shutdown), each partition goroutine stops fetching,
//     finishes the batches it is evaluating and writing, and the last
//     offsets are committed before the generation is released, so the next
//     owner starts exactly after them. A batch still failing against a dependency is abandoned
//     uncommitted instead, and replayed by the next owner.
//   - Backpressure: each partition's reader prefetches at most
//     QueueCapacity messages and stops fetching while the worker is busy;
//     memory is bounded by partitions × (QueueCapacity + 2 × BatchSize)
//     messages whatever the speed of Postgres (a partition writes one batch
//     while the next is evaluated).
type Consumer struct {
	Log     *slog.Logger
	Metrics *Metrics
	Ready   *Readiness
	Group   Group
	Topic   string
	// Open returns a reader of partition starting at offset.
	Open      func(partition int, offset int64) (PartitionReader, error)
	Processor *Processor
	BatchSize int
	// BatchWait is the longest a partial batch waits for more messages.
	BatchWait time.Duration
	// CommitInterval is how often durable offsets are committed (and, in
	// any case, at the end of each generation).
	CommitInterval time.Duration
	// Grace is how long in-flight writes may run after a stop (shutdown or
	// rebalance) before they are cancelled.
	Grace time.Duration
}

// Run consumes until ctx is done, then stops fetching, lets in-flight
// batches finish within Grace, commits, leaves the group and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	for {
		gen, err := c.Group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				break
			}
			// Joining failed (broker away, coordinator moving); the group
			// retries by itself after its join backoff.
			c.Ready.Fail("kafka_group", err)
			c.Log.WarnContext(ctx, "joining consumer group failed; retrying", "err", err)
			continue
		}
		c.Ready.OK("kafka_group")
		c.Metrics.Generations.Inc()
		parts := gen.Assignments[c.Topic]
		c.Log.InfoContext(ctx, "joined consumer group generation", "generation", gen.ID, "member", gen.MemberID, "partitions", len(parts))
		gen.Start(func(gctx context.Context) { c.runGeneration(gctx, gen, parts) })
	}
	// Closing the group ends the current generation, waits for it to
	// finish (bounded by Grace inside runGeneration) and leaves the group.
	closed := make(chan error, 1)
	go func() { closed <- c.Group.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			c.Log.Warn("closing consumer group", "err", err)
		}
	case <-time.After(c.Grace + 10*time.Second):
		c.Log.Error("consumer group did not close in time; exiting anyway (uncommitted batches will be replayed)")
	}
	return nil
}

// committer collects durable offsets of one generation and commits them.
type committer struct {
	gen     *kafkago.Generation
	topic   string
	mu      sync.Mutex
	pending map[int]int64
	metrics *Metrics
	log     *slog.Logger
}

func (cm *committer) mark(partition int, next int64) {
	cm.mu.Lock()
	cm.pending[partition] = next
	cm.mu.Unlock()
}

func (cm *committer) flush() error {
	cm.mu.Lock()
	if len(cm.pending) == 0 {
		cm.mu.Unlock()
		return nil
	}
	offs := make(map[int]int64, len(cm.pending))
	for p, o := range cm.pending {
		offs[p] = o
	}
	cm.mu.Unlock()
	if err := cm.gen.CommitOffsets(map[string]map[int]int64{cm.topic: offs}); err != nil {
		cm.metrics.Commits.WithLabelValues("error").Inc()
		return err
	}
	cm.metrics.Commits.WithLabelValues("ok").Inc()
	cm.mu.Lock()
	for p, o := range offs {
		if cm.pending[p] == o {
			delete(cm.pending, p)
		}
	}
	cm.mu.Unlock()
	return nil
}

func (c *Consumer) runGeneration(gctx context.Context, gen *kafkago.Generation, parts []kafkago.PartitionAssignment) {
	// work outlives gctx by Grace so batches being written can finish.
	work, cancelWork := context.WithCancel(context.WithoutCancel(gctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(gctx, func() {
		t := time.AfterFunc(c.Grace, cancelWork)
		context.AfterFunc(work, func() { t.Stop() })
	})
	defer stopGrace()

	cm := &committer{gen: gen, topic: c.Topic, pending: map[int]int64{}, metrics: c.Metrics, log: c.Log}
	c.Metrics.Partitions.Set(float64(len(parts)))
	var wg sync.WaitGroup
	for _, a := range parts {
		wg.Go(func() { c.runPartition(gctx, work, a, cm) })
	}
	tick := time.NewTicker(c.CommitInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-gctx.Done():
			break loop
		case <-tick.C:
			if err := cm.flush(); err != nil {
				c.Log.WarnContext(work, "committing offsets failed; will retry", "err", err)
			}
		}
	}
	wg.Wait()
	// Final commit, while the generation is still ours (the coordinator
	// accepts commits of the current generation during a rebalance).
	for attempt := 0; attempt < 3; attempt++ {
		err := cm.flush()
		if err == nil {
			break
		}
		c.Log.WarnContext(work, "final offset commit failed", "attempt", attempt+1, "err", err)
		if work.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, a := range parts {
		c.Metrics.Lag.DeleteLabelValues(strconv.Itoa(a.ID))
	}
	c.Metrics.Partitions.Set(0)
	c.Log.InfoContext(work, "generation ended", "generation", gen.ID)
}

func (c *Consumer) runPartition(stop, work context.Context, a kafkago.PartitionAssignment, cm *committer) {
	var r PartitionReader
	for attempt := 1; r == nil; attempt++ {
		var err error
		if r, err = c.Open(a.ID, a.Offset); err != nil {
			c.Ready.Fail("kafka_fetch", err)
			t := time.NewTimer(Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}.delay(attempt))
			select {
			case <-stop.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
	defer r.Close()
	label := strconv.Itoa(a.ID)

	// Two stages, so that a batch's Postgres transaction and dead-letter
	// writes overlap the fetching and evaluation of the next one instead of
	// stalling the partition: this goroutine fetches and evaluates, the
	// writer persists batches in order and only then marks their offsets.
	// At most one batch is being written and one waits for the writer.
	writes := make(chan *evaluated)
	failed := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for ev := range writes {
			if err := c.Processor.persist(stop, work, ev); err != nil {
				c.Log.WarnContext(work, "batch abandoned uncommitted; it will be replayed", "partition", a.ID,
					"first_offset", ev.batch[0].Offset, "messages", len(ev.batch), "err", err)
				close(failed)
				for ev := range writes {
					c.Processor.release(ev)
				}
				return
			}
			last := ev.batch[len(ev.batch)-1]
			cm.mark(a.ID, last.Offset+1)
			c.Metrics.Lag.WithLabelValues(label).Set(float64(max(last.HighWaterMark-last.Offset-1, 0)))
		}
	})
	defer writer.Wait()
	defer close(writes)
	var rest []kafkago.Message // fetched, left over by the evidence budget
	for stop.Err() == nil {
		batch := rest
		if len(batch) == 0 {
			if batch = c.fetch(stop, r); len(batch) == 0 {
				return // stopped
			}
		}
		ev, err := c.Processor.evaluate(stop, work, batch)
		if err != nil {
			c.Log.WarnContext(work, "batch abandoned uncommitted; it will be replayed", "partition", a.ID,
				"first_offset", batch[0].Offset, "messages", len(batch), "err", err)
			return
		}
		rest = ev.rest
		// An evaluated batch is in flight: it is handed over even after a
		// stop, and written within the grace period.
		select {
		case writes <- ev:
		case <-failed:
			c.Processor.release(ev)
			return
		}
	}
}

// fetch blocks for the first message, then gathers more until the batch is
// full or BatchWait has passed. It returns nothing once stop is done: a
// batch not yet being processed is not in flight and is left to the next
// owner.
func (c *Consumer) fetch(stop context.Context, r PartitionReader) []kafkago.Message {
	var first kafkago.Message
	for {
		m, err := r.FetchMessage(stop)
		if err == nil {
			c.Ready.OK("kafka_fetch")
			first = m
			break
		}
		if stop.Err() != nil {
			return nil
		}
		// The reader reconnects by itself; it reports errors after three
		// failed attempts in a row. Not ready until it succeeds again.
		c.Ready.Fail("kafka_fetch", err)
		c.Metrics.Retries.WithLabelValues("kafka_fetch").Inc()
	}
	batch := make([]kafkago.Message, 1, c.BatchSize)
	batch[0] = first
	wctx, cancel := context.WithTimeout(stop, c.BatchWait)
	defer cancel()
	for len(batch) < c.BatchSize {
		m, err := r.FetchMessage(wctx)
		if err != nil {
			break
		}
		batch = append(batch, m)
	}
	if stop.Err() != nil {
		return nil
	}
	return batch
}
