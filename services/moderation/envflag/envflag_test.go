package envflag_test

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation/envflag"
)

func TestPrecedence(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
		n    int
	}{
		{"default", nil, nil, "def", 1},
		{"environment", nil, map[string]string{"VIGIL_KAFKA_BROKERS": "env:9092", "VIGIL_BATCH_SIZE": "7"}, "env:9092", 7},
		{"flag beats environment", []string{"--kafka-brokers", "flag:9092"}, map[string]string{"VIGIL_KAFKA_BROKERS": "env:9092"}, "flag:9092", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := envflag.NewFlagSet("x", "test", &bytes.Buffer{})
			s := fs.String("kafka-brokers", "def", "brokers")
			n := fs.Int("batch-size", 1, "size")
			if err := envflag.Parse(fs, c.args, func(k string) string { return c.env[k] }); err != nil {
				t.Fatal(err)
			}
			if *s != c.want || *n != c.n {
				t.Fatalf("got %q %d, want %q %d", *s, *n, c.want, c.n)
			}
		})
	}
}

func TestBadEnvironmentValueNamesTheVariable(t *testing.T) {
	t.Parallel()
	fs := envflag.NewFlagSet("x", "test", &bytes.Buffer{})
	fs.Int("batch-size", 1, "size")
	err := envflag.Parse(fs, nil, func(k string) string { return map[string]string{"VIGIL_BATCH_SIZE": "lots"}[k] })
	if err == nil || !strings.Contains(err.Error(), "$VIGIL_BATCH_SIZE") {
		t.Fatalf("err = %v, want it to name $VIGIL_BATCH_SIZE", err)
	}
}

func TestHelpListsEnvironmentNames(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	fs := envflag.NewFlagSet("vigil-x", "Does x.", &out)
	fs.String("database-url", "postgres://", "where")
	err := envflag.Parse(fs, []string{"--help"}, func(string) string { return "" })
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "--database-url, $VIGIL_DATABASE_URL") {
		t.Fatalf("help does not show the variable:\n%s", out.String())
	}
}

// TestHelpUsageLine: the generic usage line is printed unless the summary
// brings its own, so a command naming its arguments is not introduced by
// two "Usage:" lines.
func TestHelpUsageLine(t *testing.T) {
	t.Parallel()
	for summary, want := range map[string]string{
		"Does x.":                               "Usage: vigil-x [flags]\n\nDoes x.\n\nFlags",
		"Usage: vigil-x [--n N] DIR\n\nDoes x.": "Usage: vigil-x [--n N] DIR\n\nDoes x.\n\nFlags",
	} {
		var out bytes.Buffer
		fs := envflag.NewFlagSet("vigil-x", summary, &out)
		fs.Int("n", 1, "how many")
		if err := envflag.Parse(fs, []string{"--help"}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("err = %v, want flag.ErrHelp", err)
		}
		if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "Usage:") != 1 {
			t.Errorf("help for summary %q:\n%s\nwant it to start with %q and have one Usage line", summary, out.String(), want)
		}
	}
}
