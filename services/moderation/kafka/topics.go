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

// ValidTopicName reports why the broker would refuse name as a topic
// name, or nil: Kafka allows 1 to 249 characters of [a-zA-Z0-9._-], and
// neither "." nor "..". Checking it first turns a mistyped flag into an
// error at start instead of a refusal retried like a broker outage.
func ValidTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters, limit 249", len(name))
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has a character other than a-z, A-Z, 0-9, '.', '_' and '-'", name)
		}
	}
	return nil
}

// EnsureTopics creates the named topics if they do not exist and waits
// until the broker reports metadata for all of them.
func EnsureTopics(ctx context.Context, brokers []string, partitions int, names ...string) error {
	return Net{Brokers: brokers}.EnsureTopics(ctx, partitions, names...)
}

// EnsureTopics creates the named topics if they do not exist and waits
// until the broker reports metadata for all of them.
func (n Net) EnsureTopics(ctx context.Context, partitions int, names ...string) error {
	cl, done := n.Client(10 * time.Second)
	defer done()
	req := &kafkago.CreateTopicsRequest{}
	for _, t := range names {
		req.Topics = append(req.Topics, kafkago.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
	}
	res, err := cl.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating topics %v: %w", names, err)
	}
	for t, e := range res.Errors {
		if e != nil && !errors.Is(e, kafkago.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", t, e)
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
	return Net{Brokers: brokers}.Ping(ctx)
}

// Ping checks that a broker answers a metadata request within 3 s.
func (n Net) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cl, done := n.Client(3 * time.Second)
	defer done()
	if _, err := cl.Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		return fmt.Errorf("asking kafka for metadata: %w", err)
	}
	return nil
}

// Partitions returns the partition ids of topic.
func (n Net) Partitions(ctx context.Context, topic string) ([]int, error) {
	cl, done := n.Client(10 * time.Second)
	defer done()
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		var e error = kafkago.UnknownTopicOrPartition
		if len(md.Topics) == 1 {
			e = md.Topics[0].Error
		}
		return nil, fmt.Errorf("reading metadata of %s: %w", topic, e)
	}
	ids := make([]int, 0, len(md.Topics[0].Partitions))
	for _, p := range md.Topics[0].Partitions {
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// Offsets returns the first and next (high-water mark) offsets of every
// partition of topic.
func (n Net) Offsets(ctx context.Context, topic string) (first, next map[int]int64, err error) {
	ids, err := n.Partitions(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	for _, id := range ids {
		req.Topics[topic] = append(req.Topics[topic], kafkago.FirstOffsetOf(id), kafkago.LastOffsetOf(id))
	}
	cl, done := n.Client(10 * time.Second)
	defer done()
	res, err := cl.ListOffsets(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	first, next = map[int]int64{}, map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("listing offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		first[po.Partition] = po.FirstOffset
		next[po.Partition] = po.LastOffset
	}
	return first, next, nil
}
