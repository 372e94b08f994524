package app_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserChangePassword: any signed-in user (here a moderator) changes
// their own password from the header's Change password form: the page
// refuses two different new passwords itself, shows the server's refusal
// of a wrong current password, and on success says how many other
// sessions were signed out; the fields are empty after every submit. The
// page stays signed in, the user's other session ends, the new password
// signs in and the old one does not; the form is gone at sign-out.
func TestBrowserChangePassword(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	users := postgres.NewUsers(schema.Pool, postgres.UserOptions{})
	if _, err := users.Create(ctx, "test", "mod", "mod-password-long", []moderation.Role{moderation.RoleModerator}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	elsewhere := login(ctx, t, base, "mod", "mod-password-long")
	const next = "a brand new passphrase"
	err := chromedp.Do(ctx,
		signIn(base, "mod", "mod-password-long"),
		chromedp.Click(`#password-open`),
		chromedp.WaitVisible(`#password-form`),
	)
	if err != nil {
		t.Fatalf("signing in and opening the form: %v", err)
	}
	fieldsEmpty := `[...document.querySelectorAll('#password-form input')].every(i => i.value === '')`
	submit := func(current, newPW, repeat string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.SendKeys(`#password-form input[name=current_password]`, current),
			chromedp.SendKeys(`#password-form input[name=new_password]`, newPW),
			chromedp.SendKeys(`#password-form input[name=repeat_password]`, repeat),
			chromedp.Click(`#password-form button:not([type])`),
		)
		if err != nil {
			t.Fatalf("submitting the form: %v", err)
		}
		if !run(ctx, t, chromedp.Evaluate[bool](fieldsEmpty)) {
			t.Error("the password fields keep their values after submitting")
		}
	}
	message := func(prefix string) (string, string) {
		t.Helper()
		run(ctx, t, chromedp.Poll[bool](`document.getElementById('password-msg').textContent.startsWith(`+strconv.Quote(prefix)+`)`))
		return run(ctx, t, chromedp.Text(`#password-msg`)), run(ctx, t, chromedp.Evaluate[string](`document.getElementById('password-msg').className`))
	}

	// The repetition differs: refused by the page, nothing sent.
	submit("mod-password-long", next, next+"!")
	if msg, class := message("The new password"); msg != "The new password and its repetition differ: type the same one twice." || class != "error" {
		t.Errorf("different repetition: %q (class %q)", msg, class)
	}
	var attempts int
	if err := schema.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action IN ('login_failed', 'password_change')`).Scan(&attempts); err != nil || attempts != 0 {
		t.Errorf("the page sent a refused change: %d password events (%v), want none", attempts, err)
	}

	// A wrong current password: the server's refusal, still signed in.
	submit("not my password", next, next)
	if msg, class := message("Your password was not changed"); msg != "Your password was not changed: the current password is wrong" || class != "error" {
		t.Errorf("wrong current password: %q (class %q)", msg, class)
	}
	if run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('desk').hidden`)) {
		t.Fatal("a wrong current password signed the page out")
	}

	submit("mod-password-long", next, next)
	if msg, class := message("Your password is changed"); msg != "Your password is changed; 1 other session was signed out." || class != "" {
		t.Errorf("after the change: %q (class %q)", msg, class)
	}
	if status := run(ctx, t, chromedp.Evaluate[int](`fetch('/api/v1/me').then(r => r.status)`, chromedp.EvalAwaitPromise)); status != http.StatusOK {
		t.Errorf("the page's session after the change: %d, want 200", status)
	}
	if status, body := callAPI(ctx, t, base, "GET", "/api/v1/me", "", elsewhere, "", ""); status != http.StatusUnauthorized {
		t.Errorf("the other session after the change: %d %s, want 401", status, body)
	}
	if status := loginStatus(ctx, t, base, "mod", next); status != http.StatusOK {
		t.Errorf("signing in with the new password: %d", status)
	}
	if status := loginStatus(ctx, t, base, "mod", "mod-password-long"); status != http.StatusUnauthorized {
		t.Errorf("signing in with the old password: %d, want 401", status)
	}

	// Signed out: no button, no form; the next user finds it closed.
	if err := chromedp.Do(ctx, chromedp.Click(`#logout`), chromedp.WaitVisible(`#login`)); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('password-open').hidden || !document.getElementById('password-panel').hidden`)); shown {
		t.Error("the Change password button or form stays after signing out")
	}
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), chromedp.WaitVisible(`#password-open`)); err != nil {
		t.Fatalf("signing in as the admin: %v", err)
	}
	if state := run(ctx, t, chromedp.Evaluate[string](`document.getElementById('password-panel').hidden + ' ' + JSON.stringify(document.getElementById('password-msg').textContent)`)); state != `true ""` {
		t.Errorf("the form for the next user: hidden and message %s, want closed and empty", state)
	}
}
