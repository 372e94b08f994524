package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kafkago "github.com/segmentio/kafka-go"
)

// limitWriter is a dead-letter topic that refuses calls whose values add up
// to more than limit bytes (as a broker refuses a record batch over
// max.message.bytes) and fails the calls listed in fail.
type limitWriter struct {
	limit   int
	fail    map[string]bool // keys whose write fails (kafka.WriteErrors)
	broken  bool            // every call fails
	written []string
	calls   int
}

func (w *limitWriter) WriteMessages(_ context.Context, msgs ...kafkago.Message) error {
	w.calls++
	if w.broken {
		return io.ErrUnexpectedEOF
	}
	size := 0
	for _, m := range msgs {
		size += len(m.Value)
	}
	if size > w.limit {
		return kafkago.WriteErrors(slicesRepeat(error(kafkago.MessageSizeTooLarge), len(msgs)))
	}
	werrs := make(kafkago.WriteErrors, len(msgs))
	failed := false
	for i, m := range msgs {
		if w.fail[string(m.Key)] {
			werrs[i], failed = kafkago.LeaderNotAvailable, true
			continue
		}
		w.written = append(w.written, string(m.Key)+":"+HeaderValue(m.Headers, HeaderTruncated))
	}
	if failed {
		return werrs
	}
	return nil
}

func slicesRepeat(e error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = e
	}
	return out
}

func TestWriteDeadLetters(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	msg := func(key string, n int) kafkago.Message {
		return deadLetter(kafkago.Message{Key: []byte(key), Value: []byte(strings.Repeat("x", n)), Topic: "posts",
			Headers: []kafkago.Header{{Key: "trace", Value: []byte("t")}}}, "not_json", "bad", "g", time.Time{})
	}
	ctx := context.Background()

	t.Run("all written", func(t *testing.T) {
		w := &limitWriter{limit: 100}
		rest, err := writeDeadLetters(ctx, w, log, []kafkago.Message{msg("a", 10), msg("b", 10)})
		if err != nil || rest != nil || strings.Join(w.written, ",") != "a:,b:" {
			t.Fatalf("rest %v err %v written %v", rest, err, w.written)
		}
	})
	t.Run("partial failure retries the failed only", func(t *testing.T) {
		w := &limitWriter{limit: 100, fail: map[string]bool{"b": true}}
		rest, err := writeDeadLetters(ctx, w, log, []kafkago.Message{msg("a", 10), msg("b", 10), msg("c", 10)})
		if err == nil || len(rest) != 1 || string(rest[0].Key) != "b" {
			t.Fatalf("rest %v err %v", rest, err)
		}
	})
	t.Run("whole call fails", func(t *testing.T) {
		w := &limitWriter{limit: 100, broken: true}
		in := []kafkago.Message{msg("a", 10), msg("b", 10)}
		if rest, err := writeDeadLetters(ctx, w, log, in); !errors.Is(err, io.ErrUnexpectedEOF) || len(rest) != 2 {
			t.Fatalf("rest %v err %v", rest, err)
		}
	})
	t.Run("a batch too large: one by one, only the oversized one stubbed", func(t *testing.T) {
		w := &limitWriter{limit: 100}
		big := msg("big", 500)
		rest, err := writeDeadLetters(ctx, w, log, []kafkago.Message{msg("a", 60), big, msg("c", 60)})
		if err != nil || rest != nil {
			t.Fatalf("rest %v err %v", rest, err)
		}
		if got := strings.Join(w.written, ","); got != "a:,big:500,c:" {
			t.Fatalf("written %s", got)
		}
		s := stubDeadLetter(big)
		if len(s.Value) != 0 || HeaderValue(s.Headers, HeaderSHA256) == "" || HeaderValue(s.Headers, HeaderReason) != "not_json" ||
			HeaderValue(s.Headers, HeaderTopic) != "posts" || HeaderValue(s.Headers, "trace") != "" {
			t.Fatalf("stub headers %v", s.Headers)
		}
	})
	t.Run("a stub too large is not stubbed again", func(t *testing.T) {
		w := &limitWriter{limit: -1}
		rest, err := writeDeadLetters(ctx, w, log, []kafkago.Message{msg("a", 10)})
		if !tooLarge(err) || len(rest) != 1 || HeaderValue(rest[0].Headers, HeaderTruncated) != "10" {
			t.Fatalf("rest %v err %v", rest, err)
		}
		if rest, err = writeDeadLetters(ctx, w, log, rest); !tooLarge(err) || len(rest) != 1 || len(rest[0].Headers) != len(stubDeadLetter(msg("a", 10)).Headers) {
			t.Fatalf("second attempt: rest %v err %v", rest, err)
		}
	})
	t.Run("the writer's own limit", func(t *testing.T) {
		if !tooLarge(kafkago.MessageTooLargeError{}) || tooLarge(io.EOF) {
			t.Fatal("tooLarge")
		}
	})
}

// TestDeadLetterDetailUTF8: the error detail is cut to 1 KiB at a rune
// boundary; it quotes attacker-controlled fields, and cutting inside a
// rune made the header invalid UTF-8.
func TestDeadLetterDetailUTF8(t *testing.T) {
	t.Parallel()
	for pad := range 4 {
		detail := strings.Repeat("x", pad) + strings.Repeat("€", 600)
		d := deadLetter(kafkago.Message{Topic: "posts"}, "invalid_schema", detail, "g", time.Time{})
		got := HeaderValue(d.Headers, HeaderError)
		if !utf8.ValidString(got) || len(got) > 1024 || len(got) < 1021 || !strings.HasPrefix(detail, got) {
			t.Fatalf("pad %d: detail header of %d bytes, valid UTF-8 %v", pad, len(got), utf8.ValidString(got))
		}
	}
}

// TestStubKeepsOnlyOwnHeaders: a stub keeps the worker's dead-letter
// headers, not a producer's header that happens to share their prefix (a
// large one would make the stub too large as well, and retried forever).
func TestStubKeepsOnlyOwnHeaders(t *testing.T) {
	t.Parallel()
	orig := kafkago.Message{Topic: "posts", Offset: 7, Value: []byte("x"), Headers: []kafkago.Header{
		{Key: "vigil-dlq-padding", Value: make([]byte, 1<<20)},
		{Key: HeaderReason, Value: []byte("spoofed")},
	}}
	s := stubDeadLetter(deadLetter(orig, "not_json", "bad", "g", time.Time{}))
	size := 0
	for _, h := range s.Headers {
		size += len(h.Key) + len(h.Value)
		if h.Key == "vigil-dlq-padding" || string(h.Value) == "spoofed" {
			t.Fatalf("stub kept the producer's header %s", h.Key)
		}
	}
	if size > 2048 || HeaderValue(s.Headers, HeaderReason) != "not_json" || HeaderValue(s.Headers, HeaderOffset) != "7" {
		t.Fatalf("stub headers (%d bytes): %v", size, s.Headers)
	}
}
