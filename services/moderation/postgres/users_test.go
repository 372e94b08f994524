package postgres_test

import (
	"context"
	"errors"
	"testing"

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
