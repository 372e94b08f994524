// Package app wires vigil-review together: configuration, the Postgres
// adapters, the JSON API, the moderator UI and the operator endpoints.
package app

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation/envflag"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

// Config is vigil-review's configuration.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	LogLevel    string
	LogFormat   string
	Migrate     bool
	// Ready, if set, is called with the bound HTTP address (tests use :0).
	Ready func(addr string)
}

// Flags registers the configuration flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable", "PostgreSQL URL of the review queue")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the API, the UI, /healthz, /readyz and /metrics")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply database migrations at start")
}

// Run parses args and serves until ctx is done.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := envflag.NewFlagSet("vigil-review", "Serves the review queue: the JSON API under /api/v1 and the moderator web UI.", stderr)
	cfg.Flags(fs)
	if err := envflag.Parse(fs, args[1:], getenv); err != nil {
		return err
	}
	return RunConfig(ctx, cfg, stderr)
}

// RunConfig serves with cfg until ctx is done.
func RunConfig(ctx context.Context, cfg Config, logOut io.Writer) error {
	log, err := observe.NewLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, 20)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.Migrate {
		if err := migrations.UpURL(ctx, cfg.DatabaseURL, log); err != nil {
			return err
		}
	}
	reg := observe.NewRegistry()
	health := observe.NewHealth(reg)
	health.AddCheck("postgres", func(ctx context.Context) error { return postgres.Ping(ctx, pool) })
	mux := http.NewServeMux()
	health.Register(mux)
	api := &httpapi.Server{Log: log, Queue: postgres.NewQueue(pool)}
	api.Register(mux)
	err = observe.ListenAndServe(ctx, log, cfg.HTTPAddr, mux, cfg.Ready)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil-review stopped")
	return err
}
