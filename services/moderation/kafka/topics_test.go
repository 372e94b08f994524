package kafka_test

import (
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/kafka"
)

func TestValidTopicName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"posts": true, "posts.dlq": true, "moderation.actions": true, "a_b-C.9": true, strings.Repeat("x", 249): true,
		"": false, ".": false, "..": false, strings.Repeat("x", 250): false,
		"bad topic": false, "posts!": false, "pösts": false, "posts\x00": false, "a/b": false,
	} {
		if err := kafka.ValidTopicName(name); (err == nil) != ok {
			t.Errorf("ValidTopicName(%.20q) = %v, want ok=%v", name, err, ok)
		}
	}
}
