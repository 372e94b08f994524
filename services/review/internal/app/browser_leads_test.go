package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// Browser tests of the leads' and auditors' panels (decisions.js,
// holds.js, audit.js).

// leadsFixture is a review service over a fresh schema with a moderator,
// a lead and an auditor, and items queued for review.
type leadsFixture struct {
	schema  *moderationtest.Schema
	base    string
	reviews *postgres.Reviews
	users   map[string]moderation.User // by username: mod, lead, aud
}

func newLeadsFixture(ctx context.Context, t *testing.T, items int) *leadsFixture {
	t.Helper()
	f := &leadsFixture{schema: moderationtest.TestSchema(t), users: map[string]moderation.User{}}
	at := time.Now().UTC()
	var flags []moderation.Flag
	for i := range items {
		flags = append(flags, flagged(fmt.Sprintf("leads-%d", i), "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call",
			RuleVersion: 1, Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 18}}}))
	}
	if len(flags) > 0 {
		if err := postgres.NewQueue(f.schema.Pool).Enqueue(ctx, flags); err != nil {
			t.Fatal(err)
		}
	}
	users := postgres.NewUsers(f.schema.Pool, postgres.UserOptions{})
	for name, role := range map[string]moderation.Role{"mod": moderation.RoleModerator, "lead": moderation.RoleLead, "aud": moderation.RoleAuditor} {
		u, err := users.Create(ctx, "test", name, name+"-password-long", []moderation.Role{role})
		if err != nil {
			t.Fatal(err)
		}
		f.users[name] = u
	}
	f.reviews = postgres.NewReviews(f.schema.Pool, postgres.ReviewOptions{})
	f.base = startReview(ctx, t, f.schema.URL)
	return f
}

// decide claims the next item as username and decides it.
func (f *leadsFixture) decide(ctx context.Context, t *testing.T, username string, in moderation.DecisionInput) moderation.Decision {
	t.Helper()
	u := f.users[username]
	items, err := f.reviews.Claim(ctx, u, moderation.ClaimFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("claiming as %s: %v %v", username, items, err)
	}
	d, err := f.reviews.Decide(ctx, u, false, items[0].ID, in)
	if err != nil {
		t.Fatalf("deciding as %s: %v", username, err)
	}
	return d
}

// getAPI reads a JSON answer of the API as the user of cookie.
func getAPI(ctx context.Context, t *testing.T, base string, cookie *http.Cookie, path string, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, res.Status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

// choose sets a field's value (a select's choice, an input's text, ""
// too) and fires the input and change events a user's choice fires
// (chromedp.SetValue fires none, and refuses "").
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(s => { s.value = %q; for (const e of ['input', 'change']) s.dispatchEvent(new Event(e, {bubbles: true})); })(document.querySelector(%q))`, value, sel))
}

// signOutIn signs out and in again as username.
func signOutIn(username string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login input[name=username]`, username),
		chromedp.SendKeys(`#login input[name=password]`, username+"-password-long"),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#desk`),
	)
}

// panelsShown lists the ids of the leads' and auditors' panels on screen.
const panelsShown = `['decisions-panel', 'holds-panel', 'audit-panel'].filter(id => !document.getElementById(id).hidden).join(',')`

// TestBrowserReverseDecision: a lead sees a moderator's decision in the
// Decisions panel (the hostile note as text), reverses it after a
// confirmation, and the page and the API then show both decisions, the
// new one naming the old; a decision another lead reversed meanwhile is
// refused with the server's reason on screen; the filters narrow the list.
func TestBrowserReverseDecision(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 2)
	const note = `<img src=x onerror="document.title='pwned'"><b>looks bad</b>`
	other := f.decide(ctx, t, "mod", moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-1"})
	old := f.decide(ctx, t, "mod", moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1", Note: note})

	if err := chromedp.Do(ctx, signIn(f.base, "lead", "lead-password-long"), chromedp.WaitVisible(`#decisions-panel`)); err != nil {
		t.Fatalf("signing in as the lead: %v", err)
	}
	row := fmt.Sprintf(`#decisions tr[data-id='%d']`, old.ID)
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector("%s")`, row)))
	ids := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#decisions tbody tr')].map(tr => tr.dataset.id).join(',')`))
	if want := fmt.Sprintf("%d,%d", old.ID, other.ID); ids != want {
		t.Errorf("decisions listed %s, want %s (newest first)", ids, want)
	}
	cells := run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelector("%s").cells].map(c => c.textContent)`, row)))
	if want := []string{fmt.Sprintf("#%d", old.ID), fmt.Sprintf("#%d", old.ItemID), "mod", "remove", "TC-1", note}; len(cells) < 8 ||
		strings.Join(cells[:6], "|") != strings.Join(want, "|") || cells[7] != "met" {
		t.Errorf("the decision's row shows %q, want %q then the time and SLA met", cells, want)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#decisions img, #decisions b').length`)); n != 0 {
		t.Errorf("the note was rendered as HTML (%d elements)", n)
	}

	// Reverse: the form offers the other final actions; the confirmation
	// names the decision and the new action.
	reverseNote := "appeal upheld <i>news report</i>"
	err := chromedp.Do(ctx,
		chromedp.Click(row+` button.reverse-open`),
		chromedp.WaitVisible(`#reverse`),
	)
	if err != nil {
		t.Fatalf("opening the reverse form: %v", err)
	}
	actions := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#reverse-form select[name=action] option')].map(o => o.value).join(',')`))
	if actions != "no_violation,report" {
		t.Errorf("a removal can be reversed to %q, want no_violation,report", actions)
	}
	err = chromedp.Do(ctx,
		choose(`#reverse-form select[name=action]`, "no_violation"),
		choose(`#reverse-form select[name=reason_code]`, "NV-2"),
		chromedp.SendKeys(`#reverse-form input[name=note]`, reverseNote),
		chromedp.Click(`#reverse-form button:not([type])`),
		chromedp.WaitVisible(`#reverse-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to reverse: %v", err)
	}
	confirm := run(ctx, t, chromedp.TextContent(`#reverse-confirm p`))
	if want := fmt.Sprintf("Reverse decision #%d on item #%d (remove by mod) to no_violation (NV-2)", old.ID, old.ItemID); !strings.HasPrefix(confirm, want) {
		t.Errorf("confirmation %q, want it to start %q", confirm, want)
	}
	var before int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions`).Scan(&before); err != nil || before != 2 {
		t.Fatalf("decisions before confirming: %d %v, want 2", before, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#reverse-yes`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('decisions-msg').textContent.startsWith('Reversed decision')`))
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#decisions tbody tr[data-id]').length === 3`))

	var got struct {
		Decisions []moderation.Decision `json:"decisions"`
	}
	getAPI(ctx, t, f.base, login(ctx, t, f.base, "lead", "lead-password-long"), fmt.Sprintf("/api/v1/decisions?item_id=%d", old.ItemID), &got)
	if len(got.Decisions) != 2 {
		t.Fatalf("the API lists %d decisions of item %d, want the old one and its reversal: %+v", len(got.Decisions), old.ItemID, got.Decisions)
	}
	first, rev := got.Decisions[0], got.Decisions[1]
	if first.ID != old.ID || first.Action != moderation.ActionRemove || first.Note != note {
		t.Errorf("the old decision changed: %+v", first)
	}
	if rev.Reverses == nil || *rev.Reverses != old.ID || rev.Action != moderation.ActionNoViolation || rev.ReasonCode != "NV-2" ||
		rev.Note != reverseNote || rev.Actor != "lead" {
		t.Errorf("reversal %+v, want no_violation NV-2 by lead reversing %d with the note", rev, old.ID)
	}
	msg := run(ctx, t, chromedp.Text(`#decisions-msg`))
	if want := fmt.Sprintf("Reversed decision #%d: new decision #%d, item #%d is now no_violation (NV-2).", old.ID, rev.ID, old.ItemID); msg != want {
		t.Errorf("after reversing the panel says %q, want %q", msg, want)
	}
	newRow := run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelector("#decisions tr[data-id='%d']").cells].map(c => c.textContent)`, rev.ID)))
	if len(newRow) < 8 || newRow[3] != fmt.Sprintf("no_violation (reverses #%d)", old.ID) || newRow[5] != reverseNote || newRow[7] != "n/a (reversal)" {
		t.Errorf("the reversal's row shows %q", newRow)
	}
	if !run(ctx, t, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector("#decisions tr[data-id='%d']").classList.contains('new')`, rev.ID))) {
		t.Error("the new decision is not marked")
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('reverse').hidden`)); shown {
		t.Error("the reverse form stays open after reversing")
	}

	// The reversed decision is no longer its item's latest: no Reverse….
	if n := run(ctx, t, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll("%s button").length`, row))); n != 0 {
		t.Error("a reversed decision still offers Reverse…")
	}

	// Another lead reverses the other decision while this one confirms:
	// the server's 409 reason shows, and nothing more is recorded.
	otherRow := fmt.Sprintf(`#decisions tr[data-id='%d']`, other.ID)
	err = chromedp.Do(ctx,
		chromedp.Click(otherRow+` button.reverse-open`),
		chromedp.WaitVisible(`#reverse`),
		choose(`#reverse-form select[name=action]`, "remove"),
		chromedp.Click(`#reverse-form button:not([type])`),
		chromedp.WaitVisible(`#reverse-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to reverse the other decision: %v", err)
	}
	meanwhile, err := f.reviews.Reverse(ctx, f.users["lead"], other.ID, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#reverse-yes`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('reverse-msg').classList.contains('error')`))
	refused := run(ctx, t, chromedp.Text(`#reverse-msg`))
	if want := fmt.Sprintf("decision %d was superseded by %d; reverse the latest", other.ID, meanwhile.ID); !strings.HasPrefix(refused, "The server refused the reversal: ") || !strings.Contains(refused, want) {
		t.Errorf("refusal shown as %q, want the server's message %q", refused, want)
	}
	var after int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions`).Scan(&after); err != nil || after != 4 {
		t.Errorf("decisions after the refusal: %d %v, want 4", after, err)
	}

	// Filters: by actor, then by action.
	listed := `[...document.querySelectorAll('#decisions tbody tr')].map(tr => tr.dataset.id).join(',')`
	err = chromedp.Do(ctx,
		chromedp.Click(`#reverse-cancel`),
		chromedp.SendKeys(`#decisions-filter input[name=actor]`, "lead"),
		chromedp.Click(`#decisions-filter button`),
	)
	if err != nil {
		t.Fatalf("filtering by actor: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`%s === '%d,%d'`, listed, meanwhile.ID, rev.ID)))
	err = chromedp.Do(ctx,
		choose(`#decisions-filter input[name=actor]`, ""),
		choose(`#decisions-filter select[name=action]`, "no_violation"),
		chromedp.Click(`#decisions-filter button`),
	)
	if err != nil {
		t.Fatalf("filtering by action: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`%s === '%d,%d'`, listed, rev.ID, other.ID)))
	// By the post's id on its platform (what a legal request names).
	var postID string
	if err := f.schema.Pool.QueryRow(ctx, `SELECT post_id FROM review_items WHERE id = $1`, old.ItemID).Scan(&postID); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		choose(`#decisions-filter select[name=action]`, ""),
		choose(`#decisions-filter input[name=post_id]`, postID),
		chromedp.Click(`#decisions-filter button`),
	)
	if err != nil {
		t.Fatalf("filtering by post: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`%s === '%d,%d'`, listed, rev.ID, old.ID)))
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a note ran")
	}
}

// TestBrowserDecisionsPaging: the Decisions panel pages the newest first,
// fifty a page, back and forth.
func TestBrowserDecisionsPaging(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 0)
	// 55 decisions on 55 items, straight in SQL.
	if _, err := f.schema.Pool.Exec(ctx, `
WITH i AS (
  INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
  SELECT 'page-'||g, 'p', 'a', now(), now(), 'spam', 1, now() + interval '1 hour', 'decided' FROM generate_series(1, 55) g RETURNING id)
INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
SELECT id, $1, 'remove', 'SPAM-1', now(), now() + interval '1 hour' FROM i ORDER BY id`, f.users["mod"].ID); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, signIn(f.base, "lead", "lead-password-long"), chromedp.WaitVisible(`#decisions-panel`)); err != nil {
		t.Fatalf("signing in as the lead: %v", err)
	}
	listed := `[...document.querySelectorAll('#decisions tbody tr')].map(tr => tr.dataset.id)`
	run(ctx, t, chromedp.Poll[bool](listed+`.length === 50`))
	if first := run(ctx, t, chromedp.Evaluate[[]string](listed)); first[0] != "55" || first[49] != "6" {
		t.Errorf("first page from %s to %s, want 55 to 6", first[0], first[49])
	}
	if !run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('decisions-newer').disabled && !document.getElementById('decisions-older').disabled`)) {
		t.Error("on the first page, want Newer disabled and Older enabled")
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#decisions-older`)); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](listed+`.join(',') === '5,4,3,2,1'`))
	if !run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('decisions-newer').disabled && document.getElementById('decisions-older').disabled`)) {
		t.Error("on the last page, want Newer enabled and Older disabled")
	}
	if page := run(ctx, t, chromedp.Text(`#decisions-page`)); page != "newest first, page 2" {
		t.Errorf("page label %q", page)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#decisions-newer`)); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](listed+`.length === 50 && `+listed+`[0] === '55'`))
}

// TestBrowserLegalHold: a lead places a legal hold on an item from the
// panel (a hostile reason shown as text), is told plainly when the item
// does not exist, and lifts the hold after a confirmation; the database
// agrees at each step.
func TestBrowserLegalHold(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 1)
	var item int64
	if err := f.schema.Pool.QueryRow(ctx, `SELECT id FROM review_items`).Scan(&item); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, signIn(f.base, "lead", "lead-password-long"), chromedp.WaitVisible(`#holds-panel`)); err != nil {
		t.Fatalf("signing in as the lead: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelector('#holds tbody').textContent === 'no item is under legal hold'`))
	const reason = `court order 7 <img src=x onerror="document.title='pwned'">`
	err := chromedp.Do(ctx,
		chromedp.SendKeys(`#hold-form input[name=item_id]`, "999999"),
		chromedp.SendKeys(`#hold-form input[name=reason]`, reason),
		chromedp.Click(`#hold-form button`),
	)
	if err != nil {
		t.Fatalf("holding an unknown item: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('holds-msg').classList.contains('error')`))
	if msg := run(ctx, t, chromedp.Text(`#holds-msg`)); msg != "The server refused the hold: there is no item #999999" {
		t.Errorf("an unknown item is refused with %q", msg)
	}
	err = chromedp.Do(ctx,
		choose(`#hold-form input[name=item_id]`, fmt.Sprint(item)),
		chromedp.Click(`#hold-form button`),
	)
	if err != nil {
		t.Fatalf("placing the hold: %v", err)
	}
	row := fmt.Sprintf(`#holds tr[data-item='%d']`, item)
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector("%s")`, row)))
	if msg := run(ctx, t, chromedp.Text(`#holds-msg`)); msg != fmt.Sprintf("Placed a legal hold on item #%d.", item) {
		t.Errorf("after placing: %q", msg)
	}
	cells := run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelector("%s").cells].map(c => c.textContent)`, row)))
	if len(cells) < 5 || cells[1] != reason || cells[2] != "lead" || cells[4] != "active" {
		t.Errorf("hold row %q, want the reason as text, placed by lead, active", cells)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#holds img').length`)); n != 0 {
		t.Errorf("the reason was rendered as HTML (%d elements)", n)
	}
	var active int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM legal_holds WHERE item_id = $1 AND lifted_at IS NULL AND reason = $2`, item, reason).Scan(&active); err != nil || active != 1 {
		t.Fatalf("active holds on record: %d %v, want 1", active, err)
	}

	// Lift: nothing happens until confirmed; Cancel keeps the hold.
	err = chromedp.Do(ctx,
		chromedp.Click(row+` button.hold-lift`),
		chromedp.WaitVisible(`#hold-confirm`),
		chromedp.Click(`#hold-no`),
		chromedp.WaitNotVisible(`#hold-confirm`),
	)
	if err != nil {
		t.Fatalf("cancelling the lift: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(row+` button.hold-lift`),
		chromedp.WaitVisible(`#hold-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to lift: %v", err)
	}
	if q := run(ctx, t, chromedp.TextContent(`#hold-confirm p`)); !strings.HasPrefix(q, fmt.Sprintf("Lift the legal hold on item #%d (placed by lead: %s)?", item, reason)) {
		t.Errorf("confirmation %q", q)
	}
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM legal_holds WHERE lifted_at IS NULL`).Scan(&active); err != nil || active != 1 {
		t.Fatalf("active holds before confirming: %d %v, want 1", active, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#hold-yes`)); err != nil {
		t.Fatalf("confirming the lift: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('holds-msg').textContent.startsWith('Lifted')`))
	run(ctx, t, chromedp.Poll[bool](`document.querySelector('#holds tbody').textContent === 'no item is under legal hold'`))
	var liftedBy string
	if err := f.schema.Pool.QueryRow(ctx, `SELECT u.username FROM legal_holds h JOIN users u ON u.id = h.lifted_by WHERE h.item_id = $1 AND h.lifted_at IS NOT NULL`, item).Scan(&liftedBy); err != nil || liftedBy != "lead" {
		t.Fatalf("lifted hold on record: %q %v, want lifted by lead", liftedBy, err)
	}
	// Lifted holds, on request.
	if err := chromedp.Do(ctx, chromedp.Click(`#holds-all`)); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`(r => !!r && r.cells[4].textContent.startsWith('by lead, ') && !r.querySelector('button'))(document.querySelector("%s"))`, row)))
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a hold's reason ran")
	}
}

// TestBrowserAuditVerify: an auditor sees the latest audit events (a
// hostile hold reason in the details as text), filters them, and the
// chain verifies; after a row is edited behind the append-only trigger's
// back, Verify chain reports the break at that event and marks it.
func TestBrowserAuditVerify(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 1)
	const reason = `<img src=x onerror="document.title='pwned'">`
	if _, err := f.reviews.PlaceHold(ctx, f.users["lead"], 1, reason); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, signIn(f.base, "aud", "aud-password-long"), chromedp.WaitVisible(`#audit-panel`)); err != nil {
		t.Fatalf("signing in as the auditor: %v", err)
	}
	var events int
	if err := f.schema.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	listed := `[...document.querySelectorAll('#audit tbody tr')].map(tr => tr.dataset.seq)`
	run(ctx, t, chromedp.Poll[bool](fmt.Sprintf(`%s.length === %d`, listed, events)))
	if first := run(ctx, t, chromedp.Evaluate[[]string](listed)); first[0] != fmt.Sprint(events) || first[len(first)-1] != "1" {
		t.Errorf("events listed %v, want %d down to 1", first, events)
	}
	// The newest event is the auditor's login.
	if cells := run(ctx, t, chromedp.Evaluate[[]string](`[...document.querySelector('#audit tbody tr').cells].map(c => c.textContent)`)); len(cells) < 6 || cells[2] != "aud" || cells[3] != "login" {
		t.Errorf("newest event shows %q, want aud's login", cells)
	}
	hold := run(ctx, t, chromedp.Evaluate[[]string](`(tr => tr ? [...tr.cells].map(c => c.textContent) : [])([...document.querySelectorAll('#audit tbody tr')].find(tr => tr.cells[3].textContent === 'legal_hold'))`))
	if len(hold) < 6 || hold[2] != "lead" || hold[4] != "item:1" || !strings.Contains(hold[5], `"reason":"<img src=x onerror=\"document.title='pwned'\">"`) {
		t.Errorf("hold event shows %q, want lead, item:1 and the reason as text in the details", hold)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#audit img').length`)); n != 0 {
		t.Errorf("audit details were rendered as HTML (%d elements)", n)
	}

	if err := chromedp.Do(ctx, chromedp.Click(`#audit-verify`)); err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('audit-verify-result').textContent.startsWith('Chain ')`))
	if got := run(ctx, t, chromedp.Text(`#audit-verify-result`)); got != fmt.Sprintf("Chain OK: %d events verified.", events) {
		t.Errorf("verifying the intact chain: %q", got)
	}

	// Filtered by action: the logins only.
	err := chromedp.Do(ctx,
		choose(`#audit-filter select[name=action]`, "login"),
		chromedp.Click(`#audit-filter button`),
	)
	if err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](`(rows => rows.length > 0 && rows.every(tr => tr.cells[3].textContent === 'login'))([...document.querySelectorAll('#audit tbody tr')])`))

	// Tamper with event 2 as a superuser could: the trigger switched off,
	// the actor rewritten.
	for _, sql := range []string{
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`,
		`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`,
	} {
		if _, err := f.schema.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	err = chromedp.Do(ctx,
		choose(`#audit-filter select[name=action]`, ""),
		chromedp.Click(`#audit-filter button`),
		chromedp.Click(`#audit-verify`),
	)
	if err != nil {
		t.Fatal(err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('audit-verify-result').textContent.startsWith('Chain BROKEN')`))
	got := run(ctx, t, chromedp.Text(`#audit-verify-result`))
	if want := "Chain BROKEN at event 2: content does not match its hash (edited)."; !strings.HasPrefix(got, want) {
		t.Errorf("verifying the tampered chain: %q, want it to start %q", got, want)
	}
	if !run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('audit-verify-result').classList.contains('error')`)) {
		t.Error("the break is not shown as an error")
	}
	run(ctx, t, chromedp.Poll[bool](`(tr => !!tr && tr.classList.contains('broken') && tr.cells[2].textContent === 'mallory')(document.querySelector("#audit tr[data-seq='2']"))`))
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#audit tr.broken').length`)); n != 1 {
		t.Errorf("%d rows marked broken, want 1", n)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from audit details ran")
	}
}

// TestBrowserLeadPanelsByPermission: a moderator sees none of the
// leads' and auditors' panels, a lead the Decisions and Legal holds
// panels, an auditor the Audit log; signing out hides them all and
// clears what they showed.
func TestBrowserLeadPanelsByPermission(t *testing.T) {
	ctx := browser(t)
	f := newLeadsFixture(ctx, t, 1)
	f.decide(ctx, t, "mod", moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1", Note: "lead-only note"})

	if err := chromedp.Do(ctx, signIn(f.base, "mod", "mod-password-long")); err != nil {
		t.Fatalf("signing in as the moderator: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[string](panelsShown)); shown != "" {
		t.Errorf("a moderator is shown %s", shown)
	}

	if err := chromedp.Do(ctx, signOutIn("lead"), chromedp.WaitVisible(`#decisions-panel`)); err != nil {
		t.Fatalf("signing in as the lead: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[string](panelsShown)); shown != "decisions-panel,holds-panel" {
		t.Errorf("a lead is shown %q, want decisions-panel,holds-panel", shown)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('decisions').textContent.includes('lead-only note')`))

	if err := chromedp.Do(ctx, chromedp.Click(`#logout`), chromedp.WaitVisible(`#login`)); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[string](panelsShown)); shown != "" {
		t.Errorf("signed out, the page shows %s", shown)
	}
	if left := run(ctx, t, chromedp.Evaluate[string](`['decisions', 'holds', 'audit'].map(id => document.getElementById(id).tBodies[0].textContent).join('')`)); left != "" {
		t.Errorf("signed out, the panels still hold %q", left)
	}

	err := chromedp.Do(ctx,
		chromedp.SendKeys(`#login input[name=username]`, "aud"),
		chromedp.SendKeys(`#login input[name=password]`, "aud-password-long"),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#audit-panel`),
	)
	if err != nil {
		t.Fatalf("signing in as the auditor: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[string](panelsShown)); shown != "audit-panel" {
		t.Errorf("an auditor is shown %q, want audit-panel", shown)
	}
}
