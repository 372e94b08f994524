package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// chromium finds Debian's Chromium; make test installs it
// (deploy/local/chromium.sh). Without it the browser tests skip, or fail
// under VIGIL_INTEGRATION=require.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("VIGIL_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIL_INTEGRATION") == "require" {
		t.Fatal("chromium is required (VIGIL_INTEGRATION=require) but not installed: run deploy/local/chromium.sh")
	}
	t.Skip("chromium not installed; run deploy/local/chromium.sh")
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestBrowserReviewFlow signs in on the moderator page in a real Chromium,
// claims a flagged post whose text is hostile HTML, checks the text is
// shown as text with the matched span highlighted and no script ran, and
// removes it; the decision is then on record, and submitting brought up
// the next item (submit-and-next).
func TestBrowserReviewFlow(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	hostile := `<img src=x onerror="document.title='pwned'"> we will attack the parade <script>document.title='pwned'</script>`
	at := time.Now().UTC()
	start := strings.Index(hostile, "attack the")
	err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{
		flagged("browser-1", hostile, at, moderation.Match{RuleID: "demo.attack-call", RuleVersion: 1, Category: "violent_threat",
			Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: start, End: start + len("attack the")}}}),
		flagged("browser-2", "selling cheap watches", at, moderation.Match{RuleID: "noisy.rule", RuleVersion: 3, Category: "spam",
			Severity: moderation.SeverityLow, Spans: []moderation.Span{{Start: 8, End: 13}}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)

	err = chromedp.Do(ctx,
		signIn(base, "e2e-admin", "e2e-admin-password"),
		claimNext(),
	)
	if err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	mark := run(ctx, t, chromedp.Text(`#text mark`))
	text := run(ctx, t, chromedp.TextContent(`#text`))
	imgs := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#text *:not(mark)').length`))
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#decide select[name=action]`, "remove"),
		chromedp.Click(`#decide button:not([type])`),
	)
	if err != nil {
		t.Fatalf("deciding: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.startsWith('Decided')`))
	msg := run(ctx, t, chromedp.Text(`#msg`))
	title := run(ctx, t, chromedp.Title())

	// Submitting claimed the second, low-severity item, now shown: no
	// violation. The precision panel then shows the noisy rule
	// highlighted as low and the other not.
	next := run(ctx, t, chromedp.Text(`#title`))
	if !strings.Contains(next, "spam") {
		t.Errorf("after submitting, the page shows %q, want the next (spam) item", next)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(`#item`),
		chromedp.SetValue(`#decide select[name=action]`, "no_violation"),
		chromedp.SetValue(`#reasons`, "NV-1"),
		chromedp.Click(`#decide button:not([type])`),
	)
	if err != nil {
		t.Fatalf("deciding the second item: %v", err)
	}
	// The queue is empty now: the page says so and shows no item.
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.endsWith('Nothing more to review.')`))
	// Wait until the panel shows the second decision: noisy.rule at 0.00,
	// from one decision, which is too few to judge: nothing is highlighted
	// (vigil_rules_low_precision and vigilctl rules precision need 20).
	run(ctx, t, chromedp.Poll[bool](`[...document.querySelectorAll('#precision tbody tr')].some(tr => tr.cells[0].textContent === 'noisy.rule' && tr.cells[5].textContent.startsWith('0.00'))`))
	noisy := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#precision tbody tr')].find(tr => tr.cells[0].textContent === 'noisy.rule').cells[5].textContent`))
	if noisy != "0.00 (1 of 20 decided: too few to judge)" {
		t.Errorf("noisy.rule's precision after one decision shows %q, want the sample size", noisy)
	}
	if policy := run(ctx, t, chromedp.Text(`#precision-policy`)); !strings.Contains(policy, "at least 20 decided items") {
		t.Errorf("precision panel explains %q", policy)
	}
	low := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#precision tr.low td:first-child')].map(td => td.textContent).join(',')`))
	if low != "" {
		t.Errorf("rules highlighted as low precision after one decision: %q, want none", low)
	}
	// 19 more no_violation decisions on noisy.rule make 20: now it is
	// highlighted as low, and demo.attack-call (one removal) is not.
	decideNoisy(ctx, t, schema, at, 19)
	err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(`#desk`))
	if err != nil {
		t.Fatalf("reloading: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`[...document.querySelectorAll('#precision tbody tr')].some(tr => tr.cells[0].textContent === 'noisy.rule' && tr.cells[5].textContent === '0.00')`))
	low = run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#precision tr.low td:first-child')].map(td => td.textContent).join(',')`))
	if low != "noisy.rule" {
		t.Errorf("rules highlighted as low precision after 20 decisions: %q, want noisy.rule", low)
	}
	if mark != "attack the" {
		t.Errorf("highlighted %q, want the matched span %q", mark, "attack the")
	}
	if text != hostile || imgs != 0 || title == "pwned" {
		t.Errorf("hostile post text was not shown as inert text: text=%q elements=%d title=%q", text, imgs, title)
	}
	if !strings.Contains(msg, "remove") {
		t.Errorf("status after deciding: %q", msg)
	}
	var action, actor string
	if err := schema.Pool.QueryRow(ctx, `SELECT d.action, u.username FROM decisions d JOIN users u ON u.id = d.actor_id
		JOIN review_items i ON i.id = d.item_id WHERE i.post_id = 'browser-1'`).Scan(&action, &actor); err != nil {
		t.Fatalf("reading the decision: %v", err)
	}
	if action != "remove" || actor != "e2e-admin" {
		t.Errorf("decision on record: %s by %s", action, actor)
	}
}

// TestBrowserMatchLabels: a match of version 0 (rules from a directory,
// as in make demo) and an exact hash match (distance 0) are labelled with
// their numbers; both are left out of the JSON, and the page used to show
// "vundefined" and "distance undefined".
func TestBrowserMatchLabels(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	f := flagged("labels-1", "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call", Category: "violent_threat",
		Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 18}}})
	f.Verdict.Matches = append(f.Verdict.Matches, moderation.Match{Category: "violent_threat", Severity: moderation.SeverityHigh,
		Bank: "demo-phash", EntryID: "demo-0", HashType: "phash", Hash: "b74ec9b7c15d2a08", MediaID: "m1"})
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{f}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	err := chromedp.Do(ctx,
		signIn(base, "e2e-admin", "e2e-admin-password"),
		claimNext(),
	)
	if err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	got := run(ctx, t, chromedp.Evaluate[string](`[...document.querySelectorAll('#matches li')].map(li => li.textContent).join(' | ')`))
	for _, want := range []string{"rule demo.attack-call v0", "bank demo-phash entry demo-0 (phash, distance 0)"} {
		if !strings.Contains(got, want) {
			t.Errorf("matches shown as %q, want %q among them", got, want)
		}
	}
}

// TestBrowserClaimButtonNeedsClaim: an auditor, who may read the queue
// but not claim from it, is not offered a claim button that always fails.
func TestBrowserClaimButtonNeedsClaim(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	if _, err := postgres.NewUsers(schema.Pool, postgres.UserOptions{}).Create(ctx, "test", "aud", "auditor-password-long",
		[]moderation.Role{moderation.RoleAuditor}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	err := chromedp.Do(ctx,
		signIn(base, "aud", "auditor-password-long"),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('claim').hidden`)); shown {
		t.Error("an auditor is offered the claim button")
	}
}

// TestBrowserOneItemAtATime: while a moderator holds an item the claim
// button is disabled (a second claim used to leave the first held out of
// sight until its lease ran out); releasing it enables the button again,
// and the server holds one item for the moderator throughout.
func TestBrowserOneItemAtATime(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	var flags []moderation.Flag
	for i := range 3 {
		flags = append(flags, flagged(fmt.Sprintf("one-%d", i), "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call",
			RuleVersion: 1, Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 18}}}))
	}
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, flags); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	disabled := `document.getElementById('claim').disabled`
	if !run(ctx, t, chromedp.Evaluate[bool](disabled)) {
		t.Error("the claim button is enabled while an item is held")
	}
	// A click on the disabled button claims nothing.
	run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('claim').click(), true`))
	var held int
	if err := schema.Pool.QueryRow(ctx, `SELECT count(*) FROM review_items WHERE status = 'claimed'`).Scan(&held); err != nil || held != 1 {
		t.Fatalf("items held after a second click: %d, %v; want 1", held, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#release`), chromedp.WaitNotVisible(`#item`)); err != nil {
		t.Fatalf("releasing: %v", err)
	}
	if run(ctx, t, chromedp.Evaluate[bool](disabled)) {
		t.Error("the claim button stays disabled after the release")
	}
}

// TestBrowserHiddenCharacters: characters that reorder or hide text
// (here a right-to-left override making "exe.live" read "evil.exe", and
// a zero-width space inside a word) are shown as markers, in the post's
// text and the author's handle, and do not reach the page as characters.
func TestBrowserHiddenCharacters(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	text := "download \u202eexe.live now, we will at\u200btack the parade"
	f := flagged("hidden-1", text, time.Now().UTC(), moderation.Match{RuleID: "demo.attack-call", RuleVersion: 1,
		Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: strings.Index(text, "at\u200b"), End: strings.Index(text, " the parade")}}})
	f.Post.Author.Handle = "admin\u202etxt.gpj"
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{f}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	shown := run(ctx, t, chromedp.TextContent(`#text`))
	if want := "download \u27e8RLO\u27e9exe.live now, we will at\u27e8ZWSP\u27e9tack the parade"; shown != want {
		t.Errorf("text shown as %q, want %q", shown, want)
	}
	if mark := run(ctx, t, chromedp.TextContent(`#text mark`)); mark != "at\u27e8ZWSP\u27e9tack" {
		t.Errorf("highlighted %q, want the match with its marker", mark)
	}
	if meta := run(ctx, t, chromedp.TextContent(`#meta`)); !strings.Contains(meta, "@admin\u27e8RLO\u27e9txt.gpj") {
		t.Errorf("author shown as %q, want the override as a marker", meta)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`(document.getElementById('item').textContent.match(/[\u200b\u202e]/g) || []).length`)); n != 0 {
		t.Errorf("%d hidden characters reached the page", n)
	}
}

// TestBrowserEscalationNote: a lead claiming an escalated item sees who
// escalated it and their note (as text), which the claim itself does not
// carry.
func TestBrowserEscalationNote(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{
		flagged("esc-1", "we will attack the parade", at, moderation.Match{RuleID: "demo.attack-call", RuleVersion: 1,
			Category: "violent_threat", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 8, End: 18}}}),
	}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	note := "<b>ask legal</b> first"
	err := chromedp.Do(ctx,
		signIn(base, "e2e-admin", "e2e-admin-password"),
		claimNext(),
		chromedp.SetValue(`#decide select[name=action]`, "escalate"),
		chromedp.SetValue(`#reasons`, "ESC-1"),
		chromedp.SendKeys(`#decide input[name=note]`, note),
		chromedp.Click(`#decide button:not([type])`),
	)
	if err != nil {
		t.Fatalf("escalating: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.endsWith('Nothing more to review.')`))
	if err := chromedp.Do(ctx, chromedp.Click(`#leads`), chromedp.Click(`#claim`), chromedp.WaitVisible(`#item`)); err != nil {
		t.Fatalf("claiming from the leads queue: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#history li').length > 0`))
	got := run(ctx, t, chromedp.TextContent(`#history`))
	if want := "e2e-admin: escalate (ESC-1): " + note; got != want {
		t.Errorf("history shows %q, want %q", got, want)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#history b').length`)); n != 0 {
		t.Errorf("the note was rendered as HTML (%d elements)", n)
	}
}

// signIn opens the UI at base and signs in as username.
func signIn(base, username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login input[name=username]`, username),
		chromedp.SendKeys(`#login input[name=password]`, password),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#desk`),
	)
}

// claimNext claims the next item from the desk and waits for it.
func claimNext() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Click(`#claim`), chromedp.WaitVisible(`#item`))
}

func run[T any](ctx context.Context, t *testing.T, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// decideNoisy queues n more items flagged by noisy.rule and decides them
// no_violation as the bootstrap admin.
func decideNoisy(ctx context.Context, t *testing.T, schema *moderationtest.Schema, at time.Time, n int) {
	t.Helper()
	var flags []moderation.Flag
	for i := range n {
		flags = append(flags, flagged(fmt.Sprintf("noisy-%d", i), "selling cheap watches", at, moderation.Match{RuleID: "noisy.rule",
			RuleVersion: 3, Category: "spam", Severity: moderation.SeverityLow, Spans: []moderation.Span{{Start: 8, End: 13}}}))
	}
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, flags); err != nil {
		t.Fatal(err)
	}
	admin, err := postgres.NewUsers(schema.Pool, postgres.UserOptions{}).ByUsername(ctx, "e2e-admin")
	if err != nil {
		t.Fatal(err)
	}
	reviews := postgres.NewReviews(schema.Pool, postgres.ReviewOptions{})
	items, err := reviews.Claim(ctx, admin, moderation.ClaimFilter{Count: n})
	if err != nil || len(items) != n {
		t.Fatalf("claiming the noisy items: %d, %v", len(items), err)
	}
	for _, it := range items {
		if _, err := reviews.Decide(ctx, admin, false, it.ID, moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-1"}); err != nil {
			t.Fatal(err)
		}
	}
}

func flagged(id, text string, at time.Time, m moderation.Match) moderation.Flag {
	return moderation.Flag{
		Post: moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a", Handle: "someone"},
			Text: text, Lang: "en", CreatedAt: at},
		Verdict:   moderation.Verdict{PostID: id, Matches: []moderation.Match{m}},
		FlaggedAt: at,
	}
}
