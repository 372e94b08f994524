package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// TestBenchIngest measures vigil-ingest end to end on the real broker and
// database and compares it, in the same run, with the bare consume rate of
// kafka-go (read and commit, nothing else) and of franz-go. Runs only with
// VIGIL_BENCH=1 (make bench). VIGIL_BENCH_POSTS sets the posts per run.
func TestBenchIngest(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1 to run")
	}
	n := 200_000
	if v := os.Getenv("VIGIL_BENCH_POSTS"); v != "" {
		_, _ = fmt.Sscan(v, &n)
	}
	e := newEnv(t, 4)
	fh := buildFirehose(t)
	t.Logf("producing %d text posts (1%% matching) to %s", n, e.topic)
	fh.produce(t, e.brokers, e.topic, n, 0, 0.01, 0, 0, 1)

	bare, bareCPU := measure(func() { bareKafkaGo(t, e.brokers, e.topic, n) })
	franz, _ := measure(func() { bareFranz(t, e.brokers, e.topic, n) })
	var w *worker
	ours, oursCPU := measure(func() {
		cfg := e.config()
		cfg.LogLevel = "error"
		w = startWorker(t, cfg)
		waitFor(t, 10*time.Minute, "the worker to consume every post", func() bool {
			return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= float64(n)
		})
	})
	w.stop(t)
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	bench("ingest/text-posts", rate(ours), "posts/s", "kafka-go-bare-consume", rate(bare), "posts/s", rate(ours)/rate(bare))
	bench("ingest/franz-go-bare-consume", rate(franz), "posts/s", "kafka-go-bare-consume", rate(bare), "posts/s", rate(franz)/rate(bare))
	perK := func(cpu time.Duration) float64 { return cpu.Seconds() / float64(n) * 1000 }
	// Lower is better here, so the ratio is baseline / ours like the others.
	bench("ingest/cpu-per-1000-posts", perK(oursCPU), "cpu-s", "kafka-go-bare-consume", perK(bareCPU), "cpu-s", perK(bareCPU)/perK(oursCPU))

	// Latency at half the rate just measured: produce-to-queued of the
	// flagged posts, from their created_at (stamped when produced) to the
	// queue row's queued_at (the enqueue transaction).
	half := rate(ours) / 2
	le := newEnv(t, 4)
	cfg := le.config()
	cfg.LogLevel = "error"
	w2 := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "ready", func() bool { return readyz(w2.addr) == 200 })
	dur := 20 * time.Second
	m := int(half * dur.Seconds())
	pt := time.Now()
	fh.produce(t, le.brokers, le.topic, m, half, 0.01, 0, 0, 2)
	achieved := float64(m) / time.Since(pt).Seconds()
	waitFor(t, time.Minute, "the worker to catch up", func() bool {
		return counter(t, w2.reg, "vigil_ingest_posts_consumed_total") >= float64(m)
	})
	w2.stop(t)
	var p50, p99 float64
	if err := le.schema.Pool.QueryRow(context.Background(), `
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP (ORDER BY d)
FROM (SELECT extract(epoch FROM queued_at - post_created_at) AS d FROM review_items) x`).Scan(&p50, &p99); err != nil {
		t.Fatal(err)
	}
	bench("ingest/produce-to-queued-p50", p50*1000, "ms", fmt.Sprintf("at %.0f posts/s produced, half of the text rate", achieved), 0, "", 0)
	bench("ingest/produce-to-queued-p99", p99*1000, "ms", "target", 1000, "ms", 1000/(p99*1000))

	// A mix with pictures: 5% of posts carry an inline 320×320 picture
	// (PNG or JPEG) that is decoded and hashed (PDQ and pHash).
	me := newEnv(t, 4)
	mn := max(n/20, 2000)
	fh.produce(t, me.brokers, me.topic, mn, 0, 0.01, 0.05, 0.001, 3)
	mixed, _ := measure(func() {
		cfg := me.config()
		cfg.LogLevel = "error"
		cfg.BanksDir = repoRoot(t) + "/rules/banks"
		w := startWorker(t, cfg)
		waitFor(t, 10*time.Minute, "the worker to consume every post", func() bool {
			return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= float64(mn)
		})
		w.stop(t)
	})
	bench("ingest/mix-5pct-images", float64(mn)/mixed.Seconds(), "posts/s", "text-posts", rate(ours), "posts/s", float64(mn)/mixed.Seconds()/rate(ours))
}

func bench(name string, v float64, unit, base string, bv float64, bunit string, ratio float64) {
	if bunit == "" {
		fmt.Printf("BENCH %s %s %s (%s)\n", name, num(v), unit, base)
		return
	}
	fmt.Printf("BENCH %s %s %s vs %s %s %s ratio %.2f\n", name, num(v), unit, base, num(bv), bunit, ratio)
}

// num prints large values whole and small ones with four significant
// digits.
func num(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// measure returns the wall time and the process CPU time (user + system)
// of f.
func measure(f func()) (wall, cpu time.Duration) {
	c0, t0 := cpuTime(), time.Now()
	f()
	return time.Since(t0), cpuTime() - c0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// firehose is the vigil-firehose binary, built once per run.
type firehose struct{ bin string }

func buildFirehose(t *testing.T) firehose {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil-firehose")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/vigil-moderation/vigil/services/firehose/cmd/vigil-firehose")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building vigil-firehose: %v\n%s", err, out)
	}
	return firehose{bin: bin}
}

// produce runs vigil-firehose: n posts at rate per second (0: as fast as
// it can), each stamped with created_at when it is generated.
func (f firehose) produce(t *testing.T, brokers []string, topic string, n int, rate, match, images, banked float64, seed int) {
	t.Helper()
	cmd := exec.Command(f.bin, "--kafka-brokers", strings.Join(brokers, ","), "--posts-topic", topic,
		"--count", fmt.Sprint(n), "--rate", fmt.Sprint(rate), "--match-rate", fmt.Sprint(match),
		"--image-rate", fmt.Sprint(images), "--banked-image-rate", fmt.Sprint(banked), "--seed", fmt.Sprint(seed),
		"--platform", "bench", "--log-level", "warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vigil-firehose: %v\n%s", err, out)
	}
}

// bareKafkaGo reads n messages with kafka-go's consumer-group Reader,
// committing after every 500 (the worker's batch size), and does nothing
// else: the client's ceiling with the same settings as the worker.
func bareKafkaGo(t *testing.T, brokers []string, topic string, n int) {
	r := kafka.NewReader(kafka.ConsumerConfig{Net: kafka.Net{Brokers: brokers}, Topic: topic, GroupID: moderationtest.RandomName("bare_")})
	defer r.Close()
	ctx := context.Background()
	batch := make([]kafkago.Message, 0, 500)
	for i := 0; i < n; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
		if len(batch) == cap(batch) || i == n-1 {
			if err := r.CommitMessages(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// bareFranz reads n messages with franz-go in a consumer group, committing
// after every poll.
func bareFranz(t *testing.T, brokers []string, topic string, n int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(moderationtest.RandomName("franz_")),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("franz-go: %v", errs)
		}
		got += fs.NumRecords()
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
