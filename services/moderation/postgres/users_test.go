package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/password"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestSetDisabledOnlyAuditsChanges: disabling a disabled user or enabling
// an enabled one is a no-op that says so and writes no audit event; it used
// to record a second permission change.
func TestSetDisabledOnlyAuditsChanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		setup    string // SQL run on the new user ($1 its id), or ""
		disabled bool
		changed  bool
	}{
		{"disable an active user", "", true, true},
		{"disable a disabled user", `UPDATE users SET disabled_at = now() WHERE id = $1`, true, false},
		{"enable a disabled user", `UPDATE users SET disabled_at = now() WHERE id = $1`, false, true},
		{"enable an active user", "", false, false},
		{"enable a locked-out user", `UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = $1`, false, true},
		{"enable a user with failed logins", `UPDATE users SET failed_logins = 2 WHERE id = $1`, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := moderationtest.TestSchema(t)
			ctx := context.Background()
			users := postgres.NewUsers(s.Pool, postgres.UserOptions{Password: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}})
			alice, err := users.Create(ctx, "test", "alice", "a long enough password", []moderation.Role{moderation.RoleModerator})
			if err != nil {
				t.Fatal(err)
			}
			if c.setup != "" {
				if _, err := s.Pool.Exec(ctx, c.setup, alice.ID); err != nil {
					t.Fatal(err)
				}
			}
			before := permissionEvents(t, s, "alice")
			usr, changed, err := users.SetDisabled(ctx, "admin", alice.ID, c.disabled)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.changed {
				t.Errorf("changed = %t, want %t", changed, c.changed)
			}
			if usr.Username != "alice" || usr.Disabled() != c.disabled {
				t.Errorf("returned user %+v, want alice with disabled %t", usr, c.disabled)
			}
			want := before
			if c.changed {
				want++
			}
			if got := permissionEvents(t, s, "alice"); got != want {
				t.Errorf("%d permission audit events, want %d", got, want)
			}
		})
	}
}

// TestDisableTwiceAuditsOnce: Disable and Enable, which the HTTP API
// calls, share the no-op.
func TestDisableTwiceAuditsOnce(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	users := postgres.NewUsers(s.Pool, postgres.UserOptions{Password: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	bob, err := users.Create(ctx, "test", "bob", "a long enough password", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if u, err := users.Disable(ctx, "admin", bob.ID); err != nil || !u.Disabled() {
			t.Fatalf("disable: %+v %v", u, err)
		}
	}
	for range 2 {
		if u, err := users.Enable(ctx, "admin", bob.ID); err != nil || u.Disabled() {
			t.Fatalf("enable: %+v %v", u, err)
		}
	}
	if got := permissionEvents(t, s, "bob"); got != 3 { // create, disable, enable
		t.Errorf("%d permission audit events, want 3 (create, one disable, one enable)", got)
	}
	for _, disabled := range []bool{true, false} {
		if _, _, err := users.SetDisabled(ctx, "admin", bob.ID+1000, disabled); !errors.Is(err, moderation.ErrNotFound) {
			t.Errorf("SetDisabled(unknown user, %t): %v, want ErrNotFound", disabled, err)
		}
	}
}

func permissionEvents(t *testing.T, s *moderationtest.Schema, username string) int {
	t.Helper()
	var n int
	err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1 AND subject = $2`,
		moderation.AuditPermission, "user:"+username).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// auditRows returns every audit event, each row as Postgres prints it
// (every column, details included).
func auditRows(t *testing.T, s *moderationtest.Schema) []string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT e::text FROM audit_events e ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFailedLoginKeepsNoTypedText: a sign-in whose username names no
// account, typically a password typed into the username field, leaves no
// trace of what was typed in the append-only audit log (nor in the
// error): the event has a fixed subject and keeps the reason and the
// client address. A known user's failure still names the user.
func TestFailedLoginKeepsNoTypedText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.user(t, "alice", moderation.RoleModerator)
	for _, c := range []struct{ typed, reason string }{
		{"Tr0ub4dor&3-horse", "malformed"},       // not a username: capitals, &
		{"correcthorsebattery9", "unknown user"}, // a username, of nobody
	} {
		_, err := f.users.Authenticate(ctx, c.typed, "password-alice-long", "203.0.113.7")
		if !errors.Is(err, moderation.ErrUnauthenticated) {
			t.Fatalf("signing in as %q: %v, want ErrUnauthenticated", c.typed, err)
		}
		if strings.Contains(err.Error(), c.typed) {
			t.Errorf("the error quotes the typed username: %v", err)
		}
		for _, row := range auditRows(t, f.s) {
			if strings.Contains(strings.ToLower(row), strings.ToLower(c.typed)) {
				t.Errorf("the audit log keeps the typed username %q: %s", c.typed, row)
			}
		}
		evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Action: moderation.AuditLoginFailed, Newest: true, Limit: 1})
		if err != nil || len(evs) != 1 {
			t.Fatalf("reading the failed login: %v %v", evs, err)
		}
		var details map[string]any
		if err := json.Unmarshal(evs[0].Details, &details); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"reason": c.reason, "from": "203.0.113.7"}
		if evs[0].Subject != "user:(unknown)" || evs[0].Actor != "anonymous" || !maps.Equal(details, want) {
			t.Errorf("failed login as %q audited as %s %s %v, want anonymous, user:(unknown), %v", c.typed, evs[0].Actor, evs[0].Subject, details, want)
		}
	}
	// A wrong password of an existing account names it: that is who is
	// being guessed.
	if _, err := f.users.Authenticate(ctx, "alice", "Tr0ub4dor&3-horse", "203.0.113.7"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Fatal(err)
	}
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Subject: "user:alice", Action: moderation.AuditLoginFailed})
	if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Details), `"bad_password"`) {
		t.Fatalf("alice's failed login: %+v %v", evs, err)
	}
}

// TestChangePassword: a user changes their own password with the current
// one; a wrong current password counts towards the same lockout as failed
// logins and is audited; the user's other sessions end, the asking one
// stays.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessions := postgres.NewSessions(f.s.Pool, postgres.SessionOptions{Clock: f.clock})
	alice := f.user(t, "alice", moderation.RoleModerator)
	bob := f.user(t, "bob", moderation.RoleModerator)
	old, next := "password-alice-long", "a brand new passphrase"
	keep, ses, err := sessions.Create(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := sessions.Create(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := sessions.Create(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	failed := func() (n int) {
		t.Helper()
		if err := f.s.Pool.QueryRow(ctx, `SELECT failed_logins FROM users WHERE id = $1`, alice.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Refused before any check: nothing counted or audited.
	before := len(auditRows(t, f.s))
	for _, c := range []struct{ next, want string }{
		{"short", "new password must be 12 to 256 bytes long"},
		{old, "the new password must differ from the current one"},
	} {
		if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, old, c.next, "test"); !errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("new password %q: %v, want ErrInvalid saying %q", c.next, err, c.want)
		}
	}
	if n := len(auditRows(t, f.s)); n != before || failed() != 0 {
		t.Fatalf("refused changes audited %d events and counted %d failures", n-before, failed())
	}

	// A wrong current password: audited, counted.
	if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, "not her password", next, "198.51.100.4"); !errors.Is(err, moderation.ErrWrongPassword) {
		t.Fatalf("wrong current password: %v, want ErrWrongPassword", err)
	}
	if failed() != 1 {
		t.Errorf("failed_logins %d after a wrong current password, want 1", failed())
	}
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Subject: "user:alice", Action: moderation.AuditLoginFailed})
	if err != nil || len(evs) != 1 || evs[0].Actor != "alice" ||
		!strings.Contains(string(evs[0].Details), `"op": "change_password"`) || !strings.Contains(string(evs[0].Details), `"from": "198.51.100.4"`) {
		t.Fatalf("audit of the wrong current password: %+v %v", evs, err)
	}

	ended, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, old, next, "198.51.100.4")
	if err != nil || ended != 1 {
		t.Fatalf("changing the password: %d ended, %v; want 1 other session ended", ended, err)
	}
	if _, err := sessions.Lookup(ctx, keep); err != nil {
		t.Errorf("the asking session ended: %v", err)
	}
	if _, err := sessions.Lookup(ctx, other); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Errorf("alice's other session: %v, want ended", err)
	}
	if _, err := sessions.Lookup(ctx, bobs); err != nil {
		t.Errorf("bob's session ended with alice's password change: %v", err)
	}
	if _, err := f.users.Authenticate(ctx, "alice", next, "test"); err != nil {
		t.Errorf("signing in with the new password: %v", err)
	}
	if _, err := f.users.Authenticate(ctx, "alice", old, "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
		t.Errorf("signing in with the old password: %v, want ErrUnauthenticated", err)
	}
	evs, err = postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{Action: moderation.AuditPasswordChange})
	if err != nil || len(evs) != 1 || evs[0].Actor != "alice" || evs[0].Subject != "user:alice" ||
		!strings.Contains(string(evs[0].Details), `"sessions_ended": 1`) {
		t.Fatalf("audit of the change: %+v %v", evs, err)
	}

	// Failed logins and wrong current passwords make one count: with the
	// old password's, 3 failed logins and 2 wrong current passwords lock
	// the account (DefaultLoginPolicy: 5).
	if failed() != 1 {
		t.Fatalf("failed_logins %d after signing in with the old password, want 1", failed())
	}
	for range 2 {
		if _, err := f.users.Authenticate(ctx, "alice", "wrong password!", "test"); !errors.Is(err, moderation.ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, "wrong password!", "yet another passphrase", "test"); !errors.Is(err, moderation.ErrWrongPassword) || errors.Is(err, moderation.ErrLocked) {
		t.Fatalf("fourth failure: %v, want ErrWrongPassword only", err)
	}
	if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, "wrong password!", "yet another passphrase", "test"); !errors.Is(err, moderation.ErrWrongPassword) || !errors.Is(err, moderation.ErrLocked) {
		t.Fatalf("fifth failure: %v, want ErrWrongPassword and ErrLocked", err)
	}
	// Locked: not even the right password is checked, here or at login.
	if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, next, "yet another passphrase", "test"); !errors.Is(err, moderation.ErrLocked) || errors.Is(err, moderation.ErrWrongPassword) {
		t.Fatalf("changing while locked: %v, want ErrLocked", err)
	}
	if _, err := f.users.Authenticate(ctx, "alice", next, "test"); !errors.Is(err, postgres.ErrLocked) {
		t.Fatalf("signing in while locked: %v, want ErrLocked", err)
	}
	f.clock.Advance(16 * time.Minute)
	if _, err := f.users.ChangePassword(ctx, alice.ID, ses.ID, next, "yet another passphrase", "test"); err != nil {
		t.Fatalf("changing after the lockout: %v", err)
	}
}
