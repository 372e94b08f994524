// Package app wires vigil-ingest together: configuration, the Kafka
// consumer group, the engine, the media fetcher, the Postgres queue, the
// outbox relay and the operator endpoints.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/envflag"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/media"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
	"github.com/vigil-moderation/vigil/services/moderation/outbox"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
	"github.com/vigil-moderation/vigil/services/moderation/rulestore"
)

// Config is vigil-ingest's configuration.
type Config struct {
	KafkaBrokers string
	PostsTopic   string
	DLQTopic     string
	GroupID      string
	Partitions   int
	DatabaseURL  string
	DBMaxConns   int
	RulesDir     string
	BanksDir     string
	HTTPAddr     string
	LogLevel     string
	LogFormat    string
	Migrate      bool

	BatchSize         int
	BatchWait         time.Duration
	QueueCapacity     int
	FetchMaxWait      time.Duration
	FetchMaxBytes     int
	CommitInterval    time.Duration
	ShutdownGrace     time.Duration
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RetryMin          time.Duration
	RetryMax          time.Duration

	MediaTimeout       time.Duration
	MediaMaxBytes      int64
	MediaMaxRedirects  int
	MediaAllowHosts    string
	MediaAllowLoopback bool
	MediaAllowPrivate  bool
	MediaAttempts      int
	MediaPostTimeout   time.Duration
	MediaConcurrency   int
	EvidenceBudget     int64
	MediaFetch         bool
	ImageMaxPixels     int64
	ImageMaxSide       int

	BankGuardWindow     time.Duration
	BankGuardMaxShare   float64
	BankGuardMinMatches int

	OutboxRelay bool

	// Ready, if set, is called with the bound HTTP address (tests use :0).
	Ready func(addr string)
	// KafkaDial, if set, opens every broker connection (tests route them
	// through a proxy they can cut).
	KafkaDial kafka.DialFunc
	// Registry, if set, receives the metrics instead of a fresh registry
	// (tests read it after the worker stopped).
	Registry *prometheus.Registry
}

// Flags registers the configuration flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
	fs.StringVar(&c.PostsTopic, "posts-topic", kafka.TopicPosts, "topic to consume posts from")
	fs.StringVar(&c.DLQTopic, "dlq-topic", kafka.TopicDLQ, "topic for messages that cannot be processed")
	fs.StringVar(&c.GroupID, "group-id", "vigil-ingest", "Kafka consumer group")
	fs.IntVar(&c.Partitions, "partitions", 4, "partitions of the posts and dead-letter topics when this worker creates them")
	fs.StringVar(&c.DatabaseURL, "database-url", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable", "PostgreSQL URL of the review queue")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", 8, "maximum Postgres connections")
	fs.StringVar(&c.RulesDir, "rules-dir", "rules", "directory of rule files (used until a rule set is published)")
	fs.StringVar(&c.BanksDir, "banks-dir", "", "directory of hash-bank files (CSV or JSON lines); empty: no image matching")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:9101", "address for /healthz, /readyz and /metrics")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply database migrations at start")

	fs.IntVar(&c.BatchSize, "batch-size", 500, "maximum posts per batch (per partition)")
	fs.DurationVar(&c.BatchWait, "batch-wait", 50*time.Millisecond, "longest wait to fill a batch")
	fs.IntVar(&c.QueueCapacity, "queue-capacity", 1000, "messages prefetched per partition; the backpressure bound")
	fs.DurationVar(&c.FetchMaxWait, "fetch-max-wait", 250*time.Millisecond, "longest a fetch waits at the broker for new messages")
	fs.IntVar(&c.FetchMaxBytes, "fetch-max-bytes", 8<<20, "maximum bytes of one fetch response")
	fs.DurationVar(&c.CommitInterval, "commit-interval", 200*time.Millisecond, "how often durable offsets are committed")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 20*time.Second, "how long in-flight batches may run after SIGTERM or a rebalance")
	fs.DurationVar(&c.SessionTimeout, "session-timeout", 10*time.Second, "consumer-group session timeout: how soon a dead worker's partitions move")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", time.Second, "consumer-group heartbeat interval")
	fs.DurationVar(&c.RetryMin, "retry-min", 100*time.Millisecond, "first backoff after a transient failure")
	fs.DurationVar(&c.RetryMax, "retry-max", 10*time.Second, "longest backoff after repeated transient failures")

	fs.BoolVar(&c.MediaFetch, "media-fetch", true, "fetch media given by URL (false: refuse them)")
	fs.DurationVar(&c.MediaTimeout, "media-timeout", 5*time.Second, "timeout of one media fetch")
	fs.Int64Var(&c.MediaMaxBytes, "media-max-bytes", 10<<20, "largest media body fetched")
	fs.IntVar(&c.MediaMaxRedirects, "media-max-redirects", 3, "redirects followed per media fetch")
	fs.StringVar(&c.MediaAllowHosts, "media-allow-hosts", "", "comma-separated hosts media may be fetched from (.example.com for subdomains); empty: any public host")
	fs.BoolVar(&c.MediaAllowLoopback, "media-allow-loopback", false, "allow media URLs on loopback addresses (tests only)")
	fs.BoolVar(&c.MediaAllowPrivate, "media-allow-private", false, "allow media URLs on private and link-local addresses (on-premises only)")
	fs.IntVar(&c.MediaAttempts, "media-attempts", 3, "tries per media URL on timeouts and 5xx before dead-lettering")
	fs.DurationVar(&c.MediaPostTimeout, "media-post-timeout", 30*time.Second, "longest time for all media fetches of one post, retries included, before it is dead-lettered (0: no limit)")
	fs.IntVar(&c.MediaConcurrency, "media-concurrency", 4, "posts with media loaded and hashed at once per batch")
	fs.Int64Var(&c.EvidenceBudget, "batch-evidence-bytes", 128<<20, "media bytes of flagged posts a batch holds until stored; the rest of the batch waits for the next (0: no limit)")
	fs.Int64Var(&c.ImageMaxPixels, "image-max-pixels", imagehash.DefaultMaxPixels, "largest image (width × height from its header) decoded")
	fs.IntVar(&c.ImageMaxSide, "image-max-side", imagehash.DefaultMaxSide, "longest image side decoded")

	fs.DurationVar(&c.BankGuardWindow, "bank-guard-window", time.Hour, "window over which the bad-entry guard measures each bank entry's share of media")
	fs.Float64Var(&c.BankGuardMaxShare, "bank-guard-max-share", 0.005, "share of media one bank entry may match within the window before it is quarantined")
	fs.IntVar(&c.BankGuardMinMatches, "bank-guard-min-matches", 20, "matches in the window before an entry's share is judged")

	fs.BoolVar(&c.OutboxRelay, "outbox-relay", true, "relay the transactional outbox to Kafka (one relay holds the lock at a time)")
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

// DefaultConfig returns the configuration the flags default to.
func DefaultConfig() Config {
	var cfg Config
	cfg.Flags(flag.NewFlagSet("", flag.ContinueOnError))
	return cfg
}

func (c Config) validate() error {
	switch {
	case c.BatchSize <= 0 || c.BatchSize > 10000:
		return fmt.Errorf("batch-size %d: want 1..10000", c.BatchSize)
	case c.QueueCapacity < 1:
		return fmt.Errorf("queue-capacity %d: want at least 1", c.QueueCapacity)
	case c.BatchWait <= 0 || c.CommitInterval <= 0 || c.ShutdownGrace <= 0:
		return errors.New("batch-wait, commit-interval and shutdown-grace must be positive")
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return errors.New("want 0 < retry-min <= retry-max")
	case c.Partitions < 1:
		// The broker refuses to create such topics, and start-up would
		// retry that refusal forever as if the broker were away.
		return fmt.Errorf("partitions %d: want at least 1", c.Partitions)
	case c.HeartbeatInterval <= 0 || c.SessionTimeout <= c.HeartbeatInterval:
		// A session that expires between heartbeats rebalances the group
		// over and over.
		return fmt.Errorf("heartbeat-interval %s, session-timeout %s: want 0 < heartbeat-interval < session-timeout", c.HeartbeatInterval, c.SessionTimeout)
	case c.MediaPostTimeout < 0:
		return fmt.Errorf("media-post-timeout %s: want 0 (no limit) or a positive duration", c.MediaPostTimeout)
	case c.EvidenceBudget < 0:
		return fmt.Errorf("batch-evidence-bytes %d: want 0 (no limit) or a positive byte count", c.EvidenceBudget)
	case c.MediaMaxBytes <= 0:
		// Not "unlimited": the image decoder would be given a 1-byte limit
		// and every image would be dead-lettered.
		return fmt.Errorf("media-max-bytes %d: want a positive byte limit", c.MediaMaxBytes)
	case strings.TrimSpace(c.GroupID) == "":
		return errors.New("group-id is empty")
	}
	return c.validateTopics()
}

// validateTopics checks the topic names as the broker would, and that they
// are distinct: a dead-letter topic that is the posts topic would feed
// every poison message back to the worker (and the broker refuses to
// create one topic twice in a request, which start-up would retry forever).
func (c Config) validateTopics() error {
	topics := []struct{ flag, name string }{{"posts-topic", c.PostsTopic}, {"dlq-topic", c.DLQTopic}}
	if c.OutboxRelay {
		topics = append(topics, struct{ flag, name string }{"the outbox relay's topic", kafka.TopicActions})
	}
	seen := map[string]string{}
	for _, t := range topics {
		if err := kafka.ValidTopicName(t.name); err != nil {
			return fmt.Errorf("%s: %w", t.flag, err)
		}
		if other, ok := seen[t.name]; ok {
			return fmt.Errorf("%s and %s are both %q: want distinct topics", other, t.flag, t.name)
		}
		seen[t.name] = t.flag
	}
	return nil
}

// RunConfig runs the worker with cfg until ctx is done.
func RunConfig(ctx context.Context, cfg Config, logOut io.Writer) error {
	log, err := observe.NewLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	knet := kafka.Net{Brokers: strings.Split(cfg.KafkaBrokers, ","), Dial: cfg.KafkaDial, Logger: log}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer pool.Close()

	localRules, fileBanks, err := loadEngine(ctx, log, cfg)
	if err != nil {
		return err
	}
	// The engine in use; a rule reload swaps what this returns: the local
	// rules until the rule reloader (below) has loaded the published ones.
	eng := engine.New(localRules)
	engineFn := func() *engine.Engine { return eng }

	reg := cfg.Registry
	if reg == nil {
		reg = observe.NewRegistry()
	}
	metrics := NewMetrics(reg)
	ready := NewReadiness(metrics)
	health := observe.NewHealth(reg)
	health.AddCheck("postgres", func(ctx context.Context) error { return postgres.Ping(ctx, pool) })
	health.AddCheck("kafka", knet.Ping)
	health.AddCheck("pipeline", ready.Check)
	health.SetInfo("rule_version", fmt.Sprint(eng.Rules().Version()))
	mux := http.NewServeMux()
	health.Register(mux)

	retry := &retrier{log: log, metrics: metrics, ready: ready, backoff: Backoff{Min: cfg.RetryMin, Max: cfg.RetryMax}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return observe.ListenAndServe(gctx, log, cfg.HTTPAddr, mux, cfg.Ready) })

	// Dependencies may be down at start: wait for them, not ready meanwhile.
	if cfg.Migrate {
		err := retry.do(gctx, gctx, "postgres", func(ctx context.Context) error {
			return migrations.UpURL(ctx, cfg.DatabaseURL, log)
		}, nil)
		if err != nil {
			return stopped(g, err)
		}
	}
	// Hash banks: the files and the banks stored in Postgres (a stored bank
	// replaces a file bank of the same name), reloaded when an import or a
	// quarantine is announced on postgres.BanksChannel; quarantines are
	// recorded in Postgres so every worker and a restart keep them.
	var banks *rulestore.BankReloader
	var onBanks func() // set once the rule reloader exists, before banks.Run
	err = retry.do(gctx, gctx, "postgres", func(ctx context.Context) error {
		var berr error
		banks, berr = rulestore.NewBankReloader(ctx, rulestore.BankOptions{
			Files: fileBanks, Store: postgres.NewBankStore(pool, nil), Actor: "vigil-ingest", Clock: postgres.SystemClock{},
			Guard: hashbank.GuardOptions{Window: cfg.BankGuardWindow, MaxShare: cfg.BankGuardMaxShare, MinMatches: cfg.BankGuardMinMatches},
			Log:   log.With("component", "banks"), Registerer: reg, Info: health,
			OnChange: func() { onBanks() },
		})
		return berr
	}, nil)
	if err != nil {
		return stopped(g, err)
	}
	buildEngine := func(s *ruleset.Set) *engine.Engine {
		opts := []engine.Option{engine.WithGuard(banks.Guard())}
		if set := banks.Set(); set != nil {
			opts = append(opts, engine.WithBanks(set))
		}
		return engine.New(s, opts...)
	}
	// Rules: the newest published version, then each new one (between
	// batches: the processor takes the engine once per batch).
	var reloader *rulestore.Reloader
	err = retry.do(gctx, gctx, "postgres", func(ctx context.Context) error {
		var rerr error
		reloader, rerr = rulestore.New(ctx, rulestore.Options{
			Store:    postgres.NewRuleStore(pool, nil),
			Fallback: func() (*ruleset.Set, error) { return localRules, nil },
			Build:    buildEngine,
			Log:      log.With("component", "rules"), Registerer: reg, Info: health,
		})
		return rerr
	}, nil)
	if err != nil {
		return stopped(g, err)
	}
	engineFn = reloader.Engine
	g.Go(func() error { return reloader.Run(gctx) })
	onBanks = reloader.Rebuild
	g.Go(func() error { return banks.Run(gctx) })

	topics := []string{cfg.PostsTopic, cfg.DLQTopic}
	if cfg.OutboxRelay {
		topics = append(topics, kafka.TopicActions)
	}
	err = retry.do(gctx, gctx, "kafka_admin", func(ctx context.Context) error {
		return knet.EnsureTopics(ctx, cfg.Partitions, topics...)
	}, nil)
	if err != nil {
		return stopped(g, err)
	}

	consumerCfg := kafka.ConsumerConfig{
		Net: knet, Topic: cfg.PostsTopic, GroupID: cfg.GroupID,
		MaxWait: cfg.FetchMaxWait, QueueCapacity: cfg.QueueCapacity, MaxBytes: cfg.FetchMaxBytes,
		SessionTimeout: cfg.SessionTimeout, HeartbeatInterval: cfg.HeartbeatInterval,
	}
	group, err := kafka.NewGroup(consumerCfg)
	if err != nil {
		return fmt.Errorf("creating consumer group: %w", err)
	}
	dlq := kafka.NewWriterConfig(kafka.WriterConfig{Net: knet, Topic: cfg.DLQTopic, MaxAttempts: 3})
	defer dlq.Close()

	var fetcher *media.Fetcher
	if cfg.MediaFetch {
		var hosts []string
		for _, h := range strings.Split(cfg.MediaAllowHosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		fetcher = media.NewFetcher(media.Options{
			Timeout: cfg.MediaTimeout, MaxBytes: cfg.MediaMaxBytes, MaxRedirects: cfg.MediaMaxRedirects,
			AllowHosts: hosts, AllowLoopback: cfg.MediaAllowLoopback, AllowPrivate: cfg.MediaAllowPrivate,
		})
	}
	consumer := &Consumer{
		Log: log, Metrics: metrics, Ready: ready, Group: group, Topic: cfg.PostsTopic,
		Open: func(partition int, offset int64) (PartitionReader, error) {
			return kafka.NewPartitionReader(consumerCfg, partition, offset)
		},
		Processor: &Processor{
			Log: log, Metrics: metrics, Engine: engineFn, Queue: postgres.NewQueue(pool), DLQ: dlq,
			Media: &MediaLoader{
				Fetcher: fetcher, Attempts: cfg.MediaAttempts, PostTimeout: cfg.MediaPostTimeout, Metrics: metrics,
				Backoff: Backoff{Min: 200 * time.Millisecond, Max: 2 * time.Second},
				Limits:  imagehash.Limits{MaxBytes: max(cfg.MediaMaxBytes, 1), MaxPixels: cfg.ImageMaxPixels, MaxSide: cfg.ImageMaxSide},
			},
			MediaConcurrency: cfg.MediaConcurrency, EvidenceBudget: cfg.EvidenceBudget, Group: cfg.GroupID, Now: time.Now, retry: retry,
		},
		BatchSize: cfg.BatchSize, BatchWait: cfg.BatchWait, CommitInterval: cfg.CommitInterval, Grace: cfg.ShutdownGrace,
	}
	g.Go(func() error { return consumer.Run(gctx) })

	if cfg.OutboxRelay {
		store := postgres.NewOutbox(pool, postgres.SystemClock{})
		broker := kafka.NewOutboxBroker(knet)
		defer broker.Close()
		relay := &outbox.Relay{
			Lock: func(ctx context.Context) (outbox.Session, error) {
				s, err := store.Lock(ctx)
				if err != nil {
					return nil, err
				}
				return s, nil
			},
			Broker: broker, Log: log.With("component", "outbox"), Metrics: outbox.NewMetrics(reg),
		}
		g.Go(func() error { return relay.Run(gctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil-ingest stopped")
	return err
}

// stopped ends start-up: a stop while waiting for dependencies is a clean
// exit.
func stopped(g *errgroup.Group, err error) error {
	werr := g.Wait()
	if errors.Is(err, errStopped) || errors.Is(err, context.Canceled) {
		if werr != nil && !errors.Is(werr, context.Canceled) {
			return werr
		}
		return nil
	}
	return err
}

// loadEngine compiles the local rules (used until a version is published)
// and reads the hash-bank files (merged with the banks stored in Postgres
// by rulestore.BankReloader).
func loadEngine(ctx context.Context, log *slog.Logger, cfg Config) (*ruleset.Set, []hashbank.Bank, error) {
	rules, err := ruleset.LoadDir(cfg.RulesDir)
	if err != nil {
		return nil, nil, fmt.Errorf("loading rules: %w", err)
	}
	log.InfoContext(ctx, "rules loaded", "dir", cfg.RulesDir, "rules", rules.Len())
	if cfg.BanksDir == "" {
		return rules, nil, nil
	}
	if _, err := os.Stat(cfg.BanksDir); err != nil {
		return nil, nil, fmt.Errorf("hash banks: %w", err)
	}
	banks, err := hashbank.LoadDir(cfg.BanksDir)
	if err != nil {
		return nil, nil, fmt.Errorf("loading hash banks: %w", err)
	}
	set, err := hashbank.NewSet(banks)
	if err != nil {
		return nil, nil, fmt.Errorf("compiling hash banks: %w", err)
	}
	log.InfoContext(ctx, "hash bank files loaded", "dir", cfg.BanksDir, "banks", len(banks), "entries", set.Len())
	return rules, banks, nil
}
