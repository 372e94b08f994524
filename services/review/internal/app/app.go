// Package app wires vigil-review together: configuration, the Postgres
// adapters, the JSON API, the moderator UI, the background jobs (lease
// expiry, retention purge, session clean-up) and the operator endpoints.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/envflag"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
	"github.com/vigil-moderation/vigil/services/moderation/password"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/precision"
	"github.com/vigil-moderation/vigil/services/moderation/queuestats"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
	"github.com/vigil-moderation/vigil/services/review/internal/web"
)

// reportConns bounds the reports and decision exports running at once.
const reportConns = 4

// Config is vigil-review's configuration.
type Config struct {
	DatabaseURL string
	// ReportsDatabaseURL, if set, is where transparency reports, decision
	// exports and precision read (a streaming replica), so that their long
	// snapshots stay off the queue's primary.
	ReportsDatabaseURL string
	HTTPAddr           string
	LogLevel           string
	LogFormat          string
	Migrate            bool

	Lease             time.Duration
	LeaseSweep        time.Duration
	Retention         string
	RetentionInterval time.Duration
	ReasonCodesFile   string
	BootstrapAdmin    string
	InsecureCookies   bool
	// TrustedProxies: comma-separated CIDRs of reverse proxies whose
	// X-Forwarded-For names the client (httpapi.ParseProxies).
	TrustedProxies string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	// PrecisionThreshold: rules below it are flagged by
	// vigil_rules_low_precision (package precision).
	PrecisionThreshold float64
	// PrecisionMinDecided: rules with fewer decided items are never
	// flagged low, in the metric or the API.
	PrecisionMinDecided int64
	// PasswordConcurrency bounds the password hashes computed at once
	// (19 MiB each); password.DefaultConcurrency when zero.
	PasswordConcurrency int
	// PasswordWait bounds how long a login waits for a hashing slot
	// before it gets 503; password.DefaultMaxWait when zero. The flag
	// refuses zero and negative waits, RunConfig negative ones.
	PasswordWait time.Duration
	// ActionsActor: who the moderation.actions messages name as the
	// actor: name, id or none (moderation.ParseActorDisclosure).
	ActionsActor string

	// Clock, if set, replaces the system clock (tests).
	Clock postgres.Clock
	// Ready, if set, is called with the bound HTTP address (tests use :0).
	Ready func(addr string)
}

// Flags registers the configuration flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable", "PostgreSQL URL of the review queue")
	fs.StringVar(&c.ReportsDatabaseURL, "reports-database-url", "", "PostgreSQL URL transparency reports, decision exports and rule and bank-entry precision read from, e.g. a streaming replica (their snapshots, held for the whole report or export, slow claims on the primary); the review queue's database when empty")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the API, the UI, /healthz, /readyz and /metrics")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply database migrations at start")
	fs.DurationVar(&c.Lease, "lease", 15*time.Minute, "how long a claimed item stays with its reviewer before it returns to the queue")
	fs.DurationVar(&c.LeaseSweep, "lease-sweep", 5*time.Second, "how often expired leases are returned to the queue")
	fs.StringVar(&c.ActionsActor, "actions-actor", "name", "who the takedown messages on moderation.actions name as the actor: name (the moderator's username), id (a pseudonym, user:ID) or none")
	fs.StringVar(&c.Retention, "retention", "6mo", "how long the content of removed items is kept before purging: 6mo, 180d or a duration such as 720h")
	fs.DurationVar(&c.RetentionInterval, "retention-interval", time.Hour, "how often the retention purge runs (0 disables it; POST /api/v1/retention/purge runs it on demand)")
	fs.StringVar(&c.ReasonCodesFile, "reason-codes", "", "file of policy reason codes (CODE [actions] Title, one a line); empty for the built-in list")
	fs.StringVar(&c.BootstrapAdmin, "bootstrap-admin", "", "user:password of an admin, lead and moderator to create at start if no user of that name exists")
	fs.BoolVar(&c.InsecureCookies, "insecure-cookies", false, "send the session cookie without Secure, for plain-HTTP development on a non-loopback address")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies (ingress, load balancer) whose X-Forwarded-For gives the client address for login rate limits and the audit log; empty: trust no header")
	fs.DurationVar(&c.SessionIdle, "session-idle", 30*time.Minute, "a session unused this long ends")
	fs.DurationVar(&c.SessionMax, "session-max", 12*time.Hour, "no session lasts longer than this")
	fs.IntVar(&c.PasswordConcurrency, "password-concurrency", password.DefaultConcurrency, "password hashes (logins, new passwords; 19 MiB each) computed at once; more wait up to --password-wait, then get 503")
	fs.DurationVar(&c.PasswordWait, "password-wait", password.DefaultMaxWait, "how long a login or password change waits for a password hashing slot (--password-concurrency) before it gets 503")
	fs.Float64Var(&c.PrecisionThreshold, "precision-threshold", moderation.DefaultPrecisionPolicy.Threshold, "rules whose precision (removed / decided) is below this are flagged low in vigil_rules_low_precision and the API")
	fs.Int64Var(&c.PrecisionMinDecided, "precision-min-decided", moderation.DefaultPrecisionPolicy.MinDecided, "decided items a rule needs before it can be flagged low (vigil_rules_low_precision, the API and the UI)")
}

// Run parses args and serves until ctx is done.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := envflag.NewFlagSet("vigil-review", "Serves the review queue: the JSON API under /api/v1 and the moderator web UI.", stderr)
	cfg.Flags(fs)
	if err := envflag.Parse(fs, args[1:], getenv); err != nil {
		return err
	}
	// Zero is the default in a Config, not from the flag: there it
	// would silently mean 5s.
	if cfg.PasswordWait == 0 {
		return fmt.Errorf("--password-wait 0s: want a positive duration such as %s: %w", password.DefaultMaxWait, moderation.ErrInvalid)
	}
	return RunConfig(ctx, cfg, stderr)
}

// RunConfig serves with cfg until ctx is done.
func RunConfig(ctx context.Context, cfg Config, logOut io.Writer) error {
	log, err := observe.NewLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	retention := moderation.DefaultRetention
	if cfg.Retention != "" {
		if retention, err = moderation.ParseRetention(cfg.Retention); err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
	}
	if err := (moderation.PrecisionPolicy{Threshold: cfg.PrecisionThreshold, MinDecided: cfg.PrecisionMinDecided}).Validate(); err != nil {
		return fmt.Errorf("--precision-threshold/--precision-min-decided: %w", err)
	}
	actionActor, err := moderation.ParseActorDisclosure(cfg.ActionsActor)
	if err != nil {
		return fmt.Errorf("--actions-actor: %w", err)
	}
	if cfg.PasswordWait < 0 {
		return fmt.Errorf("--password-wait %s: want a positive duration such as %s: %w", cfg.PasswordWait, password.DefaultMaxWait, moderation.ErrInvalid)
	}
	proxies, err := httpapi.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if cfg.LeaseSweep == 0 {
		cfg.LeaseSweep = 5 * time.Second
	}
	codes := moderation.DefaultReasonCodes
	if cfg.ReasonCodesFile != "" {
		if codes, err = moderation.ReadReasonCodes(cfg.ReasonCodesFile); err != nil {
			return err
		}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = postgres.SystemClock{}
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
	if err := postgres.CheckFlush(ctx, pool); err != nil {
		return err
	}
	// Reports and exports get a pool of their own, on the replica if one
	// is named: an export holds its connection (and a snapshot) as long
	// as its client reads, so at most reportConns of them run at once
	// and the rest wait, without taking the claims' connections. Not a
	// readiness check: moderators can work while the replica is away;
	// only the reports answer with errors then.
	reportsURL := cfg.ReportsDatabaseURL
	if reportsURL == "" {
		reportsURL = cfg.DatabaseURL
	}
	reportsPool, err := postgres.Connect(ctx, reportsURL, reportConns)
	if err != nil {
		return fmt.Errorf("reports database: %w", err)
	}
	defer reportsPool.Close()
	reviews := postgres.NewReviews(pool, postgres.ReviewOptions{Clock: clock, Lease: cfg.Lease, ActionActor: actionActor})
	users := postgres.NewUsers(pool, postgres.UserOptions{Clock: clock,
		Hasher: password.NewHasher(password.HasherOptions{Concurrency: cfg.PasswordConcurrency, MaxWait: cfg.PasswordWait})})
	sessions := postgres.NewSessions(pool, postgres.SessionOptions{Clock: clock, Idle: cfg.SessionIdle, Absolute: cfg.SessionMax})
	if cfg.BootstrapAdmin != "" {
		if err := bootstrap(ctx, log, users, cfg.BootstrapAdmin); err != nil {
			return err
		}
	}

	reg := observe.NewRegistry()
	metrics := newMetrics(reg)
	registerWriteStats(reg, reviews)
	// Per-rule precision from the decisions, and each hash bank's count
	// of low-precision entries, computed on scrape (cached). Like every
	// precision query, on the reports' pool: they aggregate weeks of
	// matches and decisions, which is no work for the claims' connections.
	reg.MustRegister(precision.NewCollector(func(ctx context.Context, since time.Time) ([]moderation.RulePrecision, error) {
		return postgres.RulePrecision(ctx, reportsPool, postgres.PrecisionFilter{Since: since})
	}, precision.Options{Threshold: cfg.PrecisionThreshold, MinDecided: cfg.PrecisionMinDecided, Clock: clock, Log: log,
		Entries: func(ctx context.Context, since time.Time, minDecided int64) ([]moderation.BankEntryPrecision, error) {
			return postgres.BankEntryPrecision(ctx, reportsPool, postgres.EntryPrecisionFilter{Since: since, MinDecided: minDecided})
		}}))
	// Open items, overdue items and the next SLA deadline, for the review
	// dashboard and the SLA alerts (deploy/prometheus/alerts.yml).
	reg.MustRegister(queuestats.NewCollector(func(ctx context.Context, now time.Time) ([]moderation.QueueStat, error) {
		return postgres.QueueStats(ctx, pool, now)
	}, queuestats.Options{Now: clock.Now, Log: log}))
	// The oldest transaction holding back vacuum: claims slow down while
	// one stays open (VigilLongTransaction).
	reg.MustRegister(queuestats.NewHorizonCollector(func(ctx context.Context) (time.Duration, error) {
		return postgres.OldestSnapshot(ctx, pool)
	}, queuestats.Options{Log: log}))
	// Appeals waiting for a lead (VigilAppealsWaiting).
	reg.MustRegister(queuestats.NewAppealsCollector(func(ctx context.Context) (moderation.AppealBacklog, error) {
		return postgres.AppealBacklog(ctx, pool)
	}, queuestats.Options{Now: clock.Now, Log: log}))
	health := observe.NewHealth(reg)
	health.AddCheck("postgres", func(ctx context.Context) error { return postgres.Ping(ctx, pool) })
	mux := http.NewServeMux()
	health.Register(mux)
	api := &httpapi.Server{
		Log: log, Reviews: reviews, Users: users, Sessions: sessions, Audit: postgres.NewAuditLog(pool),
		ReasonCodes: codes, Retention: retention, Clock: clock, InsecureCookies: cfg.InsecureCookies,
		TrustedProxies: proxies,
		Precision: func(ctx context.Context, since time.Time, rule string) ([]moderation.RulePrecision, error) {
			return postgres.RulePrecision(ctx, reportsPool, postgres.PrecisionFilter{Since: since, Rule: rule})
		},
		BankPrecision: func(ctx context.Context, since time.Time, bank string, minDecided int64, limit int) ([]moderation.BankEntryPrecision, error) {
			return postgres.BankEntryPrecision(ctx, reportsPool, postgres.EntryPrecisionFilter{Since: since, Bank: bank, MinDecided: minDecided, Limit: limit})
		},
		PrecisionThreshold: cfg.PrecisionThreshold, PrecisionMinDecided: cfg.PrecisionMinDecided,
		Reports:  postgres.NewReports(reportsPool),
		Evidence: evidence.New(reviews, evidence.Options{Clock: clock, Generator: "vigil-review", Log: log}),
		Appeals:  reviews,
	}
	api.Register(mux)
	web.Register(mux)

	jobs := &jobs{log: log, metrics: metrics, reviews: reviews, sessions: sessions, clock: clock, retention: retention}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{}, 3)
	go func() { jobs.every(ctx, cfg.LeaseSweep, jobs.sweepLeases); done <- struct{}{} }()
	go func() { jobs.every(ctx, cfg.RetentionInterval, jobs.purge); done <- struct{}{} }()
	go func() { jobs.every(ctx, 10*time.Minute, jobs.sweepSessions); done <- struct{}{} }()

	err = observe.ListenAndServe(ctx, log, cfg.HTTPAddr, metrics.instrument(mux), cfg.Ready)
	cancel()
	for range 3 {
		<-done
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil-review stopped")
	return err
}

// bootstrap creates the user:password given to --bootstrap-admin as admin,
// lead and moderator, unless a user of that name exists.
func bootstrap(ctx context.Context, log *slog.Logger, users *postgres.Users, spec string) error {
	name, pw, ok := strings.Cut(spec, ":")
	if !ok {
		return fmt.Errorf("--bootstrap-admin wants user:password: %w", moderation.ErrInvalid)
	}
	created, err := users.EnsureUser(ctx, "bootstrap", name, pw,
		[]moderation.Role{moderation.RoleAdmin, moderation.RoleLead, moderation.RoleModerator})
	if err != nil {
		return fmt.Errorf("--bootstrap-admin: %w", err)
	}
	if created {
		log.Info("bootstrap user created", "username", name, "roles", "admin,lead,moderator")
	}
	return nil
}

// jobs are vigil-review's background work.
type jobs struct {
	log       *slog.Logger
	metrics   *metrics
	reviews   *postgres.Reviews
	sessions  *postgres.Sessions
	clock     postgres.Clock
	retention moderation.Retention
}

// every runs f every d until ctx ends (never when d <= 0); failures are
// logged and retried at the next tick.
func (j *jobs) every(ctx context.Context, d time.Duration, f func(context.Context) error) {
	if d <= 0 {
		return
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f(ctx); err != nil && ctx.Err() == nil {
				j.log.Error("background job failed", "err", err)
			}
		}
	}
}

func (j *jobs) sweepLeases(ctx context.Context) error {
	n, err := j.reviews.ReleaseExpired(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		j.metrics.leasesExpired.Add(float64(n))
		j.log.Info("expired leases returned to the queue", "items", n)
	}
	return nil
}

func (j *jobs) purge(ctx context.Context) error {
	res, err := j.reviews.Purge(ctx, "retention", j.retention.Cutoff(j.clock.Now()))
	if err != nil {
		return err
	}
	j.metrics.purged.Add(float64(len(res.Items)))
	if len(res.Items) > 0 || res.Held > 0 {
		j.log.Info("retention purge", "items", len(res.Items), "blobs", res.Blobs, "held", res.Held, "retention", j.retention.String())
	}
	return nil
}

func (j *jobs) sweepSessions(ctx context.Context) error {
	_, err := j.sessions.DeleteExpired(ctx)
	return err
}
