package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserEvidenceLink: a moderator's item view offers no evidence
// package; a lead's offers "Download evidence package" for the item on
// screen, and the Legal holds panel one for each held item; the link
// serves the zip with the lead's session, and the download is in the
// audit log; signing out takes the link away.
func TestBrowserEvidenceLink(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 2)
	shown := `!document.getElementById('evidence').hidden`
	err := chromedp.Do(ctx, signIn(f.base, "mod", "mod-password-long"), claimNext())
	if err != nil {
		t.Fatalf("signing in as the moderator and claiming: %v", err)
	}
	if run(ctx, t, chromedp.Evaluate[bool](shown)) {
		t.Fatal("a moderator is offered the evidence package")
	}
	// A legal request for the moderator's item: the lead's Legal holds
	// panel links its package too.
	var requested int64
	if err := f.schema.Pool.QueryRow(ctx, `SELECT id FROM review_items WHERE claimed_by = $1`, f.users["mod"].ID).Scan(&requested); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.PlaceHold(ctx, f.users["lead"], requested, "police request <b>7</b>"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, signOutIn("lead"), claimNext()); err != nil {
		t.Fatalf("signing in as the lead and claiming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`!!document.querySelector('#holds a.hold-evidence')`))
	if href := run(ctx, t, chromedp.Evaluate[string](`document.querySelector('#holds a.hold-evidence').getAttribute('href')`)); href != fmt.Sprintf("/api/v1/items/%d/evidence", requested) {
		t.Errorf("the hold's evidence link goes to %q", href)
	}
	if !run(ctx, t, chromedp.Evaluate[bool](shown)) {
		t.Fatal("a lead is not offered the evidence package")
	}
	var held int64
	if err := f.schema.Pool.QueryRow(ctx, `SELECT id FROM review_items WHERE claimed_by = $1`, f.users["lead"].ID).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if text := run(ctx, t, chromedp.TextContent(`#evidence-link`)); text != "Download evidence package" {
		t.Errorf("link text %q", text)
	}
	href := run(ctx, t, chromedp.Evaluate[string](`document.getElementById('evidence-link').getAttribute('href')`))
	if want := fmt.Sprintf("/api/v1/items/%d/evidence", held); href != want {
		t.Fatalf("link to %q, want %q", href, want)
	}
	got := run(ctx, t, chromedp.Evaluate[string](`fetch(document.getElementById('evidence-link').href).then(async r =>
		r.status + ' ' + r.headers.get('content-type') + ' ' + new TextDecoder().decode((await r.arrayBuffer()).slice(0, 2)))`, chromedp.EvalAwaitPromise))
	if got != "200 application/zip PK" {
		t.Fatalf("the link serves %q, want a zip", got)
	}
	evs, err := postgres.NewAuditLog(f.schema.Pool).Read(ctx, moderation.AuditFilter{Action: moderation.AuditEvidenceExport})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Actor != "lead" || evs[0].Subject != fmt.Sprintf("item:%d", held) {
		t.Fatalf("export events %+v", evs)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#logout`), chromedp.WaitVisible(`#login`)); err != nil {
		t.Fatal(err)
	}
	if run(ctx, t, chromedp.Evaluate[bool](shown)) || strings.Contains(run(ctx, t, chromedp.Evaluate[string](`document.getElementById('evidence-link').getAttribute('href') || ''`)), "/evidence") {
		t.Error("the evidence link outlives the sign-out")
	}
}
