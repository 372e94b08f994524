package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
)

// recordingQueue records what each Enqueue call stored.
type recordingQueue struct {
	mu    sync.Mutex
	calls [][]string // post ids per call
	bytes []int      // evidence bytes per call
}

func (q *recordingQueue) Enqueue(_ context.Context, flags []moderation.Flag) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []string
	n := 0
	for _, f := range flags {
		ids = append(ids, f.Post.ID)
		for _, e := range f.Evidence {
			n += len(e.Bytes)
		}
	}
	q.calls = append(q.calls, ids)
	q.bytes = append(q.bytes, n)
	return nil
}

// TestEvidenceBudget: a batch of flagged posts with media holds at most
// about EvidenceBudget bytes of evidence before it is stored; the rest of
// the batch is evaluated and stored after it, in order, every post once.
// Without the budget, the evidence of a whole batch (up to 500 posts × 16
// media × media-max-bytes) was held at once.
func TestEvidenceBudget(t *testing.T) {
	t.Parallel()
	eng := testEngine(t)
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	size := buf.Len()
	var batch []kafkago.Message
	for i := range 10 {
		id := fmt.Sprintf("p%d", i)
		v, _ := json.Marshal(moderation.Post{V: 1, ID: id, Platform: "t", Author: moderation.Author{ID: "a"},
			Text: "we attack the convoy", CreatedAt: time.Now(), Media: []moderation.Media{{ID: "m", MIME: "image/png", Data: buf.Bytes()}}})
		batch = append(batch, kafkago.Message{Topic: "posts", Offset: int64(i), Key: []byte(id), Value: v})
	}
	for _, c := range []struct {
		name   string
		budget int64
	}{{"unbounded", 0}, {"two and a half images", int64(size) * 5 / 2}, {"less than one image", 1}} {
		t.Run(c.name, func(t *testing.T) {
			q := &recordingQueue{}
			m := NewMetrics(prometheus.NewRegistry())
			p := &Processor{
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m,
				Engine: func() *engine.Engine { return eng }, Queue: q, DLQ: nopWriter{}, Now: time.Now,
				Media: &MediaLoader{Metrics: m}, MediaConcurrency: 1, EvidenceBudget: c.budget,
			}
			p.retry = &retrier{log: p.Log, metrics: m, ready: NewReadiness(m), backoff: Backoff{Min: time.Millisecond, Max: time.Second}}
			ctx := context.Background()
			if err := p.Process(ctx, ctx, batch); err != nil {
				t.Fatal(err)
			}
			var all []string
			for i, ids := range q.calls {
				all = append(all, ids...)
				// With one post loaded at a time, a batch stops at most one
				// post after the budget is reached.
				if c.budget > 0 && int64(q.bytes[i]) > c.budget+2*int64(size) {
					t.Errorf("call %d stored %d evidence bytes, budget %d (image %d)", i, q.bytes[i], c.budget, size)
				}
			}
			want := []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}
			if !slices.Equal(all, want) {
				t.Fatalf("stored %v, want %v once each, in order", q.calls, want)
			}
			switch {
			case c.budget == 0 && len(q.calls) != 1:
				t.Errorf("unbounded: %d batches, want 1", len(q.calls))
			case c.budget == 1 && len(q.calls) < 5:
				// The budget is checked before a post is started, while the
				// one before it may still be loading: at most two a batch.
				t.Errorf("budget below one image: %d batches, want at least 5", len(q.calls))
			case c.budget > 1 && len(q.calls) < 3:
				t.Errorf("budget of 2.5 images: %d batches, want at least 3", len(q.calls))
			}
			if n := testutil.ToFloat64(m.InFlight); n != 0 {
				t.Errorf("in-flight gauge %v after the batch, want 0", n)
			}
			if n := testutil.ToFloat64(m.Consumed); n != 10 {
				t.Errorf("consumed %v, want 10", n)
			}
		})
	}
}
