package moderation

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a person does in Vigil. Permissions follow from roles only
// through Allowed, so the whole policy is one pure, testable table.
type Role string

// Roles.
const (
	RoleModerator    Role = "moderator"
	RoleLead         Role = "lead"
	RoleRuleEngineer Role = "rule_engineer"
	RoleAuditor      Role = "auditor"
	RoleAdmin        Role = "admin"
)

// AllRoles lists every role, in a stable order.
var AllRoles = []Role{RoleModerator, RoleLead, RoleRuleEngineer, RoleAuditor, RoleAdmin}

// ParseRole reads a role name. Returns ErrInvalid for anything else.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(AllRoles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want one of moderator, lead, rule_engineer, auditor, admin): %w", s, ErrInvalid)
}

// ParseRoles reads a comma-separated list of roles, dropping duplicates.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		r, err := ParseRole(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Permission is one thing a principal may do. Permissions double as API
// token scopes: a token may carry only permissions its user has.
type Permission string

// Permissions.
const (
	// PermQueueRead lists the queue and reads items with blurred media.
	PermQueueRead Permission = "queue:read"
	// PermClaim claims and releases items of the default queue.
	PermClaim Permission = "queue:claim"
	// PermDecide decides claimed items and clusters.
	PermDecide Permission = "decide"
	// PermDecideEscalated claims and decides items escalated to leads.
	PermDecideEscalated Permission = "decide:escalated"
	// PermReverse reverses a decision (a new decision, never an edit).
	PermReverse Permission = "decide:reverse"
	// PermMediaUnblurred sees evidence media unblurred; every view is audited.
	PermMediaUnblurred Permission = "media:unblurred"
	// PermStatsRead reads decision statistics and decision records.
	PermStatsRead Permission = "stats:read"
	// PermAuditRead reads and verifies the audit log.
	PermAuditRead Permission = "audit:read"
	// PermHolds places and lifts legal holds.
	PermHolds Permission = "holds:manage"
	// PermEvidence exports an item's evidence package (package evidence)
	// for a law-enforcement referral or a legal request: the original
	// media and everything recorded about the item, handed outside the
	// platform. Every export is audited.
	PermEvidence Permission = "evidence:export"
	// PermAppealsSubmit submits users' appeals (complaints) against
	// removals: the platform's automation, with a token an admin mints
	// scoped to it alone. PermAppealsRead lists appeals with the post and
	// the user's statement; leads resolve them with PermReverse (a
	// reinstatement is a reversal).
	PermAppealsSubmit Permission = "appeals:submit"
	PermAppealsRead   Permission = "appeals:read"
	// PermRetention runs the retention purge on demand.
	PermRetention Permission = "retention:run"
	// PermUsers creates and disables users and changes their roles.
	PermUsers Permission = "users:manage"
	// PermRulesRead reads rule versions; PermRulesWrite publishes them.
	PermRulesRead  Permission = "rules:read"
	PermRulesWrite Permission = "rules:write"
)

// rolePermissions is the policy. Moderators cannot change rules or users;
// auditors read statistics and the audit log but neither decide nor see
// unblurred media; admins manage people, not content, but act for the
// platform externally with leads (legal holds, evidence packages) and
// hold appeals:submit, to mint the platform's intake token. Leads,
// auditors and admins read appeals; only leads resolve them.
var rolePermissions = map[Role][]Permission{
	RoleModerator:    {PermQueueRead, PermClaim, PermDecide, PermMediaUnblurred},
	RoleLead:         {PermQueueRead, PermClaim, PermDecide, PermDecideEscalated, PermReverse, PermMediaUnblurred, PermStatsRead, PermHolds, PermEvidence, PermAppealsRead},
	RoleRuleEngineer: {PermQueueRead, PermStatsRead, PermRulesRead, PermRulesWrite},
	RoleAuditor:      {PermQueueRead, PermStatsRead, PermAuditRead, PermRulesRead, PermAppealsRead},
	RoleAdmin:        {PermQueueRead, PermStatsRead, PermAuditRead, PermHolds, PermEvidence, PermRetention, PermUsers, PermRulesRead, PermAppealsSubmit, PermAppealsRead},
}

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []Permission{
	PermQueueRead, PermClaim, PermDecide, PermDecideEscalated, PermReverse, PermMediaUnblurred,
	PermStatsRead, PermAuditRead, PermHolds, PermEvidence, PermRetention, PermUsers, PermRulesRead, PermRulesWrite,
	PermAppealsSubmit, PermAppealsRead,
}

// ParsePermission reads a permission (token scope) name.
func ParsePermission(s string) (Permission, error) {
	p := Permission(s)
	if slices.Contains(AllPermissions, p) {
		return p, nil
	}
	return "", fmt.Errorf("unknown scope %q: %w", s, ErrInvalid)
}

// Allowed reports whether any of roles grants p.
func Allowed(roles []Role, p Permission) bool {
	for _, r := range roles {
		if slices.Contains(rolePermissions[r], p) {
			return true
		}
	}
	return false
}

// PermissionsOf lists what roles grant, in AllPermissions order.
func PermissionsOf(roles []Role) []Permission {
	var out []Permission
	for _, p := range AllPermissions {
		if Allowed(roles, p) {
			out = append(out, p)
		}
	}
	return out
}

// User is a person who signs in to Vigil.
type User struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	Roles       []Role     `json:"roles"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// Principal is who is making a request: a user, signed in with a session
// (Scopes nil) or an API token (Scopes its scopes).
type Principal struct {
	User   User
	Scopes []Permission // nil for a session: the user's roles decide alone
	// TokenID is set when the principal authenticated with an API token.
	TokenID int64
}

// Can reports whether the principal may do p: the user's roles must grant
// it and, for a token, the token's scopes must include it.
func (p Principal) Can(perm Permission) bool {
	if p.User.Disabled() || !Allowed(p.User.Roles, perm) {
		return false
	}
	return p.Scopes == nil || slices.Contains(p.Scopes, perm)
}

// Permissions lists what the principal may do.
func (p Principal) Permissions() []Permission {
	var out []Permission
	for _, perm := range AllPermissions {
		if p.Can(perm) {
			out = append(out, perm)
		}
	}
	return out
}

// CheckScopes validates requested token scopes against what the user's
// roles grant. Returns ErrInvalid for unknown or empty scopes and
// ErrForbidden for a scope the user does not have.
func CheckScopes(roles []Role, scopes []string) ([]Permission, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("a token needs at least one scope: %w", ErrInvalid)
	}
	var out []Permission
	for _, s := range scopes {
		p, err := ParsePermission(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if !Allowed(roles, p) {
			return nil, fmt.Errorf("scope %s is not granted by the user's roles: %w", p, ErrForbidden)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Username and password bounds.
const (
	MaxUsernameLen    = 64
	MinPasswordLen    = 12
	MaxPasswordLen    = 256
	MaxTokenNameLen   = 100
	MaxHoldReasonLen  = 2000
	SessionTokenBytes = 32
)

// ValidateUsername accepts 1 to 64 characters of [a-z0-9._@-], starting
// with a letter or digit.
func ValidateUsername(s string) error {
	if s == "" || len(s) > MaxUsernameLen {
		return fmt.Errorf("username must be 1 to %d characters: %w", MaxUsernameLen, ErrInvalid)
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && strings.ContainsRune("._@-", c)
		if !ok {
			return fmt.Errorf("username %q: use lowercase letters, digits and . _ @ - (not first): %w", s, ErrInvalid)
		}
	}
	return nil
}

// ValidatePassword checks a new password's length (bytes).
func ValidatePassword(s string) error {
	if len(s) < MinPasswordLen || len(s) > MaxPasswordLen {
		return fmt.Errorf("password must be %d to %d bytes long: %w", MinPasswordLen, MaxPasswordLen, ErrInvalid)
	}
	return nil
}

// NewSecret returns a random bearer secret (session or API token) with
// prefix, and the hash under which it is stored: only the hash is kept at
// rest, so a database leak does not hand out live credentials.
func NewSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, SessionTokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never returns an error on supported platforms
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret is how a bearer secret is stored and looked up. The secrets
// carry 256 random bits, so a fast hash is enough (no salt, no stretching).
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Token prefixes make leaked secrets recognisable by scanners.
const (
	TokenPrefix   = "vgl_"
	SessionPrefix = "vgs_"
)

// APIToken is a long-lived credential for automation. The secret itself is
// shown once at creation and never stored.
type APIToken struct {
	ID         int64        `json:"id"`
	UserID     int64        `json:"user_id"`
	Name       string       `json:"name"`
	Scopes     []Permission `json:"scopes"`
	CreatedAt  time.Time    `json:"created_at"`
	ExpiresAt  *time.Time   `json:"expires_at,omitempty"`
	RevokedAt  *time.Time   `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time   `json:"last_used_at,omitempty"`
}

// Session is a signed-in browser. The token is stored hashed; CSRFToken
// must accompany every state-changing request made with the session.
type Session struct {
	ID        int64
	User      User
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginPolicy bounds password guessing: after MaxFailures consecutive
// failures an account is locked for Lockout.
type LoginPolicy struct {
	MaxFailures int
	Lockout     time.Duration
}

// DefaultLoginPolicy locks an account for 15 minutes after 5 failures.
var DefaultLoginPolicy = LoginPolicy{MaxFailures: 5, Lockout: 15 * time.Minute}
