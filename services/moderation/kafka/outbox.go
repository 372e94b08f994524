package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// OutboxBroker publishes outbox messages and finds which of them a topic
// already holds. It is the Kafka half of the outbox relay.
type OutboxBroker struct {
	net Net
	w   *kafkago.Writer
}

// NewOutboxBroker returns an OutboxBroker. Its writer tries each write once
// (MaxAttempts 1): kafka-go has no idempotent producer, so a blind resend
// after a timeout could duplicate; the relay instead looks at the topic
// (Published) and resends only what is missing.
func NewOutboxBroker(n Net) *OutboxBroker {
	return &OutboxBroker{net: n, w: NewWriterConfig(WriterConfig{Net: n, MaxAttempts: 1})}
}

// Close flushes and closes the writer.
func (b *OutboxBroker) Close() error { return b.w.Close() }

// Publish writes msgs, each to its own topic, keyed by Key, with the
// HeaderOutboxID header, and returns once all in-sync replicas have them.
// An error means some, all or none may have been written.
func (b *OutboxBroker) Publish(ctx context.Context, msgs []moderation.OutboxMessage) error {
	km := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafkago.Message{
			Topic:   m.Topic,
			Key:     []byte(m.Key),
			Value:   m.Payload,
			Headers: []kafkago.Header{{Key: moderation.HeaderOutboxID, Value: []byte(strconv.FormatInt(m.ID, 10))}},
		}
	}
	if err := b.w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("publishing %d outbox messages: %w", len(msgs), err)
	}
	return nil
}

// Published returns the outbox ids at or above minID found in topic. It
// reads each partition backwards from its end, in growing windows, until
// it meets a message with an id below minID or the partition's start. The
// relay publishes in id order, one relay at a time, so everything a crash
// left published but unmarked lies in that tail.
func (b *OutboxBroker) Published(ctx context.Context, topic string, minID int64) ([]int64, error) {
	first, next, err := b.net.Offsets(ctx, topic)
	if errors.Is(err, kafkago.UnknownTopicOrPartition) {
		return nil, nil // nothing was ever published there
	}
	if err != nil {
		return nil, err
	}
	var out []int64
	for p, end := range next {
		window := int64(256)
		for {
			start := max(first[p], end-window)
			ids, sawOlder, err := b.readIDs(ctx, topic, p, start, end, minID)
			if err != nil {
				return nil, err
			}
			if sawOlder || start == first[p] {
				out = append(out, ids...)
				break
			}
			window *= 4
		}
	}
	return out, nil
}

// readIDs reads [start, end) of one partition and returns the outbox ids
// >= minID and whether an id below minID was seen.
func (b *OutboxBroker) readIDs(ctx context.Context, topic string, partition int, start, end, minID int64) ([]int64, bool, error) {
	if start >= end {
		return nil, false, nil
	}
	r, err := NewPartitionReader(ConsumerConfig{Net: b.net, Topic: topic, MaxWait: 100 * time.Millisecond, QueueCapacity: 256}, partition, start)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s/%d: %w", topic, partition, err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var ids []int64
	older := false
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("reading %s/%d at %d: %w", topic, partition, start, err)
		}
		for _, h := range m.Headers {
			if h.Key != moderation.HeaderOutboxID {
				continue
			}
			id, err := strconv.ParseInt(string(h.Value), 10, 64)
			if err != nil {
				continue // not ours
			}
			if id >= minID {
				ids = append(ids, id)
			} else {
				older = true
			}
		}
		if m.Offset >= end-1 {
			return ids, older, nil
		}
	}
}
