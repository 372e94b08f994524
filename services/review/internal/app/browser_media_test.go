package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBrowserRevealMedia: an item's picture is shown blurred; "Show
// original" reveals it, in greyscale unless colour is ticked, and the
// server audits that view once; "Blur again" puts the blurred copy back
// without another view. A type the server does not send inline (SVG) is
// named, not offered.
func TestBrowserRevealMedia(t *testing.T) {
	ctx := browser(t)
	schema := moderationtest.TestSchema(t)
	at := time.Now().UTC()
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>document.title='pwned'</script></svg>`)
	sum := sha256.Sum256(svg)
	f := flagged("media-1", "look at this", at, moderation.Match{Category: "terrorist_content", Severity: moderation.SeverityCritical,
		Bank: "terror-hashes", EntryID: "e1", HashType: "pdq", Distance: 3, MediaID: "m1"})
	f.Evidence = []moderation.Evidence{evidencePNG(t, "m1"),
		{MediaID: "m2", MIME: "image/svg+xml", SHA256: hex.EncodeToString(sum[:]), Bytes: svg}}
	if err := postgres.NewQueue(schema.Pool).Enqueue(ctx, []moderation.Flag{f}); err != nil {
		t.Fatal(err)
	}
	base := startReview(ctx, t, schema.URL)
	if err := chromedp.Do(ctx, signIn(base, "e2e-admin", "e2e-admin-password"), claimNext()); err != nil {
		t.Fatalf("signing in and claiming: %v", err)
	}
	views := func() int {
		var n int
		if err := schema.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'e2e-admin'`,
			moderation.AuditViewMedia).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	png := `document.querySelectorAll('#media figure')[0]`
	img := png + `.querySelector('img')`
	loaded := img + `.complete && ` + img + `.naturalWidth > 0`
	state := func() string {
		return run(ctx, t, chromedp.Evaluate[string](`[`+img+`.getAttribute('src').includes('view=original') ? 'original' : 'blurred', `+
			img+`.alt, getComputedStyle(`+img+`).filter, `+png+`.querySelector('button').textContent].join('|')`))
	}
	run(ctx, t, chromedp.Poll[bool](loaded))
	if got, want := state(), "blurred|blurred evidence|none|Show original"; got != want {
		t.Errorf("before reveal: %q, want %q", got, want)
	}
	if hidden := run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('media-colour-label').hidden`)); hidden {
		t.Error("the colour choice is hidden although a picture can be revealed")
	}
	if n := views(); n != 0 {
		t.Fatalf("%d media views audited before any reveal", n)
	}

	run(ctx, t, chromedp.Evaluate[bool](png+`.querySelector('button').click() || true`))
	run(ctx, t, chromedp.Poll[bool](img+`.getAttribute('src').includes('view=original') && `+loaded))
	if got, want := state(), "original|original evidence|grayscale(1)|Blur again"; got != want {
		t.Errorf("revealed: %q, want %q", got, want)
	}
	if n := views(); n != 1 {
		t.Errorf("%d media views audited after one reveal, want 1", n)
	}
	run(ctx, t, chromedp.Evaluate[bool](`document.getElementById('media-colour').click() || true`))
	if got, want := state(), "original|original evidence|none|Blur again"; got != want {
		t.Errorf("revealed in colour: %q, want %q", got, want)
	}

	run(ctx, t, chromedp.Evaluate[bool](png+`.querySelector('button').click() || true`))
	run(ctx, t, chromedp.Poll[bool](`!`+img+`.getAttribute('src').includes('view=') && `+loaded))
	if got, want := state(), "blurred|blurred evidence|none|Show original"; got != want {
		t.Errorf("blurred again: %q, want %q", got, want)
	}
	if n := views(); n != 1 {
		t.Errorf("%d media views audited after blurring again, want still 1", n)
	}

	svgFig := `document.querySelectorAll('#media figure')[1]`
	caption := run(ctx, t, chromedp.Evaluate[string](svgFig+`.querySelector('figcaption').textContent`))
	if !strings.Contains(caption, "image/svg+xml") || run(ctx, t, chromedp.Evaluate[bool](svgFig+`.querySelector('button') !== null`)) {
		t.Errorf("the SVG's caption is %q, want its type named and no reveal button", caption)
	}
	if title := run(ctx, t, chromedp.Title()); title == "pwned" {
		t.Error("the SVG ran a script")
	}
}
