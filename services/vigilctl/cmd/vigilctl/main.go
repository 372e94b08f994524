// Command vigilctl is the command line for rule engineers, auditors and
// operators: migrations, rules, hash banks, users and audit checks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-moderation/vigil/services/vigilctl/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cli.Run(ctx, os.Args, cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, cli.ErrFailed):
		os.Exit(1) // the command already printed what failed
	default:
		fmt.Fprintln(os.Stderr, "vigilctl:", err)
		os.Exit(1)
	}
}
