package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestBrowserAppeals: a lead sees the open appeals oldest first, the post
// and the user's hostile statement as text; reinstating an appeal against
// the lead's own decision is refused by the server (four eyes), its words
// on screen; reinstating another after a confirmation reverses the
// decision (an outbox message for the platform) and leaves the open list.
// An auditor reads the resolved appeal without buttons; a moderator sees
// no panel.
func TestBrowserAppeals(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 2)
	own := f.decide(ctx, t, "lead", moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"})
	mods := f.decide(ctx, t, "mod", moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-2"})
	const statement = `<img src=x onerror="document.title='pwned'"><b>this was news</b>`
	received := time.Now().UTC().Add(-4 * time.Minute) // just after the decisions, within the clock skew allowed
	platform := moderation.User{Username: "platform"}
	var appeals []moderation.Appeal
	for i, d := range []moderation.Decision{own, mods} {
		var post string
		if err := f.schema.Pool.QueryRow(ctx, `SELECT post_id FROM review_items WHERE id = $1`, d.ItemID).Scan(&post); err != nil {
			t.Fatal(err)
		}
		a, created, err := f.reviews.SubmitAppeal(ctx, platform, 0, moderation.AppealInput{PostID: post, AppealID: fmt.Sprintf("ap-%d", i),
			Statement: statement, ReceivedAt: received.Add(time.Duration(i) * time.Minute)})
		if err != nil || !created {
			t.Fatalf("submitting an appeal on %s: %v", post, err)
		}
		appeals = append(appeals, a)
	}
	ownRow, modsRow := fmt.Sprintf(`#appeals tr[data-id='%d']`, appeals[0].ID), fmt.Sprintf(`#appeals tr[data-id='%d']`, appeals[1].ID)

	if err := chromedp.Do(ctx, signIn(f.base, "lead", "lead-password-long"), chromedp.WaitVisible(`#appeals-panel`)); err != nil {
		t.Fatalf("signing in as the lead: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#appeals tbody tr[data-id]').length === 2`))
	ids := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#appeals tbody tr')].map(tr => tr.dataset.id).join(',')`))
	if want := fmt.Sprintf("%d,%d", appeals[0].ID, appeals[1].ID); ids != want {
		t.Errorf("appeals listed %s, want %s (oldest first)", ids, want)
	}
	if got := run(ctx, t, chromedp.TextContent(modsRow+` .appeal-statement`)); got != statement {
		t.Errorf("the statement shows %q, want the text %q", got, statement)
	}
	if got := run(ctx, t, chromedp.TextContent(modsRow+` td:nth-child(4)`)); !strings.HasPrefix(got, fmt.Sprintf("remove (TC-2) by mod, decision #%d", mods.ID)) {
		t.Errorf("the decision appealed against shows %q", got)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#appeals img, #appeals b').length`)); n != 0 {
		t.Errorf("the statement was rendered as HTML (%d elements)", n)
	}

	// Four eyes: the lead removed the first post; the server refuses.
	err := chromedp.Do(ctx,
		chromedp.Click(ownRow+` button.appeal-reinstate`),
		chromedp.WaitVisible(`#appeal-resolve`),
		choose(`#appeal-form select[name=reason_code]`, "NV-1"),
		chromedp.Click(`#appeal-form button:not([type])`),
		chromedp.WaitVisible(`#appeal-confirm`),
		chromedp.Click(`#appeal-yes`),
	)
	if err != nil {
		t.Fatalf("reinstating the lead's own removal: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('appeals-msg').className === 'error'`))
	if msg := run(ctx, t, chromedp.Text(`#appeals-msg`)); !strings.Contains(msg, "four-eyes rule") || !strings.HasPrefix(msg, fmt.Sprintf("The server refused to resolve appeal #%d", appeals[0].ID)) {
		t.Errorf("after the refusal the panel says %q", msg)
	}
	codes := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#appeal-form select[name=reason_code] option')].map(o => o.value).join(',')`))
	if codes != "NV-1,NV-2" {
		t.Errorf("a reinstatement offers reason codes %q, want NV-1,NV-2", codes)
	}

	// The moderator's removal: reinstated after the confirmation.
	err = chromedp.Do(ctx,
		chromedp.Click(`#appeal-cancel`),
		chromedp.Click(modsRow+` button.appeal-reinstate`),
		chromedp.WaitVisible(`#appeal-resolve`),
		choose(`#appeal-form select[name=reason_code]`, "NV-2"),
		chromedp.SendKeys(`#appeal-form input[name=note]`, "a news report"),
		chromedp.Click(`#appeal-form button:not([type])`),
		chromedp.WaitVisible(`#appeal-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to reinstate: %v", err)
	}
	if confirm := run(ctx, t, chromedp.TextContent(`#appeal-confirm p`)); !strings.Contains(confirm, fmt.Sprintf("reverses decision #%d (remove by mod) to no violation (NV-2)", mods.ID)) {
		t.Errorf("confirmation %q", confirm)
	}
	var resolved int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM appeals WHERE resolved_at IS NOT NULL`).Scan(&resolved); err != nil || resolved != 0 {
		t.Fatalf("resolved before confirming: %d %v", resolved, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#appeal-yes`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('appeals-msg').textContent.includes('reinstated')`))
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#appeals tbody tr[data-id]').length === 1`))
	var outcome string
	var reversal int64
	if err := f.schema.Pool.QueryRow(ctx, `SELECT outcome, reinstatement_decision_id FROM appeals WHERE id = $1`, appeals[1].ID).Scan(&outcome, &reversal); err != nil || outcome != "reinstated" {
		t.Fatalf("appeal %d: %q %v", appeals[1].ID, outcome, err)
	}
	var announced int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE (payload->>'decision_id')::bigint = $1 AND payload->>'action' = 'no_violation'`, reversal).Scan(&announced); err != nil || announced != 1 {
		t.Fatalf("outbox messages of the reinstatement: %d %v", announced, err)
	}
	if msg := run(ctx, t, chromedp.Text(`#appeals-msg`)); msg != fmt.Sprintf("Appeal #%d reinstated: reversal #%d puts post %s back.", appeals[1].ID, reversal, appeals[1].PostID) {
		t.Errorf("after reinstating the panel says %q", msg)
	}

	// The auditor reads, resolves nothing.
	if err := chromedp.Do(ctx, signOutIn("aud"), chromedp.WaitVisible(`#appeals-panel`)); err != nil {
		t.Fatalf("signing in as the auditor: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#appeals tbody tr[data-id]').length === 1`))
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#appeals button').length`)); n != 0 {
		t.Errorf("the auditor is offered %d resolution buttons", n)
	}
	if err := chromedp.Do(ctx, choose(`#appeals-status`, "resolved")); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector("%s")`, modsRow)))
	if got := run(ctx, t, chromedp.TextContent(modsRow+` td:nth-child(6)`)); !strings.HasPrefix(got, "reinstated by lead (NV-2)") || !strings.HasSuffix(got, ": a news report") {
		t.Errorf("the resolved appeal shows %q", got)
	}

	// A moderator has no appeals panel, and the last user's list is gone.
	if err := chromedp.Do(ctx, signOutIn("mod")); err != nil {
		t.Fatalf("signing in as the moderator: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('appeals-panel').hidden || document.querySelectorAll('#appeals tbody tr').length > 0`)); shown {
		t.Error("the moderator sees the appeals panel or the auditor's list")
	}
	if title := run(ctx, t, chromedp.Evaluate[string](`document.title`)); title == "pwned" {
		t.Error("a statement's markup ran")
	}
}
