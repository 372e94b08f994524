// Package envflag gives every command-line flag one environment twin:
// flag --kafka-brokers is also VIGIL_KAFKA_BROKERS. A flag given on the
// command line wins over the environment, which wins over the default.
// Usage lists each flag with its variable, so --help documents both.
package envflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Prefix is put before every environment variable name.
const Prefix = "VIGIL_"

// EnvName is the environment twin of a flag name.
func EnvName(flagName string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// NewFlagSet returns a flag set whose usage text shows environment names.
// A summary that starts with its own "Usage:" line (naming the arguments)
// replaces the generic "Usage: NAME [flags]" line.
func NewFlagSet(name, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		out := fs.Output() // as set now: a caller may send asked-for help to stdout
		if !strings.HasPrefix(summary, "Usage:") {
			fmt.Fprintf(out, "Usage: %s [flags]\n\n", name)
		}
		fmt.Fprintf(out, "%s\n\nFlags (each also read from the environment variable shown):\n", summary)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s, $%s%s\n      %s\n", f.Name, EnvName(f.Name), def, f.Usage)
		})
	}
	return fs
}

// Parse parses args, then fills every flag not given on the command line
// from its environment twin. Returns flag.ErrHelp for -h/--help.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("invalid value %q for $%s: %w", v, EnvName(f.Name), e)
			}
		}
	})
	return err
}

// Names lists the environment variables of every flag in fs.
func Names(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, EnvName(f.Name)) })
	return out
}
