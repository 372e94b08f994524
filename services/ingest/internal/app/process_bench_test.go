package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, []moderation.Flag) error { return nil }

type nopWriter struct{}

func (nopWriter) WriteMessages(context.Context, ...kafkago.Message) error { return nil }

// testEngine runs two keyword rules ("attack the", "bomb the"), for the
// tests and benchmarks that drive the processor without a worker.
func testEngine(t testing.TB) *engine.Engine {
	t.Helper()
	dir := t.TempDir()
	rules := "rules:\n  - id: t.attack\n    description: a\n    category: violent_threat\n    severity: high\n    keywords: [attack the]\n" +
		"  - id: t.bomb\n    description: b\n    category: terrorist_content\n    severity: critical\n    keywords: [bomb the]\n"
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := ruleset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return engine.New(set)
}

// BenchmarkProcessText measures the processor's CPU per batch of 500
// text-only posts shaped like vigil-firehose's (1% matching), with the
// queue and the dead-letter writer stubbed out: decode, validate, keyword
// rules, flag bookkeeping and metrics.
func BenchmarkProcessText(b *testing.B) {
	eng := testEngine(b)
	texts := []string{"Just finished a great book, highly recommend it #reading", "Coffee first, then everything else",
		"Сегодня наконец-то выпал первый снег", "今日は天気が良いので公園を散歩しました", "@user42 Anyone watching the game tonight?"}
	batch := make([]kafkago.Message, 500)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range batch {
		text := texts[i%len(texts)]
		if i%100 == 7 {
			text = "we will attack the parade on saturday"
		}
		id := fmt.Sprintf("bench-1-%d", i)
		v, _ := json.Marshal(moderation.Post{V: 1, ID: id, Platform: "bench", Author: moderation.Author{ID: "u123", Handle: "user123"},
			Text: text, Lang: "en", CreatedAt: now, URL: "https://bench.example/p/" + id})
		batch[i] = kafkago.Message{Topic: "posts", Partition: 1, Offset: int64(i), Key: []byte(id), Value: v}
	}
	p := &Processor{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(prometheus.NewRegistry()),
		Engine: func() *engine.Engine { return eng }, Queue: nopQueue{}, DLQ: nopWriter{}, Now: time.Now,
	}
	p.retry = &retrier{log: p.Log, metrics: p.Metrics, ready: NewReadiness(p.Metrics), backoff: Backoff{Min: time.Millisecond, Max: time.Second}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Process(ctx, ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/post")
}
