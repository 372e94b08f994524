package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/ingest/internal/app"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
)

// TestConfigMisconfiguration: settings that cannot work are refused at
// start with an error naming them, before any connection is made. Each
// used to start a worker that retried a broker refusal forever as if the
// broker were away (a dead-letter topic equal to the posts topic, zero
// partitions, an illegal topic name), rebalanced without end (a heartbeat
// slower than the session timeout), or dead-lettered every image
// (media-max-bytes 0 gave the decoder a 1-byte limit).
func TestConfigMisconfiguration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*app.Config)
		want string
	}{
		{"dead letters into the posts topic", func(c *app.Config) { c.DLQTopic = c.PostsTopic }, "want distinct topics"},
		{"dead letters into the actions topic", func(c *app.Config) { c.OutboxRelay = true; c.DLQTopic = kafka.TopicActions }, "want distinct topics"},
		{"empty posts topic", func(c *app.Config) { c.PostsTopic = "" }, "posts-topic: topic name is empty"},
		{"illegal dead-letter topic", func(c *app.Config) { c.DLQTopic = "posts dlq" }, "dlq-topic: topic name"},
		{"zero partitions", func(c *app.Config) { c.Partitions = 0 }, "partitions 0"},
		{"heartbeat after the session expired", func(c *app.Config) { c.HeartbeatInterval = 20 * time.Second }, "heartbeat-interval"},
		{"media-max-bytes 0", func(c *app.Config) { c.MediaMaxBytes = 0 }, "media-max-bytes 0"},
		{"no group", func(c *app.Config) { c.GroupID = " " }, "group-id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := app.DefaultConfig()
			cfg.DatabaseURL = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
			cfg.KafkaBrokers = "127.0.0.1:1"
			cfg.HTTPAddr = "127.0.0.1:0"
			c.edit(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := app.RunConfig(ctx, cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("RunConfig: %v, want an error containing %q", err, c.want)
			}
		})
	}
}
