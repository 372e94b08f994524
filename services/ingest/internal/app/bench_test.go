package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// TestBenchIngest measures vigil-ingest end to end on the real broker and
// database and compares it, in the same run, with the bare consume rate of
// kafka-go (read and commit, nothing else) and of franz-go. Runs only with
// VIGIL_BENCH=1 (make bench). VIGIL_BENCH_POSTS sets the posts per run
// (default 200,000), VIGIL_BENCH_ROUNDS the number of alternating rounds
// (default 5).
//
// The machine is shared and noisy, so one worker run against one bare run
// says little: a burst of load from elsewhere during either flips the
// ratio. Each round runs the bare kafka-go consumer and the worker back to
// back over the same topic, alternating which goes first, and the reported
// ratio is the median of the rounds' ratios, with the worst and best round
// printed beside it.
func TestBenchIngest(t *testing.T) {
	if os.Getenv("VIGIL_BENCH") != "1" {
		t.Skip("set VIGIL_BENCH=1 to run")
	}
	n, rounds := 200_000, 5
	if v := os.Getenv("VIGIL_BENCH_POSTS"); v != "" {
		_, _ = fmt.Sscan(v, &n)
	}
	if v := os.Getenv("VIGIL_BENCH_ROUNDS"); v != "" {
		_, _ = fmt.Sscan(v, &rounds)
	}
	e := newEnv(t, 4)
	fh := buildFirehose(t)
	t.Logf("producing %d text posts (1%% matching) to %s", n, e.topic)
	fh.produce(t, e.brokers, e.topic, n, 0, 0.01, 0, 0, 1)

	// The first consumer of a freshly written topic may pay for reading it
	// from disk; warm the page cache so every measured run reads it alike.
	bareKafkaGo(t, e.brokers, e.topic, n)

	var bareRates, oursRates, franzRates, ratios, bareCPUs, oursCPUs []float64
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	perK := func(cpu time.Duration) float64 { return cpu.Seconds() / float64(n) * 1000 }
	runBare := func() {
		wall, cpu := measure(func() { bareKafkaGo(t, e.brokers, e.topic, n) })
		bareRates, bareCPUs = append(bareRates, rate(wall)), append(bareCPUs, perK(cpu))
	}
	runOurs := func() {
		// A fresh schema each round, so every run inserts rather than
		// updates; creating it is not measured.
		cfg := e.config()
		cfg.DatabaseURL = moderationtest.TestSchema(t).URL
		cfg.GroupID = moderationtest.RandomName("g_")
		cfg.LogLevel = "error"
		var w *worker
		wall, cpu := measure(func() {
			w = startWorker(t, cfg)
			waitForFast(t, 10*time.Minute, "the worker to consume every post", func() bool {
				return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= float64(n)
			})
		})
		w.stop(t)
		oursRates, oursCPUs = append(oursRates, rate(wall)), append(oursCPUs, perK(cpu))
		t.Logf("worker stages (seconds summed over batches): %s", stageSums(t, w.reg))
	}
	for r := 0; r < rounds; r++ {
		if r%2 == 0 {
			runBare()
			runOurs()
		} else {
			runOurs()
			runBare()
		}
		ratios = append(ratios, oursRates[r]/bareRates[r])
		wall, _ := measure(func() { bareFranz(t, e.brokers, e.topic, n) })
		franzRates = append(franzRates, rate(wall))
		t.Logf("round %d: worker %.0f posts/s (%.4f cpu-s/1000), bare kafka-go %.0f posts/s (%.4f cpu-s/1000), ratio %.2f; franz-go %.0f posts/s",
			r+1, oursRates[r], oursCPUs[r], bareRates[r], bareCPUs[r], ratios[r], franzRates[r])
	}
	ours, bare, franz := median(oursRates), median(bareRates), median(franzRates)
	ratio := median(ratios)
	bench("ingest/text-posts", ours, "posts/s", "kafka-go-bare-consume", bare, "posts/s", ratio)
	bench("ingest/text-posts-ratio-worst-round", slices.Min(ratios), "ratio",
		fmt.Sprintf("median %.2f, best %.2f, over %d alternating rounds of %d posts", ratio, slices.Max(ratios), rounds, n), 0, "", 0)
	bench("ingest/franz-go-bare-consume", franz, "posts/s", "kafka-go-bare-consume", bare, "posts/s", franz/bare)
	// Lower is better here, so the ratio is baseline / ours like the others.
	oursCPU, bareCPU := median(oursCPUs), median(bareCPUs)
	bench("ingest/cpu-per-1000-posts", oursCPU, "cpu-s", "kafka-go-bare-consume", bareCPU, "cpu-s", bareCPU/oursCPU)

	// Latency at half the rate just measured: produce-to-queued of the
	// flagged posts, from their created_at (stamped when produced) to the
	// queue row's queued_at (the enqueue transaction).
	half := ours / 2
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
		cfg.BanksDir = moderationtest.RepoRoot(t) + "/rules/banks"
		w := startWorker(t, cfg)
		waitFor(t, 10*time.Minute, "the worker to consume every post", func() bool {
			return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= float64(mn)
		})
		w.stop(t)
	})
	bench("ingest/mix-5pct-images", float64(mn)/mixed.Seconds(), "posts/s", "text-posts", ours, "posts/s", float64(mn)/mixed.Seconds()/ours)
}

func bench(name string, v float64, unit, base string, bv float64, bunit string, ratio float64) {
	if bunit == "" {
		fmt.Printf("BENCH %s %s %s (%s)\n", name, num(v), unit, base)
		return
	}
	fmt.Printf("BENCH %s %s %s vs %s %s %s ratio %.2f\n", name, num(v), unit, base, num(bv), bunit, ratio)
}

// median of xs (xs is not modified).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// waitForFast is waitFor polling every 20 ms, so that the end of a run of
// a few seconds is seen precisely (gathering the registry to poll costs
// CPU, which is counted against the worker: not much more often).
func waitForFast(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stageSums reports the summed batch durations per stage of a worker.
func stageSums(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, mf := range mfs {
		if mf.GetName() != "vigil_ingest_batch_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				parts = append(parts, fmt.Sprintf("%s=%.3f (%d batches)", l.GetValue(), m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()))
			}
		}
	}
	return strings.Join(parts, " ")
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
