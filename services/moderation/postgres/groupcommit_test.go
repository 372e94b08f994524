package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// bogus is a decision the database refuses (decisions.action and
// review_items.outcome are CHECKed): the way to make one request of a
// group-commit transaction fail. Real callers validate first.
var bogus = moderation.DecisionInput{Action: "bogus", ReasonCode: "HATE-1"}

// pileUp runs request(0) .. request(n-1), each in a goroutine, so that
// request 0 is a transaction of its own and the others queue behind it
// and meet in one batch of reviews' single writer: it holds the audit head
// while request 0 is taken (its transaction waits for the head) and the
// others queue, then lets go. It returns once every request returned.
func pileUp(t *testing.T, f *fixture, reviews *postgres.Reviews, n int, request func(i int)) {
	t.Helper()
	ctx := context.Background()
	lock, err := f.s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM audit_head FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			request(i)
		}()
	}
	wait := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = lock.Rollback(ctx)
				t.Fatal(what)
			}
		}
	}
	before, _, _, _ := postgres.GroupCommitStats(reviews)
	start(0) // taken alone by the writer, which then waits for the head
	wait("the writer did not take the first request", func() bool {
		b, _, _, _ := postgres.GroupCommitStats(reviews)
		return b > before && postgres.GroupCommitQueued(reviews) == 0
	})
	for i := 1; i < n; i++ {
		start(i)
	}
	wait(fmt.Sprintf("the other %d requests did not queue", n-1), func() bool { return postgres.GroupCommitQueued(reviews) >= n-1 })
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitIsolatesFailure holds the audit head so that requests
// pile up behind one writer, then releases it: claims and decisions share
// one transaction, the one refused decision fails alone, every other
// request commits with its audit event and outbox row, and the chain
// verifies.
func TestGroupCommitIsolatesFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	reviews := postgres.NewReviews(f.s.Pool, postgres.ReviewOptions{Clock: f.clock, Lease: 10 * time.Minute, Writers: 1})
	seed(t, f.s.Pool, 40, f.clock.Now().Add(-time.Hour), "")
	const deciders, claimers = 10, 5
	mods := make([]moderation.User, deciders+claimers)
	held := make([]int64, deciders)
	for i := range mods {
		mods[i] = f.user(t, fmt.Sprintf("gc%02d", i), moderation.RoleModerator)
		if i < deciders {
			got, err := reviews.Claim(ctx, mods[i], moderation.ClaimFilter{Count: 1})
			if err != nil || len(got) != 1 {
				t.Fatalf("claim: %v %v", got, err)
			}
			held[i] = got[0].ID
		}
	}

	const failing = 3
	ok := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	errs := make([]error, len(mods))
	claimed := make([][]moderation.Item, len(mods))
	merged := reviews.WriteStats().Shared
	pileUp(t, f, reviews, len(mods), func(i int) {
		switch {
		case i >= deciders:
			claimed[i], errs[i] = reviews.Claim(ctx, mods[i], moderation.ClaimFilter{Count: 2})
		case i == failing:
			_, errs[i] = reviews.Decide(ctx, mods[i], false, held[i], bogus)
		default:
			_, errs[i] = reviews.Decide(ctx, mods[i], false, held[i], ok)
		}
	})

	for i, err := range errs {
		switch {
		case i == failing:
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("refused decision: %v, want ErrInvalid", err)
			}
		case err != nil:
			t.Fatalf("request %d failed with its batch: %v", i, err)
		case i >= deciders && len(claimed[i]) != 2:
			t.Fatalf("claimer %d got %d items, want 2", i, len(claimed[i]))
		}
	}
	// The claims shared a statement; the decisions' shared statement failed
	// on the refused one, and each ran on its own statement instead.
	if n := reviews.WriteStats().Shared - merged; n < claimers {
		t.Fatalf("%d requests ran in a shared statement, want at least the %d claims", n, claimers)
	}
	batches, ops, retries, largest := postgres.GroupCommitStats(reviews)
	// The first transaction carried request 0; the second all the others,
	// re-run once without the refused decision, which then ran alone.
	if largest < int64(len(mods)-1) || retries < 1 {
		t.Fatalf("largest batch %d, %d re-runs: the queued requests did not share a transaction", largest, retries)
	}
	t.Logf("%d transactions carried %d requests and re-runs (largest %d, %d re-runs)", batches, ops, largest, retries)

	var decisions, decisionEvents, claimEvents, outbox int
	err := f.s.Pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM decisions),
    (SELECT count(*) FROM audit_events WHERE action = 'decision'),
    (SELECT count(*) FROM audit_events WHERE action = 'claim'),
    (SELECT count(*) FROM outbox)`).Scan(&decisions, &decisionEvents, &claimEvents, &outbox)
	if err != nil {
		t.Fatal(err)
	}
	if decisions != deciders-1 || decisionEvents != deciders-1 || outbox != deciders-1 {
		t.Fatalf("%d decisions, %d decision events, %d outbox rows; want %d each", decisions, decisionEvents, outbox, deciders-1)
	}
	if claimEvents != deciders+claimers {
		t.Fatalf("%d claim events, want %d", claimEvents, deciders+claimers)
	}
	var status string
	if err := f.s.Pool.QueryRow(ctx, `SELECT status FROM review_items WHERE id = $1`, held[failing]).Scan(&status); err != nil || status != "claimed" {
		t.Fatalf("item of the refused decision is %q (%v), want still claimed", status, err)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain after a batch with a refused request: %+v %v", br, err)
	}
}

// TestGroupCommitConcurrent: 30 moderators claim and decide 600 items
// through shared transactions, some sending a refused decision first.
// Every item is decided exactly once, every act has exactly one audit
// event and every decision one outbox row, and the chain verifies.
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const items, mods = 600, 30
	seed(t, f.s.Pool, items, f.clock.Now().Add(-time.Hour), "")
	users := make([]moderation.User, mods)
	for i := range users {
		users[i] = f.user(t, fmt.Sprintf("cc%02d", i), moderation.RoleModerator)
	}
	ok := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	var mu sync.Mutex
	decided := map[int64]bool{}
	var refused int
	var wg sync.WaitGroup
	errs := make(chan error, mods)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				got, err := f.reviews.Claim(ctx, u, moderation.ClaimFilter{Count: 1})
				if err != nil {
					errs <- fmt.Errorf("claim: %w", err)
					return
				}
				if len(got) == 0 {
					return
				}
				id := got[0].ID
				if (i+n)%7 == 0 {
					if _, err := f.reviews.Decide(ctx, u, false, id, bogus); !errors.Is(err, moderation.ErrInvalid) {
						errs <- fmt.Errorf("refused decision on item %d: %v, want ErrInvalid", id, err)
						return
					}
					mu.Lock()
					refused++
					mu.Unlock()
				}
				if _, err := f.reviews.Decide(ctx, u, false, id, ok); err != nil {
					errs <- fmt.Errorf("deciding item %d: %w", id, err)
					return
				}
				mu.Lock()
				if decided[id] {
					mu.Unlock()
					errs <- fmt.Errorf("item %d decided twice", id)
					return
				}
				decided[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(decided) != items {
		t.Fatalf("%d items decided, want %d", len(decided), items)
	}
	var decisions, decisionEvents, claimEvents, outbox, distinct int
	err := f.s.Pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM decisions), (SELECT count(DISTINCT item_id) FROM decisions),
    (SELECT count(*) FROM audit_events WHERE action = 'decision'),
    (SELECT count(*) FROM audit_events WHERE action = 'claim'),
    (SELECT count(*) FROM outbox)`).Scan(&decisions, &distinct, &decisionEvents, &claimEvents, &outbox)
	if err != nil {
		t.Fatal(err)
	}
	if decisions != items || distinct != items || decisionEvents != items || claimEvents != items || outbox != items {
		t.Fatalf("%d decisions on %d items, %d decision events, %d claim events, %d outbox rows; want %d each",
			decisions, distinct, decisionEvents, claimEvents, outbox, items)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain after concurrent group commits: %+v %v", br, err)
	}
	batches, ops, retries, largest := postgres.GroupCommitStats(f.reviews)
	t.Logf("%d transactions for %d requests (largest %d), %d re-runs, %d refused", batches, ops, largest, retries, refused)
	if largest < 2 {
		t.Fatalf("no two of %d concurrent requests shared a transaction", ops)
	}
}

// TestFlushCoversAsyncCommit checks what the early release of the group
// commit relies on: after a commit made with synchronous_commit off, the
// flush statement returns only once the WAL is flushed past that commit.
func TestFlushCoversAsyncCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.s.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	conn := c.Conn()
	if _, err := conn.Exec(ctx, "CREATE TABLE flush_probe (n int)"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		var lsn string
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SET LOCAL synchronous_commit = off")
		b.Queue("INSERT INTO flush_probe VALUES ($1)", i)
		b.Queue("COMMIT")
		b.Queue("SELECT pg_current_wal_insert_lsn()::text") // past the commit record
		b.Queue(postgres.FlushWALSQL)
		br := conn.SendBatch(ctx, b)
		for range 4 {
			if _, err := br.Exec(); err != nil {
				t.Fatal(err)
			}
		}
		if err := br.QueryRow().Scan(&lsn); err != nil {
			t.Fatal(err)
		}
		if _, err := br.Exec(); err != nil {
			t.Fatal(err)
		}
		if err := br.Close(); err != nil {
			t.Fatal(err)
		}
		var flushed bool
		if err := conn.QueryRow(ctx, "SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn", lsn).Scan(&flushed); err != nil {
			t.Fatal(err)
		}
		if !flushed {
			t.Fatalf("iteration %d: WAL not flushed past %s after the flush statement", i, lsn)
		}
	}
}

// TestCheckFlush: the start-up check passes on a default server and fails,
// with a message naming what is missing, for a role that may not run the
// flush.
func TestCheckFlush(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	if err := postgres.CheckFlush(ctx, s.Pool); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	role := moderationtest.RandomName("r_")
	for _, q := range []string{
		"CREATE ROLE " + role,
		"REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) FROM PUBLIC",
		"SET LOCAL ROLE " + role,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Skipf("cannot set up a restricted role here: %v", err)
		}
	}
	if err := postgres.CheckFlush(ctx, tx); err == nil || !strings.Contains(err.Error(), "pg_logical_emit_message") {
		t.Fatalf("restricted role: %v", err)
	}
}
