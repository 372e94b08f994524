package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func evidenceCommand() Command {
	return Command{
		Name:    "evidence",
		Summary: "export an item's evidence package for law enforcement or a legal request (export)",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "evidence", args, []Command{
				{Name: "export", Summary: "write an item's evidence package (zip) to a file; audited", Run: evidenceExport},
			})
		},
	}
}

// envClock is the command's clock as package evidence and the adapters
// take one.
type envClock struct{ env Env }

func (c envClock) Now() time.Time { return c.env.now() }

func evidenceExport(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags(env, "evidence export", "Usage: vigilctl evidence export --item ID -o FILE\n\n"+
		"Writes the evidence package of a review item (docs/review.md, \"Evidence packages\"): one zip\n"+
		"with manifest.json (the item, the post as stored, matches, media, decisions and reversals,\n"+
		"legal holds, the item's audit events, the hash of every file), README.txt and the original\n"+
		"media still stored, the same package GET /api/v1/items/{id}/evidence serves. The export is\n"+
		"recorded in the audit log (evidence_exported, with --author as actor) before the file is\n"+
		"written; the file is written whole or not at all. -o - writes to standard output.")
	dbURL := databaseFlag(fs)
	author := authorFlag(env, fs)
	item := fs.Int64("item", 0, "the review item's id (required)")
	out := fs.String("o", "", "the file to write (required; - for standard output)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "evidence export"); err != nil {
		return err
	}
	switch {
	case *item <= 0:
		return errors.New("evidence export: --item ID is required (a positive review item id)")
	case *out == "":
		return errors.New("evidence export: -o FILE is required")
	case *out == "-" && IsTerminal(env.Stdout):
		return errors.New("evidence export: standard output is a terminal; write the zip to a file with -o FILE")
	case *author == "":
		return errors.New("evidence export: no --author (and $USER is not set)")
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()

	clock := envClock{env}
	x := evidence.New(postgres.NewReviews(pool, postgres.ReviewOptions{Clock: clock}), evidence.Options{Clock: clock, Generator: "vigilctl"})
	var w io.Writer = env.Stdout
	var tmp *os.File
	if *out != "-" {
		// Created (mode 0600: it holds the original media) before the
		// export is audited, so that an unwritable destination records
		// nothing.
		if tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*"); err != nil {
			return fmt.Errorf("evidence export: %w", err)
		}
		defer func() {
			if err != nil {
				_ = tmp.Close()
				_ = os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	pkg, err := x.Open(ctx, *item, *author)
	if errors.Is(err, moderation.ErrNotFound) {
		return fmt.Errorf("evidence export: there is no review item %d", *item)
	}
	if err != nil {
		return fmt.Errorf("evidence export: %w", err)
	}
	if err = pkg.Write(ctx, w); err != nil {
		return fmt.Errorf("evidence export: %w", err)
	}
	dest := "standard output"
	if tmp != nil {
		if err = tmp.Sync(); err != nil {
			return fmt.Errorf("evidence export: %w", err)
		}
		if err = tmp.Close(); err != nil {
			return fmt.Errorf("evidence export: %w", err)
		}
		if err = os.Rename(tmp.Name(), *out); err != nil {
			return fmt.Errorf("evidence export: %w", err)
		}
		dest = *out
	}
	fmt.Fprintf(env.Stderr, "wrote %s: evidence package of item %d\nmanifest.json SHA-256 %s (audit event %d)\n",
		dest, *item, pkg.ManifestSHA256, pkg.Event.Seq)
	return nil
}
