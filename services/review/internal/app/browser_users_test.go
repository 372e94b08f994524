package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// Browser tests of the admins' Users panel (users.js), signed in as the
// bootstrap admin e2e-admin.

// usersFixture is a review service over a fresh schema with a moderator
// (mod) besides the bootstrap admin.
type usersFixture struct {
	schema *moderationtest.Schema
	base   string
	users  *postgres.Users
}

func newUsersFixture(ctx context.Context, t *testing.T) *usersFixture {
	t.Helper()
	f := &usersFixture{schema: moderationtest.TestSchema(t)}
	f.users = postgres.NewUsers(f.schema.Pool, postgres.UserOptions{})
	if _, err := f.users.Create(ctx, "test", "mod", "mod-password-long", []moderation.Role{moderation.RoleModerator}); err != nil {
		t.Fatal(err)
	}
	f.base = startReview(ctx, t, f.schema.URL)
	return f
}

// user reads a user from the database by username.
func (f *usersFixture) user(ctx context.Context, t *testing.T, username string) moderation.User {
	t.Helper()
	u, err := f.users.ByUsername(ctx, username)
	if err != nil {
		t.Fatalf("reading user %s: %v", username, err)
	}
	return u
}

// callAPI makes a request with a bearer secret or a session cookie (and
// its CSRF token) and returns the status and body.
func callAPI(ctx context.Context, t *testing.T, base, method, path, bearer string, cookie *http.Cookie, csrf string, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// loginStatus tries to sign in through the API and returns the status.
func loginStatus(ctx context.Context, t *testing.T, base, username, password string) int {
	t.Helper()
	status, _ := callAPI(ctx, t, base, "POST", "/api/v1/login", "", nil, "", fmt.Sprintf(`{"username": %q, "password": %q}`, username, password))
	return status
}

// userRowSel selects the Users panel's row of user id.
func userRowSel(id int64) string { return fmt.Sprintf(`#users tr[data-user='%d']`, id) }

// userCells reads the cells of user id's row.
func userCells(ctx context.Context, t *testing.T, id int64) []string {
	t.Helper()
	return run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelector("%s").cells].map(c => c.textContent)`, userRowSel(id))))
}

// confirmUser waits for the panel's confirmation, returns its question
// and confirms it.
func confirmUser(ctx context.Context, t *testing.T) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#user-confirm`)); err != nil {
		t.Fatalf("waiting for the confirmation: %v", err)
	}
	q := run(ctx, t, chromedp.TextContent(`#user-confirm p`))
	if err := chromedp.Do(ctx, chromedp.Click(`#user-yes`), chromedp.WaitNotVisible(`#user-confirm`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	return q
}

// shownSecret waits for a generated password on screen, reads it and
// hides it.
func shownSecret(ctx context.Context, t *testing.T) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#user-secret`)); err != nil {
		t.Fatalf("waiting for the generated password: %v", err)
	}
	pw := run(ctx, t, chromedp.TextContent(`#user-secret-value`))
	if err := chromedp.Do(ctx, chromedp.Click(`#user-secret-done`), chromedp.WaitNotVisible(`#user-secret`)); err != nil {
		t.Fatalf("hiding the generated password: %v", err)
	}
	if left := run(ctx, t, chromedp.TextContent(`#user-secret-value`)); left != "" {
		t.Errorf("the hidden password stays in the page: %q", left)
	}
	return pw
}

// TestBrowserUsersAdd: an admin adds a user with roles and a generated
// password, shown once, with which the user then signs in; a typed
// password too short is refused with the rule, a hostile username by the
// server's username rule (its message shown as text), and an existing
// one as such.
func TestBrowserUsersAdd(t *testing.T) {
	ctx := browser(t)
	f := newUsersFixture(ctx, t)
	mod := f.user(ctx, t, "mod")
	if err := chromedp.Do(ctx, signIn(f.base, "e2e-admin", "e2e-admin-password"), chromedp.WaitVisible(`#users-panel`)); err != nil {
		t.Fatalf("signing in as the admin: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector("%s")`, userRowSel(mod.ID))))
	if cells := userCells(ctx, t, mod.ID); len(cells) < 4 || cells[0] != "mod" || cells[1] != "moderator" || !strings.HasSuffix(cells[2], " UTC") || cells[3] != "active" {
		t.Errorf("mod's row shows %q, want mod, moderator, the time created, active", cells)
	}

	err := chromedp.Do(ctx,
		chromedp.SendKeys(`#user-form input[name=username]`, "newbie"),
		chromedp.Click(`#user-form input[name=role][value=moderator]`),
		chromedp.Click(`#user-form input[name=role][value=auditor]`),
		chromedp.Click(`#user-form button:not([type])`),
	)
	if err != nil {
		t.Fatalf("adding a user: %v", err)
	}
	pw := shownSecret(ctx, t)
	if len(pw) != 20 {
		t.Errorf("generated password %q, want 20 characters", pw)
	}
	if msg := run(ctx, t, chromedp.Text(`#users-msg`)); msg != "Added newbie (moderator, auditor)." {
		t.Errorf("after adding: %q", msg)
	}
	newbie := f.user(ctx, t, "newbie")
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector("%s")`, userRowSel(newbie.ID))))
	if cells := userCells(ctx, t, newbie.ID); len(cells) < 4 || cells[1] != "moderator, auditor" || cells[3] != "active" {
		t.Errorf("newbie's row shows %q", cells)
	}
	if status := loginStatus(ctx, t, f.base, "newbie", pw); status != http.StatusOK {
		t.Errorf("signing in with the generated password: %d", status)
	}
	// The form was emptied: nothing checked, generate chosen again.
	if left := run(ctx, t, chromedp.Evaluate[string](`document.querySelector('#user-form [name=username]').value + [...document.querySelectorAll('#user-form input[name=role]:checked')].length`)); left != "0" {
		t.Errorf("after adding, the form holds %q", left)
	}

	// A typed password is checked against the server's rule.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`#user-form input[name=username]`, "typist"),
		chromedp.Click(`#user-form input[name=pwmode][value=type]`),
		chromedp.WaitVisible(`#user-form input[name=password]`),
		chromedp.SendKeys(`#user-form input[name=password]`, "too-short"),
		chromedp.Click(`#user-form button:not([type])`),
	)
	if err != nil {
		t.Fatalf("adding with a short password: %v", err)
	}
	if msg := run(ctx, t, chromedp.Text(`#users-msg`)); msg != "The password must be 12 to 256 bytes long; it is 9." {
		t.Errorf("a short password is refused with %q", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`#user-form input[name=password]`, "-but-now-long"),
		chromedp.Click(`#user-form button:not([type])`),
	)
	if err != nil {
		t.Fatalf("adding with a typed password: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('users-msg').textContent === 'Added typist (no role).'`))
	if hidden := run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('user-secret').hidden`)); !hidden {
		t.Error("a typed password is shown back")
	}
	if status := loginStatus(ctx, t, f.base, "typist", "too-short-but-now-long"); status != http.StatusOK {
		t.Errorf("signing in with the typed password: %d", status)
	}

	// A hostile username: the server's rule refuses it, and its message
	// (which quotes the name) is shown as text.
	const hostile = `<img src=x onerror="document.title='pwned'">`
	err = chromedp.Do(ctx,
		choose(`#user-form input[name=username]`, hostile),
		chromedp.Click(`#user-form button:not([type])`),
	)
	if err != nil {
		t.Fatalf("adding a hostile username: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('users-msg').classList.contains('error')`))
	msg := run(ctx, t, chromedp.Text(`#users-msg`))
	if !strings.HasPrefix(msg, "The server refused the new user: username ") || !strings.Contains(msg, "use lowercase letters, digits and . _ @ - (not first)") {
		t.Errorf("a hostile username is refused with %q", msg)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#users-panel img').length`)); n != 0 {
		t.Errorf("the hostile username was rendered as HTML (%d images)", n)
	}
	// An existing username.
	if err := chromedp.Do(ctx, choose(`#user-form input[name=username]`, "mod"), chromedp.Click(`#user-form button:not([type])`)); err != nil {
		t.Fatalf("adding an existing username: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('users-msg').textContent === 'The server refused the new user: a user named mod already exists'`))
	var n int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 4 {
		t.Errorf("users on record: %d %v, want 4 (e2e-admin, mod, newbie, typist)", n, err)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a username ran")
	}
}

// TestBrowserUsersManage: an admin changes a user's roles, disables and
// enables them and resets their password, each after a confirmation
// naming the change; a disabled user cannot sign in. The page refuses
// the admin's own disable and role change, as the server does.
func TestBrowserUsersManage(t *testing.T) {
	ctx := browser(t)
	f := newUsersFixture(ctx, t)
	mod, admin := f.user(ctx, t, "mod"), f.user(ctx, t, "e2e-admin")
	row := userRowSel(mod.ID)
	if err := chromedp.Do(ctx, signIn(f.base, "e2e-admin", "e2e-admin-password"), chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("signing in as the admin: %v", err)
	}

	// Roles: nothing changes until confirmed; Cancel keeps them.
	err := chromedp.Do(ctx,
		chromedp.Click(row+` button.user-manage`),
		chromedp.WaitVisible(`#user-manage`),
		chromedp.Click(`#user-roles-form input[value=lead]`),
		chromedp.Click(`#user-roles-form button`),
		chromedp.WaitVisible(`#user-confirm`),
		chromedp.Click(`#user-no`),
		chromedp.WaitNotVisible(`#user-confirm`),
	)
	if err != nil {
		t.Fatalf("cancelling a role change: %v", err)
	}
	if u := f.user(ctx, t, "mod"); strings.Join(roleNames(u.Roles), ",") != "moderator" {
		t.Fatalf("mod's roles after a cancelled change: %v", u.Roles)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`#user-roles-form input[value=moderator]`),
		chromedp.Click(`#user-roles-form button`),
	)
	if err != nil {
		t.Fatalf("changing roles: %v", err)
	}
	if q := confirmUser(ctx, t); !strings.HasPrefix(q, "Change the roles of mod from moderator to lead (adds lead and removes moderator)?") {
		t.Errorf("role change confirmation %q", q)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("%s").cells[1].textContent === 'lead'`, row)))
	if msg := run(ctx, t, chromedp.Text(`#user-manage-msg`)); msg != "The roles of mod are now lead." {
		t.Errorf("after the role change: %q", msg)
	}
	if u := f.user(ctx, t, "mod"); strings.Join(roleNames(u.Roles), ",") != "lead" {
		t.Errorf("mod's roles on record: %v, want lead", u.Roles)
	}

	// Disable, then enable: a disabled user cannot sign in.
	if err := chromedp.Do(ctx, chromedp.Click(row+` button.user-disable`)); err != nil {
		t.Fatal(err)
	}
	if q := confirmUser(ctx, t); !strings.HasPrefix(q, "Disable mod?") {
		t.Errorf("disable confirmation %q", q)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("%s").cells[3].textContent.startsWith('disabled since ')`, row)))
	if status := loginStatus(ctx, t, f.base, "mod", "mod-password-long"); status != http.StatusUnauthorized {
		t.Errorf("a disabled user signs in: %d, want 401", status)
	}
	if err := chromedp.Do(ctx, chromedp.Click(row+` button.user-enable`)); err != nil {
		t.Fatal(err)
	}
	if q := confirmUser(ctx, t); !strings.HasPrefix(q, "Enable mod?") {
		t.Errorf("enable confirmation %q", q)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("%s").cells[3].textContent === 'active'`, row)))
	if status := loginStatus(ctx, t, f.base, "mod", "mod-password-long"); status != http.StatusOK {
		t.Errorf("an enabled user cannot sign in: %d", status)
	}

	// Reset the password to a generated one, shown once.
	if err := chromedp.Do(ctx, chromedp.Click(`#user-password-form button`)); err != nil {
		t.Fatal(err)
	}
	if q := confirmUser(ctx, t); !strings.HasPrefix(q, "Reset the password of mod to a generated one (shown once)?") {
		t.Errorf("reset confirmation %q", q)
	}
	pw := shownSecret(ctx, t)
	if status := loginStatus(ctx, t, f.base, "mod", pw); status != http.StatusOK {
		t.Errorf("signing in with the reset password: %d", status)
	}
	if status := loginStatus(ctx, t, f.base, "mod", "mod-password-long"); status != http.StatusUnauthorized {
		t.Errorf("signing in with the old password: %d, want 401", status)
	}

	// The admin's own account: refused on the page, nothing asked.
	self := userRowSel(admin.ID)
	if cells := userCells(ctx, t, admin.ID); len(cells) < 2 || cells[0] != "e2e-admin (you)" {
		t.Errorf("the admin's own row shows %q", cells)
	}
	if err := chromedp.Do(ctx, chromedp.Click(self+` button.user-disable`)); err != nil {
		t.Fatal(err)
	}
	const refusal = " your own account: another admin must do it (the server refuses it too), so that nobody locks themself out by accident."
	if msg := run(ctx, t, chromedp.Text(`#users-msg`)); msg != "You cannot disable"+refusal {
		t.Errorf("disabling oneself: %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.Click(self+` button.user-manage`)); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('user-manage-title').textContent === 'Manage e2e-admin (you)'`))
	err = chromedp.Do(ctx,
		chromedp.Click(`#user-roles-form input[value=admin]`),
		chromedp.Click(`#user-roles-form button`),
	)
	if err != nil {
		t.Fatalf("removing one's own admin role: %v", err)
	}
	if msg := run(ctx, t, chromedp.Text(`#user-manage-msg`)); msg != "You cannot change the roles of"+refusal {
		t.Errorf("removing one's own admin role: %q", msg)
	}
	if hidden := run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('user-confirm').hidden`)); !hidden {
		t.Error("a change of one's own account asks for confirmation")
	}
	if u := f.user(ctx, t, "e2e-admin"); u.Disabled() || !slices.Equal(u.Roles, admin.Roles) {
		t.Errorf("the admin after refused changes to themself: %+v", u)
	}
}

func roleNames(roles []moderation.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// TestBrowserUsersTokens: an admin lists a user's API tokens (a hostile
// name shown as text) and revokes one after a confirmation; it is then
// refused.
func TestBrowserUsersTokens(t *testing.T) {
	ctx := browser(t)
	f := newUsersFixture(ctx, t)
	mod := f.user(ctx, t, "mod")
	// mod mints a token through the API, with a hostile name.
	cookie := login(ctx, t, f.base, "mod", "mod-password-long")
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	getAPI(ctx, t, f.base, cookie, "/api/v1/me", &me)
	const name = `ci <img src=x onerror="document.title='pwned'">`
	status, body := callAPI(ctx, t, f.base, "POST", "/api/v1/tokens", "", cookie, me.CSRF, fmt.Sprintf(`{"name": %q, "scopes": ["queue:read"]}`, name))
	if status != http.StatusCreated {
		t.Fatalf("creating a token: %d %s", status, body)
	}
	var created struct {
		Token  moderation.APIToken `json:"token"`
		Secret string              `json:"secret"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if status, _ := callAPI(ctx, t, f.base, "GET", "/api/v1/me", created.Secret, nil, "", ""); status != http.StatusOK {
		t.Fatalf("the new token is refused: %d", status)
	}

	row := userRowSel(mod.ID)
	tok := fmt.Sprintf(`#user-tokens tr[data-token='%d']`, created.Token.ID)
	err := chromedp.Do(ctx,
		signIn(f.base, "e2e-admin", "e2e-admin-password"),
		chromedp.WaitVisible(row),
		chromedp.Click(row+` button.user-manage`),
		chromedp.WaitVisible(tok),
	)
	if err != nil {
		t.Fatalf("opening mod's tokens: %v", err)
	}
	cells := run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelector("%s").cells].map(c => c.textContent)`, tok)))
	if len(cells) < 6 || cells[0] != name || cells[1] != "queue:read" || !strings.HasSuffix(cells[2], " UTC") ||
		!strings.HasSuffix(cells[3], " UTC") || cells[4] != "never" || cells[5] != "active" {
		t.Errorf("the token's row shows %q, want its name as text, scope, created, last used, no expiry, active", cells)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#users-panel img').length`)); n != 0 {
		t.Errorf("the token name was rendered as HTML (%d images)", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(tok+` button.token-revoke`)); err != nil {
		t.Fatal(err)
	}
	if q := confirmUser(ctx, t); q != fmt.Sprintf("Revoke the API token %s (#%d) of mod? Programs using it are refused from then on; this cannot be undone.", name, created.Token.ID) {
		t.Errorf("revoke confirmation %q", q)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`(r => !!r && r.cells[5].textContent.startsWith('revoked ') && !r.querySelector('button'))(document.querySelector("%s"))`, tok)))
	if status, _ := callAPI(ctx, t, f.base, "GET", "/api/v1/me", created.Secret, nil, "", ""); status != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d, want 401", status)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a token name ran")
	}
}

// TestBrowserUsersPanelByPermission: a moderator does not see the Users
// panel; an admin does, and at sign-out it is hidden and emptied, a
// generated password with it.
func TestBrowserUsersPanelByPermission(t *testing.T) {
	ctx := browser(t)
	f := newUsersFixture(ctx, t)
	if err := chromedp.Do(ctx, signIn(f.base, "mod", "mod-password-long")); err != nil {
		t.Fatalf("signing in as the moderator: %v", err)
	}
	if hidden := run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('users-panel').hidden`)); !hidden {
		t.Error("a moderator is shown the Users panel")
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#users tbody tr').length`)); n != 0 {
		t.Errorf("a moderator's page lists %d users", n)
	}
	err := chromedp.Do(ctx,
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login input[name=username]`, "e2e-admin"),
		chromedp.SendKeys(`#login input[name=password]`, "e2e-admin-password"),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#users-panel`),
	)
	if err != nil {
		t.Fatalf("signing in as the admin: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#users tbody tr').length === 2`))
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`#user-form input[name=username]`, "later"),
		chromedp.Click(`#user-form button:not([type])`),
		chromedp.WaitVisible(`#user-secret`),
		chromedp.Click(`#users tbody tr button.user-manage`),
		chromedp.WaitVisible(`#user-manage`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login`),
	)
	if err != nil {
		t.Fatalf("adding a user and signing out: %v", err)
	}
	left := run(ctx, t, chromedp.Evaluate[string](`[document.getElementById('users-panel').hidden, document.getElementById('user-secret').hidden,
		document.getElementById('user-manage').hidden, document.querySelector('#users tbody').textContent, document.getElementById('user-secret-value').textContent,
		document.querySelector('#user-tokens tbody').textContent, document.getElementById('users-msg').textContent].join('|')`))
	if left != "true|true|true||||" {
		t.Errorf("signed out, the Users panel holds %q", left)
	}
}
