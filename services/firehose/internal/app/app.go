// Package app wires vigil-firehose: it produces generated posts into the
// posts topic at a steady rate, for the demo and for load tests.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-moderation/vigil/services/firehose/internal/gen"
	"github.com/vigil-moderation/vigil/services/moderation/envflag"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

// maxBankedBurst bounds --banked-burst well under the bank guard's
// minimum of 20 matches per entry before it judges a share.
const maxBankedBurst = 10

// Config is vigil-firehose's configuration.
type Config struct {
	KafkaBrokers string
	PostsTopic   string
	Rate         float64
	Count        int
	MatchRate    float64
	ImageRate    float64
	BankedRate   float64
	BankedBurst  int
	Seed         uint64
	Platform     string
	LogLevel     string
	LogFormat    string
	HTTPAddr     string
}

// Run parses args and produces posts until Count is reached or ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c Config
	fs := envflag.NewFlagSet("vigil-firehose", "Produces realistic generated posts into Kafka for the demo and load tests.", stderr)
	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
	fs.StringVar(&c.PostsTopic, "posts-topic", kafka.TopicPosts, "topic to produce posts to")
	fs.Float64Var(&c.Rate, "rate", 20, "posts per second (0 = as fast as possible)")
	fs.IntVar(&c.Count, "count", 0, "stop after this many posts (0 = run until stopped)")
	fs.Float64Var(&c.MatchRate, "match-rate", 0.03, "share of posts that match the demo rules (0..1)")
	fs.Float64Var(&c.ImageRate, "image-rate", 0.1, "share of posts with an inline picture that is not in the demo bank (0..1)")
	fs.Float64Var(&c.BankedRate, "banked-image-rate", 0.002, "share of posts with an inline picture from the demo bank, which match by hash (0..1)")
	fs.IntVar(&c.BankedBurst, "banked-burst", 0, fmt.Sprintf("the first this many posts each carry a copy of one demo-bank picture, so a cluster is queued at once (0..%d)", maxBankedBurst))
	fs.Uint64Var(&c.Seed, "seed", 0, "random seed: the same seed gives the same posts (0 = a new seed each run)")
	fs.StringVar(&c.Platform, "platform", "demo", "platform name put in every post")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:9102", "address for /healthz, /readyz and /metrics (empty: none)")
	if err := envflag.Parse(fs, args[1:], getenv); err != nil {
		return err
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	for name, v := range map[string]float64{"match-rate": c.MatchRate, "image-rate": c.ImageRate, "banked-image-rate": c.BankedRate} {
		if v < 0 || v > 1 {
			return fmt.Errorf("%s %v: want 0..1", name, v)
		}
	}
	if c.BankedBurst < 0 || c.BankedBurst > maxBankedBurst {
		return fmt.Errorf("banked-burst %d: want 0..%d (more copies of one picture would approach the bank guard's minimum of matches, and the guard could quarantine the demo entry)", c.BankedBurst, maxBankedBurst)
	}
	if c.Rate < 0 {
		return fmt.Errorf("rate %v: must not be negative", c.Rate)
	}
	log, err := observe.NewLogger(stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		return err
	}
	brokers := strings.Split(c.KafkaBrokers, ",")
	reg := observe.NewRegistry()
	produced := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vigil_firehose_posts_produced_total", Help: "Generated posts acknowledged by Kafka.",
	})
	reg.MustRegister(produced)
	if c.HTTPAddr == "" {
		return produce(ctx, log, c, brokers, produced)
	}
	health := observe.NewHealth(reg)
	health.AddCheck("kafka", func(ctx context.Context) error { return kafka.Ping(ctx, brokers) })
	mux := http.NewServeMux()
	health.Register(mux)
	g, gctx := errgroup.WithContext(ctx)
	sctx, stop := context.WithCancel(gctx)
	g.Go(func() error { return observe.ListenAndServe(sctx, log, c.HTTPAddr, mux, nil) })
	g.Go(func() error {
		defer stop() // a finished --count run ends the process
		return produce(gctx, log, c, brokers, produced)
	})
	return g.Wait()
}

func produce(ctx context.Context, log *slog.Logger, c Config, brokers []string, produced prometheus.Counter) error {
	if err := kafka.EnsureTopics(ctx, brokers, 4, c.PostsTopic); err != nil {
		return err
	}
	w := kafka.NewWriter(brokers, c.PostsTopic)
	defer w.Close()
	g := gen.New(gen.Options{Seed: c.Seed, MatchRate: c.MatchRate, ImageRate: c.ImageRate, BankedImageRate: c.BankedRate,
		BankedBurst: c.BankedBurst, Platform: c.Platform})
	// Writes are synchronous: one chunk per round trip. As fast as possible
	// means large chunks; a paced run sends 10 ms worth at a time (at
	// least 100), so high rates are reachable and low ones stay smooth.
	chunk := 2000
	if c.Rate > 0 {
		chunk = max(100, int(c.Rate/100))
	}
	var interval time.Duration
	if c.Rate > 0 {
		interval = time.Duration(float64(time.Second) / c.Rate)
	}
	start := time.Now()
	sent := 0
	log.InfoContext(ctx, "producing posts", "topic", c.PostsTopic, "rate", c.Rate, "count", c.Count, "seed", c.Seed)
	for c.Count == 0 || sent < c.Count {
		n := chunk
		if c.Count > 0 {
			n = min(n, c.Count-sent)
		}
		if interval > 0 {
			// Pace in chunks of at most a tenth of a second's worth.
			n = min(n, max(1, int(c.Rate/10)))
		}
		msgs := make([]kafkago.Message, n)
		for i := range msgs {
			p := g.Next()
			b, err := json.Marshal(p)
			if err != nil {
				return fmt.Errorf("encoding post: %w", err)
			}
			msgs[i] = kafkago.Message{Key: []byte(p.ID), Value: b}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			if errors.Is(err, context.Canceled) {
				break
			}
			return fmt.Errorf("producing posts: %w", err)
		}
		sent += n
		produced.Add(float64(n))
		if interval > 0 {
			due := start.Add(time.Duration(sent) * interval)
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(due)):
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	log.Info("firehose stopped", "sent", sent, "seconds", time.Since(start).Seconds())
	return nil
}
