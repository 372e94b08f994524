package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
)

// Reader is the part of a kafka-go consumer-group reader the worker uses.
type Reader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// MessageWriter writes messages to a topic (the dead-letter topic).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Worker consumes posts in batches. Within a batch every flag is made
// durable, and every rejected message dead-lettered, before the batch's
// offsets are committed: a crash replays at most one batch, and the
// idempotent enqueue makes the replay harmless.
type Worker struct {
	Log       *slog.Logger
	Engine    *engine.Engine
	Queue     moderation.Enqueuer
	Metrics   *Metrics
	BatchSize int
	BatchWait time.Duration
	Now       func() time.Time
}

// Run processes batches until ctx is done.
func (w *Worker) Run(ctx context.Context, r Reader, dlq MessageWriter) error {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	for {
		batch, err := w.fetch(ctx, r)
		if err != nil {
			return err
		}
		start := now()
		if err := w.process(ctx, batch, dlq, now); err != nil {
			return err
		}
		if err := retry(ctx, w.Log, w.Metrics, "commit", func() error { return r.CommitMessages(ctx, batch...) }); err != nil {
			return err
		}
		w.Metrics.BatchSize.Observe(float64(len(batch)))
		w.Metrics.BatchSeconds.Observe(now().Sub(start).Seconds())
	}
}

// fetch blocks for the first message, then gathers more until the batch is
// full or BatchWait has passed.
func (w *Worker) fetch(ctx context.Context, r Reader) ([]kafkago.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching posts: %w", err)
	}
	batch := []kafkago.Message{m}
	wctx, cancel := context.WithTimeout(ctx, w.BatchWait)
	defer cancel()
	for len(batch) < w.BatchSize {
		m, err := r.FetchMessage(wctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("fetching posts: %w", ctx.Err())
			}
			break
		}
		batch = append(batch, m)
	}
	return batch, nil
}

func (w *Worker) process(ctx context.Context, batch []kafkago.Message, dlq MessageWriter, now func() time.Time) error {
	var flags []moderation.Flag
	var dead []kafkago.Message
	for _, m := range batch {
		w.Metrics.Consumed.Inc()
		post, err := moderation.DecodePost(m.Value)
		if err != nil {
			dead = append(dead, deadLetter(m, err, now()))
			continue
		}
		v, err := w.Engine.Evaluate(ctx, post)
		if err != nil {
			return fmt.Errorf("evaluating post %s: %w", post.ID, err)
		}
		if v.Flagged() {
			flags = append(flags, moderation.Flag{
				Post: post, Verdict: v, FlaggedAt: now(),
				Source: moderation.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
			})
		}
	}
	if len(flags) > 0 {
		if err := retry(ctx, w.Log, w.Metrics, "enqueue", func() error { return w.Queue.Enqueue(ctx, flags) }); err != nil {
			return err
		}
		t := now()
		for _, f := range flags {
			w.Metrics.QueueDelay.Observe(t.Sub(f.Post.CreatedAt).Seconds())
			for _, m := range f.Verdict.Matches {
				label := m.RuleID
				if label == "" {
					label = "bank:" + m.Bank
				}
				w.Metrics.Flagged.WithLabelValues(label, m.Category).Inc()
			}
		}
	}
	if len(dead) > 0 {
		if err := retry(ctx, w.Log, w.Metrics, "dead_letter", func() error { return dlq.WriteMessages(ctx, dead...) }); err != nil {
			return err
		}
		for _, d := range dead {
			reason := headerValue(d.Headers, HeaderReason)
			w.Metrics.DeadLettered.WithLabelValues(reason).Inc()
			w.Log.WarnContext(ctx, "post dead-lettered", "reason", reason, "detail", headerValue(d.Headers, HeaderError),
				"topic", headerValue(d.Headers, HeaderTopic), "partition", headerValue(d.Headers, HeaderPartition),
				"offset", headerValue(d.Headers, HeaderOffset))
		}
	}
	return nil
}

// Dead-letter headers.
const (
	HeaderReason    = "vigil-dlq-reason"
	HeaderError     = "vigil-dlq-error"
	HeaderTopic     = "vigil-dlq-topic"
	HeaderPartition = "vigil-dlq-partition"
	HeaderOffset    = "vigil-dlq-offset"
	HeaderTime      = "vigil-dlq-time"
)

// deadLetter wraps the original message, bytes and headers unchanged, with
// headers that say why it was rejected, where it came from and when.
func deadLetter(m kafkago.Message, err error, at time.Time) kafkago.Message {
	reason := moderation.ReasonSchema
	var pe *moderation.PostError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	detail := err.Error()
	if len(detail) > 1024 {
		detail = detail[:1024]
	}
	h := append([]kafkago.Header(nil), m.Headers...)
	h = append(h,
		kafkago.Header{Key: HeaderReason, Value: []byte(reason)},
		kafkago.Header{Key: HeaderError, Value: []byte(detail)},
		kafkago.Header{Key: HeaderTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafkago.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafkago.Header{Key: HeaderTime, Value: []byte(at.UTC().Format(time.RFC3339Nano))},
	)
	return kafkago.Message{Key: m.Key, Value: m.Value, Headers: h}
}

func headerValue(hs []kafkago.Header, key string) string {
	for _, h := range hs {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// retry runs op until it succeeds or ctx ends, with capped exponential
// backoff and jitter. Every failure here is transient by construction:
// invalid input was dead-lettered before.
func retry(ctx context.Context, log *slog.Logger, m *Metrics, name string, op func() error) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", name, ctx.Err())
		}
		m.Retries.WithLabelValues(name).Inc()
		sleep := backoff/2 + rand.N(backoff/2+1)
		log.WarnContext(ctx, "retrying after failure", "op", name, "attempt", attempt, "backoff", sleep, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", name, ctx.Err())
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
