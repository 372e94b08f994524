// Package cli implements vigilctl's commands. Each command is a Command in
// the table built by commands(); a command lives in its own file and gets
// its I/O from Env, so tests run it in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-moderation/vigil/services/moderation/envflag"
)

// ErrFailed means the command reported its failure itself (for example a
// list of validation errors) and main should only set the exit status.
var ErrFailed = errors.New("command failed")

// Env is a command's view of the process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ReadSecret, when set (stdin is a terminal), prompts on the terminal
	// and reads a line without echoing it; commands that take a password
	// use it instead of reading stdin.
	ReadSecret func(prompt string) (string, error)
	// Now tells the time (reports' generation time); time.Now when nil.
	Now func() time.Time
}

// now is env.Now, or the system clock.
func (env Env) now() time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// IsTerminal reports whether w is a terminal (for progress bars).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Command is one vigilctl subcommand (possibly with subcommands of its own,
// dispatched by its Run).
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env Env, args []string) error
}

func commands() []Command {
	cmds := []Command{
		migrateCommand(),
	}
	cmds = append(cmds, extraCommands()...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

// extraCommands is extended by other files of this package through
// registered constructors; see register.go.
func extraCommands() []Command {
	var out []Command
	for _, c := range registered {
		out = append(out, c())
	}
	return out
}

// Run runs the command named by args[1].
func Run(ctx context.Context, args []string, env Env) error {
	cmds := commands()
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: vigilctl COMMAND [flags] [args]\n\nCommands:\n")
		for _, c := range cmds {
			fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
		}
		fmt.Fprintf(w, "\nRun 'vigilctl COMMAND --help' for a command's flags.\n")
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		usage(env.Stdout)
		if len(args) < 2 {
			return fmt.Errorf("no command given")
		}
		return nil
	}
	for _, c := range cmds {
		if c.Name == args[1] {
			return withSchemaHint(c.Run(ctx, env, args[2:]))
		}
	}
	usage(env.Stderr)
	return fmt.Errorf("unknown command %q", args[1])
}

// withSchemaHint adds the likely fix to an error from a database that
// lacks a table or column: it has not been migrated to this vigilctl's
// schema (a new database, or an upgrade without vigilctl migrate).
func withSchemaHint(err error) error {
	var pe *pgconn.PgError
	const undefinedTable, undefinedColumn = "42P01", "42703" // SQLSTATE
	if errors.As(err, &pe) && (pe.Code == undefinedTable || pe.Code == undefinedColumn) {
		return fmt.Errorf("%w (is the database migrated? 'vigilctl migrate --status' lists pending migrations)", err)
	}
	return err
}

// newFlags returns a flag set for a (sub)command whose flags also read
// VIGIL_* environment variables.
func newFlags(env Env, name, summary string) *flag.FlagSet {
	return envflag.NewFlagSet("vigilctl "+name, summary, env.Stderr)
}

// parse parses args with environment twins. Help asked for goes to
// standard output (so "--help | less" works, as for "vigilctl --help");
// the usage shown after a wrong flag stays on standard error.
func parse(fs *flag.FlagSet, env Env, args []string) error {
	if helpAsked(fs, args) {
		fs.SetOutput(env.Stdout)
	}
	return envflag.Parse(fs, args, env.Getenv)
}

// helpAsked reports whether args ask for help among the flags of fs
// (before the first argument or "--", where the flag package stops; the
// value of a non-boolean flag is skipped).
func helpAsked(fs *flag.FlagSet, args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return false
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return true
		}
		if f := fs.Lookup(name); f != nil && !hasValue {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++ // its value
			}
		}
	}
	return false
}

// noArgs refuses positional arguments of a command that takes none: they
// would be ignored silently, and so would every flag after them (flags
// end at the first argument), as in "rules precision RULE --json".
func noArgs(fs *flag.FlagSet, name string) error {
	if fs.NArg() == 0 {
		return nil
	}
	return fmt.Errorf("%s: unexpected arguments %q (it takes none; flags go before arguments)", name, fs.Args())
}

// databaseFlag registers the shared --database-url flag.
func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database-url", "postgres://vigil:vigil@127.0.0.1:5432/vigil?sslmode=disable", "PostgreSQL URL")
}

// subcommand dispatches args[0] among subs, for commands such as
// "vigilctl rules validate".
func subcommand(ctx context.Context, env Env, name string, args []string, subs []Command) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := env.Stdout
		fmt.Fprintf(w, "Usage: vigilctl %s SUBCOMMAND [flags] [args]\n\nSubcommands:\n", name)
		for _, s := range subs {
			fmt.Fprintf(w, "  %-14s %s\n", s.Name, s.Summary)
		}
		if len(args) == 0 {
			return fmt.Errorf("%s: no subcommand given", name)
		}
		return nil
	}
	for _, s := range subs {
		if s.Name == args[0] {
			return s.Run(ctx, env, args[1:])
		}
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	return fmt.Errorf("%s: unknown subcommand %q (want one of %s)", name, args[0], strings.Join(names, ", "))
}
