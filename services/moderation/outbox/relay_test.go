package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/outbox"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

type fixture struct {
	schema  *moderationtest.Schema
	brokers []string
	topic   string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	brokers := moderationtest.Kafka(t)
	return &fixture{
		schema:  moderationtest.TestSchema(t),
		brokers: brokers,
		topic:   moderationtest.Topic(t, brokers, "actions_", 2),
	}
}

// decide writes n outbox rows the way the review service does: in the
// transaction of the decisions they announce.
func (f *fixture) decide(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.schema.Pool, func(tx pgx.Tx) error {
		for i := range n {
			post := fmt.Sprintf("post-%d", i%7)
			if _, err := postgres.AppendOutbox(ctx, tx, f.topic, post, map[string]any{"post_id": post, "action": "remove"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) relay(reg prometheus.Registerer) (*outbox.Relay, *kafka.OutboxBroker) {
	store := postgres.NewOutbox(f.schema.Pool, nil)
	broker := kafka.NewOutboxBroker(kafka.Net{Brokers: f.brokers})
	return &outbox.Relay{
		Lock: func(ctx context.Context) (outbox.Session, error) {
			s, err := store.Lock(ctx)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		Broker:    broker,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:   outbox.NewMetrics(reg),
		BatchSize: 10,
		Poll:      50 * time.Millisecond,
		LockRetry: 200 * time.Millisecond,
	}, broker
}

// start runs r until the returned stop is called.
func start(t *testing.T, r *outbox.Relay) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("relay: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (f *fixture) unsent(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.schema.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) waitSent(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for f.unsent(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox rows still unsent", f.unsent(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// published counts each outbox id in the topic.
func (f *fixture) published(t *testing.T) map[int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := kafka.Net{Brokers: f.brokers}
	first, next, err := n.Offsets(ctx, f.topic)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int64]int{}
	for p, end := range next {
		if end <= first[p] {
			continue
		}
		r, err := kafka.NewPartitionReader(kafka.ConsumerConfig{Net: n, Topic: f.topic}, p, first[p])
		if err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Fatalf("reading %s/%d: %v", f.topic, p, err)
			}
			for _, h := range m.Headers {
				if h.Key == moderation.HeaderOutboxID {
					id, _ := strconv.ParseInt(string(h.Value), 10, 64)
					counts[id]++
				}
			}
			if m.Offset >= end-1 {
				break
			}
		}
		_ = r.Close()
	}
	return counts
}

func (f *fixture) assertExactlyOnce(t *testing.T, want int) {
	t.Helper()
	counts := f.published(t)
	if len(counts) != want {
		t.Fatalf("%d distinct outbox ids published, want %d", len(counts), want)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("outbox id %d published %d times", id, c)
		}
	}
}

// TestRelayAfterCrashBeforePublish: decisions committed, then the process
// died before relaying them. A relay started later publishes each once.
func TestRelayAfterCrashBeforePublish(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.decide(t, 35)
	r, broker := f.relay(prometheus.NewRegistry())
	defer broker.Close()
	stop := start(t, r)
	f.waitSent(t)
	f.decide(t, 12) // and the running relay picks up new ones
	f.waitSent(t)
	stop()
	f.assertExactlyOnce(t, 47)
	if got := testutil.ToFloat64(r.Metrics.Published); got != 47 {
		t.Fatalf("published metric %v, want 47", got)
	}
}

// TestRelayCrashAfterPublishBeforeMark: the relay dies after the broker
// acknowledged a batch and before marking it sent. The next relay finds
// the batch in the topic's tail, marks it, and does not publish it again.
func TestRelayCrashAfterPublishBeforeMark(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.decide(t, 25)
	crashed := make(chan []int64, 1)
	r1, b1 := f.relay(prometheus.NewRegistry())
	defer b1.Close()
	r1.AfterPublish = func(ids []int64) error {
		select {
		case crashed <- ids:
		default:
		}
		return errors.New("simulated crash between publish and mark-sent")
	}
	stop1 := start(t, r1)
	var lost []int64
	select {
	case lost = <-crashed:
	case <-time.After(60 * time.Second):
		t.Fatal("relay never published")
	}
	stop1()
	if got := f.unsent(t); got != 25 {
		t.Fatalf("%d unsent after the crash, want 25 (nothing marked)", got)
	}

	r2, b2 := f.relay(prometheus.NewRegistry())
	defer b2.Close()
	stop2 := start(t, r2)
	f.waitSent(t)
	stop2()
	f.assertExactlyOnce(t, 25)
	if got := testutil.ToFloat64(r2.Metrics.Recovered); got != float64(len(lost)) {
		t.Fatalf("recovered %v messages, want the %d of the crashed batch", got, len(lost))
	}
	if got := testutil.ToFloat64(r2.Metrics.Published); got != float64(25-len(lost)) {
		t.Fatalf("published %v messages, want %d", got, 25-len(lost))
	}
}

// TestRelayOneAtATime: two relays run side by side; the advisory lock lets
// one publish, and every message goes out once. When the leader stops, the
// other takes over.
func TestRelayOneAtATime(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ra, ba := f.relay(prometheus.NewRegistry())
	defer ba.Close()
	rb, bb := f.relay(prometheus.NewRegistry())
	defer bb.Close()
	stopA := start(t, ra)
	stopB := start(t, rb)
	for range 5 {
		f.decide(t, 9)
		time.Sleep(30 * time.Millisecond)
	}
	f.waitSent(t)
	leaders := testutil.ToFloat64(ra.Metrics.Leader) + testutil.ToFloat64(rb.Metrics.Leader)
	if leaders != 1 {
		t.Fatalf("%v relays hold the lock, want 1", leaders)
	}
	// Stop whichever leads; the other must take over.
	if testutil.ToFloat64(ra.Metrics.Leader) == 1 {
		stopA()
	} else {
		stopB()
	}
	f.decide(t, 10)
	f.waitSent(t)
	stopA()
	stopB()
	f.assertExactlyOnce(t, 55)
}
