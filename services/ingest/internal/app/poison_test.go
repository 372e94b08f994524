package app_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/ingest/internal/app"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/kafka"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hugePNG is a valid 1×1 PNG whose header claims w×h pixels: decoding it
// naively would allocate w×h×4 bytes.
func hugePNG(t testing.TB, w, h uint32) []byte {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// Signature (8), IHDR length (4), "IHDR" (4), then width and height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func postJSON(t testing.TB, p moderation.Post) []byte {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func basePost(id, text string) moderation.Post {
	return moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a1"},
		Text: text, Lang: "en", CreatedAt: time.Now().UTC()}
}

func withMedia(p moderation.Post, ms ...moderation.Media) moderation.Post {
	p.Media = ms
	return p
}

// TestPoisonMessages: every kind of message that cannot be processed goes
// to the dead-letter topic once, with its original key, bytes and headers
// and headers saying why, where from and when; the worker moves on, and
// the good posts of the same batch are queued.
func TestPoisonMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	imgs := http.NewServeMux()
	imgs.HandleFunc("/gone.png", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	imgs.HandleFunc("/banked.png", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pngBytes(t, demoimage.Image(1))) })
	srv := httptest.NewServer(imgs)
	defer srv.Close()

	cases := []struct {
		name   string
		value  []byte
		reason string
	}{
		{"not json", []byte(`{"v":1, this is not json`), moderation.ReasonNotJSON},
		{"wrong version", []byte(`{"v":2,"id":"x","platform":"p","author":{"id":"a"},"created_at":"2026-01-01T00:00:00Z"}`), moderation.ReasonVersion},
		{"invalid utf-8", append([]byte(`{"v":1,"id":"x","text":"`), 0xff, 0xfe, '"', '}'), moderation.ReasonInvalidUTF8},
		{"missing field", postJSON(t, moderation.Post{V: 1, Platform: "p", Author: moderation.Author{ID: "a"}, CreatedAt: time.Now()}), moderation.ReasonSchema},
		{"field over limit", postJSON(t, func() moderation.Post {
			p := basePost("long-handle", "hi")
			p.Author.Handle = strings.Repeat("h", moderation.MaxHandleBytes+1)
			return p
		}()), moderation.ReasonTooLarge},
		{"undecodable image", postJSON(t, withMedia(basePost("bad-image", "look"),
			moderation.Media{ID: "m1", MIME: "image/png", Data: []byte("\x89PNG\r\n\x1a\nthis is not really a png")})), moderation.ReasonMediaDecode},
		{"huge header dimensions", postJSON(t, withMedia(basePost("huge-image", "look"),
			moderation.Media{ID: "m1", MIME: "image/png", Data: hugePNG(t, 100000, 100000)})), moderation.ReasonMediaTooBig},
		{"refused media url", postJSON(t, withMedia(basePost("ssrf", "look"),
			moderation.Media{ID: "m1", MIME: "image/png", URL: "http://169.254.169.254/latest/meta-data/iam"})), moderation.ReasonMediaRefused},
		{"unavailable media url", postJSON(t, withMedia(basePost("gone", "look"),
			moderation.Media{ID: "m1", MIME: "image/png", URL: srv.URL + "/gone.png"})), moderation.ReasonMediaUnavailable},
		// A NUL in the platform's own fields cannot be stored (one in the
		// text is stored as U+2400: TestHostileMessages).
		{"rejected by the store", postJSON(t, func() moderation.Post {
			p := basePost("nul-lang", "we attack the checkpoint")
			p.Lang = "en\x00"
			return p
		}()), moderation.ReasonStoreRejected},
	}
	var msgs []kafkago.Message
	for i, c := range cases {
		msgs = append(msgs, kafkago.Message{
			Key:     []byte("k" + strconv.Itoa(i)),
			Value:   c.value,
			Headers: []kafkago.Header{{Key: "test-case", Value: []byte(c.name)}},
		})
	}
	// Good posts around them, in the same batch: two flagged by keywords
	// (beside the one the store rejects), one flagged by an inline banked
	// image, one by a fetched banked image, one with an innocent image.
	good := []moderation.Post{
		basePost("good-1", "they attack the convoy"),
		basePost("good-2", "time to bomb the bridge"),
		withMedia(basePost("img-inline", "nice picture"), moderation.Media{ID: "m1", MIME: "image/png", Data: pngBytes(t, demoimage.Image(0))}),
		withMedia(basePost("img-url", "nice picture"), moderation.Media{ID: "m1", MIME: "image/png", URL: srv.URL + "/banked.png"}),
		withMedia(basePost("img-clean", "nice picture"), moderation.Media{ID: "m1", MIME: "image/png", Data: pngBytes(t, demoimage.Image(6))}),
	}
	for _, p := range good {
		msgs = append(msgs, kafkago.Message{Key: []byte(p.ID), Value: postJSON(t, p)})
	}

	cfg := e.config()
	cfg.BanksDir = moderationtest.RepoRoot(t) + "/rules/banks"
	cfg.MediaAllowLoopback = true // the test image server; link-local stays refused
	cfg.MediaAttempts = 1
	w := startWorker(t, cfg)
	produce(t, e.brokers, e.topic, msgs, 0)

	waitQueued(t, e.schema, nil2(queuedIDs("good-1", "good-2", "img-inline", "img-url")), 60*time.Second)
	got := queued(t, e.schema)
	if strings.Join(got["good-1"], ",") != "rule:t.attack" || strings.Join(got["good-2"], ",") != "rule:t.bomb" {
		t.Fatalf("keyword items: %v", got)
	}
	for _, id := range []string{"img-inline", "img-url"} {
		if len(got[id]) == 0 || !strings.HasPrefix(got[id][0], "bank:demo") {
			t.Fatalf("%s matches %v, want a demo bank match", id, got[id])
		}
	}
	// Evidence: the image bytes, content-addressed.
	var blobs, media int
	if err := e.schema.Pool.QueryRow(context.Background(), `
SELECT (SELECT count(*) FROM media_blobs WHERE bytes IS NOT NULL AND size_bytes = octet_length(bytes)),
       (SELECT count(*) FROM review_media WHERE sha256 IS NOT NULL)`).Scan(&blobs, &media); err != nil {
		t.Fatal(err)
	}
	if blobs != 2 || media != 2 {
		t.Fatalf("%d evidence blobs and %d media rows, want 2 and 2", blobs, media)
	}

	// The dead letters.
	dead := readAll(t, e.brokers, e.dlq, len(cases))
	byCase := map[string]kafkago.Message{}
	for _, d := range dead {
		byCase[app.HeaderValue(d.Headers, "test-case")] = d
	}
	for i, c := range cases {
		d, ok := byCase[c.name]
		if !ok {
			t.Errorf("%s: not dead-lettered", c.name)
			continue
		}
		if r := app.HeaderValue(d.Headers, app.HeaderReason); r != c.reason {
			t.Errorf("%s: reason %q, want %q (%s)", c.name, r, c.reason, app.HeaderValue(d.Headers, app.HeaderError))
		}
		if !bytes.Equal(d.Value, c.value) || string(d.Key) != "k"+strconv.Itoa(i) {
			t.Errorf("%s: original key or bytes not kept", c.name)
		}
		if app.HeaderValue(d.Headers, app.HeaderTopic) != e.topic || app.HeaderValue(d.Headers, app.HeaderPartition) != "0" ||
			app.HeaderValue(d.Headers, app.HeaderOffset) != strconv.Itoa(i) {
			t.Errorf("%s: source headers %s/%s/%s, want %s/0/%d", c.name, app.HeaderValue(d.Headers, app.HeaderTopic),
				app.HeaderValue(d.Headers, app.HeaderPartition), app.HeaderValue(d.Headers, app.HeaderOffset), e.topic, i)
		}
		if _, err := time.Parse(time.RFC3339Nano, app.HeaderValue(d.Headers, app.HeaderTime)); err != nil {
			t.Errorf("%s: time header: %v", c.name, err)
		}
		if app.HeaderValue(d.Headers, app.HeaderError) == "" {
			t.Errorf("%s: no error detail", c.name)
		}
	}
	for _, c := range cases {
		if n := counter(t, w.reg, "vigil_ingest_dead_letters_total", "reason", c.reason); n != 1 {
			t.Errorf("dead_letters_total{reason=%q} = %v, want 1", c.reason, n)
		}
	}
	if n := counter(t, w.reg, "vigil_ingest_media_total", "source", "url", "result", "refused"); n != 1 {
		t.Errorf("refused media fetches = %v, want 1", n)
	}
}

func queuedIDs(ids ...string) []string { return ids }

// nil2 builds a want map that only names the posts (waitQueued compares
// match keys, so fill them from the queue afterwards).
func nil2(ids []string) map[string][]string {
	m := map[string][]string{}
	for _, id := range ids {
		m[id] = nil
	}
	return m
}

// readAll reads n messages of a one-partition topic from its start.
func readAll(t *testing.T, brokers []string, topic string, n int) []kafkago.Message {
	t.Helper()
	r, err := kafka.NewPartitionReader(kafka.ConsumerConfig{Net: kafka.Net{Brokers: brokers}, Topic: topic}, 0, kafkago.FirstOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafkago.Message
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d messages from %s: %v", len(out), n, topic, err)
		}
		out = append(out, m)
	}
	return out
}
