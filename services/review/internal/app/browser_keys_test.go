package app_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserDeskKeys: the desk's keys claim (c), reveal the first
// picture (v), choose an action and move to the reason (2), and Enter on
// the reason decides, bringing up the next item; a digit typed into the
// note is the note's, not a shortcut.
func TestBrowserDeskKeys(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	first := flagged("keys-1", "look at this", at, moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
		Bank: "terror-hashes", EntryID: "e1", HashType: "pdq", Distance: 3, MediaID: "m1"})
	first.Evidence = []moderation.Evidence{evidencePNG(t, "m1")}
	second := flagged("keys-2", "selling cheap watches", at, moderation.Match{RuleID: "noisy.rule", RuleVersion: 3, Category: "spam",
		Severity: moderation.SeverityLow, Spans: []moderation.Span{{Start: 8, End: 13}}})
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{first, second}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	// Nothing held: c claims (focus on the page, not a field).
	run(ctx, t, chromedp.Evaluate[bool](`document.activeElement.blur(), true`))
	if err := chromedp.Do(ctx, chromedp.KeyEvent("c"), chromedp.WaitVisible(`#item`)); err != nil {
		t.Fatalf("claiming with c: %v", err)
	}
	if title := run(ctx, t, chromedp.Text(`#title`)); title == "" {
		t.Fatal("no item on the desk after c")
	}
	img := `document.querySelector('#media img')`
	run(ctx, t, chromedp.KeyEvent("v"))
	run(ctx, t, chromedp.Poll[bool](img+`.getAttribute('src').includes('view=original')`))
	run(ctx, t, chromedp.KeyEvent("v"))
	run(ctx, t, chromedp.Poll[bool](`!`+img+`.getAttribute('src').includes('view=')`))

	// 2: no violation, focus on the reason; Enter there decides.
	run(ctx, t, chromedp.KeyEvent("2"))
	state := run(ctx, t, chromedp.Evaluate[string](`document.querySelector('#decide select[name=action]').value + '|' + document.activeElement.id`))
	if state != "no_violation|reasons" {
		t.Errorf("after 2: action|focus %q, want no_violation|reasons", state)
	}
	run(ctx, t, chromedp.SetValue(`#reasons`, "NV-1"))
	run(ctx, t, chromedp.KeyEvent(kb.Enter))
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.startsWith('Decided')`))
	var action, reason string
	if err := schema.Pool.QueryRow(ctx, `SELECT d.action, d.reason_code FROM decisions d JOIN review_items i ON i.id = d.item_id WHERE i.post_id = 'keys-1'`).
		Scan(&action, &reason); err != nil || action != "no_violation" || reason != "NV-1" {
		t.Errorf("keys-1 decided %q %q (%v), want no_violation NV-1", action, reason, err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('title').textContent.includes('spam')`))

	// A digit typed into the note stays in the note.
	run(ctx, t, chromedp.Evaluate[bool](`document.querySelector('#decide select[name=action]').value = 'remove', true`))
	if err := chromedp.Do(ctx, chromedp.Click(`#decide input[name=note]`), chromedp.KeyEvent("3")); err != nil {
		t.Fatal(err)
	}
	state = run(ctx, t, chromedp.Evaluate[string](`document.querySelector('#decide select[name=action]').value + '|' + document.querySelector('#decide input[name=note]').value`))
	if state != "remove|3" {
		t.Errorf("3 typed into the note: action|note %q, want remove|3", state)
	}
}
