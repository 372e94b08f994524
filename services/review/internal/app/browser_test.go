package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
	if !strings.Contains(next, "spam (low)") {
		t.Errorf("after submitting, the page shows %q, want the next (spam) item, its severity named", next)
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

// TestBrowserClusterDecision: a moderator looking at one copy of a known
// image (a hash-bank match) is told how many other undecided posts carry
// it, can list them (their text inert, hidden characters as markers, media
// blurred) and decides them all at once after a confirmation giving the
// count. The copy another moderator holds is left out and said so, a
// copy queued after the confirmation is left for someone to see, and
// copies taken or decided by someone else after the confirmation are
// skipped by the server, the page giving its reasons; a decision the
// server refuses is shown and decides nothing; the decisions and their
// audit events are on record, and the next item comes up.
func TestBrowserClusterDecision(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC().Add(-time.Hour)
	// The entry id has a '/': the cluster id travels as one path segment.
	const bank, entry = "terror-hashes", "flag/7"
	copyOf := func(id, text string, flaggedAt time.Time, e ...moderation.Evidence) moderation.Flag {
		f := flagged(id, text, flaggedAt, moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
			Bank: bank, EntryID: entry, HashType: "pdq", Distance: 3, MediaID: "m1", Hash: "b74ec9b7c15d2a08"})
		f.Evidence = e
		return f
	}
	hostile := `<img src=x onerror="document.title='pwned'"> join us` + "\u202e" + `won`
	flags := []moderation.Flag{
		// Claimed first, by another moderator: the cluster decision skips it.
		copyOf("cluster-held", "the banner, posted again", at),
		copyOf("cluster-0", "the banner of the group", at.Add(time.Minute)),
		copyOf("cluster-1", hostile, at.Add(2*time.Minute)),
		copyOf("cluster-2", "look at this", at.Add(3*time.Minute), evidencePNG(t, "m1")),
		// Claimed and decided by the other moderator after the
		// confirmation: the server skips them.
		copyOf("cluster-3", "taken meanwhile", at.Add(3*time.Minute+10*time.Second)),
		copyOf("cluster-4", "decided meanwhile", at.Add(3*time.Minute+20*time.Second)),
		// Another entry of the bank, and a keyword match: not in the cluster.
		flagged("other-entry", "a different image", at.Add(4*time.Minute), moderation.Match{Category: "terrorist_content",
			Severity: moderation.SeverityCritical, Bank: bank, EntryID: "flag/8", HashType: "pdq", MediaID: "m1", Hash: "0000000000000001"}),
		flagged("other-rule", "selling cheap watches", at, moderation.Match{RuleID: "noisy.rule", RuleVersion: 3, Category: "spam",
			Severity: moderation.SeverityLow, Spans: []moderation.Span{{Start: 8, End: 13}}}),
	}
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, flags); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	rows, err := schema.Pool.Query(ctx, `SELECT post_id, id FROM review_items`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var post string
		var id int64
		if err := rows.Scan(&post, &id); err != nil {
			t.Fatal(err)
		}
		ids[post] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	other, err := postgres.NewUsers(schema.Pool, postgres.UserOptions{}).Create(ctx, "test", "other-mod", "other-mod-password-long",
		[]moderation.Role{moderation.RoleModerator})
	if err != nil {
		t.Fatal(err)
	}
	held, err := postgres.NewReviews(schema.Pool, postgres.ReviewOptions{}).Claim(ctx, other, moderation.ClaimFilter{Count: 1})
	if err != nil || len(held) != 1 || held[0].ID != ids["cluster-held"] {
		t.Fatalf("the other moderator claimed %+v, %v; want cluster-held", held, err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	// hidden wins over a form's display: flex (the sign-in form used to
	// stay on screen after signing in).
	if shown := run(ctx, t, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('login')).display`)); shown != "none" {
		t.Errorf("the sign-in form is shown (display %s) after signing in", shown)
	}
	if shown := run(ctx, t, chromedp.TextContent(`#text`)); shown != "the banner of the group" {
		t.Fatalf("claimed the post %q, want cluster-0", shown)
	}
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#clusters .cluster').length === 1`))
	if got, want := run(ctx, t, chromedp.TextContent(`#clusters .cluster-summary`)),
		"This image (bank terror-hashes, entry flag/7) is in 5 other undecided posts."; got != want {
		t.Errorf("cluster shown as %q, want %q", got, want)
	}
	if got, want := run(ctx, t, chromedp.TextContent(`#clusters .cluster-review`)), "Decide the cluster (5 posts)…"; got != want {
		t.Errorf("cluster decision offered as %q, want %q (the held copy left out)", got, want)
	}

	// The list: the five other copies, as text.
	if err := chromedp.Do(ctx, chromedp.Click(`#clusters summary`), chromedp.WaitVisible(`#clusters .cluster-posts li`)); err != nil {
		t.Fatalf("listing the cluster: %v", err)
	}
	listed := run(ctx, t, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#clusters .cluster-posts li')].map(li => li.dataset.item)`))
	want := []string{fmt.Sprint(ids["cluster-held"]), fmt.Sprint(ids["cluster-1"]), fmt.Sprint(ids["cluster-2"]),
		fmt.Sprint(ids["cluster-3"]), fmt.Sprint(ids["cluster-4"])}
	if strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Errorf("cluster lists items %v, want %v", listed, want)
	}
	shown := run(ctx, t, chromedp.TextContent(fmt.Sprintf(`#clusters li[data-item="%d"] .post-text`, ids["cluster-1"])))
	if want := strings.ReplaceAll(hostile, "\u202e", "\u27e8RLO\u27e9"); shown != want {
		t.Errorf("hostile post listed as %q, want the text %q", shown, want)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#clusters .post-text *:not(.ctl)').length`)); n != 0 {
		t.Errorf("post text in the cluster list made %d elements", n)
	}
	if meta := run(ctx, t, chromedp.TextContent(fmt.Sprintf(`#clusters li[data-item="%d"] .cluster-meta`, ids["cluster-held"]))); !strings.Contains(meta, "will be skipped: held by another reviewer") {
		t.Errorf("the held copy is listed as %q, want it marked as skipped", meta)
	}
	// Media blurred, as everywhere on the page.
	img := fmt.Sprintf(`document.querySelector('#clusters li[data-item="%d"] img')`, ids["cluster-2"])
	run(ctx, t, chromedp.Evaluate[bool](img+`.scrollIntoView(), true`))
	run(ctx, t, chromedp.Poll[bool](img+`.complete && `+img+`.naturalWidth > 0`))
	view := run(ctx, t, chromedp.Evaluate[string](`fetch(`+img+`.src).then(r => r.headers.get('X-Vigil-Media-View'))`, chromedp.EvalAwaitPromise))
	if src := run(ctx, t, chromedp.Evaluate[string](img+`.getAttribute('src')`)); view != "blurred" || strings.Contains(src, "view=") {
		t.Errorf("cluster media %s served %q, want blurred", src, view)
	}

	// The page checks a decision as the server will: a report needs a note.
	result := `document.querySelector('#clusters .cluster-result')`
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#clusters select[name=action]`, "report"),
		chromedp.SetValue(`#clusters select[name=reason_code]`, "TC-1"),
		chromedp.Click(`#clusters .cluster-review`),
	)
	if err != nil {
		t.Fatalf("reporting without a note: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](result+`.classList.contains('error') && `+result+`.textContent === 'A report to law enforcement needs a note.'`))
	// A note over the API's 4000 characters is refused before the
	// confirmation, counted in characters as the server counts them (the
	// field's maxlength counts UTF-16 units and stops typing, not a script).
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#clusters select[name=action]`, "remove"),
		chromedp.SetValue(`#clusters input[name=note]`, strings.Repeat("ملاحظة ", 572)),
		chromedp.Click(`#clusters .cluster-review`),
	)
	if err != nil {
		t.Fatalf("deciding with a long note: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](result+`.classList.contains('error') && `+result+`.textContent === 'The note is 4004 characters long; at most 4000.'`))
	if confirm := run(ctx, t, chromedp.Evaluate[bool](`document.querySelector('#clusters .cluster-confirm').hidden`)); !confirm {
		t.Error("a note over 4000 characters reached the confirmation")
	}
	var decided int
	if err := schema.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions`).Scan(&decided); err != nil || decided != 0 {
		t.Fatalf("decisions after a refused cluster decision: %d, %v; want none", decided, err)
	}

	// The decision: the confirmation gives the count and the skipped copy.
	err = chromedp.Do(ctx,
		// (SetValue refuses "", and Clear leaves the property set.)
		chromedp.Evaluate[chromedp.Void](`(n => (n.value = '', n.dispatchEvent(new Event('input', {bubbles: true}))))(document.querySelector('#clusters input[name=note]'))`),
		chromedp.Click(`#clusters .cluster-review`),
		chromedp.WaitVisible(`#clusters .cluster-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to decide the cluster: %v", err)
	}
	confirm := run(ctx, t, chromedp.TextContent(`#clusters .cluster-confirm`))
	for _, want := range []string{
		"Decide 5 posts of bank terror-hashes, entry flag/7 (this one and 4 others) as remove, reason TC-1?",
		fmt.Sprintf("1 other post will be skipped: #%d (held by another reviewer).", ids["cluster-held"]),
		"Confirm: decide 5 posts",
	} {
		if !strings.Contains(confirm, want) {
			t.Errorf("confirmation reads %q, want %q in it", confirm, want)
		}
	}
	// A copy queued after the confirmation was shown is not decided with
	// the others: nobody saw it.
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{copyOf("cluster-late", "queued meanwhile", at.Add(5*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the other moderator takes cluster-3 and decides
	// cluster-4: the server skips both and says why.
	if _, err := schema.Pool.Exec(ctx, `UPDATE review_items SET status = 'claimed', claimed_by = $1, claimed_at = now(),
		lease_expires_at = now() + interval '1 hour' WHERE id = $2`, other.ID, ids["cluster-3"]); err != nil {
		t.Fatal(err)
	}
	if res, err := postgres.NewReviews(schema.Pool, postgres.ReviewOptions{}).DecideCluster(ctx, other, false,
		moderation.ClusterKey{Bank: bank, Entry: entry}, moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"},
		[]int64{ids["cluster-4"]}); err != nil || len(res.Decisions) != 1 {
		t.Fatalf("the other moderator deciding cluster-4: %+v, %v", res, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#clusters .cluster-yes`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.startsWith('Cluster ')`))
	msg := run(ctx, t, chromedp.Text(`#msg`))
	if want := fmt.Sprintf("Cluster bank terror-hashes, entry flag/7: decided 3 posts as remove (TC-1); 3 skipped: "+
		"#%d left out when you confirmed (held by another reviewer), #%d held by another reviewer, #%d decided meanwhile.",
		ids["cluster-held"], ids["cluster-3"], ids["cluster-4"]); msg != want {
		t.Errorf("after the cluster decision the page says %q, want %q", msg, want)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a post ran")
	}
	// The item on screen was decided with its copies: the next one is up,
	// and a single decision still works.
	run(ctx, t, chromedp.Poll[bool](`!document.getElementById('item').hidden && document.getElementById('text').textContent !== 'the banner of the group'`))
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#decide select[name=action]`, "no_violation"),
		chromedp.SetValue(`#reasons`, "NV-1"),
		chromedp.Click(`#decide button:not([type])`),
	)
	if err != nil {
		t.Fatalf("deciding the next item: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.startsWith('Decided #')`))

	type outcome struct{ status, action, reason, actor string }
	got, n := map[string]outcome{}, 0
	rows, err = schema.Pool.Query(ctx, `SELECT i.post_id, i.status, COALESCE(d.action, ''), COALESCE(d.reason_code, ''), COALESCE(u.username, '')
		FROM review_items i LEFT JOIN decisions d ON d.item_id = i.id LEFT JOIN users u ON u.id = d.actor_id
		WHERE i.post_id LIKE 'cluster-%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var post string
		var o outcome
		if err := rows.Scan(&post, &o.status, &o.action, &o.reason, &o.actor); err != nil {
			t.Fatal(err)
		}
		got[post] = o
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	removed := outcome{"decided", "remove", "TC-1", "e2e-admin"}
	// The late copy has no decision (submit-and-next may have claimed it
	// since).
	if late := got["cluster-late"]; late.action != "" || late.status == "decided" {
		t.Errorf("cluster-late, queued after the confirmation: %+v, want it undecided", late)
	}
	for post, want := range map[string]outcome{"cluster-0": removed, "cluster-1": removed, "cluster-2": removed, "cluster-held": {status: "claimed"},
		"cluster-3": {status: "claimed"}, "cluster-4": {"decided", "remove", "TC-1", "other-mod"}} {
		if got[post] != want {
			t.Errorf("%s: %+v, want %+v", post, got[post], want)
		}
	}
	if n != 7 {
		t.Errorf("%d rows of decisions or undecided items of the cluster, want 7 (one decision each, none for the held copies and the late one)", n)
	}
	var audited []string
	if err := schema.Pool.QueryRow(ctx, `SELECT COALESCE(array_agg(subject ORDER BY subject), '{}') FROM audit_events
		WHERE action = 'decision' AND actor = 'e2e-admin' AND details->>'action' = 'remove' AND details->>'reason_code' = 'TC-1'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	wantAudit := []string{fmt.Sprintf("item:%d", ids["cluster-0"]), fmt.Sprintf("item:%d", ids["cluster-1"]), fmt.Sprintf("item:%d", ids["cluster-2"])}
	slices.Sort(wantAudit)
	if !slices.Equal(audited, wantAudit) {
		t.Errorf("audited removals %v, want %v", audited, wantAudit)
	}
}

// TestBrowserClusterMerge: a picture in two banks (as every demo picture
// is, in a PDQ and a pHash bank) matches an entry of each, and when the
// two clusters hold the same posts the page shows one box naming both
// entries, not two boxes listing the same posts; a cluster with other
// members keeps its own box. Deciding the merged box decides each post
// once, and a note the field allows (4000 characters of Arabic, some
// 7,400 bytes) is accepted.
func TestBrowserClusterMerge(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC().Add(-time.Hour)
	pdq := moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
		Bank: "flags-pdq", EntryID: "flag-3", HashType: "pdq", Distance: 2, MediaID: "m1", Hash: strings.Repeat("b74ec9b7c15d2a08", 4)}
	phash := moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
		Bank: "flags-phash", EntryID: "flag-3", HashType: "phash", Distance: 1, MediaID: "m1", Hash: "b74ec9b7c15d2a08"}
	other := moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
		Bank: "logos", EntryID: "logo-9", HashType: "pdq", Distance: 4, MediaID: "m1", Hash: strings.Repeat("0f", 32)}
	post := func(id string, flaggedAt time.Time, ms ...moderation.Match) moderation.Flag {
		f := flagged(id, "copy "+id, flaggedAt, ms[0])
		f.Verdict.Matches = ms
		return f
	}
	flags := []moderation.Flag{
		// On screen first: it matched both banks' entry, and a logo too.
		post("twin-0", at, pdq, phash, other),
		post("twin-1", at.Add(time.Minute), pdq, phash),
		post("twin-2", at.Add(2*time.Minute), pdq, phash),
		// Only the logo: its cluster differs, so its box stays apart.
		post("logo-only", at.Add(3*time.Minute), other),
	}
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, flags); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	if shown := run(ctx, t, chromedp.TextContent(`#text`)); shown != "copy twin-0" {
		t.Fatalf("claimed the post %q, want twin-0", shown)
	}
	// The boxes go up together, once every cluster of the item loaded.
	run(ctx, t, chromedp.Poll[bool](`document.querySelectorAll('#clusters .cluster').length > 0`))
	summaries := run(ctx, t, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#clusters .cluster-summary')].map(p => p.textContent)`))
	slices.Sort(summaries)
	want := []string{
		"This image (bank flags-pdq, entry flag-3; bank flags-phash, entry flag-3) is in 2 other undecided posts.",
		"This image (bank logos, entry logo-9) is in 1 other undecided post.",
	}
	if !slices.Equal(summaries, want) {
		t.Fatalf("cluster boxes %q, want %q", summaries, want)
	}

	// Decide the merged box, with a long note in Arabic.
	merged := run(ctx, t, chromedp.Evaluate[int](`[...document.querySelectorAll('#clusters .cluster')].findIndex(b => b.querySelector('.cluster-summary').textContent.includes('flags-phash'))`))
	box := fmt.Sprintf(`#clusters .cluster:nth-child(%d)`, merged+1)
	note := strings.Repeat("ملاحظة ", 571) + "ملا"
	if n := utf8.RuneCountInString(note); n != moderation.MaxNoteLen || len(note) <= moderation.MaxNoteLen {
		t.Fatalf("the note has %d characters in %d bytes", n, len(note))
	}
	err := chromedp.Do(ctx,
		chromedp.SetValue(box+` select[name=action]`, "remove"),
		chromedp.SetValue(box+` select[name=reason_code]`, "TC-1"),
		chromedp.SetValue(box+` input[name=note]`, note),
		chromedp.Click(box+` .cluster-review`),
		chromedp.WaitVisible(box+` .cluster-confirm`),
	)
	if err != nil {
		t.Fatalf("asking to decide the merged cluster: %v", err)
	}
	confirm := run(ctx, t, chromedp.TextContent(box+` .cluster-confirm p`))
	if want := "Decide 3 posts of bank flags-pdq, entry flag-3; bank flags-phash, entry flag-3 (this one and 2 others) as remove, reason TC-1, with your note on each?"; confirm != want {
		t.Errorf("confirmation reads %q, want %q", confirm, want)
	}
	if err := chromedp.Do(ctx, chromedp.Click(box+` .cluster-yes`)); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('msg').textContent.startsWith('Cluster ')`))
	msg := run(ctx, t, chromedp.Text(`#msg`))
	if want := "Cluster bank flags-pdq, entry flag-3; bank flags-phash, entry flag-3: decided 3 posts as remove (TC-1); none skipped."; !strings.HasPrefix(msg, want) {
		t.Errorf("after the decision the page says %q, want %q", msg, want)
	}
	var decided []string
	if err := schema.Pool.QueryRow(ctx, `SELECT COALESCE(array_agg(i.post_id ORDER BY i.post_id), '{}') FROM decisions d
		JOIN review_items i ON i.id = d.item_id WHERE d.action = 'remove' AND d.note = $1`, note).Scan(&decided); err != nil {
		t.Fatal(err)
	}
	if want := []string{"twin-0", "twin-1", "twin-2"}; !slices.Equal(decided, want) {
		t.Errorf("removed with the note: %v, want %v (each once)", decided, want)
	}
}

// evidencePNG is a small PNG as the stored evidence of media id.
func evidencePNG(t *testing.T, id string) moderation.Evidence {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for x := range 32 {
		for y := range 32 {
			img.Set(x, y, color.RGBA{R: uint8(x * 8), G: uint8(y * 8), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return moderation.Evidence{MediaID: id, MIME: "image/png", SHA256: hex.EncodeToString(sum[:]), Bytes: buf.Bytes(), Width: 32, Height: 32}
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

// TestBrowserReportsPanel: an auditor gets the Reports panel (a
// moderator does not), shows January 2026 of the report fixture and sees
// its numbers; a category and a reason code holding markup are shown as
// text; a period with from after to is refused by the page without a
// request; the download links carry the period and serve attachments.
func TestBrowserReportsPanel(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, schema.Pool)
	// One item of December 2025 with a hostile category and reason code:
	// outside January, whose numbers stay the fixture's.
	const hostileCategory = `<img src=x onerror="document.title='pwned'">hate`
	const hostileReason = `<b>TC-9</b>`
	dec := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	if _, err := schema.Pool.Exec(ctx, `
WITH i AS (
  INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
  VALUES ('hostile-category', 'p', 'a', $1::timestamptz, $1::timestamptz, $2, 3, $1::timestamptz + interval '1 hour', 'decided') RETURNING id)
INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
SELECT i.id, (SELECT id FROM users WHERE username = 'lead-1'), 'remove', $3, $1::timestamptz + interval '10 minutes', $1::timestamptz + interval '1 hour' FROM i`,
		dec, hostileCategory, hostileReason); err != nil {
		t.Fatalf("seeding the hostile item: %v", err)
	}
	users := postgres.NewUsers(schema.Pool, postgres.UserOptions{})
	for _, u := range []struct {
		name string
		role moderation.Role
	}{{"aud", moderation.RoleAuditor}, {"mod", moderation.RoleModerator}} {
		if _, err := users.Create(ctx, "test", u.name, u.name+"-password-long", []moderation.Role{u.role}); err != nil {
			t.Fatal(err)
		}
	}
	base := startReview(ctx, t, schema.URL)

	// A moderator: no panel.
	if err := chromedp.Do(ctx, signIn(base, "mod", "mod-password-long")); err != nil {
		t.Fatalf("signing in as a moderator: %v", err)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('reports-panel').hidden`)); shown {
		t.Error("a moderator is shown the Reports panel")
	}

	// An auditor: the panel, with the last full month as the default.
	err := chromedp.Do(ctx,
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login input[name=username]`, "aud"),
		chromedp.SendKeys(`#login input[name=password]`, "aud-password-long"),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#reports-panel`),
	)
	if err != nil {
		t.Fatalf("signing in as an auditor: %v", err)
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from := run(ctx, t, chromedp.Value(`#report-form input[name=from]`))
	to := run(ctx, t, chromedp.Value(`#report-form input[name=to]`))
	// (Unless the month turned between the page's clock and this one.)
	if to != month.Format(time.DateOnly) && to != month.AddDate(0, -1, 0).Format(time.DateOnly) || from == "" {
		t.Errorf("default period %s to %s, want the last full month", from, to)
	}

	// Requests for reports, counted from here on.
	run(ctx, t, chromedp.Evaluate[bool](`(() => {
		window.reportRequests = 0;
		const f = window.fetch;
		window.fetch = (url, ...rest) => { if (String(url).includes('/reports/')) window.reportRequests++; return f(url, ...rest); };
		return true; })()`))
	setPeriod := func(from, to string) chromedp.Action[chromedp.Void] {
		// Date inputs take their value as YYYY-MM-DD; the input event is
		// what a user's typing fires.
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(f => { f.querySelector('[name=from]').value = %q; f.querySelector('[name=to]').value = %q;
			f.dispatchEvent(new Event('input', {bubbles: true})); })(document.getElementById('report-form'))`, from, to))
	}

	// From after to: refused by the page, no request made.
	if err := chromedp.Do(ctx, setPeriod("2026-02-01", "2026-01-01"), chromedp.Click(`#report-form button`)); err != nil {
		t.Fatalf("asking for a reversed period: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('report-msg').classList.contains('error')`))
	if msg := run(ctx, t, chromedp.Text(`#report-msg`)); !strings.Contains(msg, "From (2026-02-01) must be before To (2026-01-01)") {
		t.Errorf("a reversed period is refused with %q", msg)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`window.reportRequests`)); n != 0 {
		t.Errorf("a reversed period made %d requests, want none", n)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('report-downloads').hidden`)); shown {
		t.Error("download links offered for a reversed period")
	}
	// A period not ended yet, the same.
	tomorrow := now.AddDate(0, 0, 1).Format(time.DateOnly)
	if err := chromedp.Do(ctx, setPeriod(now.AddDate(0, 0, -7).Format(time.DateOnly), tomorrow), chromedp.Click(`#report-form button`)); err != nil {
		t.Fatalf("asking for a period in the future: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('report-msg').textContent.includes('in the future')`))
	if n := run(ctx, t, chromedp.Evaluate[int](`window.reportRequests`)); n != 0 {
		t.Errorf("a period in the future made %d requests, want none", n)
	}

	// A page whose clock runs ahead lets it through; the server, on its
	// own clock, refuses, and the page shows its message.
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(now => { window.realNow = now; Date.now = () => now() + 3 * 86400e3; })(Date.now)`),
		setPeriod(now.AddDate(0, 0, -7).Format(time.DateOnly), tomorrow),
		chromedp.Click(`#report-form button`),
	)
	if err != nil {
		t.Fatalf("asking for a period in the future with the page's clock ahead: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`document.getElementById('report-msg').textContent.startsWith('The server refused the report: ')`))
	if msg := run(ctx, t, chromedp.Text(`#report-msg`)); !strings.Contains(msg, "a report covers a period that has ended") {
		t.Errorf("the server's refusal is shown as %q, want its message", msg)
	}
	if shown := run(ctx, t, chromedp.Evaluate[bool](`!document.getElementById('report').hidden`)); shown {
		t.Error("a report is shown after the server refused the period")
	}
	run(ctx, t, chromedp.Evaluate[chromedp.Void](`Date.now = window.realNow`))

	// January 2026: the fixture's numbers.
	if err := chromedp.Do(ctx, setPeriod("2026-01-01", "2026-02-01"), chromedp.Click(`#report-form button`)); err != nil {
		t.Fatalf("showing January: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`!document.getElementById('report').hidden && document.getElementById('report-title').textContent.startsWith('From 2026-01-01 up to 2026-02-01')`))
	if msg := run(ctx, t, chromedp.Text(`#report-msg`)); msg != "" {
		t.Errorf("after showing January the panel says %q", msg)
	}
	summary := run(ctx, t, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('#report-summary tr')].map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]))`))
	w := fx.Want.Total
	for label, want := range map[string]string{
		"Items flagged":                fmt.Sprint(w.Flagged),
		"Items decided":                fmt.Sprint(w.Decided),
		"Decisions: no violation":      fmt.Sprint(w.Decisions.NoViolation),
		"Referrals to law enforcement": fmt.Sprint(w.Referrals),
		"Reversals":                    fmt.Sprint(w.Reversals),
		"Restored (removal reversed)":  fmt.Sprint(w.Restored),
		"Time to action p50":           "40 min",
		"Time to action p90":           "2 h",
		"SLA missed":                   fmt.Sprint(w.SLAMissed),
		"Open and overdue at end":      fmt.Sprint(w.OverdueAtEnd),
		// The fixture's appeals: 3 received, 1 reinstated, 2 open, median 2 h.
		"Appeals received":                   fmt.Sprint(fx.Want.Appeals.Received),
		"Appeals reinstated":                 fmt.Sprint(fx.Want.Appeals.Reinstated),
		"Appeals: median time to resolution": "2 h",
		"Appeals open at end":                fmt.Sprint(fx.Want.Appeals.OpenAtEnd),
	} {
		if summary[label] != want {
			t.Errorf("summary %q shows %q, want %q", label, summary[label], want)
		}
	}
	if w.TimeToAction.P50 != 40*time.Minute || w.TimeToAction.P90 != 2*time.Hour {
		t.Fatalf("the fixture changed: p50 %s, p90 %s", w.TimeToAction.P50, w.TimeToAction.P90)
	}
	row := func(table, key string) []string {
		t.Helper()
		return run(ctx, t, chromedp.Evaluate[[]string](fmt.Sprintf(`(tr => tr ? [...tr.cells].map(c => c.textContent) : [])([...document.querySelectorAll('#%s tbody tr')].find(tr => tr.cells[0].textContent === %q))`, table, key)))
	}
	// category, flagged, decided, remove, no violation, escalate, report,
	// referrals, reversals, restored, p50, p90, p99, max, SLA met, SLA
	// missed, open at end, overdue at end.
	if got, want := strings.Join(row("report-categories", "hate"), "|"), "hate|2|2|1|1|0|0|0|0|0|1 h|1 h 30 min|1 h 30 min|1 h 30 min|2|0|2|2"; got != want {
		t.Errorf("category hate shown as %s, want %s", got, want)
	}
	if got, want := strings.Join(row("report-sources", moderation.SourceHashBank), "|"), "hash_bank|2|1|0|0|1|1|1|0|0|2 h|2 h|2 h|2 h|0|1|1|1"; got != want {
		t.Errorf("source hash_bank shown as %s, want %s", got, want)
	}
	if got, want := strings.Join(row("report-reasons", "TC-1"), "|"), "TC-1|Terrorist propaganda or recruitment|2|0|0|1"; got != want {
		t.Errorf("reason TC-1 shown as %s, want %s", got, want)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#report-categories tbody tr').length`)); n != len(fx.Want.ByCategory) {
		t.Errorf("%d category rows, want %d", n, len(fx.Want.ByCategory))
	}

	// The downloads: plain links to the API with the period.
	hrefs := run(ctx, t, chromedp.Evaluate[[]string](`['report-markdown', 'report-csv', 'report-export'].map(id => document.getElementById(id).getAttribute('href'))`))
	wantHrefs := []string{
		"/api/v1/reports/transparency?from=2026-01-01&to=2026-02-01&format=markdown",
		"/api/v1/reports/transparency?from=2026-01-01&to=2026-02-01&format=csv",
		"/api/v1/decisions/export?from=2026-01-01&to=2026-02-01",
	}
	if !slices.Equal(hrefs, wantHrefs) {
		t.Errorf("download links %q, want %q", hrefs, wantHrefs)
	}
	for _, id := range []string{"report-markdown", "report-export"} {
		got := run(ctx, t, chromedp.Evaluate[string](fmt.Sprintf(`fetch(document.getElementById(%q).href).then(r => r.status + ' ' + r.headers.get('Content-Disposition'))`, id), chromedp.EvalAwaitPromise))
		if !strings.HasPrefix(got, "200 attachment; filename=") {
			t.Errorf("%s serves %q, want a 200 attachment", id, got)
		}
	}

	// December 2025: the hostile category and reason code, as text.
	if err := chromedp.Do(ctx, setPeriod("2025-12-01", "2026-01-01"), chromedp.Click(`#report-form button`)); err != nil {
		t.Fatalf("showing December: %v", err)
	}
	run(ctx, t, chromedp.Poll[bool](`!document.getElementById('report').hidden && document.getElementById('report-title').textContent.startsWith('From 2025-12-01')`))
	if got := row("report-categories", hostileCategory); len(got) < 4 || got[1] != "1" || got[3] != "1" {
		t.Errorf("hostile category row %q, want it as text, flagged 1 and removed 1", got)
	}
	if got := row("report-reasons", hostileReason); len(got) < 3 || got[1] != "" || got[2] != "1" {
		t.Errorf("hostile reason code row %q, want it as text, untitled (not configured), with one removal", got)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('#report td *, #report th *, #report img, #report b').length`)); n != 0 {
		t.Errorf("report data made %d elements", n)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("a script from a category ran")
	}
}
