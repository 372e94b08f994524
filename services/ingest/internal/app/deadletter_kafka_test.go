package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/ingest/internal/app"
)

// TestOversizedDeadLetter: a dead-letter topic whose max.message.bytes is
// smaller than a poison message must not stall the partition. The small
// dead letters of the same batch are written whole, the oversized one as a
// stub that names its source offset and the value's length and SHA-256, and
// the good post after it is queued.
func TestOversizedDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := &kafkago.Client{Addr: kafkago.TCP(e.brokers...), Timeout: 10 * time.Second}
	res, err := cl.IncrementalAlterConfigs(ctx, &kafkago.IncrementalAlterConfigsRequest{
		Resources: []kafkago.IncrementalAlterConfigsRequestResource{{
			ResourceType: kafkago.ResourceTypeTopic, ResourceName: e.dlq,
			Configs: []kafkago.IncrementalAlterConfigsRequestConfig{{Name: "max.message.bytes", Value: "8192", ConfigOperation: kafkago.ConfigOperationSet}},
		}},
	})
	if err != nil || len(res.Resources) != 1 || res.Resources[0].Error != nil {
		t.Fatalf("limiting the dead-letter topic: %v %+v", err, res)
	}

	huge := []byte(`{"v":1, "not json` + strings.Repeat("x", 20000))
	small := []byte(`{"v":1, this is not json`)
	msgs := []kafkago.Message{
		{Key: []byte("small-1"), Value: small},
		{Key: []byte("huge"), Value: huge, Headers: []kafkago.Header{{Key: "trace", Value: []byte("abc")}}},
		{Key: []byte("small-2"), Value: small},
		{Key: []byte("good"), Value: postJSON(t, basePost("good-after-huge", "they attack the convoy"))},
	}
	startWorker(t, e.config())
	produce(t, e.brokers, e.topic, msgs, 0)
	waitQueued(t, e.schema, nil2(queuedIDs("good-after-huge")), 60*time.Second)

	dead := readAll(t, e.brokers, e.dlq, 3)
	byKey := map[string]kafkago.Message{}
	for _, d := range dead {
		byKey[string(d.Key)] = d
	}
	for _, k := range []string{"small-1", "small-2"} {
		if d := byKey[k]; !bytes.Equal(d.Value, small) || app.HeaderValue(d.Headers, app.HeaderTruncated) != "" {
			t.Errorf("%s: not written whole: %q %v", k, d.Value, d.Headers)
		}
	}
	stub, ok := byKey["huge"]
	sum := sha256.Sum256(huge)
	switch {
	case !ok:
		t.Fatalf("no dead letter for the huge message: %v", dead)
	case len(stub.Value) != 0 || app.HeaderValue(stub.Headers, app.HeaderTruncated) != strconv.Itoa(len(huge)) ||
		app.HeaderValue(stub.Headers, app.HeaderSHA256) != hex.EncodeToString(sum[:]):
		t.Errorf("stub value %d bytes, headers %v", len(stub.Value), stub.Headers)
	case app.HeaderValue(stub.Headers, app.HeaderOffset) != "1" || app.HeaderValue(stub.Headers, app.HeaderTopic) != e.topic ||
		app.HeaderValue(stub.Headers, app.HeaderReason) == "" || app.HeaderValue(stub.Headers, "trace") != "":
		t.Errorf("stub headers %v", stub.Headers)
	}
}
