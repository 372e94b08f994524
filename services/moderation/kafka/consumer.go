package kafka

import (
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// ConsumerConfig configures a consumer-group reader (NewReader) or the
// per-partition readers of a consumer group (NewGroup, NewPartitionReader).
//
// The defaults are chosen for the ingest worker, not kafka-go's, which are
// tuned for neither throughput nor latency here (see docs/ingest.md):
//   - MaxWait 250 ms instead of 10 s: a fetch returns as soon as MinBytes (1)
//     arrive, and MaxWait only bounds how long an idle fetch is held by the
//     broker, which is also how long a stop request may wait for it.
//   - QueueCapacity 1000 instead of 100: kafka-go prefetches this many
//     messages per partition while the worker is busy, enough for two
//     batches of 500; it is also the backpressure bound, since the
//     prefetcher blocks when the queue is full.
//   - MaxBytes 8 MiB per fetch: a fetch response is decoded in memory, and
//     together with QueueCapacity it bounds a partition's buffered bytes.
type ConsumerConfig struct {
	Net
	Topic   string
	GroupID string
	// MaxWait bounds how long an idle fetch waits for new data.
	MaxWait       time.Duration
	QueueCapacity int
	MaxBytes      int
	// StartLast starts a new group at the newest offset instead of the
	// earliest, which is the default so that nothing published before a
	// worker first started is skipped.
	StartLast bool
	// Group membership timings (defaults 1 s, 10 s, 30 s): a crashed worker
	// is noticed after SessionTimeout and its partitions handed to others.
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
}

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	if c.MaxWait == 0 {
		c.MaxWait = 250 * time.Millisecond
	}
	if c.QueueCapacity == 0 {
		c.QueueCapacity = 1000
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 8 << 20
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = 30 * time.Second
	}
	return c
}

func (c ConsumerConfig) startOffset() int64 {
	if c.StartLast {
		return kafkago.LastOffset
	}
	return kafkago.FirstOffset
}

// NewReader returns a consumer-group reader with explicit commits: offsets
// are committed only by CommitMessages, after the work is durable. The
// ingest worker uses NewGroup instead; this is the plain kafka-go path,
// kept for simple consumers and as the benchmark baseline.
func NewReader(c ConsumerConfig) *kafkago.Reader {
	c = c.withDefaults()
	return kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:               c.Brokers,
		Dialer:                c.Dialer(),
		Topic:                 c.Topic,
		GroupID:               c.GroupID,
		MinBytes:              1,
		MaxBytes:              c.MaxBytes,
		MaxWait:               c.MaxWait,
		QueueCapacity:         c.QueueCapacity,
		CommitInterval:        0, // synchronous, explicit commits only
		StartOffset:           c.startOffset(),
		WatchPartitionChanges: true,
		HeartbeatInterval:     c.HeartbeatInterval,
		SessionTimeout:        c.SessionTimeout,
		RebalanceTimeout:      c.RebalanceTimeout,
		ReadBackoffMin:        100 * time.Millisecond,
		ReadBackoffMax:        2 * time.Second,
		MaxAttempts:           3,
		ErrorLogger:           c.errorLogger("kafka reader"),
	})
}

// NewGroup returns a consumer group over c.Topic. The caller runs each
// generation itself (Next, Start, CommitOffsets), which lets it finish and
// commit in-flight batches before a rebalance hands its partitions over.
func NewGroup(c ConsumerConfig) (*kafkago.ConsumerGroup, error) {
	c = c.withDefaults()
	return kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:                     c.GroupID,
		Brokers:                c.Brokers,
		Dialer:                 c.Dialer(),
		Topics:                 []string{c.Topic},
		HeartbeatInterval:      c.HeartbeatInterval,
		SessionTimeout:         c.SessionTimeout,
		RebalanceTimeout:       c.RebalanceTimeout,
		JoinGroupBackoff:       time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		StartOffset:            c.startOffset(),
		Timeout:                5 * time.Second,
		ErrorLogger:            c.errorLogger("kafka consumer group"),
	})
}

// NewPartitionReader returns a reader of one partition starting at offset
// (or kafka-go's FirstOffset/LastOffset). It prefetches up to
// QueueCapacity messages and blocks when they are not taken: that is the
// worker's backpressure. It retries broker errors forever, reporting them
// from FetchMessage after three failed attempts in a row.
func NewPartitionReader(c ConsumerConfig, partition int, offset int64) (*kafkago.Reader, error) {
	c = c.withDefaults()
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:        c.Brokers,
		Dialer:         c.Dialer(),
		Topic:          c.Topic,
		Partition:      partition,
		MinBytes:       1,
		MaxBytes:       c.MaxBytes,
		MaxWait:        c.MaxWait,
		QueueCapacity:  c.QueueCapacity,
		ReadBackoffMin: 100 * time.Millisecond,
		ReadBackoffMax: 2 * time.Second,
		MaxAttempts:    3,
		ErrorLogger:    c.errorLogger("kafka partition reader"),
	})
	if err := r.SetOffset(offset); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// WriterConfig configures a producer.
type WriterConfig struct {
	Net
	Topic string // empty: each message names its topic
	// MaxAttempts is how many times kafka-go tries a write (default 10).
	// The outbox relay sets 1: it never lets the client resend blindly,
	// because a resend after an ambiguous failure may duplicate.
	MaxAttempts int
	// BatchTimeout (default 5 ms) is how long a partial batch waits;
	// kafka-go's default of one second would add a second to every
	// synchronous write.
	BatchTimeout time.Duration
}

// NewWriter returns a synchronous producer tuned for low latency: batches
// are flushed after 5 ms rather than kafka-go's default of one second, and
// every write waits for all in-sync replicas.
func NewWriter(brokers []string, topic string) *kafkago.Writer {
	return NewWriterConfig(WriterConfig{Net: Net{Brokers: brokers}, Topic: topic})
}

// NewWriterConfig returns a synchronous producer; see WriterConfig.
func NewWriterConfig(c WriterConfig) *kafkago.Writer {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 5 * time.Millisecond
	}
	return &kafkago.Writer{
		Addr:                   kafkago.TCP(c.Brokers...),
		Topic:                  c.Topic,
		Transport:              c.Transport(),
		Balancer:               &kafkago.Hash{},
		BatchTimeout:           c.BatchTimeout,
		BatchSize:              1000,
		BatchBytes:             32 << 20,
		RequiredAcks:           kafkago.RequireAll,
		AllowAutoTopicCreation: false,
		MaxAttempts:            c.MaxAttempts,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        2 * time.Second,
		ErrorLogger:            c.errorLogger("kafka writer"),
	}
}
