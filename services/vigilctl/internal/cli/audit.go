package cli

import (
	"context"
	"fmt"

	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func auditCommand() Command {
	return Command{
		Name:    "audit",
		Summary: "check the tamper-evident audit log (verify)",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "audit", args, []Command{
				{Name: "verify", Summary: "re-compute the hash chain; exit 1 and say where it breaks", Run: auditVerify},
			})
		},
	}
}

func auditVerify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit verify", "Re-computes the audit log's hash chain from the first event and the head. Exits 1 and names the first broken event if any row was edited, deleted or inserted out of band.")
	dbURL := databaseFlag(fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "audit verify"); err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, *dbURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	br, n, err := postgres.VerifyAudit(ctx, pool)
	if err != nil {
		return err
	}
	if br != nil {
		fmt.Fprintf(env.Stdout, "audit chain BROKEN at event %d: %s (%d events read)\n", br.Seq, br.Reason, n)
		return ErrFailed
	}
	fmt.Fprintf(env.Stdout, "audit chain OK: %d events\n", n)
	return nil
}
