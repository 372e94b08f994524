package app_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestBackpressureBoundsMemory: with Postgres unreachable, a worker facing a
// backlog far larger than its buffers stops fetching instead of reading the
// backlog into memory. 64 MB of flagged posts wait in the topic; the
// worker's heap may grow by its buffers (partitions × (queue capacity + two
// batches) messages, plus one fetch per partition), not by the backlog.
// Not parallel: it measures the process's heap.
func TestBackpressureBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("produces 64 MB")
	}
	e := newEnv(t, 2)
	cfg, pg := e.configViaPostgresProxy(t)
	cfg.BatchSize = 100
	cfg.QueueCapacity = 100
	cfg.FetchMaxBytes = 1 << 20
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	w := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "ready", func() bool { return readyz(w.addr) == 200 })
	// One post through first: partitions assigned and running.
	produce(t, e.brokers, e.topic, []kafkago.Message{{Key: []byte("warm"), Value: postJSON(t, basePost("warm", "we attack the base"))}}, 0)
	waitFor(t, 60*time.Second, "the first post queued", func() bool { return itemCount(t, e.schema) == 1 })
	base := heap()
	pg.Cut()

	const posts, size = 16000, 4 << 10
	pad := strings.Repeat("lorem ipsum dolor sit amet ", size/27)
	produceBacklog := func() {
		msgs := make([]kafkago.Message, posts)
		for i := range msgs {
			p := moderation.Post{V: 1, ID: fmt.Sprintf("bp-%05d", i), Platform: "test", Author: moderation.Author{ID: "a"},
				Text: "at dawn we attack the checkpoint " + pad, Lang: "en", CreatedAt: time.Now().UTC()}
			b, _ := json.Marshal(p)
			msgs[i] = kafkago.Message{Key: []byte(p.ID), Value: b}
		}
		produce(t, e.brokers, e.topic, msgs, 0)
	}
	produceBacklog()
	waitFor(t, 60*time.Second, "not ready during the outage", func() bool { return readyz(w.addr) == 503 })
	waitFor(t, 60*time.Second, "batches held back by the outage", func() bool {
		return counter(t, w.reg, "vigil_ingest_inflight_messages") > 0
	})
	var peak uint64
	for range 10 {
		time.Sleep(500 * time.Millisecond)
		peak = max(peak, heap())
	}
	// Buffers: 2 × (100 + 2 × 100) posts of ~4 KB decoded and raw, and a
	// 1 MB fetch per partition: well under 24 MB; the backlog is 64 MB.
	growth := int64(peak) - int64(base)
	t.Logf("heap %d MB before the backlog, peak %d MB during the outage (backlog %d MB)", base>>20, peak>>20, posts*size>>20)
	if growth > 24<<20 {
		t.Fatalf("heap grew by %d MB during the outage: the worker is buffering the backlog", growth>>20)
	}
	if n := itemCount(t, e.schema); n != 1 {
		t.Fatalf("%d items queued while Postgres was unreachable: the proxy is not in the path", n)
	}
	pg.Restore()
	waitFor(t, 120*time.Second, "the backlog queued after the outage", func() bool { return itemCount(t, e.schema) == posts+1 })
}
