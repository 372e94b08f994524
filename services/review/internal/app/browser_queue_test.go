package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserQueuePanel: an auditor sees the open queue by category and
// status, overdue rows marked, a category holding markup shown as text;
// Refresh picks up a new overdue item; after sign-out a moderator, who
// has no stats:read, gets no panel.
func TestBrowserQueuePanel(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	const hostile = `<img src=x onerror="document.title='pwned'">spam`
	insert := func(postID, category string, flaggedAgo, dueIn time.Duration) {
		t.Helper()
		now := time.Now().UTC()
		if _, err := schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
VALUES ($1, 'test', 'a', 'x', 'en', $2, $2, $3, 2, $4)`, postID, now.Add(-flaggedAgo), category, now.Add(dueIn)); err != nil {
			t.Fatal(err)
		}
	}
	insert("t1", "terrorist_content", 2*time.Hour, -time.Hour)
	insert("t2", "terrorist_content", 10*time.Minute, 50*time.Minute)
	insert("h1", hostile, time.Minute, 3*time.Hour)
	users := postgres.NewUsers(schema.Pool, postgres.UserOptions{})
	for name, role := range map[string]moderation.Role{"aud": moderation.RoleAuditor, "mod": moderation.RoleModerator} {
		if _, err := users.Create(ctx, "test", name, name+"-password-long", []moderation.Role{role}); err != nil {
			t.Fatal(err)
		}
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "aud", "aud-password-long")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	rows := `[...document.querySelectorAll('#queue-stats tbody tr')]`
	table := func() string {
		return run(ctx, t, chromedp.Evaluate[string](rows+`.map(tr => (tr.className === 'overdue' ? 'OVERDUE ' : '') +
  [...tr.cells].slice(0, 4).map(td => td.textContent).join('|') + '|' + tr.cells[5].textContent.split(' ')[0]).join('\n')`))
	}
	run(ctx, t, chromedp.Poll[bool](rows+`.length === 2`))
	want := hostile + "|pending|1|0|in\nOVERDUE terrorist_content|pending|2|1|overdue"
	if got := table(); got != want {
		t.Errorf("queue panel:\n%s\nwant\n%s", got, want)
	}
	summary := run(ctx, t, chromedp.TextContent(`#queue-summary`))
	if !strings.HasPrefix(summary, "3 open items, 1 past the SLA deadline") {
		t.Errorf("summary %q", summary)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#queue-stats img').length`)); n != 0 {
		t.Errorf("a category was inserted as markup: %d elements", n)
	}

	insert("t3", "terrorist_content", 3*time.Hour, -2*time.Hour)
	run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('queue-refresh').click() || true`))
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('queue-summary').textContent.startsWith('4 open items, 2 past')`))
	if got, want := table(), hostile+"|pending|1|0|in\nOVERDUE terrorist_content|pending|3|2|overdue"; got != want {
		t.Errorf("after Refresh:\n%s\nwant\n%s", got, want)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a category ran a script")
	}

	if err := chromedp.Do(ctx, chromedp.Click(`#logout`), chromedp.WaitVisible(`#login`)); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](rows+`.length`)); n != 0 {
		t.Errorf("%d queue rows left on screen after sign-out", n)
	}
	if err := chromedp.Do(ctx, signIn(base, "mod", "mod-password-long")); err != nil {
		t.Fatalf("signing in as a moderator: %v", err)
	}
	if hidden := run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('queue-panel').hidden`)); !hidden {
		t.Error("a moderator is shown the queue panel (the server refuses them stats:read)")
	}
}
