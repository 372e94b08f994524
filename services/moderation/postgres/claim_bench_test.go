package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// TestBenchClaims measures claim-and-decide throughput and claim latency
// with many pending items and 50 concurrent moderators, side by side with
// a bare SELECT … FOR UPDATE SKIP LOCKED LIMIT 1 loop on an equivalent
// table in the same run. Only under VIGIL_BENCH=1 (make bench).
// VIGIL_BENCH_CLAIM_ITEMS (default 1,000,000) and VIGIL_BENCH_SECONDS
// (default 20 per side) scale it.
func TestBenchClaims(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1 to run the claim benchmark")
	}
	items := benchEnvInt("VIGIL_BENCH_CLAIM_ITEMS", 1_000_000)
	secs := benchEnvInt("VIGIL_BENCH_SECONDS", 20)
	workers := benchEnvInt("VIGIL_BENCH_WORKERS", 50)
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, s.URL, int32(workers+5))
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
SELECT severity, sla_deadline, flagged_at FROM review_items ORDER BY id;
ANALYZE review_items; ANALYZE bare_items;`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d items in each table in %v", items, time.Since(start).Round(time.Second))
	reviews := postgres.NewReviews(pool, postgres.ReviewOptions{})
	users := postgres.NewUsers(pool, postgres.UserOptions{Password: cheap})
	mods := make([]moderation.User, workers)
	for i := range mods {
		if mods[i], err = users.Create(ctx, "bench", fmt.Sprintf("bench%02d", i), "bench-password-long", []moderation.Role{moderation.RoleModerator}); err != nil {
			t.Fatal(err)
		}
	}
	dur := time.Duration(secs) * time.Second

	// Baseline: the bare claim, marked done in the same transaction.
	baseN, baseLat := runWorkers(t, workers, dur, func(i int) (time.Duration, error) {
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
	})

	// Vigil: claim one item (lease, audit event, matches and media loaded),
	// then decide it (decision row, item update, outbox row, audit event),
	// each answered once durable. Concurrent requests share group-commit
	// transactions, so a claim's latency includes waiting for the
	// transaction in flight and then its own.
	in := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	vigilN, vigilLat := runWorkers(t, workers, dur, func(i int) (time.Duration, error) {
		t0 := time.Now()
		got, err := reviews.Claim(ctx, mods[i], moderation.ClaimFilter{Count: 1})
		lat := time.Since(t0)
		if err != nil || len(got) != 1 {
			return lat, fmt.Errorf("claim: %d items, %w", len(got), err)
		}
		_, err = reviews.Decide(ctx, mods[i], false, got[0].ID, in)
		return lat, err
	})
	b, o, rt, lg := postgres.GroupCommitStats(reviews)
	t.Logf("group commit: %d transactions carried %d claims and decisions (%.1f each, largest %d), %d re-run",
		b, o, float64(o)/float64(max(b, 1)), lg, rt)
	if br, _, err := postgres.VerifyAudit(ctx, pool); err != nil || br != nil {
		t.Fatalf("audit chain after the benchmark: %+v %v", br, err)
	}

	vr, br := float64(vigilN)/dur.Seconds(), float64(baseN)/dur.Seconds()
	label := fmt.Sprintf("%dk", items/1000)
	if items >= 1_000_000 {
		label = fmt.Sprintf("%dM", items/1_000_000)
	}
	fmt.Printf("BENCH review/claim-decide-%s-%dmods %.0f decisions/s vs skip-locked-bare %.0f claims/s ratio %.2f\n",
		label, workers, vr, br, vr/br)
	vp99, bp99 := pct(vigilLat, 0.99), pct(baseLat, 0.99)
	fmt.Printf("BENCH review/claim-p99-%s-%dmods %.2f ms vs skip-locked-bare %.2f ms ratio %.2f\n",
		label, workers, ms(vp99), ms(bp99), float64(bp99)/float64(vp99))
	fmt.Printf("BENCH review/claim-p50-%s-%dmods %.2f ms vs skip-locked-bare %.2f ms ratio %.2f\n",
		label, workers, ms(pct(vigilLat, 0.5)), ms(pct(baseLat, 0.5)), float64(pct(baseLat, 0.5))/float64(pct(vigilLat, 0.5)))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// runWorkers runs op on n goroutines for d and returns how many ops
// succeeded and each op's latency.
func runWorkers(t *testing.T, n int, d time.Duration, op func(worker int) (time.Duration, error)) (int64, []time.Duration) {
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
				lat, err := op(i)
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
