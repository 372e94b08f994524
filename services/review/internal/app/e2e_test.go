package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/review/internal/app"
)

// TestWalkingSkeleton drives the whole path with the real binaries: a post
// produced to a real broker is consumed by vigil-ingest, matched against
// the repo's demo rules, queued in Postgres and listed by the review API;
// a post that matches nothing never shows up.
func TestWalkingSkeleton(t *testing.T) {
	brokers := moderationtest.Kafka(t)
	schema := moderationtest.TestSchema(t)
	topic := moderationtest.Topic(t, brokers, "posts_e2e_", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ingest := buildBinary(t, "github.com/vigil-moderation/vigil/services/ingest/cmd/vigil-ingest")
	cmd := exec.CommandContext(ctx, ingest)
	cmd.Env = append(os.Environ(),
		"VIGIL_KAFKA_BROKERS="+strings.Join(brokers, ","),
		"VIGIL_POSTS_TOPIC="+topic,
		"VIGIL_DLQ_TOPIC="+topic+".dlq",
		"VIGIL_GROUP_ID="+moderationtest.RandomName("g_"),
		"VIGIL_DATABASE_URL="+schema.URL,
		"VIGIL_RULES_DIR="+filepath.Join(moderationtest.RepoRoot(t), "rules"),
		"VIGIL_HTTP_ADDR=127.0.0.1:0",
	)
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vigil-ingest: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("vigil-ingest output:\n%s", logs.String())
		}
	})

	addr := startReview(ctx, t, schema.URL)
	cookie := login(ctx, t, addr, "e2e-admin", "e2e-admin-password")

	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafkago.RequireAll}
	defer w.Close()
	flagged := post("e2e-flagged", "meet at noon, then we attack the checkpoint")
	clean := post("e2e-clean", "a lovely day for a picnic by the river")
	if err := w.WriteMessages(ctx, message(t, clean), message(t, flagged)); err != nil {
		t.Fatalf("producing: %v", err)
	}

	var items []moderation.Item
	deadline := time.Now().Add(90 * time.Second)
	for {
		items = listQueue(ctx, t, addr, cookie)
		if len(items) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(items) != 1 {
		t.Fatalf("queue has %d items, want exactly the flagged post", len(items))
	}
	got := items[0]
	if got.PostID != flagged.ID || got.Status != moderation.StatusPending {
		t.Fatalf("queued %s (%s), want %s pending", got.PostID, got.Status, flagged.ID)
	}
	if len(got.Matches) != 1 || got.Matches[0].RuleID != "demo.attack-call" {
		t.Fatalf("matches = %+v, want demo.attack-call", got.Matches)
	}
	span := got.Matches[0].Spans[0]
	if s := flagged.Text[span.Start:span.End]; !strings.EqualFold(s, "attack the") {
		t.Fatalf("span %v covers %q, want %q", span, s, "attack the")
	}
	// The clean post was produced first, on the same key space; give the
	// worker time to pass it and check again that it never appears.
	time.Sleep(time.Second)
	if items := listQueue(ctx, t, addr, cookie); len(items) != 1 {
		t.Fatalf("queue has %d items after the clean post was consumed, want 1", len(items))
	}
	// A moderator claims it: one group-commit transaction, one request.
	if claimed := claimOverAPI(ctx, t, addr, cookie); len(claimed) != 1 || claimed[0].ID != got.ID {
		t.Fatalf("claimed %+v, want item %d", claimed, got.ID)
	}
	// The queue's state reaches Prometheus: the dashboard and the SLA
	// alerts read these.
	res, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`vigil_review_queue_items{category="violent_threat",status="claimed"} 1`,
		"vigil_review_write_transactions_total 1",
		"vigil_review_write_requests_total 1",
		"vigil_review_write_shared_requests_total 0",
		`vigil_review_queue_next_deadline_seconds{category="violent_threat"}`,
		"vigil_review_queue_stats_up 1",
		"vigil_appeals_open 0",
		"vigil_appeals_oldest_open_age_seconds 0",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func post(id, text string) moderation.Post {
	return moderation.Post{
		V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a1", Handle: "someone"},
		Text: text, Lang: "en", CreatedAt: time.Now().UTC(), URL: "https://example.test/" + id,
	}
}

func message(t *testing.T, p moderation.Post) kafkago.Message {
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return kafkago.Message{Key: []byte(p.ID), Value: b}
}

func startReview(ctx context.Context, t *testing.T, dbURL string) string {
	t.Helper()
	return startReviewWith(ctx, t, app.Config{DatabaseURL: dbURL})
}

// startReviewWith runs vigil-review with cfg on a free port, as
// e2e-admin's bootstrap, and returns its base URL.
func startReviewWith(ctx context.Context, t *testing.T, cfg app.Config) string {
	t.Helper()
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	cfg.HTTPAddr, cfg.LogLevel, cfg.LogFormat = "127.0.0.1:0", "warn", "text"
	cfg.BootstrapAdmin, cfg.PrecisionThreshold = "e2e-admin:e2e-admin-password", 0.5
	cfg.Ready = func(a string) { ready <- a }
	go func() {
		done <- app.RunConfig(ctx, cfg, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("vigil-review: %v", err)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a
	case err := <-done:
		t.Fatalf("vigil-review exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("vigil-review did not start")
	}
	return ""
}

// login signs in through the API and returns the session cookie.
func login(ctx context.Context, t *testing.T, base, user, password string) *http.Cookie {
	t.Helper()
	body := strings.NewReader(fmt.Sprintf(`{"username": %q, "password": %q}`, user, password))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/login", body)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/v1/login: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("POST /api/v1/login: %s: %s", res.Status, b)
	}
	for _, c := range res.Cookies() {
		if c.Name == "__Host-vigil_session" {
			return c
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

// claimOverAPI claims one item as the session's user (reading the CSRF token
// from /api/v1/me) and returns what it got.
func claimOverAPI(ctx context.Context, t *testing.T, base string, cookie *http.Cookie) []moderation.Item {
	t.Helper()
	var do func(method, path string, body io.Reader, out any)
	do = func(method, path string, body io.Reader, out any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, body)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			var me struct {
				CSRF string `json:"csrf_token"`
			}
			do(http.MethodGet, "/api/v1/me", nil, &me)
			req.Header.Set("X-CSRF-Token", me.CSRF)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("%s %s: %s: %s", method, path, res.Status, b)
		}
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("decoding %s: %v", path, err)
		}
	}
	var got struct {
		Items []moderation.Item `json:"items"`
	}
	do(http.MethodPost, "/api/v1/queue/claim", strings.NewReader(`{"count": 1}`), &got)
	return got.Items
}

func listQueue(ctx context.Context, t *testing.T, base string, cookie *http.Cookie) []moderation.Item {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/queue", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/queue: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET /api/v1/queue: %s: %s", res.Status, b)
	}
	var body struct {
		Items []moderation.Item `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("decoding queue: %v", err)
	}
	return body.Items
}

// buildBinary builds a command of the workspace into a temporary directory.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
