package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/rulestore"
)

// authorFlag registers --author, defaulting to the login name.
func authorFlag(env Env, fs interface {
	String(name, value, usage string) *string
}) *string {
	def := env.Getenv("USER")
	if def == "" {
		def = env.Getenv("LOGNAME")
	}
	return fs.String("author", def, "who does this (recorded in the audit log, and in a published rule version; default $USER)")
}

// requireAuthor trims --author and refuses a blank one: it is recorded in
// the audit log and in rule versions, which are immutable.
func requireAuthor(cmd, author string) (string, error) {
	if a := strings.TrimSpace(author); a != "" {
		return a, nil
	}
	return "", fmt.Errorf("%s: --author is required ($USER is not set)", cmd)
}

func runRulesPublish(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules publish", "Usage: vigilctl rules publish -m MESSAGE DIR\n\n"+
		"Validates the rule files under DIR and stores them as a new, immutable, numbered\n"+
		"version; the ingest workers switch to it within seconds. Nothing is published\n"+
		"from an invalid set. Hash banks are not part of a rule version (vigilctl banks import).")
	dbURL := databaseFlag(fs)
	author := authorFlag(env, fs)
	message := fs.String("m", "", "what changed and why (required)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("rules publish: want one rules directory, got %d arguments", fs.NArg())
	}
	if strings.TrimSpace(*message) == "" {
		return fmt.Errorf("rules publish: -m MESSAGE is required")
	}
	who, err := requireAuthor("rules publish", *author)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		// A version replaces every rule: one file would drop the others.
		return fmt.Errorf("rules publish: %s is a file: publish the whole rules directory", dir)
	}
	files, err := rulestore.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintf(env.Stdout, "%s:1:1: no rule files (*.yaml, *.yml)\n", dir)
		return ErrFailed
	}
	set, err := rulestore.Compile(files, 0, dir)
	if probs := nameProblems(files, dir); err != nil || len(probs) > 0 {
		if err != nil {
			probs = append(probs, splitErrors(err, "")...)
		}
		for _, p := range probs {
			fmt.Fprintln(env.Stdout, p)
		}
		fmt.Fprintln(env.Stderr, "nothing published")
		return ErrFailed
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewRuleStore(pool, nil)
	if latest, err := store.Latest(ctx); err == nil && latest.SHA256 != "" {
		if latest.SHA256 == digestOf(files) {
			fmt.Fprintf(env.Stderr, "note: identical to the current version %d\n", latest.Version)
		}
	}
	v, err := store.Publish(ctx, postgres.PublishRequest{Author: who, Message: strings.TrimSpace(*message), Files: files, Rules: set.Len()})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "published rules version %d (%d rules in %d files, sha256 %s)\n", v.Version, v.Rules, len(files), v.SHA256[:12])
	return nil
}

func runRulesHistory(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules history", "Usage: vigilctl rules history [--limit N]\n\nLists published rule versions, newest first.")
	dbURL := databaseFlag(fs)
	limit := fs.Int("limit", 20, "versions to list (0: all)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := noArgs(fs, "rules history"); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("rules history: --limit %d: want 0 (all) or more", *limit)
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	vs, err := postgres.NewRuleStore(pool, nil).History(ctx, *limit)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(env.Stderr, "no rule version published yet")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tPUBLISHED\tAUTHOR\tRULES\tSHA256\tMESSAGE")
	for _, v := range vs {
		msg := v.Message
		if v.RollbackOf > 0 {
			msg = "[rollback of " + strconv.FormatInt(v.RollbackOf, 10) + "] " + msg
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", v.Version, v.CreatedAt.UTC().Format(time.RFC3339), v.Author, v.Rules, v.SHA256[:12], msg)
	}
	return tw.Flush()
}

func runRulesRollback(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules rollback", "Usage: vigilctl rules rollback [-m MESSAGE] VERSION\n\n"+
		"Publishes the rules of VERSION again as a new version (versions are immutable),\n"+
		"after checking that they still compile.")
	dbURL := databaseFlag(fs)
	author := authorFlag(env, fs)
	message := fs.String("m", "", "why (default: rollback to version N)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("rules rollback: want one VERSION")
	}
	n, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("rules rollback: version %q: want a positive number", fs.Arg(0))
	}
	who, err := requireAuthor("rules rollback", *author)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewRuleStore(pool, nil)
	old, err := store.Version(ctx, n)
	if err != nil {
		return err
	}
	if _, err := rulestore.CompileVersion(old); err != nil {
		for _, p := range splitErrors(err, "") {
			fmt.Fprintln(env.Stdout, p)
		}
		fmt.Fprintf(env.Stderr, "version %d no longer compiles; nothing published\n", n)
		return ErrFailed
	}
	v, err := store.Rollback(ctx, n, who, strings.TrimSpace(*message))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "published rules version %d (the rules of version %d)\n", v.Version, n)
	return nil
}

func digestOf(files []moderation.RuleFile) string { return moderation.RulesDigest(files) }
