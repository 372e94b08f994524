package moderation

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestPolicy states the rules about roles as assertions.
func TestPolicy(t *testing.T) {
	cases := []struct {
		roles []Role
		perm  Permission
		want  bool
	}{
		{[]Role{RoleAuditor}, PermStatsRead, true},
		{[]Role{RoleAuditor}, PermAuditRead, true},
		{[]Role{RoleAuditor}, PermDecide, false},
		{[]Role{RoleAuditor}, PermMediaUnblurred, false},
		{[]Role{RoleAuditor, RoleModerator}, PermMediaUnblurred, true},
		{[]Role{RoleModerator}, PermRulesWrite, false},
		{[]Role{RoleModerator}, PermUsers, false},
		{[]Role{RoleModerator}, PermReverse, false},
		{[]Role{RoleModerator}, PermDecideEscalated, false},
		{[]Role{RoleLead}, PermReverse, true},
		{[]Role{RoleLead}, PermHolds, true},
		{[]Role{RoleAdmin}, PermHolds, true},
		{[]Role{RoleLead}, PermEvidence, true},
		{[]Role{RoleAdmin}, PermEvidence, true},
		{[]Role{RoleModerator}, PermEvidence, false},
		{[]Role{RoleAuditor}, PermEvidence, false},
		{[]Role{RoleRuleEngineer}, PermEvidence, false},
		{[]Role{RoleAdmin}, PermAppealsSubmit, true},
		{[]Role{RoleLead}, PermAppealsSubmit, false},
		{[]Role{RoleLead}, PermAppealsRead, true},
		{[]Role{RoleAuditor}, PermAppealsRead, true},
		{[]Role{RoleModerator}, PermAppealsRead, false},
		{[]Role{RoleRuleEngineer}, PermAppealsRead, false},
		{[]Role{RoleAuditor}, PermReverse, false},
		{[]Role{RoleAdmin}, PermUsers, true},
		{[]Role{RoleAdmin}, PermDecide, false},
		{[]Role{RoleRuleEngineer}, PermRulesWrite, true},
		{[]Role{RoleRuleEngineer}, PermDecide, false},
		{nil, PermQueueRead, false},
	}
	for _, c := range cases {
		if got := Allowed(c.roles, c.perm); got != c.want {
			t.Errorf("Allowed(%v, %s) = %v, want %v", c.roles, c.perm, got, c.want)
		}
	}
	for r, perms := range rolePermissions {
		for _, p := range perms {
			if !slices.Contains(AllPermissions, p) {
				t.Errorf("role %s grants %s, missing from AllPermissions", r, p)
			}
		}
	}
}

func TestPrincipalScopes(t *testing.T) {
	u := User{Roles: []Role{RoleModerator, RoleAuditor}}
	session := Principal{User: u}
	token := Principal{User: u, Scopes: []Permission{PermStatsRead}}
	if !session.Can(PermDecide) || token.Can(PermDecide) || !token.Can(PermStatsRead) {
		t.Fatal("token scopes not applied")
	}
	// A scope the roles no longer grant does nothing.
	stale := Principal{User: User{Roles: []Role{RoleAuditor}}, Scopes: []Permission{PermDecide}}
	if stale.Can(PermDecide) {
		t.Fatal("scope outlived the role")
	}
	now := time.Now()
	if (Principal{User: User{Roles: []Role{RoleAdmin}, DisabledAt: &now}}).Can(PermUsers) {
		t.Fatal("disabled user allowed")
	}
	if _, err := CheckScopes(u.Roles, []string{"users:manage"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("CheckScopes beyond roles: %v", err)
	}
	if _, err := CheckScopes(u.Roles, []string{"bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CheckScopes unknown: %v", err)
	}
	if ps, err := CheckScopes(u.Roles, []string{"decide", "decide"}); err != nil || len(ps) != 1 {
		t.Fatalf("CheckScopes dedupe: %v %v", ps, err)
	}
}

func TestValidateUsernamePassword(t *testing.T) {
	for s, ok := range map[string]bool{"alice": true, "a.b-c_d@x": true, "0day": true, "": false, "Alice": false,
		"-x": false, "a b": false, "ünï": false, string(make([]byte, 65)): false} {
		if err := ValidateUsername(s); (err == nil) != ok {
			t.Errorf("ValidateUsername(%q) = %v", s, err)
		}
	}
	if ValidatePassword("short") == nil || ValidatePassword("twelve chars") != nil {
		t.Error("password length bounds")
	}
}

func TestSecrets(t *testing.T) {
	a, ha := NewSecret(TokenPrefix)
	b, _ := NewSecret(TokenPrefix)
	if a == b || len(a) < 40 || string(ha) != string(HashSecret(a)) {
		t.Fatalf("secrets %q %q", a, b)
	}
	if rs, err := ParseRoles("lead, moderator,lead"); err != nil || len(rs) != 2 {
		t.Fatalf("ParseRoles: %v %v", rs, err)
	}
}
