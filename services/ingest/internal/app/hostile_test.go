package app_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/ingest/internal/app"
	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
)

// pngChunk is one PNG chunk: length, type, data, CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withChunk inserts a chunk after a PNG's IHDR.
func withChunk(png []byte, chunk []byte) []byte {
	const afterIHDR = 8 + 25
	return append(append(append([]byte{}, png[:afterIHDR]...), chunk...), png[afterIHDR:]...)
}

// zlibBombPNG is a 1×1 grey PNG whose image data inflates to n bytes.
func zlibBombPNG(n int) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, 1)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 1)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, n))
	_ = zw.Close()
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", z.Bytes())...)
	return append(b, pngChunk("IEND", nil)...)
}

// animatedGIF has frames frames of 16×16.
func animatedGIF(t *testing.T, frames int) []byte {
	g := &gif.GIF{}
	for i := range frames {
		img := image.NewPaletted(image.Rect(0, 0, 16, 16), color.Palette{color.Black, color.White})
		img.Pix[i%len(img.Pix)] = 1
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileMessages runs what an attacker who controls post content (and
// a producer that sends odd records) can put on the topic through a real
// worker, beyond TestPoisonMessages: every message is either queued as it
// was sent or dead-lettered with a reason, nothing stalls the partition,
// and the committed offset reaches the end of the topic.
func TestHostileMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	raw := func(rest string) []byte {
		return []byte(`{"v":1,"platform":"t","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z",` + rest + `}`)
	}
	small := pngBytes(t, demoimage.Image(6))
	bidi := moderation.Post{V: 1, ID: "bidi-\u202e\u200b", Platform: "t\u200d", Author: moderation.Author{ID: "a\u2066", Handle: "h\u202ex\u202c"},
		Text: "we attack the \u202egnissim\u202c convoy\u200b\ufeff", Lang: "en\u200b", CreatedAt: time.Now().UTC(), URL: "https://x.test/\u202e"}
	nulHandle := basePost("nul-handle", "we attack\x00 the convoy")
	nulHandle.Author.Handle = "h\x00"
	nulLang := basePost("nul-lang", "we attack the convoy")
	nulLang.Lang = "en\x00"
	reused := basePost("reused", "we attack the convoy")
	reusedOther := reused
	reusedOther.Text = "time to bomb the bridge"
	farFuture, yearZero := basePost("far-future", "we attack the convoy"), basePost("year-zero", "we attack the convoy")
	farFuture.CreatedAt = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	yearZero.CreatedAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	var bigHeaders []kafkago.Header
	for i := range 200 {
		bigHeaders = append(bigHeaders, kafkago.Header{Key: "h" + strconv.Itoa(i), Value: bytes.Repeat([]byte{'x'}, 1024)})
	}

	cases := []struct {
		key     string
		value   []byte
		headers []kafkago.Header
		reason  string // "" = queued
	}{
		{"tombstone", nil, nil, moderation.ReasonNotJSON},
		{"big-headers", []byte("not json"), bigHeaders, moderation.ReasonNotJSON},
		{"dup-text", raw(`"id":"dup-text","text":"we attack the convoy","text":"hello"`), nil, moderation.ReasonSchema},
		{"case-text", raw(`"id":"case-text","text":"hello","TEXT":"we attack the convoy"`), nil, moderation.ReasonSchema},
		{"dup-author", raw(`"id":"dup-author","text":"we attack the convoy","author":{"id":"b"}`), nil, moderation.ReasonSchema},
		{"v-string", []byte(`{"v":"1","id":"v-string","platform":"t","author":{"id":"a"},"created_at":"2026-11-29T08:15:00Z"}`), nil, moderation.ReasonSchema},
		{"id-number", raw(`"id":17`), nil, moderation.ReasonSchema},
		{"bad-time", raw(`"id":"bad-time","created_at":"2026-02-30T08:15:00Z"`), nil, moderation.ReasonSchema},
		{"media-no-host", postJSON(t, withMedia(basePost("media-no-host", "look"), moderation.Media{ID: "m", MIME: "image/png", URL: "https://"})), nil, moderation.ReasonSchema},
		{"svg", postJSON(t, withMedia(basePost("svg", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/svg+xml",
			Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)})), nil, moderation.ReasonMediaDecode},
		{"truncated", postJSON(t, withMedia(basePost("truncated", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/png", Data: small[:len(small)/2]})), nil, moderation.ReasonMediaDecode},
		{"zlib-bomb", postJSON(t, withMedia(basePost("zlib-bomb", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/png", Data: zlibBombPNG(64 << 20)})), nil, moderation.ReasonMediaDecode},
		{"nul-handle", postJSON(t, nulHandle), nil, ""}, // stored with U+2400: a NUL must not keep a post out of review
		{"nul-lang", postJSON(t, nulLang), nil, moderation.ReasonStoreRejected},
		{"reused", postJSON(t, reused), nil, ""},
		{"reused-again", postJSON(t, reused), nil, ""}, // a replay: merged
		{"reused-other", postJSON(t, reusedOther), nil, moderation.ReasonStoreRejected},
		{"bidi", postJSON(t, bidi), nil, ""},
		{"far-future", postJSON(t, farFuture), nil, ""},
		{"year-zero", postJSON(t, yearZero), nil, ""},
		{"gif-frames", postJSON(t, withMedia(basePost("gif-frames", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/gif", Data: animatedGIF(t, 3000)})), nil, ""},
		{"big-chunk", postJSON(t, withMedia(basePost("big-chunk", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/png",
			Data: withChunk(small, pngChunk("vgZz", bytes.Repeat([]byte{'z'}, 300<<10)))})), nil, ""},
		{"small-1", postJSON(t, withMedia(basePost("small-1", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/png", Data: small})), nil, ""},
		{"small-2", postJSON(t, withMedia(basePost("small-2", "we attack the convoy"), moderation.Media{ID: "m", MIME: "image/png", Data: small})), nil, ""},
	}
	var msgs []kafkago.Message
	wantDead := map[string]string{}
	wantQueued := map[string][]string{}
	for _, c := range cases {
		msgs = append(msgs, kafkago.Message{Key: []byte(c.key), Value: c.value, Headers: c.headers})
		if c.reason != "" {
			wantDead[c.key] = c.reason
		} else if c.key != "reused-again" && c.key != "bidi" {
			wantQueued[c.key] = nil
		}
	}
	wantQueued[bidi.ID] = nil
	// Dead-lettered for their media, and queued on their flagged text: a
	// broken image must not keep the text out of review.
	for _, k := range []string{"svg", "truncated", "zlib-bomb"} {
		wantQueued[k] = nil
	}

	cfg := e.config()
	cfg.EvidenceBudget = 1 // every post with evidence ends its batch
	w := startWorker(t, cfg)
	for i := range msgs { // one at a time: together they exceed the broker's request limit
		produce(t, e.brokers, e.topic, msgs[i:i+1], 0)
	}
	waitQueued(t, e.schema, wantQueued, 90*time.Second)

	dead := readAll(t, e.brokers, e.dlq, len(wantDead))
	for _, d := range dead {
		key := string(d.Key)
		reason := app.HeaderValue(d.Headers, app.HeaderReason)
		if want, ok := wantDead[key]; !ok || reason != want {
			t.Errorf("%s: dead-lettered as %q (%s), want %q", key, reason, app.HeaderValue(d.Headers, app.HeaderError), want)
		}
		delete(wantDead, key)
		if key == "big-headers" && app.HeaderValue(d.Headers, "h199") == "" {
			t.Errorf("big-headers: original headers not kept")
		}
		if key == "nul-lang" && !strings.HasPrefix(app.HeaderValue(d.Headers, app.HeaderError), "lang contains a NUL") {
			t.Errorf("nul-lang: detail %q does not name the field", app.HeaderValue(d.Headers, app.HeaderError))
		}
		if key == "reused-other" && !strings.Contains(app.HeaderValue(d.Headers, app.HeaderError), "already in the review queue") {
			t.Errorf("reused-other: detail %q does not say why", app.HeaderValue(d.Headers, app.HeaderError))
		}
	}
	if len(wantDead) != 0 {
		t.Errorf("not dead-lettered: %v", wantDead)
	}

	ctx := context.Background()
	var text, handle, url string
	if err := e.schema.Pool.QueryRow(ctx, `SELECT text, author_handle, url FROM review_items WHERE post_id = $1`, bidi.ID).Scan(&text, &handle, &url); err != nil {
		t.Fatal(err)
	}
	if text != bidi.Text || handle != bidi.Author.Handle || url != bidi.URL {
		t.Errorf("bidi and zero-width characters not kept: %q %q %q", text, handle, url)
	}
	if err := e.schema.Pool.QueryRow(ctx, `SELECT text, author_handle FROM review_items WHERE post_id = 'nul-handle'`).Scan(&text, &handle); err != nil ||
		text != "we attack\u2400 the convoy" || handle != "h\u2400" {
		t.Errorf("nul-handle stored as %q by %q (%v), want the NULs as U+2400", text, handle, err)
	}
	if err := e.schema.Pool.QueryRow(ctx, `SELECT text FROM review_items WHERE post_id = 'reused'`).Scan(&text); err != nil || text != reused.Text {
		t.Errorf("reused post id: text %q (%v), want the first post's", text, err)
	}
	var created time.Time
	if err := e.schema.Pool.QueryRow(ctx, `SELECT post_created_at FROM review_items WHERE post_id = 'year-zero'`).Scan(&created); err != nil || !created.Equal(yearZero.CreatedAt) {
		t.Errorf("year-zero created_at %v (%v)", created, err)
	}
	var blobs int
	if err := e.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM review_media WHERE sha256 IS NOT NULL`).Scan(&blobs); err != nil || blobs != 4 {
		t.Errorf("%d media evidence rows (%v), want 4 (gif-frames, big-chunk, small-1, small-2)", blobs, err)
	}
	waitFor(t, 30*time.Second, "offsets committed to the end of the topic", func() bool {
		return len(committedBehind(t, e.brokers, e.topic, e.group)) == 0
	})
	if n := counter(t, w.reg, "vigil_ingest_posts_consumed_total"); n != float64(len(msgs)) {
		t.Errorf("consumed %v, want %d", n, len(msgs))
	}
	if mfs, err := w.reg.Gather(); err != nil {
		t.Fatal(err)
	} else {
		for _, mf := range mfs {
			if mf.GetName() == "vigil_ingest_queue_delay_seconds" && mf.GetMetric()[0].GetHistogram().GetSampleSum() < 0 {
				t.Errorf("queue delay sum %v: a post dated in the future made it negative", mf.GetMetric()[0].GetHistogram().GetSampleSum())
			}
		}
	}
	if code := readyz(w.addr); code != 200 {
		t.Errorf("readyz %d after the hostile messages, want 200", code)
	}
}
