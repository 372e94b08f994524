package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Topic names Vigil uses by default.
const (
	TopicPosts   = "posts"
	TopicDLQ     = "posts.dlq"
	TopicActions = "moderation.actions"
)

// EnsureTopics creates the named topics if they do not exist and waits
// until the broker reports metadata for all of them.
func EnsureTopics(ctx context.Context, brokers []string, partitions int, names ...string) error {
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafkago.CreateTopicsRequest{}
	for _, n := range names {
		req.Topics = append(req.Topics, kafkago.TopicConfig{Topic: n, NumPartitions: partitions, ReplicationFactor: 1})
	}
	res, err := cl.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating topics %v: %w", names, err)
	}
	for n, e := range res.Errors {
		if e != nil && !errors.Is(e, kafkago.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", n, e)
		}
	}
	for {
		md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
		if err == nil && len(md.Topics) == len(names) {
			ok := true
			for _, tp := range md.Topics {
				if tp.Error != nil || len(tp.Partitions) == 0 {
					ok = false
				}
			}
			if ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topics %v: %w", names, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Ping checks that a broker answers a metadata request.
func Ping(ctx context.Context, brokers []string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 3 * time.Second}
	if _, err := cl.Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		return fmt.Errorf("asking kafka for metadata: %w", err)
	}
	return nil
}
