package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/ingest/internal/app"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// testRules writes two keyword rules, so that a post can be flagged by
// both: one item with two matches.
func testRules(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	rules := `rules:
  - id: t.attack
    description: attack calls
    category: violent_threat
    severity: high
    keywords: [attack the]
  - id: t.bomb
    description: bomb calls
    category: terrorist_content
    severity: critical
    keywords: [bomb the]
`
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// env is what one integration test needs.
type env struct {
	brokers []string
	schema  *moderationtest.Schema
	topic   string
	dlq     string
	group   string
	rules   string
}

func newEnv(t *testing.T, partitions int) *env {
	t.Helper()
	brokers := moderationtest.Kafka(t)
	schema := moderationtest.TestSchema(t)
	topic := moderationtest.Topic(t, brokers, "posts_", partitions)
	dlq := moderationtest.Topic(t, brokers, "dlq_", 1)
	return &env{brokers: brokers, schema: schema, topic: topic, dlq: dlq, group: moderationtest.RandomName("g_"), rules: testRules(t)}
}

func (e *env) config() app.Config {
	cfg := app.DefaultConfig()
	cfg.KafkaBrokers = strings.Join(e.brokers, ",")
	cfg.PostsTopic = e.topic
	cfg.DLQTopic = e.dlq
	cfg.GroupID = e.group
	cfg.DatabaseURL = e.schema.URL
	cfg.RulesDir = e.rules
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.LogLevel = "warn"
	cfg.LogFormat = "text"
	cfg.OutboxRelay = false
	cfg.SessionTimeout = 6 * time.Second
	cfg.HeartbeatInterval = 500 * time.Millisecond
	cfg.RetryMax = time.Second
	return cfg
}

// configViaPostgresProxy is config with the worker reaching Postgres
// through a proxy the test can cut.
func (e *env) configViaPostgresProxy(t *testing.T) (app.Config, *proxy) {
	t.Helper()
	u, err := url.Parse(e.schema.URL)
	if err != nil {
		t.Fatal(err)
	}
	pg := newProxy(t, u.Host)
	u.Host = pg.Addr()
	cfg := e.config()
	cfg.DatabaseURL = u.String()
	return cfg, pg
}

// worker is vigil-ingest running in this process through app.RunConfig.
type worker struct {
	addr   string
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
	once   sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startWorker(t *testing.T, cfg app.Config) *worker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{reg: prometheus.NewRegistry(), cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	ready := make(chan string, 1)
	cfg.Ready = func(a string) { ready <- a }
	cfg.Registry = w.reg
	go func() { w.done <- app.RunConfig(ctx, cfg, w.logs) }()
	t.Cleanup(func() {
		w.stop(t)
		if t.Failed() {
			t.Logf("worker logs:\n%s", tail(w.logs.String(), 8000))
		}
	})
	select {
	case w.addr = <-ready:
	case err := <-w.done:
		t.Fatalf("worker exited at start: %v\n%s", err, w.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not start")
	}
	return w
}

func (w *worker) stop(t *testing.T) {
	w.once.Do(func() {
		w.cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("worker did not stop within 60 s")
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// counter sums a counter (all label values) in reg.
func counter(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// readyz returns the HTTP status of /readyz.
func readyz(addr string) int {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// stream is a set of posts with known expected flags.
type stream struct {
	msgs []kafkago.Message
	// want maps flagged post ids to their expected match keys.
	want map[string][]string
}

// makeStream returns n posts: every 10th calls for an attack, every 25th
// also for a bomb (two matches on one item), the rest are clean.
func makeStream(prefix string, n int) stream {
	s := stream{want: map[string][]string{}}
	for i := range n {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		text := fmt.Sprintf("post number %d about the weather and the match", i)
		switch {
		case i%50 == 0:
			text = "we attack the parade and bomb the station"
			s.want[id] = []string{"rule:t.attack", "rule:t.bomb"}
		case i%10 == 0:
			text = fmt.Sprintf("at dawn we attack the checkpoint %d", i)
			s.want[id] = []string{"rule:t.attack"}
		}
		p := moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: fmt.Sprintf("a%d", i%97)},
			Text: text, Lang: "en", CreatedAt: time.Now().UTC()}
		b, _ := json.Marshal(p)
		s.msgs = append(s.msgs, kafkago.Message{Key: []byte(id), Value: b})
	}
	return s
}

func writer(brokers []string, topic string) *kafkago.Writer {
	return &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, Balancer: &kafkago.Hash{},
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafkago.RequireAll}
}

// produce writes msgs at about rate messages per second (0: at once).
// produceAsync runs produce in the background; the returned channel is
// closed when it is done, and the test's cleanup waits for it, so the
// producer never reports into a test that has already ended.
func produceAsync(t *testing.T, brokers []string, topic string, msgs []kafkago.Message, rate float64) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); produce(t, brokers, topic, msgs, rate) }()
	t.Cleanup(func() { <-done })
	return done
}

func produce(t *testing.T, brokers []string, topic string, msgs []kafkago.Message, rate float64) {
	t.Helper()
	w := writer(brokers, topic)
	defer w.Close()
	chunk := len(msgs)
	var pause time.Duration
	if rate > 0 {
		chunk = max(1, int(rate/20))
		pause = time.Duration(float64(time.Second) * float64(chunk) / rate)
	}
	start := time.Now()
	for i := 0; i < len(msgs); i += chunk {
		end := min(i+chunk, len(msgs))
		var err error
		for attempt := 0; attempt < 40; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = w.WriteMessages(ctx, msgs[i:end]...)
			cancel()
			// A topic created a moment ago may not be known to every
			// broker component yet; nothing was written then.
			if !errors.Is(err, kafkago.UnknownTopicOrPartition) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("producing: %v", err)
			return
		}
		if pause > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(end/chunk) * pause)))
		}
	}
}

// queued returns post id → match keys of the review queue.
func queued(t *testing.T, s *moderationtest.Schema) map[string][]string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `
SELECT i.post_id, m.match_key FROM review_items i JOIN review_matches m ON m.item_id = i.id ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		out[id] = append(out[id], key)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func itemCount(t *testing.T, s *moderationtest.Schema) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM review_items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitQueued waits until the queue holds every wanted post, then checks
// it holds exactly those, each with exactly its expected matches.
func waitQueued(t *testing.T, s *moderationtest.Schema, want map[string][]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for itemCount(t, s) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("queue has %d items after %v, want %d", itemCount(t, s), timeout, len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := queued(t, s)
	if len(got) != len(want) {
		t.Fatalf("queue has %d items, want %d", len(got), len(want))
	}
	for id, keys := range want {
		if _, ok := got[id]; !ok {
			t.Fatalf("post %s is not queued", id)
		}
		if keys != nil && strings.Join(got[id], ",") != strings.Join(keys, ",") {
			t.Fatalf("post %s has matches %v, want %v", id, got[id], keys)
		}
	}
}

// proxy is a TCP forwarder the test can cut and restore, to simulate an
// outage of what is behind it without disturbing anyone else.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]bool
	ports  []int32 // local ports of every upstream connection ever made
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, up: true, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		if !up {
			_ = c.Close() // refused, as by a server that is down
			continue
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		_ = c.Close()
		_ = u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	if a, ok := u.LocalAddr().(*net.TCPAddr); ok {
		p.ports = append(p.ports, int32(a.Port))
	}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// Cut drops every connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	for c := range p.conns {
		_ = c.Close()
	}
}

// upstreamPorts returns the local ports of every connection the proxy
// has made to its target.
func (p *proxy) upstreamPorts() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int32(nil), p.ports...)
}

// waitBackendsGone waits until no Postgres backend serves a connection
// made through pg. A cut closes the sockets, but a backend finishes the
// statement it already received first (a COMMIT waiting for its WAL flush
// on a busy machine can take a while), so only then is the queue still.
func waitBackendsGone(t *testing.T, s *moderationtest.Schema, pg *proxy) {
	t.Helper()
	ports := pg.upstreamPorts()
	waitFor(t, 30*time.Second, "the Postgres backends behind the cut proxy to end", func() bool {
		var n int
		if err := s.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL AND client_port = ANY($1)`, ports).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// Restore accepts connections again.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = true
}
