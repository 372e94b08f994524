package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/review/internal/app"
)

// TestReportsDatabase: with --reports-database-url, transparency reports
// and decision exports read that database (a replica in production; here
// another schema holding a known history), while the queue, users and
// sessions stay on the primary, whose own history is empty.
func TestReportsDatabase(t *testing.T) {
	ctx := context.Background()
	primary := moderationtest.TestSchema(t)
	replica := moderationtest.TestSchema(t)
	fx := moderationtest.SeedReport(t, replica.Pool)
	base := startReviewWith(ctx, t, app.Config{DatabaseURL: primary.URL, ReportsDatabaseURL: replica.URL})
	cookie := login(ctx, t, base, "e2e-admin", "e2e-admin-password")
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s: %s", path, res.Status, b)
		}
		return string(b)
	}
	var rep moderation.TransparencyReport
	if err := json.Unmarshal([]byte(get("/api/v1/reports/transparency?from=2026-01-01&to=2026-02-01")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Total.Decided == 0 || rep.Total.Decided != fx.Want.Total.Decided || rep.Total.Flagged != fx.Want.Total.Flagged {
		t.Fatalf("report from the reports database: decided %d, flagged %d; want %d, %d (the primary has none)",
			rep.Total.Decided, rep.Total.Flagged, fx.Want.Total.Decided, fx.Want.Total.Flagged)
	}
	export := strings.Split(strings.TrimSpace(get("/api/v1/decisions/export?from=2026-01-01&to=2026-02-01")), "\r\n")
	if len(export) != 1+len(fx.Decisions) {
		t.Fatalf("export has %d lines, want a header and %d decisions", len(export), len(fx.Decisions))
	}
	// The queue is the primary's: empty.
	if items := listQueue(ctx, t, base, cookie); len(items) != 0 {
		t.Fatalf("queue lists %d items, want the primary's none", len(items))
	}
}
