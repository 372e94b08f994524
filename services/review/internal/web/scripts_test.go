package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestServesEveryScript: every script the page loads is served, as
// JavaScript, under the page's CSP (a panel's file left out of the embed
// or misnamed would leave its start function undefined and the page
// stuck at sign-in).
func TestServesEveryScript(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	srcs := regexp.MustCompile(`<script src="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
	if len(srcs) < 4 {
		t.Fatalf("the page loads %d scripts, want app.js and the panels' (decisions, holds, audit)", len(srcs))
	}
	for _, m := range srcs {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", m[1], nil))
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
			t.Errorf("GET %s: %d %s", m[1], rec.Code, rec.Header().Get("Content-Type"))
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", m[1], csp)
		}
	}
}

// TestAuditActionsMatchServer: the audit panel's action filter offers
// exactly the actions the server accepts (a copy in audit.js, as no
// endpoint lists them), so a new audit action cannot be left out of it.
func TestAuditActionsMatchServer(t *testing.T) {
	src, err := static.ReadFile("static/audit.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const auditActionNames = \[(.*?)\];`).FindSubmatch(src)
	if m == nil {
		t.Fatal("audit.js has no auditActionNames list")
	}
	var got []string
	for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllSubmatch(m[1], -1) {
		got = append(got, string(q[1]))
	}
	if want := moderation.AuditActions(); !slices.Equal(got, want) {
		t.Errorf("audit.js lists actions %q, the server %q", got, want)
	}
}

// TestUserRulesMatchServer: the Users panel's role checkboxes and
// password length rule (copies in users.js) are the server's, so a new
// role or a changed rule cannot be left out of the page.
func TestUserRulesMatchServer(t *testing.T) {
	src, err := static.ReadFile("static/users.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const userRoleNames = \[(.*?)\];`).FindSubmatch(src)
	if m == nil {
		t.Fatal("users.js has no userRoleNames list")
	}
	var got []string
	for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllSubmatch(m[1], -1) {
		got = append(got, string(q[1]))
	}
	var want []string
	for _, r := range moderation.AllRoles {
		want = append(want, string(r))
	}
	if !slices.Equal(got, want) {
		t.Errorf("users.js lists roles %q, the server %q", got, want)
	}
	lens := regexp.MustCompile(`const userMinPassword = (\d+), userMaxPassword = (\d+);`).FindSubmatch(src)
	if lens == nil {
		t.Fatal("users.js has no userMinPassword, userMaxPassword")
	}
	if min, max := string(lens[1]), string(lens[2]); min != strconv.Itoa(moderation.MinPasswordLen) || max != strconv.Itoa(moderation.MaxPasswordLen) {
		t.Errorf("users.js allows passwords of %s to %s bytes, the server %d to %d", min, max, moderation.MinPasswordLen, moderation.MaxPasswordLen)
	}
}
