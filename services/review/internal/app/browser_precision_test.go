package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserBankEntryPrecision: a hash bank's row of the precision panel
// opens to its entries, worst first; the entry that flagged 20 harmless
// posts (a meme in a shared list) is highlighted as a low rule is, the
// good one is not, and an entry id holding markup and a bidi override is
// shown as text. The entries stay open when the panel reloads after a
// decision, and close again.
func TestBrowserBankEntryPrecision(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	hostile := `<img src=x onerror="document.title='pwned'">` + "\u202e" + `gol`
	var flags []moderation.Flag
	add := func(entry string, n int) {
		for i := range n {
			flags = append(flags, flagged(fmt.Sprintf("%s-%d", entry[:4], i), "look at this", at, moderation.Match{Bank: "shared",
				EntryID: entry, HashType: "pdq", Distance: i % 3, MediaID: "m1", Category: "terrorist_content", Severity: moderation.SeverityHigh}))
		}
	}
	add("meme", 20)
	add("good", 2)
	add(hostile, 1)
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, flags); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	// The bootstrap admin decides: the meme's posts were harmless, the
	// good entry's were not; the hostile entry's post stays pending.
	admin, err := postgres.NewUsers(schema.Pool, postgres.UserOptions{}).ByUsername(ctx, "e2e-admin")
	if err != nil {
		t.Fatal(err)
	}
	reviews := postgres.NewReviews(schema.Pool, postgres.ReviewOptions{})
	items, err := reviews.Claim(ctx, admin, moderation.ClaimFilter{Count: len(flags)})
	if err != nil || len(items) != len(flags) {
		t.Fatalf("claiming: %d, %v", len(items), err)
	}
	for _, it := range items {
		in := moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-1"}
		switch {
		case strings.HasPrefix(it.PostID, "good"):
			in = moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
		case !strings.HasPrefix(it.PostID, "meme"):
			continue
		}
		if _, err := reviews.Decide(ctx, admin, false, it.ID, in); err != nil {
			t.Fatal(err)
		}
	}

	err = chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"))
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	bankRow := `[...document.querySelectorAll('#precision > tbody > tr')].find(tr => tr.cells[0].textContent === 'bank:shared')`
	run(ctx, t, chromedp.Poll[bool](`!!`+bankRow))
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('table.bank-entries').length`)); n != 0 {
		t.Errorf("%d entry tables before the bank row was opened", n)
	}
	entries := `[...document.querySelectorAll('table.bank-entries tbody tr')]`
	// Each row without its median time to decision (seconds, by the
	// wall clock).
	rows := func() string {
		return run(ctx, t, chromedp.Evaluate[string](entries+`.map(tr => (tr.className === 'low' ? 'LOW ' : '') + [...tr.cells].filter((_, i) => i !== 6).map(td => td.textContent).join('|')).join('\n')`))
	}
	run(ctx, t, chromedp.Evaluate[bool](bankRow+`.querySelector('button.bank-entries-toggle').click() || true`))
	run(ctx, t, chromedp.Poll[bool](entries+`.length === 3`))
	want := strings.Join([]string{
		"LOW meme|pdq|20|0|20|0.00|1",
		"good|pdq|2|2|0|1.00 (2 of 20 decided: too few to judge)|0.5",
		"<img src=x onerror=\"document.title='pwned'\">\u27e8RLO\u27e9gol|pdq|1|0|0|–|0",
	}, "\n")
	if got := rows(); got != want {
		t.Errorf("entries:\n%s\nwant\n%s", got, want)
	}
	if n := run(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll('table.bank-entries img, table.bank-entries script').length`)); n != 0 {
		t.Errorf("an entry id was inserted as markup: %d elements", n)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("an entry id ran a script")
	}
	hint := run(ctx, t, chromedp.Evaluate[string](`document.querySelector('tr.bank-entries p.hint').textContent`))
	if !strings.Contains(hint, "re-import the bank") {
		t.Errorf("hint under the entries: %q", hint)
	}
	if exp := run(ctx, t, chromedp.Evaluate[string](bankRow+`.querySelector('button').getAttribute('aria-expanded')`)); exp != "true" {
		t.Errorf("aria-expanded %q", exp)
	}

	// The panel reloads (as after every decision): the entries stay open.
	run(ctx, t, chromedp.Evaluate[bool](`loadPrecision().then(() => true)`, chromedp.EvalAwaitPromise))
	run(ctx, t, chromedp.Poll[bool](entries+`.length === 3 && `+bankRow+`.nextElementSibling.className === 'bank-entries'`))
	// And close.
	run(ctx, t, chromedp.Evaluate[bool](bankRow+`.querySelector('button.bank-entries-toggle').click() || true`))
	if shown := run(ctx, t, chromedp.Evaluate[bool](bankRow+`.nextElementSibling.hidden`)); !shown {
		t.Error("the entries stay shown after Hide entries")
	}

	// A late answer is dropped: the first load is slowed down (and would
	// say the bank has no entries); the row is hidden and shown again
	// before it answers, and the second, prompt load's entries stay.
	run(ctx, t, chromedp.Evaluate[bool](`(() => {
  const real = api; let slowed = false;
  window.api = (method, path, body) => {
    if (slowed || !path.startsWith("/api/v1/banks/precision")) return real(method, path, body);
    slowed = true;
    return new Promise((done) => setTimeout(() => done({entries: [], low_min_decided: 20}), 700));
  };
  const toggle = () => `+bankRow+`.querySelector('button.bank-entries-toggle').click();
  toggle(); toggle(); toggle();
  return true;
})()`))
	run(ctx, t, chromedp.Poll[bool](entries+`.length === 3`))
	run(ctx, t, chromedp.Evaluate[bool](`new Promise((done) => setTimeout(() => done(true), 1500))`, chromedp.EvalAwaitPromise))
	if got := rows(); got != want {
		t.Errorf("entries after a late answer:\n%s\nwant\n%s", got, want)
	}
}
