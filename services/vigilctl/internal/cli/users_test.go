package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	db := "--database-url=" + s.URL
	ctx := context.Background()
	out, errOut, err := runCLI(t, "a long enough password\n", "users", "add", db, "--roles", "moderator,auditor", "frank")
	if err != nil || !strings.Contains(out, "created user frank") {
		t.Fatalf("add: %q %q %v", out, errOut, err)
	}
	if _, _, err := runCLI(t, "short\n", "users", "add", db, "grace"); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if _, _, err := runCLI(t, "a long enough password\n", "users", "add", db, "--roles", "superuser", "grace"); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	if _, _, err := runCLI(t, "a long enough password\n", "users", "add", db, "frank"); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	users := postgres.NewUsers(s.Pool, postgres.UserOptions{})
	if _, err := users.Authenticate(ctx, "frank", "a long enough password", "test"); err != nil {
		t.Fatalf("frank cannot sign in: %v", err)
	}
	out, _, err = runCLI(t, "", "users", "reset-password", db, "--generate-password", "frank")
	if err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("reset-password: %q %v", out, err)
	}
	pw := strings.TrimSpace(out[strings.Index(out, "password: ")+len("password: "):])
	if _, err := users.Authenticate(ctx, "frank", pw, "test"); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	out, errOut, err = runCLI(t, "", "users", "token", db, "--name", "export", "--scopes", "stats:read,audit:read", "frank")
	if err != nil || !strings.HasPrefix(out, moderation.TokenPrefix) {
		t.Fatalf("token: %q %q %v", out, errOut, err)
	}
	secret := strings.TrimSpace(out)
	p, err := users.TokenPrincipal(ctx, secret)
	if err != nil || !p.Can(moderation.PermAuditRead) || p.Can(moderation.PermDecide) {
		t.Fatalf("token principal %v %v", p.Permissions(), err)
	}
	if _, _, err := runCLI(t, "", "users", "token", db, "--name", "x", "--scopes", "users:manage", "frank"); !errors.Is(err, moderation.ErrForbidden) {
		t.Fatalf("token beyond the roles: %v", err)
	}
	// A negative lifetime is refused; it used to mint a token that never expires.
	if out, _, err := runCLI(t, "", "users", "token", db, "--name", "x", "--scopes", "stats:read", "--expires", "-1h", "frank"); !errors.Is(err, moderation.ErrInvalid) || out != "" {
		t.Fatalf("token with --expires -1h: %q %v, want ErrInvalid and no token", out, err)
	}
	// Listing shows no secret; revoking one token stops it, not the user.
	out, _, err = runCLI(t, "", "users", "tokens", db, "frank")
	if err != nil || !strings.Contains(out, "export") || !strings.Contains(out, "stats:read,audit:read") ||
		!strings.Contains(out, "active, expires") || strings.Contains(out, moderation.TokenPrefix) {
		t.Fatalf("tokens: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "", "users", "revoke-token", db, "frank"); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("revoke-token without --id: %v", err)
	}
	if _, _, err := runCLI(t, "", "users", "revoke-token", db, "--id", fmt.Sprint(p.TokenID+1000), "frank"); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("revoke-token of an unknown token: %v", err)
	}
	if out, _, err := runCLI(t, "", "users", "revoke-token", db, "--id", fmt.Sprint(p.TokenID), "frank"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke-token: %q %v", out, err)
	}
	if _, err := users.TokenPrincipal(ctx, secret); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("revoked token still authenticates: %v", err)
	}
	if _, err := users.Authenticate(ctx, "frank", pw, "test"); err != nil {
		t.Fatalf("revoking a token locked its owner out: %v", err)
	}
	if out, _, _ := runCLI(t, "", "users", "tokens", db, "frank"); !strings.Contains(out, "revoked ") {
		t.Fatalf("tokens after the revocation: %q", out)
	}
	if _, _, err := runCLI(t, "", "users", "disable", db, "frank"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Authenticate(ctx, "frank", pw, "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatalf("disabled user signed in: %v", err)
	}
	out, _, err = runCLI(t, "", "users", "list", db)
	if err != nil || !strings.Contains(out, "frank") || !strings.Contains(out, "disabled") {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "", "users", "disable", db, "nobody"); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("disable unknown: %v", err)
	}
}

// TestUsersDisableTwice: disabling a disabled user (or enabling an enabled
// one) says so and records no audit event; it used to say "disabled user"
// again and record a second permission change.
func TestUsersDisableTwice(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	db := "--database-url=" + s.URL
	if _, _, err := runCLI(t, "a long enough password\n", "users", "add", db, "alice"); err != nil {
		t.Fatal(err)
	}
	events := func() int {
		var n int
		err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE subject = 'user:alice'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		cmd, out  string
		newEvents int
	}{
		{"disable", "disabled user alice", 1},
		{"disable", "alice is already disabled", 0},
		{"enable", "enabled user alice", 1},
		{"enable", "alice is already enabled", 0},
	} {
		before := events()
		out, _, err := runCLI(t, "", "users", c.cmd, db, "alice")
		if err != nil || strings.TrimSpace(out) != c.out {
			t.Errorf("users %s alice: %q %v, want %q", c.cmd, out, err, c.out)
		}
		if got := events() - before; got != c.newEvents {
			t.Errorf("users %s alice: %d new audit events, want %d", c.cmd, got, c.newEvents)
		}
	}
}

// TestAuditVerifyFindsTampering: a row edited behind the trigger's back
// (as a superuser could) is reported with its sequence number.
func TestAuditVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	db := "--database-url=" + s.URL
	ctx := context.Background()
	for i := range 5 {
		err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			_, err := postgres.AppendAudit(ctx, tx, time.Now(), "alice", moderation.AuditDecision, "item:1", map[string]int{"n": i})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runCLI(t, "", "audit", "verify", db)
	if err != nil || !strings.Contains(out, "audit chain OK: 5 events") {
		t.Fatalf("clean chain: %q %v", out, err)
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`); err == nil {
		t.Fatal("the append-only trigger let an UPDATE through")
	}
	for _, sql := range []string{
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`,
		`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`,
	} {
		if _, err := s.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	out, _, err = runCLI(t, "", "audit", "verify", db)
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, "BROKEN at event 3") {
		t.Fatalf("tampered chain: %q %v", out, err)
	}
}

// TestNoArgumentCommandsRefuseArguments: a stray argument is an error, not
// ignored together with the flags after it ("rules precision RULE --json"
// used to print every rule, as text). Refused before any connection.
func TestNoArgumentCommandsRefuseArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"audit", "verify", "extra"},
		{"migrate", "extra"},
		{"rules", "history", "extra"},
		{"rules", "precision", "demo.attack-call", "--json"},
	} {
		_, _, err := runCLI(t, "", append(args, "--database-url", "postgres://nobody@127.0.0.1:1/none")...)
		if err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
			t.Errorf("%v: %v, want unexpected arguments", args, err)
		}
	}
}

// TestPrecisionPolicyRefused: a threshold that is no share, or a negative
// minimum, is refused before any connection.
func TestPrecisionPolicyRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--threshold", "2"}, {"--threshold", "-0.1"}, {"--min-decided", "-1"}} {
		_, _, err := runCLI(t, "", append(append([]string{"rules", "precision"}, args...), "--database-url", "postgres://nobody@127.0.0.1:1/none")...)
		if err == nil || !strings.Contains(err.Error(), "rules precision: ") {
			t.Errorf("%v: %v, want the policy refused", args, err)
		}
	}
}

// TestUsersPasswordFromTerminal: on a terminal the password is asked for
// twice, unechoed (ReadSecret), and stdin is not read; different answers
// create nothing.
func TestUsersPasswordFromTerminal(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	run := func(answers ...string) (string, []string, error) {
		var out, errb bytes.Buffer
		var prompts []string
		env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader("stdin is not read\n"), Stdout: &out, Stderr: &errb,
			ReadSecret: func(prompt string) (string, error) {
				prompts = append(prompts, prompt)
				a := answers[0]
				answers = answers[1:]
				return a, nil
			}}
		err := Run(context.Background(), []string{"vigilctl", "users", "add", "--database-url", s.URL, "--roles", "moderator", "tess"}, env)
		return out.String(), prompts, err
	}
	if _, prompts, err := run("one long password", "another long password"); !errors.Is(err, moderation.ErrInvalid) ||
		!strings.Contains(err.Error(), "the passwords differ") || len(prompts) != 2 {
		t.Fatalf("different answers: %v after prompts %q", err, prompts)
	}
	if _, err := postgres.NewUsers(s.Pool, postgres.UserOptions{}).ByUsername(context.Background(), "tess"); err == nil {
		t.Fatal("a user was created from different answers")
	}
	out, prompts, err := run("one long password", "one long password")
	if err != nil || !strings.Contains(out, "created user tess") || !slices.Equal(prompts, []string{"password: ", "password again: "}) {
		t.Fatalf("matching answers: %q %v after prompts %q", out, err, prompts)
	}
	if _, err := postgres.NewUsers(s.Pool, postgres.UserOptions{}).Authenticate(context.Background(), "tess", "one long password", "test"); err != nil {
		t.Errorf("signing in with the password typed: %v", err)
	}
}
