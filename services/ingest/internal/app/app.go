// Package app wires vigil-ingest together: configuration, the Kafka
// consumer, the engine, the Postgres queue and the operator endpoints.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/envflag"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// Config is vigil-ingest's configuration.
type Config struct {
	KafkaBrokers string
	PostsTopic   string
	DLQTopic     string
	GroupID      string
	DatabaseURL  string
	RulesDir     string
	HTTPAddr     string
	LogLevel     string
	LogFormat    string
	BatchSize    int
	BatchWait    time.Duration
	Migrate      bool
	// Ready, if set, is called with the bound HTTP address (tests use :0).
	Ready func(addr string)
}

// Flags registers the configuration flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
	fs.StringVar(&c.PostsTopic, "posts-topic", kafka.TopicPosts, "topic to consume posts from")
	fs.StringVar(&c.DLQTopic, "dlq-topic", kafka.TopicDLQ, "topic for messages that cannot be processed")
	fs.StringVar(&c.GroupID, "group-id", "vigil-ingest", "Kafka consumer group")
	fs.StringVar(&c.DatabaseURL, "database-url", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable", "PostgreSQL URL of the review queue")
	fs.StringVar(&c.RulesDir, "rules-dir", "rules", "directory of rule files (used until a rule set is published)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:9101", "address for /healthz, /readyz and /metrics")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.IntVar(&c.BatchSize, "batch-size", 500, "maximum posts per database batch")
	fs.DurationVar(&c.BatchWait, "batch-wait", 100*time.Millisecond, "longest wait to fill a batch")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply database migrations at start")
}

// Run parses args and runs the worker until ctx is done.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := envflag.NewFlagSet("vigil-ingest", "Consumes posts from Kafka, matches them against keyword rules and hash banks,\nand writes flagged posts into the Postgres review queue.", stderr)
	cfg.Flags(fs)
	if err := envflag.Parse(fs, args[1:], getenv); err != nil {
		return err
	}
	return RunConfig(ctx, cfg, stderr)
}

// RunConfig runs the worker with cfg until ctx is done.
func RunConfig(ctx context.Context, cfg Config, logOut io.Writer) error {
	log, err := observe.NewLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 10000 {
		return fmt.Errorf("batch-size %d: want 1..10000", cfg.BatchSize)
	}
	brokers := strings.Split(cfg.KafkaBrokers, ",")
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, 8)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.Migrate {
		if err := migrations.UpURL(ctx, cfg.DatabaseURL, log); err != nil {
			return err
		}
	}
	rules, err := ruleset.LoadDir(cfg.RulesDir)
	if err != nil {
		return fmt.Errorf("loading rules: %w", err)
	}
	log.InfoContext(ctx, "rules loaded", "dir", cfg.RulesDir, "rules", rules.Len())

	reg := observe.NewRegistry()
	metrics := NewMetrics(reg)
	health := observe.NewHealth(reg)
	health.AddCheck("postgres", func(ctx context.Context) error { return postgres.Ping(ctx, pool) })
	health.AddCheck("kafka", func(ctx context.Context) error { return kafka.Ping(ctx, brokers) })
	health.SetInfo("rule_version", fmt.Sprint(rules.Version()))
	mux := http.NewServeMux()
	health.Register(mux)

	w := &Worker{
		Log:       log,
		Engine:    engine.New(rules),
		Queue:     postgres.NewQueue(pool),
		Metrics:   metrics,
		BatchSize: cfg.BatchSize,
		BatchWait: cfg.BatchWait,
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return observe.ListenAndServe(ctx, log, cfg.HTTPAddr, mux, cfg.Ready) })
	g.Go(func() error {
		if err := kafka.EnsureTopics(ctx, brokers, 4, cfg.PostsTopic, cfg.DLQTopic); err != nil {
			return err
		}
		reader := kafka.NewReader(kafka.ConsumerConfig{Brokers: brokers, Topic: cfg.PostsTopic, GroupID: cfg.GroupID, Logger: log})
		dlq := kafka.NewWriter(brokers, cfg.DLQTopic)
		defer dlq.Close()
		defer reader.Close()
		return w.Run(ctx, reader, dlq)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil-ingest stopped")
	return err
}
