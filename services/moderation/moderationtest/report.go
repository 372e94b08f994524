package moderationtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// ReportFixture is a history of flags and decisions seeded with known
// times around Period, and the transparency report it must give.
type ReportFixture struct {
	Period moderation.ReportPeriod
	Now    time.Time // when the report is generated
	Want   moderation.TransparencyReport
	// Decisions are the ids of the decisions made in Period, in id order.
	Decisions []int64
	// HostilePostID is the post id of one decided item: a spreadsheet
	// formula.
	HostilePostID string
}

// SeedReport writes the fixture into a fresh schema (TestSchema): January
// 2026, with items and decisions before, at and after both bounds,
// escalations, reversals (one restoring content), an item decided late,
// items still open at the end (some overdue), keyword, hash-bank and
// both-matched items, ten decided items whose times to action tell
// percentile_disc from percentile_cont, and appeals received, resolved
// and open around both bounds.
func SeedReport(t testing.TB, pool *pgxpool.Pool) ReportFixture {
	t.Helper()
	ctx := context.Background()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	at := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
	}
	var actor int64
	if err := pool.QueryRow(ctx, `
INSERT INTO users (username, password_hash, roles, password_changed_at, created_at)
VALUES ('lead-1', 'x', '{lead}', now(), now()) RETURNING id`).Scan(&actor); err != nil {
		t.Fatalf("seeding the report fixture: %v", err)
	}
	type dec struct {
		action   moderation.Action
		reason   string
		at       time.Time
		reverses bool // reverses the item's previous decision
	}
	hostile := `=HYPERLINK("http://evil.example","x")`
	items := []struct {
		post, category, source string
		flagged                time.Time
		sla                    time.Duration
		status                 moderation.Status
		decisions              []dec
	}{
		// A: decided on time, then a removal reversed to a referral.
		{hostile, "terrorist_content", "keyword", at(1, 10, 10, 0), time.Hour, "decided", []dec{
			{"remove", "TC-1", at(1, 10, 10, 30), false}, {"report", "TC-2", at(1, 11, 9, 0), true}}},
		// B: escalated, then referred after its deadline.
		{"b", "terrorist_content", "hash", at(1, 10, 12, 0), time.Hour, "decided", []dec{
			{"escalate", "ESC-1", at(1, 10, 12, 10), false}, {"report", "TC-1", at(1, 10, 14, 0), false}}},
		// C: matched by both engines.
		{"c", "hate", "both", at(1, 5, 0, 0), 24 * time.Hour, "decided", []dec{{"no_violation", "NV-2", at(1, 5, 1, 0), false}}},
		// D: flagged before the period, decided in it.
		{"d", "hate", "keyword", time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), 24 * time.Hour, "decided", []dec{
			{"remove", "HATE-1", at(1, 1, 0, 30), false}}},
		// E: decided before the period; the removal is reversed exactly at its start (restored).
		{"e", "terrorist_content", "keyword", time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC), time.Hour, "decided", []dec{
			{"remove", "TC-1", time.Date(2025, 12, 20, 0, 10, 0, 0, time.UTC), false}, {"no_violation", "NV-1", from, true}}},
		// F: flagged just before the end, deadline exactly at the end, decided after it.
		{"f", "terrorist_content", "keyword", at(1, 31, 23, 0), time.Hour, "decided", []dec{{"remove", "TC-1", at(2, 1, 0, 30), false}}},
		// G: never decided, overdue at the end.
		{"g", "hate", "hash", at(1, 20, 0, 0), 24 * time.Hour, "pending", nil},
		// H: after the period.
		{"h", "spam", "keyword", at(2, 5, 0, 0), 72 * time.Hour, "decided", []dec{{"remove", "SPAM-1", at(2, 5, 1, 0), false}}},
		// I: flagged exactly at the start.
		{"i", "terrorist_content", "keyword", from, time.Hour, "decided", []dec{{"remove", "TC-1", at(1, 1, 0, 5), false}}},
		// J: decided exactly at the end, so open at the end.
		{"j", "terrorist_content", "keyword", at(1, 31, 23, 59), time.Hour, "decided", []dec{{"remove", "TC-1", to, false}}},
		// K: escalated long before the period and still open, overdue.
		{"k", "hate", "keyword", time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), 24 * time.Hour, "escalated", []dec{
			{"escalate", "ESC-1", time.Date(2025, 11, 1, 1, 0, 0, 0, time.UTC), false}}},
	}
	for i, ttaMin := range []int{10, 20, 40, 50, 180} {
		f := at(1, 20, 10+i, 0)
		items = append(items, struct {
			post, category, source string
			flagged                time.Time
			sla                    time.Duration
			status                 moderation.Status
			decisions              []dec
		}{"l" + string(rune('1'+i)), "spam", "keyword", f, 72 * time.Hour, "decided", []dec{
			{"no_violation", "NV-1", f.Add(time.Duration(ttaMin) * time.Minute), false}}})
	}
	fx := ReportFixture{Period: moderation.ReportPeriod{From: from, To: to}, Now: at(3, 1, 0, 0), HostilePostID: hostile}
	decided := map[string][]int64{} // decision ids by post
	for _, it := range items {
		var id int64
		if err := pool.QueryRow(ctx, `
INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
VALUES ($1, 'p', 'a', $2, $2, $3, 3, $4, $5) RETURNING id`, it.post, it.flagged, it.category, it.flagged.Add(it.sla), string(it.status)).Scan(&id); err != nil {
			t.Fatalf("seeding the report fixture: %v", err)
		}
		if it.source == "keyword" || it.source == "both" {
			if _, err := pool.Exec(ctx, `INSERT INTO review_matches (item_id, match_key, rule_id, rule_version, category, severity)
VALUES ($1, 'rule:r1', 'r1', 1, $2, 3)`, id, it.category); err != nil {
				t.Fatalf("seeding the report fixture: %v", err)
			}
		}
		if it.source == "hash" || it.source == "both" {
			if _, err := pool.Exec(ctx, `INSERT INTO review_matches (item_id, match_key, bank, entry_id, hash_type, distance, category, severity)
VALUES ($1, 'bank:b1:e1', 'b1', 'e1', 'pdq', 3, $2, 3)`, id, it.category); err != nil {
				t.Fatalf("seeding the report fixture: %v", err)
			}
		}
		var prev *int64
		for _, d := range it.decisions {
			var rev *int64
			if d.reverses {
				rev = prev
			}
			var did int64
			if err := pool.QueryRow(ctx, `
INSERT INTO decisions (item_id, actor_id, action, reason_code, reverses, created_at, sla_deadline)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, id, actor, string(d.action), d.reason, rev, d.at, it.flagged.Add(it.sla)).Scan(&did); err != nil {
				t.Fatalf("seeding the report fixture: %v", err)
			}
			prev = &did
			decided[it.post] = append(decided[it.post], did)
			if fx.Period.Contains(d.at) {
				fx.Decisions = append(fx.Decisions, did)
			}
		}
	}
	// Appeals against removals and referrals, around both bounds.
	for _, a := range []struct {
		post               string
		decision           int // index in the post's decisions
		received, resolved time.Time
		outcome            string
		reinstatement      int // index of the reinstating reversal, or -1
	}{
		// A's removal: received and upheld in the period, after 2 hours.
		{hostile, 0, at(1, 10, 12, 0), at(1, 10, 14, 0), "upheld", -1},
		// E's removal: received before the period, reinstated exactly at
		// its start, after 7 days (168 hours).
		{"e", 0, time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC), from, "reinstated", 1},
		// D's removal: received in the period, still open.
		{"d", 0, at(1, 15, 0, 0), time.Time{}, "", -1},
		// I's removal: received in the period, upheld after its end.
		{"i", 0, at(1, 31, 23, 0), at(2, 1, 1, 0), "upheld", -1},
		// B's referral: received exactly at the end, open.
		{"b", 1, to, time.Time{}, "", -1},
		// F's removal: all after the period.
		{"f", 0, at(2, 2, 0, 0), at(2, 3, 0, 0), "upheld", -1},
	} {
		var resolved, resolvedBy, outcome, reason, reinstatement any
		if !a.resolved.IsZero() {
			resolved, resolvedBy, outcome, reason = a.resolved, actor, a.outcome, "TC-1"
		}
		if a.reinstatement >= 0 {
			reinstatement = decided[a.post][a.reinstatement]
		}
		if _, err := pool.Exec(ctx, `
INSERT INTO appeals (item_id, platform_appeal_id, decision_id, statement, received_at, created_at, resolved_at, outcome, resolved_by, reason_code, reinstatement_decision_id)
SELECT item_id, 'appeal-' || $1::text, id, 'please', $2, $2, $3, $4, $5, $6, $7 FROM decisions WHERE id = $8`,
			a.post, a.received, resolved, outcome, resolvedBy, reason, reinstatement, decided[a.post][a.decision]); err != nil {
			t.Fatalf("seeding the report fixture: %v", err)
		}
	}
	m := time.Minute
	fx.Want = moderation.TransparencyReport{
		Period: fx.Period, GeneratedAt: fx.Now,
		Total: moderation.ReportCounts{
			Flagged: 12, Decided: 10,
			Decisions: moderation.ActionCounts{Remove: 3, NoViolation: 7, Escalate: 1, Report: 2},
			Referrals: 2, Reversals: 2, Restored: 1,
			// 5m 10m 20m 30m 40m | 50m 1h 1h30m 2h 3h
			TimeToAction: moderation.TimeToAction{Items: 10, P50: 40 * m, P90: 2 * time.Hour, P99: 3 * time.Hour, Max: 3 * time.Hour},
			SLAMet:       9, SLAMissed: 1, OpenAtEnd: 4, OverdueAtEnd: 2,
		},
		ByCategory: []moderation.ReportGroup{
			{Key: "hate", ReportCounts: moderation.ReportCounts{
				Flagged: 2, Decided: 2, Decisions: moderation.ActionCounts{Remove: 1, NoViolation: 1},
				TimeToAction: moderation.TimeToAction{Items: 2, P50: time.Hour, P90: 90 * m, P99: 90 * m, Max: 90 * m},
				SLAMet:       2, OpenAtEnd: 2, OverdueAtEnd: 2}},
			{Key: "spam", ReportCounts: moderation.ReportCounts{
				Flagged: 5, Decided: 5, Decisions: moderation.ActionCounts{NoViolation: 5},
				TimeToAction: moderation.TimeToAction{Items: 5, P50: 40 * m, P90: 3 * time.Hour, P99: 3 * time.Hour, Max: 3 * time.Hour},
				SLAMet:       5}},
			{Key: "terrorist_content", ReportCounts: moderation.ReportCounts{
				Flagged: 5, Decided: 3, Decisions: moderation.ActionCounts{Remove: 2, NoViolation: 1, Escalate: 1, Report: 2},
				Referrals: 2, Reversals: 2, Restored: 1,
				TimeToAction: moderation.TimeToAction{Items: 3, P50: 30 * m, P90: 2 * time.Hour, P99: 2 * time.Hour, Max: 2 * time.Hour},
				SLAMet:       2, SLAMissed: 1, OpenAtEnd: 2}},
		},
		BySource: []moderation.ReportGroup{
			{Key: moderation.SourceKeyword, ReportCounts: moderation.ReportCounts{
				Flagged: 9, Decided: 8, Decisions: moderation.ActionCounts{Remove: 3, NoViolation: 6, Report: 1},
				Referrals: 1, Reversals: 2, Restored: 1,
				// 5m 10m 20m 30m | 40m 50m 1h30m 3h
				TimeToAction: moderation.TimeToAction{Items: 8, P50: 30 * m, P90: 3 * time.Hour, P99: 3 * time.Hour, Max: 3 * time.Hour},
				SLAMet:       8, OpenAtEnd: 3, OverdueAtEnd: 1}},
			{Key: moderation.SourceHashBank, ReportCounts: moderation.ReportCounts{
				Flagged: 2, Decided: 1, Decisions: moderation.ActionCounts{Escalate: 1, Report: 1}, Referrals: 1,
				TimeToAction: moderation.TimeToAction{Items: 1, P50: 2 * time.Hour, P90: 2 * time.Hour, P99: 2 * time.Hour, Max: 2 * time.Hour},
				SLAMissed:    1, OpenAtEnd: 1, OverdueAtEnd: 1}},
			{Key: moderation.SourceBoth, ReportCounts: moderation.ReportCounts{
				Flagged: 1, Decided: 1, Decisions: moderation.ActionCounts{NoViolation: 1},
				TimeToAction: moderation.TimeToAction{Items: 1, P50: time.Hour, P90: time.Hour, P99: time.Hour, Max: time.Hour},
				SLAMet:       1}},
		},
		ByReason: []moderation.ReasonCount{
			{Code: "ESC-1", Decisions: moderation.ActionCounts{Escalate: 1}},
			{Code: "HATE-1", Decisions: moderation.ActionCounts{Remove: 1}},
			{Code: "NV-1", Decisions: moderation.ActionCounts{NoViolation: 6}},
			{Code: "NV-2", Decisions: moderation.ActionCounts{NoViolation: 1}},
			{Code: "TC-1", Decisions: moderation.ActionCounts{Remove: 2, Report: 1}},
			{Code: "TC-2", Decisions: moderation.ActionCounts{Report: 1}},
		},
		// Received: A, D, I; resolved: A (2 h), E (168 h); open at the end: D, I.
		Appeals: moderation.AppealCounts{Received: 3, Upheld: 1, Reinstated: 1, OpenAtEnd: 2,
			TimeToResolution: moderation.ResolutionTime{Resolved: 2, Median: 2 * time.Hour}},
		AppealsByCategory: []moderation.AppealGroup{
			{Key: "hate", AppealCounts: moderation.AppealCounts{Received: 1, OpenAtEnd: 1}},
			{Key: "terrorist_content", AppealCounts: moderation.AppealCounts{Received: 2, Upheld: 1, Reinstated: 1, OpenAtEnd: 1,
				TimeToResolution: moderation.ResolutionTime{Resolved: 2, Median: 2 * time.Hour}}},
		},
	}
	return fx
}
