package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	kafkago "github.com/segmentio/kafka-go"
)

// Dead-letter headers, added after the original message's own headers.
const (
	HeaderReason    = "vigil-dlq-reason"    // one of the moderation.Reason* values
	HeaderError     = "vigil-dlq-error"     // human-readable detail, at most 1 KiB
	HeaderTopic     = "vigil-dlq-topic"     // where the message came from …
	HeaderPartition = "vigil-dlq-partition" //
	HeaderOffset    = "vigil-dlq-offset"    //
	HeaderTime      = "vigil-dlq-time"      // … and when it was rejected (RFC 3339)
	HeaderWorker    = "vigil-dlq-worker"    // the consumer group that rejected it
	// Set on a stub: a dead letter too large for the dead-letter topic,
	// written without the original's value and headers (still at the
	// source topic, partition and offset until its retention ends).
	HeaderTruncated = "vigil-dlq-truncated" // the original value's length in bytes
	HeaderSHA256    = "vigil-dlq-sha256"    // hex SHA-256 of the original value
)

// maxStubKey bounds the key a stub keeps.
const maxStubKey = 1024

// deadLetter wraps the original message, key, bytes and headers unchanged,
// with headers that say why it was rejected, where it came from and when.
func deadLetter(m kafkago.Message, reason, detail, group string, at time.Time) kafkago.Message {
	if len(detail) > 1024 {
		// Cut at a rune boundary: the detail quotes post fields, and a
		// header of invalid UTF-8 breaks consumers that read it as text.
		n := 1024
		for n > 0 && !utf8.RuneStart(detail[n]) {
			n--
		}
		detail = detail[:n]
	}
	h := make([]kafkago.Header, 0, len(m.Headers)+7)
	h = append(h, m.Headers...)
	h = append(h,
		kafkago.Header{Key: HeaderReason, Value: []byte(reason)},
		kafkago.Header{Key: HeaderError, Value: []byte(detail)},
		kafkago.Header{Key: HeaderTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafkago.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafkago.Header{Key: HeaderTime, Value: []byte(at.UTC().Format(time.RFC3339Nano))},
		kafkago.Header{Key: HeaderWorker, Value: []byte(group)},
	)
	return kafkago.Message{Key: m.Key, Value: m.Value, Headers: h}
}

// HeaderValue returns the value of the last header named key, or "".
func HeaderValue(hs []kafkago.Header, key string) string {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value)
		}
	}
	return ""
}

// writeDeadLetters writes msgs to w and returns the ones still to write
// when it fails. After an error of the whole call every message is
// retried; after kafka.WriteErrors only the failed ones, so a partial
// failure duplicates nothing. When a message is too large for the
// dead-letter topic (the broker's max.message.bytes, or the writer's batch
// limit), the messages are written one at a time and the one that does not
// fit is replaced by its stub (stubDeadLetter): one oversized post cannot
// stall its partition, and its dead letter still says where it is.
func writeDeadLetters(ctx context.Context, w MessageWriter, log *slog.Logger, msgs []kafkago.Message) ([]kafkago.Message, error) {
	err := w.WriteMessages(ctx, msgs...)
	if err == nil {
		return nil, nil
	}
	if !tooLarge(err) {
		var werrs kafkago.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(msgs) {
			var failed []kafkago.Message
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			return failed, err
		}
		return msgs, err
	}
	for i, m := range msgs {
		err := w.WriteMessages(ctx, m)
		if tooLarge(err) && HeaderValue(m.Headers, HeaderTruncated) == "" {
			log.ErrorContext(ctx, "dead letter too large for the dead-letter topic, writing a stub without the post",
				"bytes", len(m.Value), "topic", HeaderValue(m.Headers, HeaderTopic),
				"partition", HeaderValue(m.Headers, HeaderPartition), "offset", HeaderValue(m.Headers, HeaderOffset))
			m = stubDeadLetter(m)
			msgs[i] = m
			err = w.WriteMessages(ctx, m)
		}
		if err != nil {
			return msgs[i:], err
		}
	}
	return nil, nil
}

// tooLarge reports whether err says a message or batch exceeded a size
// limit, for the whole call or for any of its messages.
func tooLarge(err error) bool {
	if errors.Is(err, kafkago.MessageSizeTooLarge) {
		return true
	}
	var werrs kafkago.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if errors.Is(e, kafkago.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return false
}

// stubDeadLetter is m without the original value and headers: the
// dead-letter headers (reason, source, time), the key up to maxStubKey
// bytes, and the value's length and SHA-256 so the original can be found
// and checked at its source offset.
func stubDeadLetter(m kafkago.Message) kafkago.Message {
	sum := sha256.Sum256(m.Value)
	h := []kafkago.Header{
		{Key: HeaderTruncated, Value: []byte(strconv.Itoa(len(m.Value)))},
		{Key: HeaderSHA256, Value: []byte(hex.EncodeToString(sum[:]))},
	}
	// Only the worker's own headers (the last of each name): a producer's
	// header that merely starts with vigil-dlq- could make the stub itself
	// too large, and a stub that does not fit is retried forever.
	for _, k := range []string{HeaderReason, HeaderError, HeaderTopic, HeaderPartition, HeaderOffset, HeaderTime, HeaderWorker} {
		for i := len(m.Headers) - 1; i >= 0; i-- {
			if m.Headers[i].Key == k {
				h = append(h, m.Headers[i])
				break
			}
		}
	}
	key := m.Key
	if len(key) > maxStubKey {
		key = key[:maxStubKey]
	}
	return kafkago.Message{Key: key, Headers: h}
}
