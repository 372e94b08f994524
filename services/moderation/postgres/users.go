package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/password"
)

// UserOptions configures Users. The zero value is usable.
type UserOptions struct {
	Clock    Clock                  // SystemClock when nil
	Password password.Params        // password.Default when zero; ignored with Hasher
	Login    moderation.LoginPolicy // moderation.DefaultLoginPolicy when zero
	// Hasher computes password hashes, a bounded number at once; when
	// nil, Users gets its own with Password and the default bound.
	Hasher *password.Hasher
}

// Users stores people, their password hashes (argon2id), their roles and
// their API tokens. Every change of who may do what is audited in the
// transaction that makes it.
type Users struct {
	pool   *pgxpool.Pool
	clock  Clock
	hasher *password.Hasher
	policy moderation.LoginPolicy

	dummyOnce sync.Once
	dummy     string
}

// NewUsers returns Users over pool.
func NewUsers(pool *pgxpool.Pool, o UserOptions) *Users {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Hasher == nil {
		o.Hasher = password.NewHasher(password.HasherOptions{Params: o.Password})
	}
	if o.Login == (moderation.LoginPolicy{}) {
		o.Login = moderation.DefaultLoginPolicy
	}
	return &Users{pool: pool, clock: o.Clock, hasher: o.Hasher, policy: o.Login}
}

func (u *Users) now() time.Time { return u.clock.Now().UTC().Truncate(time.Microsecond) }

func userSubject(name string) string { return "user:" + name }

const userColumns = `id, username, roles, disabled_at, locked_until, created_at`

func scanUser(row pgx.Row) (moderation.User, error) {
	var usr moderation.User
	var roles []string
	err := row.Scan(&usr.ID, &usr.Username, &roles, &usr.DisabledAt, &usr.LockedUntil, &usr.CreatedAt)
	usr.Roles = make([]moderation.Role, len(roles))
	for i, r := range roles {
		usr.Roles[i] = moderation.Role(r)
	}
	return usr, err
}

func roleStrings(roles []moderation.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// Create adds a user with a password and roles; actor names who did it in
// the audit log. Returns ErrInvalid for a bad username, password or role and
// ErrConflict when the username is taken.
func (u *Users) Create(ctx context.Context, actor, username, pw string, roles []moderation.Role) (moderation.User, error) {
	if err := moderation.ValidateUsername(username); err != nil {
		return moderation.User{}, err
	}
	if err := moderation.ValidatePassword(pw); err != nil {
		return moderation.User{}, err
	}
	for _, r := range roles {
		if _, err := moderation.ParseRole(string(r)); err != nil {
			return moderation.User{}, err
		}
	}
	hash, err := u.hasher.Hash(ctx, pw)
	if err != nil {
		return moderation.User{}, fmt.Errorf("creating user %s: %w", username, busy(err))
	}
	now := u.now()
	var usr moderation.User
	err = pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		usr, err = scanUser(tx.QueryRow(ctx, `
INSERT INTO users (username, password_hash, roles, password_changed_at, created_at) VALUES ($1, $2, $3, $4, $4)
RETURNING `+userColumns, username, hash, roleStrings(roles), now))
		if err != nil {
			return err
		}
		_, err = AppendAudit(ctx, tx, now, actor, moderation.AuditPermission, userSubject(username),
			map[string]any{"op": "create_user", "roles": roleStrings(roles)})
		return err
	})
	if err != nil {
		err = interpretError(err)
		if errors.Is(err, moderation.ErrConflict) { // users_username_key
			return usr, fmt.Errorf("user %s already exists: %w", username, moderation.ErrConflict)
		}
		return usr, fmt.Errorf("creating user %s: %w", username, err)
	}
	return usr, nil
}

// Get returns a user by id. Returns ErrNotFound.
func (u *Users) Get(ctx context.Context, id int64) (moderation.User, error) {
	usr, err := scanUser(u.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return usr, fmt.Errorf("reading user %d: %w", id, interpretError(err))
	}
	return usr, nil
}

// ByUsername returns a user by name. Returns ErrNotFound.
func (u *Users) ByUsername(ctx context.Context, username string) (moderation.User, error) {
	usr, err := scanUser(u.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return usr, fmt.Errorf("reading user %s: %w", username, interpretError(err))
	}
	return usr, nil
}

// List returns every user by name.
func (u *Users) List(ctx context.Context) ([]moderation.User, error) {
	rows, err := u.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username LIMIT 10000`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.User, error) { return scanUser(row) })
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.User{}
	}
	return out, nil
}

// change updates one user's row with set (SQL assignments using $2…) and
// audits op, in one transaction. Returns ErrNotFound.
func (u *Users) change(ctx context.Context, actor string, id int64, op string, details map[string]any, set string, args ...any) (moderation.User, error) {
	usr, _, err := u.changeIf(ctx, actor, id, op, details, "TRUE", set, args...)
	return usr, err
}

// changeIf is change for a row that matches cond (SQL, may use $2…);
// otherwise it writes and audits nothing and returns the user as it is,
// with changed false. The UPDATE's WHERE decides, so of two concurrent
// calls only one changes the row. Returns ErrNotFound.
func (u *Users) changeIf(ctx context.Context, actor string, id int64, op string, details map[string]any, cond, set string, args ...any) (usr moderation.User, changed bool, err error) {
	now := u.now()
	err = pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		var err error
		usr, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET `+set+` WHERE id = $1 AND (`+cond+`) RETURNING `+userColumns,
			append([]any{id}, args...)...))
		if errors.Is(err, pgx.ErrNoRows) {
			usr, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
			return err // ErrNoRows here: no such user
		}
		if err != nil {
			return err
		}
		changed = true
		if details == nil {
			details = map[string]any{}
		}
		details["op"] = op
		_, err = AppendAudit(ctx, tx, now, actor, moderation.AuditPermission, userSubject(usr.Username), details)
		return err
	})
	if err != nil {
		return usr, false, fmt.Errorf("%s for user %d: %w", op, id, interpretError(err))
	}
	return usr, changed, nil
}

// SetRoles replaces a user's roles. Returns ErrNotFound, ErrInvalid.
func (u *Users) SetRoles(ctx context.Context, actor string, id int64, roles []moderation.Role) (moderation.User, error) {
	for _, r := range roles {
		if _, err := moderation.ParseRole(string(r)); err != nil {
			return moderation.User{}, err
		}
	}
	return u.change(ctx, actor, id, "set_roles", map[string]any{"roles": roleStrings(roles)}, `roles = $2`, roleStrings(roles))
}

// Disable stops a user from signing in and ends their sessions; their API
// tokens stop working too (lookups check the user). Disabling a disabled
// user changes and audits nothing (see SetDisabled). Returns ErrNotFound.
func (u *Users) Disable(ctx context.Context, actor string, id int64) (moderation.User, error) {
	usr, _, err := u.SetDisabled(ctx, actor, id, true)
	return usr, err
}

// Enable lets a disabled or locked-out user sign in again. Enabling a user
// who is neither changes and audits nothing (see SetDisabled). Returns
// ErrNotFound.
func (u *Users) Enable(ctx context.Context, actor string, id int64) (moderation.User, error) {
	usr, _, err := u.SetDisabled(ctx, actor, id, false)
	return usr, err
}

// SetDisabled disables a user (as Disable) or enables one (as Enable) and
// reports whether that changed anything. It is a no-op, with no audit
// event, when the user already is in that state: a repeated command must
// not read in the audit log as a second change of permissions. Enabling
// counts as a change while the user is disabled, locked out or has failed
// logins to forget. Returns ErrNotFound.
func (u *Users) SetDisabled(ctx context.Context, actor string, id int64, disabled bool) (usr moderation.User, changed bool, err error) {
	if !disabled {
		return u.changeIf(ctx, actor, id, "enable", nil,
			`disabled_at IS NOT NULL OR locked_until IS NOT NULL OR failed_logins <> 0`,
			`disabled_at = NULL, locked_until = NULL, failed_logins = 0`)
	}
	usr, changed, err = u.changeIf(ctx, actor, id, "disable", nil, `disabled_at IS NULL`, `disabled_at = $2`, u.now())
	if err != nil {
		return usr, false, err
	}
	// Also when nothing changed: a disable whose session clean-up failed
	// is finished by running it again.
	if _, err := u.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return usr, changed, fmt.Errorf("ending sessions of user %d: %w", id, interpretError(err))
	}
	return usr, changed, nil
}

// ResetPassword sets a new password, clears any lockout and ends the
// user's sessions. Returns ErrNotFound, ErrInvalid.
func (u *Users) ResetPassword(ctx context.Context, actor string, id int64, pw string) (moderation.User, error) {
	if err := moderation.ValidatePassword(pw); err != nil {
		return moderation.User{}, err
	}
	hash, err := u.hasher.Hash(ctx, pw)
	if err != nil {
		return moderation.User{}, fmt.Errorf("resetting the password of user %d: %w", id, busy(err))
	}
	usr, err := u.change(ctx, actor, id, "reset_password", nil,
		`password_hash = $2, password_changed_at = $3, locked_until = NULL, failed_logins = 0`, hash, u.now())
	if err != nil {
		return usr, err
	}
	if _, err := u.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return usr, fmt.Errorf("ending sessions of user %d: %w", id, interpretError(err))
	}
	return usr, nil
}

// ErrLocked says an account is locked after too many failed logins. It
// wraps moderation.ErrLocked and ErrUnauthenticated.
var ErrLocked = fmt.Errorf("%w: %w", moderation.ErrLocked, moderation.ErrUnauthenticated)

// unknownSubject is the audit subject of a failed login whose username
// names no account (or is no username at all). What was typed is not
// recorded: people type their password into the username field, and the
// audit log is append-only and read by auditors. The parentheses keep it
// apart from any real user's subject (no username holds them).
const unknownSubject = "user:(unknown)"

// Authenticate checks a username and password. Every attempt is audited
// (login or login_failed); consecutive failures lock the account for the
// policy's lockout. A failure names the typed username only when an
// account has that name (reasons bad_password, bad_password_locked,
// locked, disabled); otherwise (unknown user, malformed) the subject is
// user:(unknown) and only the reason and the client address are kept.
// Returns ErrUnauthenticated for a wrong or unknown username or password
// or a disabled account, ErrLocked while locked. The failure paths take
// as long as the success path, so timing does not tell which usernames
// exist. Returns ErrBusy, before anything is read or audited, when no
// password hashing slot frees up in time. Errors never quote the typed
// username, which may be a password.
func (u *Users) Authenticate(ctx context.Context, username, pw string, from string) (moderation.User, error) {
	// The slot is taken before the transaction, so a login waiting for
	// one holds neither a connection nor the user's row.
	release, err := u.hasher.Acquire(ctx)
	if err != nil {
		return moderation.User{}, fmt.Errorf("authenticating: %w", busy(err))
	}
	defer release()
	now := u.now()
	if moderation.ValidateUsername(username) != nil || len(pw) > moderation.MaxPasswordLen {
		u.burn(pw)
		err := pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
			_, err := AppendAudit(ctx, tx, now, "anonymous", moderation.AuditLoginFailed, unknownSubject,
				map[string]any{"reason": "malformed", "from": from})
			return err
		})
		if err != nil {
			return moderation.User{}, fmt.Errorf("auditing failed login: %w", interpretError(err))
		}
		return moderation.User{}, moderation.ErrUnauthenticated
	}
	var usr moderation.User
	var outcome error
	err = pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		var hash string
		var failed int
		var err error
		usr, hash, failed, err = lockForCheck(ctx, tx, `username = $1`, username)
		if errors.Is(err, pgx.ErrNoRows) {
			// Audited in this transaction, as a known user's failure is:
			// the same work, so the same time, whether the name exists.
			u.burn(pw)
			outcome = moderation.ErrUnauthenticated
			_, err := AppendAudit(ctx, tx, now, "anonymous", moderation.AuditLoginFailed, unknownSubject,
				map[string]any{"reason": "unknown user", "from": from})
			return err
		}
		if err != nil {
			return err
		}
		failure := func(reason string) error {
			_, err := AppendAudit(ctx, tx, now, "anonymous", moderation.AuditLoginFailed, userSubject(usr.Username),
				map[string]any{"reason": reason, "from": from})
			return err
		}
		if usr.LockedUntil != nil && now.Before(*usr.LockedUntil) {
			u.burn(pw)
			outcome = ErrLocked
			return failure("locked")
		}
		ok, err := password.Verify(hash, pw)
		if err != nil {
			return fmt.Errorf("user %s: %w", usr.Username, err)
		}
		if ok && usr.DisabledAt == nil {
			_, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, usr.ID)
			if err != nil {
				return err
			}
			usr.LockedUntil = nil
			_, err = AppendAudit(ctx, tx, now, usr.Username, moderation.AuditLogin, userSubject(usr.Username),
				map[string]any{"from": from})
			return err
		}
		outcome = moderation.ErrUnauthenticated
		if ok {
			return failure("disabled")
		}
		reason, err := u.countFailure(ctx, tx, usr.ID, failed, now)
		if err != nil {
			return err
		}
		return failure(reason)
	})
	if err != nil {
		return moderation.User{}, fmt.Errorf("authenticating: %w", interpretError(err))
	}
	if outcome != nil {
		return moderation.User{}, outcome
	}
	return usr, nil
}

// lockForCheck reads the user matching where (SQL on users, $1 arg) with
// its password hash and count of consecutive failures, locking the row
// for the rest of tx so that concurrent checks count every failure.
// Returns pgx.ErrNoRows when no user matches.
func lockForCheck(ctx context.Context, tx pgx.Tx, where string, arg any) (usr moderation.User, hash string, failed int, err error) {
	var roles []string
	err = tx.QueryRow(ctx, `
SELECT id, username, roles, disabled_at, locked_until, created_at, password_hash, failed_logins
FROM users WHERE `+where+` FOR UPDATE`, arg).
		Scan(&usr.ID, &usr.Username, &roles, &usr.DisabledAt, &usr.LockedUntil, &usr.CreatedAt, &hash, &failed)
	for _, r := range roles {
		usr.Roles = append(usr.Roles, moderation.Role(r))
	}
	return usr, hash, failed, err
}

// countFailure counts a wrong password against user id, who had failed
// consecutive failures before, and locks the account for the policy's
// lockout when that makes MaxFailures. It returns the audit reason:
// bad_password, or bad_password_locked for the failure that locked.
func (u *Users) countFailure(ctx context.Context, tx pgx.Tx, id int64, failed int, now time.Time) (string, error) {
	failed++
	reason := "bad_password"
	var lockedUntil *time.Time
	if failed >= u.policy.MaxFailures {
		t := now.Add(u.policy.Lockout)
		lockedUntil, failed = &t, 0
		reason = "bad_password_locked"
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1`, id, failed, lockedUntil); err != nil {
		return "", err
	}
	return reason, nil
}

// ChangePassword lets user id set their own password, next, proving it
// is them with the current one; keepSession is the session asking, which
// stays signed in while the user's other sessions end (someone who knew
// the old password may hold one). The current password is checked as a
// login checks it, under a hashing slot: a wrong one is audited as
// login_failed (op change_password, the user as actor) and counts
// towards the lockout, and while the account is locked none is checked.
// next must pass ValidatePassword and differ from current. Success is
// audited as password_change and clears the failure count. Returns how
// many sessions ended; ErrInvalid, ErrWrongPassword, ErrLocked, ErrBusy
// (no slot in time, nothing read or audited), ErrUnauthenticated for a
// user who no longer exists or is disabled.
func (u *Users) ChangePassword(ctx context.Context, id, keepSession int64, current, next, from string) (int64, error) {
	if err := moderation.ValidatePassword(next); err != nil {
		return 0, fmt.Errorf("new %w", err)
	}
	if next == current {
		return 0, fmt.Errorf("the new password must differ from the current one: %w", moderation.ErrInvalid)
	}
	release, err := u.hasher.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("changing the password of user %d: %w", id, busy(err))
	}
	defer release()
	now := u.now()
	var ended int64
	var outcome error
	err = pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		usr, hash, failed, err := lockForCheck(ctx, tx, `id = $1`, id)
		if errors.Is(err, pgx.ErrNoRows) {
			outcome = moderation.ErrUnauthenticated
			return nil
		}
		if err != nil {
			return err
		}
		if usr.Disabled() {
			outcome = moderation.ErrUnauthenticated
			return nil
		}
		failure := func(reason string) error {
			_, err := AppendAudit(ctx, tx, now, usr.Username, moderation.AuditLoginFailed, userSubject(usr.Username),
				map[string]any{"reason": reason, "from": from, "op": "change_password"})
			return err
		}
		if usr.LockedUntil != nil && now.Before(*usr.LockedUntil) {
			u.burn(current)
			outcome = moderation.ErrLocked
			return failure("locked")
		}
		ok, err := password.Verify(hash, current)
		if err != nil {
			return fmt.Errorf("user %s: %w", usr.Username, err)
		}
		if !ok {
			outcome = moderation.ErrWrongPassword
			reason, err := u.countFailure(ctx, tx, usr.ID, failed, now)
			if err != nil {
				return err
			}
			if reason == "bad_password_locked" {
				outcome = fmt.Errorf("%w; %w", moderation.ErrWrongPassword, moderation.ErrLocked)
			}
			return failure(reason)
		}
		// The slot held for the check covers this hash too: taking a
		// second one while holding the first could deadlock.
		newHash, err := password.Hash(next, u.hasher.Params())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
UPDATE users SET password_hash = $2, password_changed_at = $3, failed_logins = 0, locked_until = NULL WHERE id = $1`,
			usr.ID, newHash, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, usr.ID, keepSession)
		if err != nil {
			return err
		}
		ended = tag.RowsAffected()
		_, err = AppendAudit(ctx, tx, now, usr.Username, moderation.AuditPasswordChange, userSubject(usr.Username),
			map[string]any{"from": from, "sessions_ended": ended})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("changing the password of user %d: %w", id, interpretError(err))
	}
	if outcome != nil {
		return 0, outcome
	}
	return ended, nil
}

// burn spends the time of one password verification, so that unknown
// usernames answer as slowly as known ones. The caller holds a slot.
func (u *Users) burn(pw string) {
	u.dummyOnce.Do(func() { u.dummy, _ = password.Hash("not a real password", u.hasher.Params()) })
	_, _ = password.Verify(u.dummy, pw)
}

// busy translates the hasher's ErrBusy into moderation.ErrBusy.
func busy(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return fmt.Errorf("%w: %w", moderation.ErrBusy, err)
	}
	return err
}

// CreateToken creates an API token for owner with scopes (each granted by
// owner's roles) and an optional expiry, and returns the secret, shown only
// this once. Returns ErrInvalid, ErrForbidden (a scope owner lacks).
func (u *Users) CreateToken(ctx context.Context, actor string, owner moderation.User, name string, scopes []string, expires *time.Time) (string, moderation.APIToken, error) {
	tok := moderation.APIToken{UserID: owner.ID, Name: name, ExpiresAt: expires}
	if name == "" || len(name) > moderation.MaxTokenNameLen {
		return "", tok, fmt.Errorf("token name must be 1 to %d bytes: %w", moderation.MaxTokenNameLen, moderation.ErrInvalid)
	}
	perms, err := moderation.CheckScopes(owner.Roles, scopes)
	if err != nil {
		return "", tok, err
	}
	tok.Scopes = perms
	now := u.now()
	if expires != nil && !expires.After(now) {
		return "", tok, fmt.Errorf("token expiry is in the past: %w", moderation.ErrInvalid)
	}
	secret, hash := moderation.NewSecret(moderation.TokenPrefix)
	ss := make([]string, len(perms))
	for i, p := range perms {
		ss[i] = string(p)
	}
	err = pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, created_at`, owner.ID, name, hash, ss, now, expires).Scan(&tok.ID, &tok.CreatedAt)
		if err != nil {
			return err
		}
		_, err = AppendAudit(ctx, tx, now, actor, moderation.AuditPermission, userSubject(owner.Username),
			map[string]any{"op": "create_token", "token_id": tok.ID, "name": name, "scopes": ss, "expires_at": expires})
		return err
	})
	if err != nil {
		return "", tok, fmt.Errorf("creating token for %s: %w", owner.Username, interpretError(err))
	}
	return secret, tok, nil
}

// Tokens lists owner's tokens, newest first.
func (u *Users) Tokens(ctx context.Context, ownerID int64) ([]moderation.APIToken, error) {
	rows, err := u.pool.Query(ctx, `
SELECT id, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at FROM api_tokens
WHERE user_id = $1 ORDER BY id DESC LIMIT 1000`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moderation.APIToken, error) {
		var t moderation.APIToken
		var scopes []string
		err := row.Scan(&t.ID, &t.UserID, &t.Name, &scopes, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt)
		for _, s := range scopes {
			t.Scopes = append(t.Scopes, moderation.Permission(s))
		}
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", interpretError(err))
	}
	if out == nil {
		out = []moderation.APIToken{}
	}
	return out, nil
}

// RevokeToken revokes token id of owner. Returns ErrNotFound when owner
// has no such token.
func (u *Users) RevokeToken(ctx context.Context, actor string, owner moderation.User, id int64) error {
	now := u.now()
	err := pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error {
		var tid int64
		err := tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2 RETURNING id`,
			id, owner.ID, now).Scan(&tid)
		if err != nil {
			return err
		}
		_, err = AppendAudit(ctx, tx, now, actor, moderation.AuditPermission, userSubject(owner.Username),
			map[string]any{"op": "revoke_token", "token_id": id})
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking token %d: %w", id, interpretError(err))
	}
	return nil
}

// TokenPrincipal authenticates an API token secret. Returns
// ErrUnauthenticated for an unknown, revoked or expired token or a
// disabled user.
func (u *Users) TokenPrincipal(ctx context.Context, secret string) (moderation.Principal, error) {
	var p moderation.Principal
	var scopes, roles []string
	var expires, revoked, lastUsed *time.Time
	err := u.pool.QueryRow(ctx, `
SELECT t.id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at,
    u.id, u.username, u.roles, u.disabled_at, u.locked_until, u.created_at
FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, moderation.HashSecret(secret)).
		Scan(&p.TokenID, &scopes, &expires, &revoked, &lastUsed,
			&p.User.ID, &p.User.Username, &roles, &p.User.DisabledAt, &p.User.LockedUntil, &p.User.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, moderation.ErrUnauthenticated
	}
	if err != nil {
		return p, fmt.Errorf("looking up token: %w", interpretError(err))
	}
	now := u.now()
	if revoked != nil || (expires != nil && !now.Before(*expires)) || p.User.DisabledAt != nil {
		return moderation.Principal{}, moderation.ErrUnauthenticated
	}
	for _, r := range roles {
		p.User.Roles = append(p.User.Roles, moderation.Role(r))
	}
	p.Scopes = []moderation.Permission{}
	for _, s := range scopes {
		p.Scopes = append(p.Scopes, moderation.Permission(s))
	}
	if lastUsed == nil || now.Sub(*lastUsed) > time.Minute {
		if _, err := u.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, p.TokenID, now); err != nil {
			return p, fmt.Errorf("recording token use: %w", interpretError(err))
		}
	}
	return p, nil
}

// EnsureUser creates username with pw and roles unless a user of that name
// exists (then it changes nothing), for bootstrapping a first admin.
// Reports whether it created the user.
func (u *Users) EnsureUser(ctx context.Context, actor, username, pw string, roles []moderation.Role) (bool, error) {
	_, err := u.ByUsername(ctx, username)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, moderation.ErrNotFound) {
		return false, err
	}
	_, err = u.Create(ctx, actor, username, pw, roles)
	if errors.Is(err, moderation.ErrConflict) { // created concurrently
		return false, nil
	}
	return err == nil, err
}
