package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestWithSchemaHint: on a database that was never migrated (or not since
// an upgrade) every command failed with a bare "relation … does not exist";
// the error now says how to check, and keeps its cause.
func TestWithSchemaHint(t *testing.T) {
	t.Parallel()
	const hint = "is the database migrated? 'vigilctl migrate --status' lists pending migrations"
	for _, c := range []struct {
		err  error
		hint bool
	}{
		{fmt.Errorf("listing rule versions: %w", &pgconn.PgError{Code: "42P01", Message: `relation "rule_versions" does not exist`}), true},
		{fmt.Errorf("reading: %w", &pgconn.PgError{Code: "42703", Message: `column "x" does not exist`}), true},
		{fmt.Errorf("storing: %w", &pgconn.PgError{Code: "23505", Message: "duplicate key"}), false},
		{errors.New("other"), false},
		{nil, false},
	} {
		got := withSchemaHint(c.err)
		if !errors.Is(got, c.err) {
			t.Errorf("%v: cause lost in %v", c.err, got)
		}
		if got != nil && strings.Contains(got.Error(), hint) != c.hint {
			t.Errorf("%v: got %q, want hint %v", c.err, got, c.hint)
		}
	}
}

// TestHelpGoesToStdout: help asked for is printed on standard output, as
// "vigilctl --help" and "vigilctl rules --help" already were ("vigilctl
// rules validate --help | less" showed nothing); after a wrong flag the
// usage stays on standard error.
func TestHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"rules", "validate", "--help"},
		{"rules", "test", "-h"},
		{"banks", "import", "--format", "csv", "--help"},
		{"hash", "--help"},
	} {
		out, errOut, err := runCLI(t, "", args...)
		if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out, "Usage: vigilctl "+args[0]) || errOut != "" {
			t.Errorf("%q: err %v, stdout %.40q, stderr %.40q; want the usage on stdout", args, err, out, errOut)
		}
	}
	out, errOut, err := runCLI(t, "", "rules", "validate", "--bogus", "dir")
	if err == nil || out != "" || !strings.Contains(errOut, "Usage: vigilctl rules validate") {
		t.Errorf("wrong flag: err %v, stdout %q, stderr %.60q; want the usage on stderr", err, out, errOut)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("m", "", "")
	fs.Bool("json", false, "")
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--help"}, true}, {[]string{"-m", "1", "-h"}, true}, {[]string{"--json", "-h"}, true},
		{[]string{"-m=x", "--help"}, true}, {[]string{"-m", "--help"}, false}, // a message "--help"
		{[]string{"dir", "--help"}, false}, {[]string{"--", "--help"}, false}, {nil, false},
	} {
		if got := helpAsked(fs, c.args); got != c.want {
			t.Errorf("helpAsked(%q) = %v", c.args, got)
		}
	}
}
