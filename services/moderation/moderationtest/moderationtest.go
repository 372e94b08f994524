// Package moderationtest holds helpers for tests that need the real
// Postgres and Kafka of the local stack (make up). Integration tests skip
// when a service is unreachable, unless VIGIL_INTEGRATION=require (set by
// make test and CI), which turns the skip into a failure.
package moderationtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/migrations"
	vkafka "github.com/vigil-moderation/vigil/services/moderation/kafka"
)

// DefaultDatabaseURL and DefaultKafkaBrokers point at the local stack.
const (
	DefaultDatabaseURL  = "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable"
	DefaultKafkaBrokers = "127.0.0.1:9092"
)

// unavailable skips, or fails under VIGIL_INTEGRATION=require.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("VIGIL_INTEGRATION") == "require" {
		t.Fatalf("%s is required (VIGIL_INTEGRATION=require) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable, skipping (run make up, or set VIGIL_INTEGRATION=require to fail): %v", what, err)
}

// DatabaseURL is TEST_DATABASE_URL or the local stack's.
func DatabaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultDatabaseURL
}

// KafkaBrokers is TEST_KAFKA_BROKERS (comma separated) or the local stack's.
func KafkaBrokers() []string {
	b := os.Getenv("TEST_KAFKA_BROKERS")
	if b == "" {
		b = DefaultKafkaBrokers
	}
	return strings.Split(b, ",")
}

// RandomName returns prefix followed by random hex, for unique schemas,
// topics and consumer groups.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Schema is a migrated schema of its own for one test.
type Schema struct {
	Name string
	// URL connects with search_path set to the schema; hand it to code under
	// test (app.Run) that opens its own pool.
	URL  string
	Pool *pgxpool.Pool
}

// TestSchema creates a fresh schema, applies every migration in it and drops
// it at cleanup. Use it for tests that commit, LISTEN, or run a service.
func TestSchema(t testing.TB) *Schema {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := DatabaseURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "postgres", err)
	}
	defer admin.Close(context.Background())
	name := RandomName("t_")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dropping schema %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", name, err)
		}
	})
	url := WithSearchPath(base, name)
	if err := migrations.UpURL(ctx, url, nil); err != nil {
		t.Fatalf("migrating schema %s: %v", name, err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("opening pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return &Schema{Name: name, URL: url, Pool: pool}
}

// WithSearchPath adds search_path=schema to a postgres URL.
func WithSearchPath(url, schema string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

// Kafka checks the broker answers and returns its addresses.
func Kafka(t testing.TB) []string {
	t.Helper()
	brokers := KafkaBrokers()
	c, err := net.DialTimeout("tcp", brokers[0], 3*time.Second)
	if err != nil {
		unavailable(t, "kafka", err)
	}
	_ = c.Close()
	return brokers
}

// Topic creates a topic with a unique name and the given partitions, and
// deletes it at cleanup.
func Topic(t testing.TB, brokers []string, prefix string, partitions int) string {
	t.Helper()
	name := RandomName(prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := vkafka.EnsureTopics(ctx, brokers, partitions, name); err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
	t.Cleanup(func() {
		cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
		_, _ = cl.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{name}})
	})
	return name
}
