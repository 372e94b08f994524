package app_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserSessionEnded: when the session ends while the page is open
// (idle timeout, expiry, revocation), the next request takes the page back
// to the sign-in form with a message, emptied of the item on screen,
// instead of leaving every panel failing.
func TestBrowserSessionEnded(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{
		flagged("session-1", "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call", RuleVersion: 1,
			Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 14}}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	// The server forgets every session, as when one times out.
	if _, err := schema.Pool.Exec(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#release`)); err != nil {
		t.Fatalf("releasing: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`!document.getElementById('login').hidden && document.getElementById('desk').hidden`))
	if msg := run(ctx, t, chromedp.Text(`#msg`)); msg != "Your session has ended: sign in again." {
		t.Errorf("message %q, want the session's end", msg)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('item').hidden || document.getElementById('text').textContent !== ''`)); shown {
		t.Error("the item stays on the page after the session ended")
	}
	// Signing in again works from there.
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password")); err != nil {
		t.Fatalf("signing in again: %v", err)
	}
}

// TestBrowserDecisionsPanelFollowsTheDesk: a lead's own decision at the
// desk shows in the Decisions panel's newest page without a reload.
func TestBrowserDecisionsPanelFollowsTheDesk(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{
		flagged("desk-1", "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call", RuleVersion: 1,
			Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 14}}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), chromedp.WaitVisible(`#decisions-panel`), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelector('#decisions tbody').textContent.includes('no decision')`))
	if err := chromedp.Do(ctx, chromedp.SetValue(`#decide select[name=action]`, "remove"), chromedp.Click(`#decide button:not([type])`)); err != nil {
		t.Fatalf("deciding: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`[...document.querySelectorAll('#decisions tbody tr')].some(tr => tr.cells.length > 3 && tr.cells[3].textContent === 'remove')`))
}
