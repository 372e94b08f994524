package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
)

// recordingWriter records the dead letters written.
type recordingWriter struct {
	mu   sync.Mutex
	msgs []kafkago.Message
}

func (w *recordingWriter) WriteMessages(_ context.Context, msgs ...kafkago.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msgs...)
	return nil
}

// TestMediaFailureKeepsTextFlag: a post whose media cannot be used is
// dead-lettered, and when its text is flagged it is queued on the text
// all the same. It used to be dead-lettered only, so attaching one
// undecodable or unfetchable image kept flagged text out of review.
func TestMediaFailureKeepsTextFlag(t *testing.T) {
	t.Parallel()
	eng := testEngine(t)
	broken := moderation.Media{ID: "m", MIME: "image/png", Data: []byte("\x89PNG\r\n\x1a\nthis is not really a png")}
	fetched := moderation.Media{ID: "m", MIME: "image/png", URL: "https://img.example/x.png"} // fetching is disabled here
	posts := []moderation.Post{
		{V: 1, ID: "text-bad-image", Text: "we attack the convoy", Media: []moderation.Media{broken}},
		{V: 1, ID: "text-refused-url", Text: "we attack the convoy", Media: []moderation.Media{fetched}},
		{V: 1, ID: "clean-bad-image", Text: "look", Media: []moderation.Media{broken}},
	}
	var batch []kafkago.Message
	for i, p := range posts {
		p.Platform, p.Author, p.CreatedAt = "t", moderation.Author{ID: "a"}, time.Now()
		v, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, kafkago.Message{Topic: "posts", Offset: int64(i), Key: []byte(p.ID), Value: v})
	}
	q, dlq := &recordingQueue{}, &recordingWriter{}
	m := NewMetrics(prometheus.NewRegistry())
	p := &Processor{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m,
		Engine: func() *engine.Engine { return eng }, Queue: q, DLQ: dlq, Now: time.Now,
		Media: &MediaLoader{Metrics: m}, MediaConcurrency: 1,
	}
	p.retry = &retrier{log: p.Log, metrics: m, ready: NewReadiness(m), backoff: Backoff{Min: time.Millisecond, Max: time.Second}}
	ctx := context.Background()
	if err := p.Process(ctx, ctx, batch); err != nil {
		t.Fatal(err)
	}
	var queued []string
	for _, ids := range q.calls {
		queued = append(queued, ids...)
	}
	if want := []string{"text-bad-image", "text-refused-url"}; !slices.Equal(queued, want) {
		t.Fatalf("queued %v, want %v", queued, want)
	}
	dead := map[string]string{}
	for _, d := range dlq.msgs {
		dead[string(d.Key)] = HeaderValue(d.Headers, HeaderReason)
	}
	want := map[string]string{"text-bad-image": moderation.ReasonMediaDecode, "text-refused-url": moderation.ReasonMediaRefused,
		"clean-bad-image": moderation.ReasonMediaDecode}
	if len(dlq.msgs) != len(want) {
		t.Fatalf("%d dead letters %v, want %v", len(dlq.msgs), dead, want)
	}
	for k, r := range want {
		if dead[k] != r {
			t.Errorf("%s dead-lettered as %q, want %q", k, dead[k], r)
		}
	}
}
