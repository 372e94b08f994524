package kafka

import (
	"fmt"
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// ConsumerConfig configures a consumer-group reader.
type ConsumerConfig struct {
	Brokers []string
	Topic   string
	GroupID string
	// MaxWait bounds how long a fetch waits for new data. kafka-go's default
	// (10 s) would hold batches back; 250 ms keeps produce-to-queue latency low.
	MaxWait time.Duration
	// QueueCapacity is the number of messages kafka-go prefetches; it bounds
	// memory together with MaxBytes.
	QueueCapacity int
	MaxBytes      int
	// StartLast starts a new group at the newest offset instead of the
	// earliest, which is the default so that nothing published before a
	// worker first started is skipped.
	StartLast bool
	Logger    *slog.Logger
}

// NewReader returns a consumer-group reader with explicit commits: offsets
// are committed only by CommitMessages, after the work is durable.
func NewReader(c ConsumerConfig) *kafkago.Reader {
	if c.MaxWait == 0 {
		c.MaxWait = 250 * time.Millisecond
	}
	if c.QueueCapacity == 0 {
		c.QueueCapacity = 1000
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 32 << 20
	}
	start := kafkago.FirstOffset
	if c.StartLast {
		start = kafkago.LastOffset
	}
	cfg := kafkago.ReaderConfig{
		Brokers:               c.Brokers,
		Topic:                 c.Topic,
		GroupID:               c.GroupID,
		MinBytes:              1,
		MaxBytes:              c.MaxBytes,
		MaxWait:               c.MaxWait,
		QueueCapacity:         c.QueueCapacity,
		CommitInterval:        0, // synchronous, explicit commits only
		StartOffset:           start,
		WatchPartitionChanges: true,
		ReadBackoffMin:        100 * time.Millisecond,
		ReadBackoffMax:        2 * time.Second,
		MaxAttempts:           1 << 30, // retry broker errors; never give up by ourselves
	}
	if c.Logger != nil {
		l := c.Logger
		cfg.ErrorLogger = kafkago.LoggerFunc(func(msg string, args ...any) {
			l.Warn("kafka reader", "detail", fmt.Sprintf(msg, args...))
		})
	}
	return kafkago.NewReader(cfg)
}

// NewWriter returns a synchronous producer tuned for low latency: batches
// are flushed after 5 ms rather than kafka-go's default of one second, and
// every write waits for the leader's acknowledgement.
func NewWriter(brokers []string, topic string) *kafkago.Writer {
	return &kafkago.Writer{
		Addr:                   kafkago.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafkago.Hash{},
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              1000,
		BatchBytes:             32 << 20,
		RequiredAcks:           kafkago.RequireAll,
		AllowAutoTopicCreation: false,
		MaxAttempts:            10,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        2 * time.Second,
	}
}
