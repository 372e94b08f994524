package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

// TestChangeOwnPassword: POST /api/v1/me/password changes the caller's
// password with the current one, from a session only; a wrong current
// password is a 403 that counts towards the lockout and is audited; a new
// password against the policy or equal to the current one is a 400; the
// caller's other sessions end and the asking one stays.
func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *httpapi.Server) { s.LoginBurst = 100 })
	ctx := context.Background()
	alice := e.user("alice", moderation.RoleModerator)
	old, next := "password-of-alice", "a brand new passphrase"
	cur, other := e.session(alice), e.session(alice)
	const path = "/api/v1/me/password"
	change := func(c cred, current, newPW string) reply {
		return e.do(c, "POST", path, map[string]string{"current_password": current, "new_password": newPW})
	}
	failed := func() (n int) {
		t.Helper()
		if err := e.schema.Pool.QueryRow(ctx, `SELECT failed_logins FROM users WHERE id = $1`, alice.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Refused before the password is checked: nothing counted.
	for _, c := range []struct {
		name   string
		c      cred
		body   any
		hdr    []string
		status int
		code   string
		want   string
	}{
		{"an API token", e.token(alice, moderation.PermQueueRead), map[string]string{"current_password": old, "new_password": next}, nil,
			403, "forbidden", "needs a signed-in session, not an API token"},
		{"no CSRF token", cred{cookie: cur.cookie}, map[string]string{"current_password": old, "new_password": next}, nil, 403, "csrf", ""},
		{"no fields", cur, `{}`, nil, 400, "invalid", "current_password and new_password are required"},
		{"an unknown field", cur, `{"current_password":"x","new_password":"y","password":"z"}`, nil, 400, "invalid", "unknown field"},
		{"the same password", cur, map[string]string{"current_password": old, "new_password": old}, nil,
			400, "invalid", "the new password must differ from the current one"},
		{"a short new password", cur, map[string]string{"current_password": old, "new_password": "short"}, nil,
			400, "invalid", "new password must be 12 to 256 bytes long"},
		{"an overlong current password", cur, map[string]string{"current_password": strings.Repeat("x", 257), "new_password": next}, nil,
			400, "invalid", "current_password is longer than 256 bytes"},
		{"a form body", cur, "current_password=a", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"a body over 64 KiB", cur, `{"current_password":"` + strings.Repeat("x", 70000) + `"}`, nil, 413, "too_large", ""},
	} {
		r := e.do(c.c, "POST", path, c.body, c.hdr...)
		if r.status != c.status || r.code() != c.code || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s, want %d %s saying %q", c.name, r.status, r.body, c.status, c.code, c.want)
		}
	}
	if failed() != 0 {
		t.Fatalf("refused requests counted %d failures", failed())
	}

	// A wrong current password: 403 (not 401: the session is fine),
	// counted and audited.
	r := change(cur, "not her password", next)
	if r.status != 403 || r.code() != "wrong_password" || !strings.Contains(string(r.body), "the current password is wrong") {
		t.Fatalf("wrong current password: %d %s, want 403 wrong_password", r.status, r.body)
	}
	if failed() != 1 {
		t.Errorf("failed_logins %d after a wrong current password, want 1", failed())
	}
	evs, err := postgres.ReadAudit(ctx, e.schema.Pool, moderation.AuditFilter{Subject: "user:alice", Action: moderation.AuditLoginFailed})
	if err != nil || len(evs) != 1 || evs[0].Actor != "alice" || !strings.Contains(string(evs[0].Details), `"op": "change_password"`) {
		t.Fatalf("audit of the wrong current password: %+v %v", evs, err)
	}
	e.must(e.do(cur, "GET", "/api/v1/me", nil), 200)

	var ok struct {
		Ended int64 `json:"other_sessions_ended"`
	}
	e.must(change(cur, old, next), 200).decode(t, &ok)
	if ok.Ended != 1 {
		t.Errorf("other_sessions_ended %d, want 1", ok.Ended)
	}
	e.must(e.do(cur, "GET", "/api/v1/me", nil), 200)
	e.must(e.do(other, "GET", "/api/v1/me", nil), 401)
	login := func(pw string) reply {
		return e.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "alice", "password": pw})
	}
	e.must(login(next), 200)
	e.must(login(old), 401)
	evs, err = postgres.ReadAudit(ctx, e.schema.Pool, moderation.AuditFilter{Action: moderation.AuditPasswordChange})
	if err != nil || len(evs) != 1 || evs[0].Actor != "alice" || evs[0].Subject != "user:alice" {
		t.Fatalf("audit of the change: %+v %v", evs, err)
	}
	if strings.Contains(string(evs[0].Details), next) {
		t.Fatalf("the audit event holds the password: %s", evs[0].Details)
	}

	// Wrong current passwords lock the account as failed logins do (the
	// old password's login above was the first of 5).
	for i := range 4 {
		r := change(cur, "wrong password!", "yet another passphrase")
		locked := strings.Contains(string(r.body), "now locked")
		if r.status != 403 || r.code() != "wrong_password" || locked != (i == 3) {
			t.Fatalf("wrong current password %d: %d %s", i+2, r.status, r.body)
		}
	}
	if r := change(cur, next, "yet another passphrase"); r.status != 403 || r.code() != "locked" {
		t.Fatalf("the right current password while locked: %d %s, want 403 locked", r.status, r.body)
	}
	e.must(login(next), 401)
	e.must(e.do(cur, "GET", "/api/v1/me", nil), 200)
}

// TestChangeOwnPasswordRateLimited: changing one's password spends the
// login attempts of the client's address, so a session cannot guess the
// current password faster than a login could.
func TestChangeOwnPasswordRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *httpapi.Server) { s.LoginBurst = 2; s.LoginEvery = time.Hour })
	bob := e.session(e.user("bob", moderation.RoleAuditor))
	e.must(e.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "bob", "password": "password-of-bob"}), 200)
	body := map[string]string{"current_password": "guess", "new_password": "a brand new passphrase"}
	if r := e.do(bob, "POST", "/api/v1/me/password", body); r.status != 403 || r.code() != "wrong_password" {
		t.Fatalf("first guess: %d %s, want 403 wrong_password", r.status, r.body)
	}
	r := e.do(bob, "POST", "/api/v1/me/password", body)
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("a guess beyond the burst: %d %v %s, want 429 with Retry-After", r.status, r.header, r.body)
	}
}
