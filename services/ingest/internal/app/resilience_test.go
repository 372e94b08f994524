package app_test

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestRebalance: a second worker joins mid-stream, then leaves mid-stream.
// Every flag is queued once, and no batch is processed twice: the two
// workers together consumed each message exactly once.
func TestRebalance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s := makeStream("rb", 3000)
	cfg := e.config()
	cfg.BatchSize = 50
	a := startWorker(t, cfg)
	done := produceAsync(t, e.brokers, e.topic, s.msgs, 400)

	time.Sleep(2 * time.Second)
	b := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "worker b to own partitions", func() bool {
		return counter(t, b.reg, "vigil_ingest_partitions_assigned") > 0 && counter(t, b.reg, "vigil_ingest_posts_consumed_total") > 0
	})
	b.stop(t) // graceful: finishes its batches, commits, leaves the group
	<-done
	waitQueued(t, e.schema, s.want, 90*time.Second)
	waitFor(t, 30*time.Second, "all messages consumed", func() bool {
		return counter(t, a.reg, "vigil_ingest_posts_consumed_total")+counter(t, b.reg, "vigil_ingest_posts_consumed_total") >= float64(len(s.msgs))
	})
	time.Sleep(time.Second) // anything processed twice would show up now
	ca, cb := counter(t, a.reg, "vigil_ingest_posts_consumed_total"), counter(t, b.reg, "vigil_ingest_posts_consumed_total")
	if ca+cb != float64(len(s.msgs)) {
		t.Fatalf("workers consumed %v + %v = %v messages, want exactly %d", ca, cb, ca+cb, len(s.msgs))
	}
	if gens := counter(t, a.reg, "vigil_ingest_group_generations_total"); gens < 3 {
		t.Fatalf("worker a saw %v generations, want at least 3 (alone, with b, alone)", gens)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresOutage: Postgres goes away under load (the worker reaches it
// through a proxy the test cuts), the worker reports not ready and keeps
// retrying, and when Postgres is back it resumes by itself: every flag is
// queued once.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	cfg, pg := e.configViaPostgresProxy(t)
	cfg.BatchSize = 50
	w := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "ready", func() bool { return readyz(w.addr) == 200 })

	s := makeStream("pg", 2000)
	done := produceAsync(t, e.brokers, e.topic, s.msgs, 300)
	waitFor(t, 30*time.Second, "some flags queued", func() bool { return itemCount(t, e.schema) > 5 })
	pg.Cut()
	waitFor(t, 30*time.Second, "not ready during the outage", func() bool { return readyz(w.addr) == 503 })
	waitBackendsGone(t, e.schema, pg)
	before := itemCount(t, e.schema)
	time.Sleep(3 * time.Second)
	if itemCount(t, e.schema) != before {
		t.Fatal("items were queued while Postgres was unreachable: the proxy is not in the path")
	}
	pg.Restore()
	<-done
	waitQueued(t, e.schema, s.want, 90*time.Second)
	waitFor(t, 30*time.Second, "ready again", func() bool { return readyz(w.addr) == 200 })
	if n := counter(t, w.reg, "vigil_ingest_retries_total", "op", "postgres"); n == 0 {
		t.Fatal("no postgres retries counted")
	}
	if n := counter(t, w.reg, "vigil_ingest_dead_letters_total"); n != 0 {
		t.Fatalf("%v dead letters: transient failures must be retried, not dead-lettered", n)
	}
}

// TestKafkaOutage: the broker goes away (every connection of the worker,
// bootstrap and advertised addresses alike, goes through a proxy the test
// cuts) while posts keep arriving; the worker reports not ready, rejoins by
// itself when the broker is back, and every flag is queued once.
func TestKafkaOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	kp := newProxy(t, e.brokers[0])
	cfg := e.config()
	cfg.BatchSize = 50
	cfg.KafkaDial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, kp.Addr())
	}
	w := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "ready", func() bool { return readyz(w.addr) == 200 })

	s := makeStream("kf", 2000)
	done := produceAsync(t, e.brokers, e.topic, s.msgs, 300)
	waitFor(t, 30*time.Second, "some flags queued", func() bool { return itemCount(t, e.schema) > 5 })
	kp.Cut()
	waitFor(t, 30*time.Second, "not ready during the outage", func() bool { return readyz(w.addr) == 503 })
	time.Sleep(4 * time.Second)
	kp.Restore()
	<-done
	waitQueued(t, e.schema, s.want, 90*time.Second)
	waitFor(t, 30*time.Second, "ready again", func() bool { return readyz(w.addr) == 200 })
	if n := counter(t, w.reg, "vigil_ingest_dead_letters_total"); n != 0 {
		t.Fatalf("%v dead letters: transient failures must be retried, not dead-lettered", n)
	}
}
