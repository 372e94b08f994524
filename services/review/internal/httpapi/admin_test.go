package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestAdminCannotLockThemselfOut: an admin cannot disable, re-role,
// re-enable or reset the password of their own account (409, saying to
// ask another admin), so nobody locks themself out by accident; another
// admin can. The Users panel of the page relies on it.
func TestAdminCannotLockThemselfOut(t *testing.T) {
	e := newEnv(t, nil)
	self := e.user("admin", moderation.RoleAdmin)
	other := e.user("other-admin", moderation.RoleAdmin)
	admin := e.session(self)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/users/%d/disable", ""},
		{"POST", "/api/v1/users/%d/enable", ""},
		{"PUT", "/api/v1/users/%d/roles", `{"roles":["moderator"]}`},
		{"PUT", "/api/v1/users/%d/roles", `{"roles":[]}`},
		{"POST", "/api/v1/users/%d/password", `{"password":"a-new-long-password"}`},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := e.do(admin, tc.method, fmt.Sprintf(tc.path, self.ID), body)
		if r.status != 409 || r.code() != "conflict" || !strings.Contains(string(r.body), "change your own account through another admin") {
			t.Errorf("%s %s %s on oneself: %d %s, want 409 saying to ask another admin", tc.method, tc.path, tc.body, r.status, r.body)
		}
	}
	u, err := e.users.Get(context.Background(), self.ID)
	if err != nil || u.Disabled() || !slices.Equal(u.Roles, []moderation.Role{moderation.RoleAdmin}) {
		t.Fatalf("the admin after refused changes to themself: %+v %v, want an enabled admin", u, err)
	}
	e.must(e.do(admin, "GET", "/api/v1/me", nil), 200)

	// Another admin may.
	e.must(e.do(e.session(other), "PUT", fmt.Sprintf("/api/v1/users/%d/roles", self.ID), `{"roles":["auditor"]}`), 200)
	e.must(e.do(e.session(other), "POST", fmt.Sprintf("/api/v1/users/%d/disable", self.ID), nil), 200)
}
