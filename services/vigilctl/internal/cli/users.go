package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func usersCommand() Command {
	return Command{
		Name:    "users",
		Summary: "manage review users: add, list, disable, enable, reset-password, token, tokens, revoke-token",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "users", args, []Command{
				{Name: "add", Summary: "create a user: users add --roles moderator,lead NAME (password on stdin, or --generate-password)", Run: usersAdd},
				{Name: "list", Summary: "list users and their roles", Run: usersList},
				{Name: "disable", Summary: "stop a user from signing in and end their sessions", Run: usersDisable},
				{Name: "enable", Summary: "let a disabled or locked-out user sign in again", Run: usersEnable},
				{Name: "reset-password", Summary: "set a new password (stdin, or --generate-password) and end the user's sessions", Run: usersResetPassword},
				{Name: "token", Summary: "create an API token: users token --name ci --scopes stats:read NAME", Run: usersToken},
				{Name: "tokens", Summary: "list a user's API tokens (no secrets): users tokens NAME", Run: usersTokens},
				{Name: "revoke-token", Summary: "revoke one of a user's API tokens: users revoke-token --id N NAME", Run: usersRevokeToken},
			})
		},
	}
}

// userFlags are what every users subcommand shares.
type userFlags struct {
	fs    *flag.FlagSet
	dbURL *string
	actor *string
}

func newUserFlags(env Env, name, summary string) userFlags {
	fs := newFlags(env, "users "+name, summary)
	who := "vigilctl"
	if u := env.Getenv("USER"); u != "" {
		who += ":" + u
	}
	return userFlags{fs: fs, dbURL: databaseFlag(fs), actor: fs.String("actor", who, "who is acting, as recorded in the audit log")}
}

// open parses the flags, wants exactly one positional argument (the
// username) unless none is allowed, and connects.
func (u userFlags) open(ctx context.Context, env Env, args []string, wantName bool) (*pgxpool.Pool, *postgres.Users, string, error) {
	if err := parse(u.fs, env, args); err != nil {
		return nil, nil, "", err
	}
	name := ""
	switch {
	case wantName && u.fs.NArg() != 1:
		return nil, nil, "", fmt.Errorf("want exactly one USERNAME argument: %w", moderation.ErrInvalid)
	case !wantName && u.fs.NArg() != 0:
		return nil, nil, "", fmt.Errorf("unexpected arguments %v: %w", u.fs.Args(), moderation.ErrInvalid)
	case wantName:
		name = u.fs.Arg(0)
	}
	pool, err := postgres.Connect(ctx, *u.dbURL, 2)
	if err != nil {
		return nil, nil, "", err
	}
	return pool, postgres.NewUsers(pool, postgres.UserOptions{}), name, nil
}

// readPassword takes the first line of stdin, or generates one.
func readPassword(env Env, generate bool) (string, bool, error) {
	if generate {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return "", false, err
		}
		return base64.RawURLEncoding.EncodeToString(b), true, nil
	}
	if env.ReadSecret != nil {
		return readSecretTwice(env.ReadSecret)
	}
	if env.Stdin == nil {
		return "", false, fmt.Errorf("no password on stdin (or use --generate-password): %w", moderation.ErrInvalid)
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false, fmt.Errorf("no password on stdin (or use --generate-password): %w", moderation.ErrInvalid)
	}
	_ = err // a last line without newline is fine
	return line, false, nil
}

// readSecretTwice asks for a password on the terminal, unechoed, and once
// more to confirm it.
func readSecretTwice(read func(prompt string) (string, error)) (string, bool, error) {
	pw, err := read("password: ")
	if err != nil {
		return "", false, fmt.Errorf("reading the password: %w", err)
	}
	if pw == "" {
		return "", false, fmt.Errorf("empty password (or use --generate-password): %w", moderation.ErrInvalid)
	}
	again, err := read("password again: ")
	if err != nil {
		return "", false, fmt.Errorf("reading the password: %w", err)
	}
	if again != pw {
		return "", false, fmt.Errorf("the passwords differ: %w", moderation.ErrInvalid)
	}
	return pw, false, nil
}

func usersAdd(ctx context.Context, env Env, args []string) error {
	u := newUserFlags(env, "add", "Usage: vigilctl users add [--roles R,R] [--generate-password] NAME\n\nCreates a review user. The password is asked for on the terminal (not echoed), or read from the first line of stdin when it is not a terminal, or generated and printed with --generate-password.")
	roles := u.fs.String("roles", "moderator", "comma-separated roles: moderator, lead, rule_engineer, auditor, admin")
	gen := u.fs.Bool("generate-password", false, "generate a password and print it")
	pool, users, name, err := u.open(ctx, env, args, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	rs, err := moderation.ParseRoles(*roles)
	if err != nil {
		return err
	}
	pw, generated, err := readPassword(env, *gen)
	if err != nil {
		return err
	}
	usr, err := users.Create(ctx, *u.actor, name, pw, rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created user %s (id %d, roles %s)\n", usr.Username, usr.ID, joinNames(usr.Roles))
	if generated {
		fmt.Fprintf(env.Stdout, "password: %s\n", pw)
	}
	return nil
}

// joinNames joins roles or scopes with commas, "none" for none.
func joinNames[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

func usersList(ctx context.Context, env Env, args []string) error {
	u := newUserFlags(env, "list", "Lists review users, their roles and state.")
	pool, users, _, err := u.open(ctx, env, args, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	us, err := users.List(ctx)
	if err != nil {
		return err
	}
	for _, usr := range us {
		state := "active"
		switch {
		case usr.DisabledAt != nil:
			state = "disabled"
		case usr.LockedUntil != nil && usr.LockedUntil.After(time.Now()):
			state = "locked until " + usr.LockedUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(env.Stdout, "%-6d %-24s %-40s %s\n", usr.ID, usr.Username, joinNames(usr.Roles), state)
	}
	return nil
}

// byName runs f on the user named by the single argument.
func byName(ctx context.Context, env Env, args []string, name, summary string,
	f func(users *postgres.Users, actor string, usr moderation.User) error) error {
	u := newUserFlags(env, name, summary)
	pool, users, username, err := u.open(ctx, env, args, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	usr, err := users.ByUsername(ctx, username)
	if err != nil {
		return err
	}
	return f(users, *u.actor, usr)
}

func usersDisable(ctx context.Context, env Env, args []string) error {
	return byName(ctx, env, args, "disable", "Usage: vigilctl users disable NAME\n\nDisables a user: no more sign-ins, sessions ended, API tokens refused. A disabled user is left as is (no audit event).",
		func(users *postgres.Users, actor string, usr moderation.User) error {
			_, changed, err := users.SetDisabled(ctx, actor, usr.ID, true)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(env.Stdout, "%s is already disabled\n", usr.Username)
				return nil
			}
			fmt.Fprintf(env.Stdout, "disabled user %s\n", usr.Username)
			return nil
		})
}

func usersEnable(ctx context.Context, env Env, args []string) error {
	return byName(ctx, env, args, "enable", "Usage: vigilctl users enable NAME\n\nRe-enables a user and clears a login lockout. An enabled user with no lockout is left as is (no audit event).",
		func(users *postgres.Users, actor string, usr moderation.User) error {
			_, changed, err := users.SetDisabled(ctx, actor, usr.ID, false)
			switch {
			case err != nil:
				return err
			case !changed:
				fmt.Fprintf(env.Stdout, "%s is already enabled\n", usr.Username)
			case usr.Disabled():
				fmt.Fprintf(env.Stdout, "enabled user %s\n", usr.Username)
			default:
				fmt.Fprintf(env.Stdout, "%s was enabled; cleared their failed logins and lockout\n", usr.Username)
			}
			return nil
		})
}

func usersResetPassword(ctx context.Context, env Env, args []string) error {
	u := newUserFlags(env, "reset-password", "Usage: vigilctl users reset-password [--generate-password] NAME\n\nSets a new password, asked for on the terminal (not echoed), read from the first line of stdin, or generated with --generate-password; clears a lockout and ends the user's sessions.")
	gen := u.fs.Bool("generate-password", false, "generate a password and print it")
	pool, users, name, err := u.open(ctx, env, args, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	usr, err := users.ByUsername(ctx, name)
	if err != nil {
		return err
	}
	pw, generated, err := readPassword(env, *gen)
	if err != nil {
		return err
	}
	if _, err := users.ResetPassword(ctx, *u.actor, usr.ID, pw); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "password of %s reset\n", usr.Username)
	if generated {
		fmt.Fprintf(env.Stdout, "password: %s\n", pw)
	}
	return nil
}

func usersToken(ctx context.Context, env Env, args []string) error {
	u := newUserFlags(env, "token", "Usage: vigilctl users token --name NAME --scopes S,S [--expires D] USER\n\nCreates an API token for a user and prints its secret once. Scopes must be granted by the user's roles.")
	name := u.fs.String("name", "", "what the token is for (required)")
	scopes := u.fs.String("scopes", "", "comma-separated scopes, e.g. stats:read,audit:read (required)")
	expires := u.fs.Duration("expires", 90*24*time.Hour, "lifetime of the token (0 for none)")
	pool, users, username, err := u.open(ctx, env, args, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *expires < 0 { // would have made a token that never expires
		return fmt.Errorf("--expires %s: want a positive lifetime, or 0 for none: %w", *expires, moderation.ErrInvalid)
	}
	usr, err := users.ByUsername(ctx, username)
	if err != nil {
		return err
	}
	var exp *time.Time
	if *expires > 0 {
		t := time.Now().Add(*expires)
		exp = &t
	}
	var ss []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ss = append(ss, s)
		}
	}
	secret, tok, err := users.CreateToken(ctx, *u.actor, usr, *name, ss, exp)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "token %d for %s (scopes %v); the secret is shown only now:\n", tok.ID, usr.Username, tok.Scopes)
	fmt.Fprintln(env.Stdout, secret)
	return nil
}

func usersTokens(ctx context.Context, env Env, args []string) error {
	return byName(ctx, env, args, "tokens", "Usage: vigilctl users tokens NAME\n\nLists a user's API tokens, newest first: id, name, scopes, state and dates. Secrets are never stored, so none is shown.",
		func(users *postgres.Users, _ string, usr moderation.User) error {
			toks, err := users.Tokens(ctx, usr.ID)
			if err != nil {
				return err
			}
			now := time.Now()
			for _, tok := range toks {
				fmt.Fprintf(env.Stdout, "%-6d %-24s %-40s %s\n", tok.ID, tok.Name, joinNames(tok.Scopes), tokenState(tok, now))
			}
			return nil
		})
}

// tokenState says whether a token works, and its dates.
func tokenState(tok moderation.APIToken, now time.Time) string {
	state := "active"
	switch {
	case tok.RevokedAt != nil:
		state = "revoked " + tok.RevokedAt.Format(time.RFC3339)
	case tok.ExpiresAt != nil && !tok.ExpiresAt.After(now):
		state = "expired " + tok.ExpiresAt.Format(time.RFC3339)
	case tok.ExpiresAt != nil:
		state += ", expires " + tok.ExpiresAt.Format(time.RFC3339)
	}
	state += ", created " + tok.CreatedAt.Format(time.RFC3339)
	if tok.LastUsedAt != nil {
		state += ", last used " + tok.LastUsedAt.Format(time.RFC3339)
	}
	return state
}

func usersRevokeToken(ctx context.Context, env Env, args []string) error {
	u := newUserFlags(env, "revoke-token", "Usage: vigilctl users revoke-token --id N NAME\n\nRevokes the user's API token N (see users tokens), e.g. one that leaked, without disabling the user. Audited.")
	id := u.fs.Int64("id", 0, "the token's id, from users tokens (required)")
	pool, users, username, err := u.open(ctx, env, args, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *id <= 0 {
		return fmt.Errorf("--id: want the token's id (users tokens %s lists them): %w", username, moderation.ErrInvalid)
	}
	usr, err := users.ByUsername(ctx, username)
	if err != nil {
		return err
	}
	if err := users.RevokeToken(ctx, *u.actor, usr, *id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "token %d of %s revoked\n", *id, usr.Username)
	return nil
}
