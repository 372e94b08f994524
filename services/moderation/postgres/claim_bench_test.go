package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// contender is one system under test: op runs one moderator's (or
// worker's) iteration and returns the latency it reports.
type contender struct {
	name string
	op   func(ctx context.Context, worker int) (time.Duration, error)
	// run replaces the worker loop (river's own client works its jobs with
	// its own goroutines); it returns completions and latencies over d.
	run func(t *testing.T, d time.Duration) (int64, []time.Duration)
}

// result accumulates a contender's slices.
type result struct {
	n       int64
	elapsed time.Duration
	lats    []time.Duration
	cpu     time.Duration // Postgres server CPU while it ran
}

func (r *result) add(n int64, d time.Duration, lats []time.Duration, cpu time.Duration) {
	r.n += n
	r.elapsed += d
	r.lats = append(r.lats, lats...)
	r.cpu += cpu
}

func (r *result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r *result) cpuPerOp() time.Duration { return r.cpu / time.Duration(max(r.n, 1)) }

// TestBenchClaims measures claim-and-decide throughput and claim latency
// with many pending items and 50 concurrent moderators, side by side in the
// same run with a bare SELECT … FOR UPDATE SKIP LOCKED LIMIT 1 loop on an
// equivalent table and with riverqueue/river's job fetch on its own table
// of as many jobs. Each contender runs in two slices, the second round in
// reverse order, so that drifting machine load hits them alike.
//
// Saturated: 50 closed-loop moderators with no think time (by Little's
// law their mean latency is 50 / throughput: it measures the machine).
// Paced: the same 50 moderators, each starting iterations at Poisson
// arrival times (open loop, latency counted from the intended start), at
// half of Vigil's saturated submit-and-next rate in all, the same offered
// load for every contender; then Vigil and the bare loop again at a
// quarter of it. Human pace: the same 50 moderators, each taking about a
// second per item (VIGIL_BENCH_THINK_MS), the load of people at work.
//
// The bare table carries review_items' storage parameters (its autovacuum
// settings, migration 0006). The paced runs of Vigil log where the group
// commit's requests spent their time (logTraces), the slowest 1% apart.
//
// Only under VIGIL_BENCH=1 (make bench). VIGIL_BENCH_CLAIM_ITEMS (default
// 1,000,000), VIGIL_BENCH_SECONDS (default 20 per contender and mode) and
// VIGIL_BENCH_WORKERS (50) scale it; VIGIL_BENCH_PACED_RATE fixes the
// paced rate (per second) instead; VIGIL_BENCH_THINK_MS sets the human
// pace's mean time per item, and VIGIL_BENCH_THINK_ONLY=1 runs that
// mode alone.
func TestBenchClaims(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1 to run the claim benchmark")
	}
	items := benchEnvInt("VIGIL_BENCH_CLAIM_ITEMS", 1_000_000)
	secs := benchEnvInt("VIGIL_BENCH_SECONDS", 20)
	workers := benchEnvInt("VIGIL_BENCH_WORKERS", 50)
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, s.URL, int32(workers+10))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	start := time.Now()
	now := time.Now().UTC()
	seed(t, pool, items, now.Add(-time.Hour), "")
	_, err = pool.Exec(ctx, `
CREATE TABLE bare_items (
    id bigserial PRIMARY KEY,
    severity smallint NOT NULL,
    sla_deadline timestamptz NOT NULL,
    flagged_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    claimed_by bigint
);
CREATE INDEX bare_items_claim_order ON bare_items (severity DESC, sla_deadline, flagged_at, id) WHERE status = 'pending';
INSERT INTO bare_items (severity, sla_deadline, flagged_at)
SELECT severity, sla_deadline, flagged_at FROM review_items ORDER BY id;`)
	if err != nil {
		t.Fatal(err)
	}
	// Equivalent down to the storage parameters: review_items' autovacuum
	// settings (migration 0006) keep the claim-order index's start free of
	// the entries of claimed items, which every SKIP LOCKED scan walks.
	var relopts []string
	if err := pool.QueryRow(ctx, `SELECT COALESCE(reloptions, '{}') FROM pg_class WHERE oid = 'review_items'::regclass`).Scan(&relopts); err != nil {
		t.Fatal(err)
	}
	if len(relopts) > 0 {
		if _, err := pool.Exec(ctx, "ALTER TABLE bare_items SET ("+strings.Join(relopts, ", ")+")"); err != nil {
			t.Fatal(err)
		}
	}
	// river: its own schema (tables, indexes, triggers) migrated into the
	// bench's schema, and as many available jobs.
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: s.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatalf("migrating river: %v", err)
	}
	_, err = pool.Exec(ctx, `
INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, scheduled_at)
SELECT jsonb_build_object('num', g), 'bench', 25, 1, 'default', 'available', $2::timestamptz + g * interval '1 microsecond'
FROM generate_series(1, $1) g`, items, now.Add(-time.Hour))
	if err != nil {
		t.Fatalf("seeding river jobs: %v", err)
	}
	for _, table := range []string{"review_items", "bare_items", "river_job"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %d items in each of review_items, bare_items, river_job in %v", items, time.Since(start).Round(time.Second))

	reviews := postgres.NewReviews(pool, postgres.ReviewOptions{})
	users := postgres.NewUsers(pool, postgres.UserOptions{Password: cheap})
	mods := make([]moderation.User, workers)
	for i := range mods {
		if mods[i], err = users.Create(ctx, "bench", fmt.Sprintf("bench%02d", i), "bench-password-long", []moderation.Role{moderation.RoleModerator}); err != nil {
			t.Fatal(err)
		}
	}
	dur := time.Duration(secs) * time.Second
	in := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}

	// Baseline: the bare claim, marked done in the same transaction; its
	// latency is the whole transaction.
	bare := contender{name: "skip-locked-bare", op: func(ctx context.Context, i int) (time.Duration, error) {
		t0 := time.Now()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var id int64
			err := tx.QueryRow(ctx, `SELECT id FROM bare_items WHERE status = 'pending'
ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`).Scan(&id)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE bare_items SET status = 'done', claimed_by = $2 WHERE id = $1`, id, i)
			return err
		})
		return time.Since(t0), err
	}}

	// Vigil, two requests per item: claim one item (lease, audit event,
	// matches and media loaded), then decide it (decision row, item
	// update, outbox row, audit event), each answered once durable. The
	// latency is the claim's, including any wait for the group-commit
	// transaction in flight.
	claimDecide := contender{name: "claim-decide", op: func(ctx context.Context, i int) (time.Duration, error) {
		t0 := time.Now()
		got, err := reviews.Claim(ctx, mods[i], moderation.ClaimFilter{Count: 1})
		lat := time.Since(t0)
		if err != nil || len(got) != 1 {
			return lat, fmt.Errorf("claim: %d items, %w", len(got), err)
		}
		_, err = reviews.Decide(ctx, mods[i], false, got[0].ID, in)
		return lat, err
	}}

	// Vigil, one request per item: submit-and-next (DecideAndClaim)
	// decides the item held and claims the next in one statement; its
	// latency is what the moderator waits between submitting and seeing
	// the next item. A moderator holding nothing claims first.
	decideNextWith := func(name string, reviews *postgres.Reviews) contender {
		held := make([]int64, workers)
		return contender{name: name, op: func(ctx context.Context, i int) (time.Duration, error) {
			t0 := time.Now()
			var got []moderation.Item
			var err error
			if held[i] == 0 {
				got, err = reviews.Claim(ctx, mods[i], moderation.ClaimFilter{Count: 1})
			} else {
				_, got, err = reviews.DecideAndClaim(ctx, mods[i], false, held[i], in, moderation.ClaimFilter{Count: 1})
			}
			lat := time.Since(t0)
			if err != nil || len(got) != 1 {
				return lat, fmt.Errorf("decide and claim: %d items, %w", len(got), err)
			}
			held[i] = got[0].ID
			return lat, nil
		}}
	}
	decideNext := decideNextWith("decide-next", reviews)
	// VIGIL_BENCH_WRITERS (a comma-separated list of group-commit writer
	// counts, each optionally followed by "h": hold the audit head until
	// the commit is durable, as before the early release) adds
	// submit-and-next contenders, decide-next-wN[-hold], each with its own
	// Reviews, to compare configurations in the same run.
	var variants []contender
	variantReviews := map[string]*postgres.Reviews{}
	for _, f := range strings.Split(os.Getenv("VIGIL_BENCH_WRITERS"), ",") {
		f = strings.TrimSpace(f)
		flags := strings.TrimLeft(f, "0123456789")
		n, err := strconv.Atoi(strings.TrimSuffix(f, flags))
		if err != nil || n <= 0 {
			continue
		}
		name := fmt.Sprintf("decide-next-w%d", n)
		r := postgres.NewReviews(pool, postgres.ReviewOptions{Writers: n})
		if strings.Contains(flags, "h") {
			name += "-hold"
			postgres.HoldHeadThroughFlush(r)
		}
		variantReviews[name] = r
		variants = append(variants, decideNextWith(name, r))
	}

	// river's own fetch and completion queries, through its driver, one job
	// at a time per worker as a moderator claims and decides: JobGetAvailable
	// (the producer's fetch: SKIP LOCKED, state running, attempt, attempted_by)
	// with MaxToLock 1, then JobSetStateIfRunningMany (the completer's) marking
	// it completed. Two autocommit statements, as claim then decide; the
	// latency is the fetch's.
	exec := driver.GetExecutor()
	riverFetch := contender{name: "river-fetch", op: func(ctx context.Context, i int) (time.Duration, error) {
		t0 := time.Now()
		res, err := exec.JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
			ClientID: "bench" + strconv.Itoa(i), MaxAttemptedBy: 100, MaxToLock: 1, Queue: river.QueueDefault,
		})
		lat := time.Since(t0)
		if err != nil || len(res.Jobs) != 1 {
			return lat, fmt.Errorf("river fetch: %v", err)
		}
		done := time.Now()
		_, err = exec.JobSetStateIfRunningMany(ctx, &riverdriver.JobSetStateIfRunningManyParams{
			ID: []int64{res.Jobs[0].ID}, Attempt: []*int{nil}, ErrData: [][]byte{nil}, FinalizedAt: []*time.Time{&done},
			MetadataDoMerge: []bool{false}, MetadataUpdates: [][]byte{nil}, ScheduledAt: []*time.Time{nil},
			State: []rivertype.JobState{rivertype.JobStateCompleted},
		})
		return lat, err
	}}

	// river's client as river's own benchmark (cmd/river/riverbench) runs
	// it: fetch cooldown 2 ms, poll 20 ms, a no-op worker, completions
	// counted from the subscription; MaxWorkers 50 for 50 moderators. Its
	// producer fetches up to as many jobs as it has free workers in one
	// statement and its completer batches completions: latencies are its
	// fetches' (job_get_available_duration), each for a batch of jobs.
	riverClient := contender{name: "river-client", run: func(t *testing.T, d time.Duration) (int64, []time.Duration) {
		return runRiverClient(t, pool, workers, d)
	}}

	saturated := []contender{bare, claimDecide, decideNext, riverFetch, riverClient}
	paced := []contender{bare, claimDecide, decideNext, riverFetch}
	if os.Getenv("VIGIL_BENCH_RIVER") == "0" { // while working on Vigil's side
		saturated, paced = saturated[:3], paced[:3]
	}
	saturated = append(saturated, variants...)
	paced = append(paced, variants...)
	vigil := []string{"claim-decide", "decide-next"}
	for _, v := range variants {
		vigil = append(vigil, v.name)
	}
	label := fmt.Sprintf("%dk-%dmods", items/1000, workers)
	if items >= 1_000_000 {
		label = fmt.Sprintf("%dM-%dmods", items/1_000_000, workers)
	}
	// At the pace of people: each moderator looks at an item for
	// VIGIL_BENCH_THINK_MS on average (default 1,000 ms, exponentially
	// distributed, far faster than a real review) before the next, so the
	// 50 offer workers per second in all. This is the load the p99 claim
	// target describes: many moderators at once, each waiting for the
	// next item, not a machine saturating the queue.
	humanPace := func() {
		think := time.Duration(benchEnvInt("VIGIL_BENCH_THINK_MS", 1000)) * time.Millisecond
		human := float64(workers) / think.Seconds()
		hum := runRounds(t, []contender{bare, claimDecide, decideNext}, dur, func(c contender, d time.Duration) (int64, []time.Duration) {
			var stop func() []postgres.OpTrace
			if c.name != "skip-locked-bare" {
				stop = postgres.TraceGroupCommit(reviews)
			}
			n, lats := runPaced(t, workers, d, human, c.op)
			if stop != nil {
				logTraces(t, c.name+" (human pace)", stop())
			}
			return n, lats
		})
		for _, name := range []string{"claim-decide", "decide-next"} {
			for _, p := range []float64{0.99, 0.5} {
				vl, bl := pct(hum[name].lats, p), pct(hum["skip-locked-bare"].lats, p)
				fmt.Printf("BENCH review/%s-p%d-think-%dms-%s %.2f ms vs skip-locked-bare %.2f ms ratio %.2f (%d claims)\n",
					name, int(p*100), think.Milliseconds(), label, ms(vl), ms(bl), float64(bl)/float64(vl), len(hum[name].lats))
			}
		}
	}
	if os.Getenv("VIGIL_BENCH_THINK_ONLY") == "1" {
		humanPace()
		return
	}
	sat := runRounds(t, saturated, dur, func(c contender, d time.Duration) (int64, []time.Duration) {
		if c.run != nil {
			return c.run(t, d)
		}
		return runWorkers(t, workers, d, c.op)
	})
	b, o, rt, lg := postgres.GroupCommitStats(reviews)
	t.Logf("group commit (saturated): %d transactions carried %d claims and decisions (%.1f each, largest %d), %d re-run",
		b, o, float64(o)/float64(max(b, 1)), lg, rt)

	tableStats(t, pool, "after the saturated runs")
	rate := float64(benchEnvInt("VIGIL_BENCH_PACED_RATE", 0))
	if rate == 0 {
		rate = 0.5 * sat["decide-next"].rate()
	}
	pac := runRounds(t, paced, dur, func(c contender, d time.Duration) (int64, []time.Duration) {
		var stop func() []postgres.OpTrace
		if c.name == "decide-next" || c.name == "claim-decide" {
			stop = postgres.TraceGroupCommit(reviews)
		}
		n, lats := runPaced(t, workers, d, rate, c.op)
		if stop != nil {
			logTraces(t, c.name+" (paced)", stop())
		}
		return n, lats
	})
	b2, o2, _, lg2 := postgres.GroupCommitStats(reviews)
	t.Logf("group commit (paced): %d transactions carried %d claims and decisions (%.1f each, largest %d)",
		b2-b, o2-o, float64(o2-o)/float64(max(b2-b, 1)), lg2)
	for name, r := range variantReviews {
		vb, vo, _, _ := postgres.GroupCommitStats(r)
		t.Logf("group commit (%s, both modes): %d transactions carried %d (%.1f each)", name, vb, vo, float64(vo)/float64(max(vb, 1)))
	}
	tableStats(t, pool, "after the paced runs")
	if br, _, err := postgres.VerifyAudit(ctx, pool); err != nil || br != nil {
		t.Fatalf("audit chain after the benchmark: %+v %v", br, err)
	}

	for _, name := range vigil {
		v := sat[name]
		for _, other := range []string{"skip-locked-bare", "river-fetch", "river-client"} {
			if sat[other] == nil {
				continue
			}
			fmt.Printf("BENCH review/%s-%s %.0f decisions/s vs %s %.0f/s ratio %.2f\n",
				name, label, v.rate(), other, sat[other].rate(), v.rate()/sat[other].rate())
		}
	}
	for _, name := range vigil {
		for _, p := range []float64{0.99, 0.5} {
			for _, other := range []string{"skip-locked-bare", "river-fetch"} {
				if sat[other] == nil {
					continue
				}
				vl, bl := pct(sat[name].lats, p), pct(sat[other].lats, p)
				fmt.Printf("BENCH review/%s-p%d-%s %.2f ms vs %s %.2f ms ratio %.2f\n",
					name, int(p*100), label, ms(vl), other, ms(bl), float64(bl)/float64(vl))
			}
		}
	}
	if rc := sat["river-client"]; rc != nil {
		fmt.Printf("BENCH review/river-client-fetch-%s p50 %.2f ms p99 %.2f ms over %d fetches\n",
			label, ms(pct(rc.lats, 0.5)), ms(pct(rc.lats, 0.99)), len(rc.lats))
	}
	for _, name := range append([]string{"skip-locked-bare", "river-fetch", "river-client"}, vigil...) {
		if sat[name] == nil {
			continue
		}
		fmt.Printf("BENCH review/server-cpu-%s-%s %.0f µs per item\n", name, label, float64(sat[name].cpuPerOp())/1e3)
	}
	printPaced(pac, rate, label, vigil)
	// The same at a quarter of the saturated rate (Vigil and the bare loop
	// only), so that the latency's dependence on load shows.
	low := runRounds(t, []contender{bare, claimDecide, decideNext}, dur, func(c contender, d time.Duration) (int64, []time.Duration) {
		return runPaced(t, workers, d, rate/2, c.op)
	})
	printPaced(low, rate/2, label, []string{"claim-decide", "decide-next"})
	humanPace()
}

// printPaced prints the paced runs' percentiles of the Vigil contenders
// against the baselines, and the rates achieved.
func printPaced(pac map[string]*result, rate float64, label string, vigil []string) {
	pl := fmt.Sprintf("paced-%.0fps-%s", rate, label)
	for _, name := range vigil {
		for _, p := range []float64{0.99, 0.5} {
			for _, other := range []string{"skip-locked-bare", "river-fetch"} {
				if pac[other] == nil {
					continue
				}
				vl, bl := pct(pac[name].lats, p), pct(pac[other].lats, p)
				fmt.Printf("BENCH review/%s-p%d-%s %.2f ms vs %s %.2f ms ratio %.2f\n",
					name, int(p*100), pl, ms(vl), other, ms(bl), float64(bl)/float64(vl))
			}
		}
	}
	for _, name := range append([]string{"skip-locked-bare", "river-fetch"}, vigil...) {
		if pac[name] == nil {
			continue
		}
		fmt.Printf("BENCH review/%s-%s achieved %.0f/s of %.0f/s offered\n", name, pl, pac[name].rate(), rate)
	}
}

// runRounds runs every contender twice for half of d, the second round in
// reverse order, and sums their slices by name.
func runRounds(t *testing.T, cs []contender, d time.Duration, run func(c contender, d time.Duration) (int64, []time.Duration)) map[string]*result {
	// A contender with its own run counts over exactly d/2 (its start and
	// stop excluded); the worker loops' last iterations overrun d/2.
	t.Helper()
	out := map[string]*result{}
	order := slices.Clone(cs)
	for round := range 2 {
		if round == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			cpu0 := postgresCPU()
			t0 := time.Now()
			n, lats := run(c, d/2)
			el := time.Since(t0)
			if c.run != nil {
				el = d / 2
			}
			if out[c.name] == nil {
				out[c.name] = &result{}
			}
			out[c.name].add(n, el, lats, postgresCPU()-cpu0)
			// Per slice too: a stall from the other sessions on the
			// machine shows as one slice's p99.
			t.Logf("%s: %d in %v (%.0f/s), p50 %.2f ms p99 %.2f ms", c.name, n, el.Round(time.Millisecond), float64(n)/el.Seconds(),
				ms(pct(lats, 0.5)), ms(pct(lats, 0.99)))
		}
	}
	return out
}

// postgresCPU sums the user and system CPU time of the processes named
// postgres on this machine (the local stack's server; other sessions'
// queries count too, so it is approximate). Zero when /proc is absent.
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open || s[open+1:closing] != "postgres" {
			continue
		}
		f := strings.Fields(s[closing+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + k
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// runWorkers runs op on n goroutines for d, closed loop with no think
// time, and returns how many ops succeeded and each op's latency.
func runWorkers(t *testing.T, n int, d time.Duration, op func(ctx context.Context, worker int) (time.Duration, error)) (int64, []time.Duration) {
	t.Helper()
	var done atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for time.Now().Before(deadline) {
				lat, err := op(context.Background(), i)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					break
				}
				local = append(local, lat)
				done.Add(1)
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	return done.Load(), lats
}

// runPaced runs op on n goroutines for d, open loop: each starts its
// iterations at Poisson arrival times, rate/n per second, and an
// iteration's latency counts from its intended start, so an iteration
// delayed by the one before it is charged for the delay (no coordinated
// omission).
func runPaced(t *testing.T, n int, d time.Duration, rate float64, op func(ctx context.Context, worker int) (time.Duration, error)) (int64, []time.Duration) {
	t.Helper()
	var done atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	deadline := start.Add(d)
	mean := float64(n) / rate // seconds between one moderator's arrivals
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			next := start.Add(time.Duration(rng.ExpFloat64() * mean * float64(time.Second)))
			var local []time.Duration
			for next.Before(deadline) {
				time.Sleep(time.Until(next))
				lag := max(time.Since(next), 0)
				lat, err := op(context.Background(), i)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					break
				}
				local = append(local, lag+lat)
				done.Add(1)
				next = next.Add(time.Duration(rng.ExpFloat64() * mean * float64(time.Second)))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	return done.Load(), lats
}

type benchJobArgs struct {
	Num int `json:"num"`
}

func (benchJobArgs) Kind() string { return "bench" }

// runRiverClient starts a river client with workers workers on pool's
// river_job, lets it work for d, and returns the jobs completed meanwhile
// and the durations of its fetches.
func runRiverClient(t *testing.T, pool *pgxpool.Pool, workers int, d time.Duration) (int64, []time.Duration) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var fetches []time.Duration
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(func(context.Context, *river.Job[benchJobArgs]) error { return nil }))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:           ws,
		Plugins: []rivertype.Plugin{river.HookMetricEmitFunc(func(_ context.Context, p *rivertype.HookMetricEmitParams) {
			if m, ok := p.Metric.(*rivertype.JobGetAvailableDurationMetric); ok {
				mu.Lock()
				fetches = append(fetches, m.Duration)
				mu.Unlock()
			}
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: 100_000,
		Kinds: []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed}})
	defer cancel()
	var completed atomic.Int64
	var failed atomic.Value
	stop := make(chan struct{})
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		for {
			select {
			case <-stop:
				return
			case ev := <-events:
				if ev == nil {
					return
				}
				if ev.Kind == river.EventKindJobCompleted {
					completed.Add(1)
				} else {
					failed.CompareAndSwap(nil, fmt.Errorf("river job %d failed", ev.Job.ID))
				}
			}
		}
	}()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	n := completed.Load()
	close(stop)
	<-counted
	stopCtx, stopCancel := context.WithTimeout(ctx, 30*time.Second)
	defer stopCancel()
	if err := client.Stop(stopCtx); err != nil {
		t.Fatalf("stopping river: %v", err)
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return n, fetches
}

// tableStats logs the size and dead rows of the tables the contenders
// write, and the oldest transaction on the server (which keeps dead rows
// from being pruned and makes every SKIP LOCKED scan walk past them).
func tableStats(t *testing.T, pool *pgxpool.Pool, when string) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
SELECT relname, pg_relation_size(relid) / 8192, n_live_tup, n_dead_tup FROM pg_stat_user_tables
WHERE relname IN ('audit_head', 'review_items', 'bare_items', 'river_job') AND schemaname = current_schema()
ORDER BY relname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var pages, live, dead int64
		if err := rows.Scan(&name, &pages, &live, &dead); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d pages %d live %d dead", name, pages, live, dead))
	}
	var oldest time.Duration
	_ = pool.QueryRow(context.Background(), `SELECT COALESCE(max(now() - xact_start), '0') FROM pg_stat_activity
WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&oldest)
	t.Logf("%s: %s; oldest transaction %v", when, strings.Join(out, ", "), oldest.Round(time.Millisecond))
}

// logTraces logs where the group commit's requests spent their time: the
// median and 99th percentile of each phase over all of them, the mean of
// each over the slowest 1%, and the seconds in which those were queued
// (to set beside the server log's checkpoints and vacuums).
func logTraces(t *testing.T, name string, trs []postgres.OpTrace) {
	t.Helper()
	if len(trs) == 0 {
		return
	}
	total := func(r postgres.OpTrace) time.Duration { return r.Queue + r.Acquire + r.Stmts + r.Commit + r.Flush }
	slices.SortFunc(trs, func(a, b postgres.OpTrace) int { return int(total(a) - total(b)) })
	phase := func(f func(postgres.OpTrace) time.Duration, rs []postgres.OpTrace, p float64) time.Duration {
		ds := make([]time.Duration, len(rs))
		for i, r := range rs {
			ds[i] = f(r)
		}
		return pct(ds, p)
	}
	fs := []struct {
		n string
		f func(postgres.OpTrace) time.Duration
	}{{"queue", func(r postgres.OpTrace) time.Duration { return r.Queue }},
		{"acquire", func(r postgres.OpTrace) time.Duration { return r.Acquire }},
		{"stmts", func(r postgres.OpTrace) time.Duration { return r.Stmts }},
		{"commit", func(r postgres.OpTrace) time.Duration { return r.Commit }},
		{"flush", func(r postgres.OpTrace) time.Duration { return r.Flush }},
		{"batch", func(r postgres.OpTrace) time.Duration { return time.Duration(r.Batch) * time.Millisecond }}}
	slow := trs[len(trs)*99/100:]
	var med, p99, mslow []string
	for _, f := range fs {
		med = append(med, fmt.Sprintf("%s %.2f", f.n, ms(phase(f.f, trs, 0.5))))
		p99 = append(p99, fmt.Sprintf("%s %.2f", f.n, ms(phase(f.f, trs, 0.99))))
		var sum time.Duration
		for _, r := range slow {
			sum += f.f(r)
		}
		mslow = append(mslow, fmt.Sprintf("%s %.2f", f.n, ms(sum/time.Duration(len(slow)))))
	}
	secs := map[string]int{}
	for _, r := range slow {
		secs[r.At.UTC().Format("15:04:05")]++
	}
	var when []string
	for k, v := range secs {
		when = append(when, fmt.Sprintf("%s×%d", k, v))
	}
	slices.Sort(when)
	t.Logf("%s group commit, %d requests, total p50 %.2f p99 %.2f ms; phases (ms; batch in requests) p50: %s; p99: %s; mean of the slowest 1%%: %s; at %s",
		name, len(trs), ms(total(trs[len(trs)/2])), ms(total(trs[len(trs)*99/100])),
		strings.Join(med, ", "), strings.Join(p99, ", "), strings.Join(mslow, ", "), strings.Join(when, " "))
}
