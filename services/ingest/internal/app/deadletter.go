package app

import (
	"strconv"
	"time"

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
)

// deadLetter wraps the original message, key, bytes and headers unchanged,
// with headers that say why it was rejected, where it came from and when.
func deadLetter(m kafkago.Message, reason, detail, group string, at time.Time) kafkago.Message {
	if len(detail) > 1024 {
		detail = detail[:1024]
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
