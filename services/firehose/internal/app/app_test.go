package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/firehose/internal/app"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// TestProducesValidPosts runs the firehose against the real broker and
// reads back what it produced: the requested number of valid posts, keyed
// by post id.
func TestProducesValidPosts(t *testing.T) {
	brokers := moderationtest.Kafka(t)
	topic := moderationtest.Topic(t, brokers, "firehose_", 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"vigil-firehose", "--count", "50", "--rate", "0", "--seed", "7", "--image-rate", "0.2",
		"--kafka-brokers", strings.Join(brokers, ","), "--posts-topic", topic, "--http-addr", "127.0.0.1:0"}
	if err := app.Run(ctx, args, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatalf("firehose: %v", err)
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	images := 0
	for i := range 50 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading message %d: %v", i, err)
		}
		p, err := moderation.DecodePost(m.Value)
		if err != nil {
			t.Fatalf("message %d is not a valid post: %v", i, err)
		}
		if string(m.Key) != p.ID {
			t.Fatalf("key %q, post id %q", m.Key, p.ID)
		}
		images += len(p.Media)
	}
	if images == 0 {
		t.Error("no post carried an image at --image-rate 0.2")
	}
}

func TestRejectsBadRates(t *testing.T) {
	for _, args := range [][]string{{"--match-rate", "2"}, {"--rate", "-1"}, {"--image-rate", "-0.1"}, {"--banked-burst", "11"}, {"--banked-burst", "-1"}} {
		err := app.Run(context.Background(), append([]string{"vigil-firehose"}, args...), func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
