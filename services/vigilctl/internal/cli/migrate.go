package cli

import (
	"context"
	"fmt"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation/observe"
)

func migrateCommand() Command {
	return Command{
		Name:    "migrate",
		Summary: "apply pending database migrations (--status to list them)",
		Run: func(ctx context.Context, env Env, args []string) error {
			fs := newFlags(env, "migrate", "Applies every pending migration in migrations/ to the database.")
			dbURL := databaseFlag(fs)
			status := fs.Bool("status", false, "list migrations and whether each is applied, change nothing")
			if err := parse(fs, env, args); err != nil {
				return err
			}
			if err := noArgs(fs, "migrate"); err != nil {
				return err
			}
			if *status {
				db, err := migrations.OpenDB(*dbURL)
				if err != nil {
					return err
				}
				defer db.Close()
				st, err := migrations.Status(ctx, db)
				if err != nil {
					return err
				}
				for _, s := range st {
					fmt.Fprintf(env.Stdout, "%05d %-8s %s\n", s.Source.Version, s.State, s.Source.Path)
				}
				return nil
			}
			log, err := observe.NewLogger(env.Stderr, "info", "text")
			if err != nil {
				return err
			}
			if err := migrations.UpURL(ctx, *dbURL, log); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "database is up to date")
			return nil
		},
	}
}
