package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func ruleFiles(content string) []moderation.RuleFile {
	return []moderation.RuleFile{{Name: "a.yaml", Data: []byte(content)}, {Name: "sub/b.yaml", Data: []byte("rules: []\n")}}
}

func TestRuleStorePublishHistoryRollback(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewRuleStore(s.Pool, nil)

	if _, err := store.Latest(ctx); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("latest of nothing: %v, want ErrNotFound", err)
	}
	if n, err := store.LatestVersion(ctx); err != nil || n != 0 {
		t.Fatalf("latest version of nothing: %d %v", n, err)
	}
	if _, err := store.Publish(ctx, postgres.PublishRequest{Author: "ann"}); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("publishing no files: %v, want ErrInvalid", err)
	}

	// Listen before publishing: the notification carries the version.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	notified := make(chan int64, 10)
	go func() {
		_ = store.Listen(lctx, func() { close(listening) }, func(v int64) { notified <- v })
	}()
	<-listening

	v1, err := store.Publish(ctx, postgres.PublishRequest{Author: "ann", Message: "first", Files: ruleFiles("one"), Rules: 3})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := store.Publish(ctx, postgres.PublishRequest{Author: "bob", Message: "second", Files: ruleFiles("two"), Rules: 4})
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v2.Version != 2 || v1.SHA256 == v2.SHA256 || v1.SHA256 != moderation.RulesDigest(ruleFiles("one")) {
		t.Fatalf("versions %+v %+v", v1, v2)
	}
	for _, want := range []int64{1, 2} {
		select {
		case got := <-notified:
			if got != want {
				t.Fatalf("notified %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification for version %d", want)
		}
	}

	rb, err := store.Rollback(ctx, 1, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	if rb.Version != 3 || rb.RollbackOf != 1 || rb.SHA256 != v1.SHA256 || rb.Rules != 3 || rb.Message != "rollback to version 1" {
		t.Fatalf("rollback %+v", rb)
	}
	latest, err := store.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != 3 || len(latest.Files) != 2 || string(latest.Files[0].Data) != "one" || latest.Files[1].Name != "sub/b.yaml" || latest.Author != "carol" {
		t.Fatalf("latest %+v", latest)
	}
	if _, err := store.Rollback(ctx, 42, "carol", ""); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("rollback to a missing version: %v, want ErrNotFound", err)
	}
	hist, err := store.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Version != 3 || hist[2].Author != "ann" || hist[0].RollbackOf != 1 || hist[0].Files != nil {
		t.Fatalf("history %+v", hist)
	}
	if h, _ := store.History(ctx, 1); len(h) != 1 {
		t.Errorf("history limit 1: %d versions", len(h))
	}

	// Versions are immutable.
	for _, q := range []string{
		`UPDATE rule_versions SET message = 'x' WHERE version = 1`,
		`DELETE FROM rule_versions WHERE version = 1`,
		`UPDATE rule_files SET content = 'x' WHERE version = 1`,
		`DELETE FROM rule_files WHERE version = 1`,
	} {
		if _, err := s.Pool.Exec(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	// Each publish is audited, in the chain.
	var actions []string
	rows, err := s.Pool.Query(ctx, `SELECT action || ' ' || subject || ' ' || actor FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if fmt.Sprint(actions) != "[rule_publish rules:1 ann rule_publish rules:2 bob rule_rollback rules:3 carol]" {
		t.Errorf("audit events %v", actions)
	}
	if brk, _, err := postgres.VerifyAudit(ctx, s.Pool); err != nil || brk != nil {
		t.Errorf("audit chain: %v %+v", err, brk)
	}
}

func TestRuleStoreConcurrentPublishesNumberWithoutGaps(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewRuleStore(s.Pool, nil)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := store.Publish(ctx, postgres.PublishRequest{Author: "ann", Files: ruleFiles(fmt.Sprint(i))})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	hist, err := store.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range hist {
		if v.Version != int64(8-i) {
			t.Fatalf("history %d: version %d, want %d", i, v.Version, 8-i)
		}
	}
}

// flagItem queues one post flagged by the given rule versions and returns
// its item id.
func flagItem(t *testing.T, s *moderationtest.Schema, post string, flagged time.Time, matches ...moderation.Match) int64 {
	t.Helper()
	ctx := context.Background()
	err := postgres.NewQueue(s.Pool).Enqueue(ctx, []moderation.Flag{{
		Post:      moderation.Post{V: 1, ID: post, Platform: "test", Author: moderation.Author{ID: "a"}, Text: "t", CreatedAt: flagged},
		Verdict:   moderation.Verdict{PostID: post, Matches: matches},
		FlaggedAt: flagged,
	}})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := s.Pool.QueryRow(ctx, `SELECT id FROM review_items WHERE post_id = $1`, post).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// decide appends a decision row, returning its id.
func decide(t *testing.T, s *moderationtest.Schema, user, item int64, action string, at time.Time, reverses *int64) int64 {
	t.Helper()
	var id int64
	err := s.Pool.QueryRow(context.Background(), `
INSERT INTO decisions (item_id, actor_id, action, reason_code, reverses, created_at, sla_deadline)
VALUES ($1, $2, $3, 'test', $4, $5, $5) RETURNING id`, item, user, action, reverses, at).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRulePrecision(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	var user int64
	if err := s.Pool.QueryRow(ctx, `
INSERT INTO users (username, password_hash, roles, password_changed_at, created_at)
VALUES ('mod', 'x', '{moderator}', now(), now()) RETURNING id`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	kw := func(rule string, v int64) moderation.Match {
		return moderation.Match{RuleID: rule, RuleVersion: v, Category: "hate", Severity: moderation.SeverityMedium,
			Spans: []moderation.Span{{Start: 0, End: 1}}}
	}
	bank := moderation.Match{Bank: "gifct", EntryID: "e1", HashType: "pdq", Category: "terrorist_content", Severity: moderation.SeverityCritical, MediaID: "m1"}

	// r1 v1: four items: removed after 10 min, no_violation after 20 min,
	// removed then reversed to no_violation (first final after 30 min),
	// and one escalated only.
	i1 := flagItem(t, s, "p1", t0, kw("r1", 1), bank)
	decide(t, s, user, i1, "remove", t0.Add(10*time.Minute), nil)
	i2 := flagItem(t, s, "p2", t0, kw("r1", 1))
	decide(t, s, user, i2, "no_violation", t0.Add(20*time.Minute), nil)
	i3 := flagItem(t, s, "p3", t0, kw("r1", 1))
	d := decide(t, s, user, i3, "remove", t0.Add(30*time.Minute), nil)
	decide(t, s, user, i3, "no_violation", t0.Add(40*time.Minute), &d)
	i4 := flagItem(t, s, "p4", t0, kw("r1", 1))
	decide(t, s, user, i4, "escalate", t0.Add(5*time.Minute), nil)
	// r1 v2: one item reported; one pending.
	i5 := flagItem(t, s, "p5", t0.Add(time.Hour), kw("r1", 2))
	decide(t, s, user, i5, "report", t0.Add(time.Hour+time.Minute), nil)
	flagItem(t, s, "p6", t0.Add(time.Hour), kw("r1", 2), kw("r2", 2))

	got, err := postgres.RulePrecision(ctx, s.Pool, postgres.PrecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []moderation.RulePrecision{
		{RuleID: "bank:gifct", RuleVersion: 0, Flagged: 1, Removed: 1, MedianDecision: 10 * time.Minute},
		{RuleID: "r1", RuleVersion: 1, Flagged: 4, Removed: 1, NoViolation: 2, MedianDecision: 20 * time.Minute},
		{RuleID: "r1", RuleVersion: 2, Flagged: 2, Removed: 1, MedianDecision: time.Minute},
		{RuleID: "r2", RuleVersion: 2, Flagged: 1},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("precision\n got %+v\nwant %+v", got, want)
	}
	if p, ok := got[1].Precision(); !ok || p < 0.333 || p > 0.334 {
		t.Errorf("r1 v1 precision %v %v", p, ok)
	}
	// Filters.
	got, err = postgres.RulePrecision(ctx, s.Pool, postgres.PrecisionFilter{Since: t0.Add(30 * time.Minute), Rule: "r1"})
	if err != nil || len(got) != 1 || got[0].RuleVersion != 2 {
		t.Fatalf("filtered: %+v %v", got, err)
	}
	// Past decisions by post, for backtests.
	outcomes, err := postgres.PostOutcomes(ctx, s.Pool, []string{"p1", "p3", "p4", "p6", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outcomes) != "map[p1:remove p3:no_violation p4:escalate]" {
		t.Errorf("outcomes %v", outcomes)
	}
}

// TestBankEntryPrecision: per entry, an entry that flags mostly harmless
// posts (a meme in a shared list) stands out among good ones, which the
// per-bank row averages away; outcomes are latest decisions (reversals
// count), an item matching one entry twice counts once, and the filters
// narrow by time, bank and evidence.
func TestBankEntryPrecision(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	var user int64
	if err := s.Pool.QueryRow(ctx, `
INSERT INTO users (username, password_hash, roles, password_changed_at, created_at)
VALUES ('mod', 'x', '{moderator}', now(), now()) RETURNING id`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	hit := func(bank, entry, media string, dist int) moderation.Match {
		return moderation.Match{Bank: bank, EntryID: entry, HashType: "pdq", Distance: dist, MediaID: media,
			Category: "terrorist_content", Severity: moderation.SeverityCritical}
	}
	n := 0
	flag := func(at time.Time, actions []string, ms ...moderation.Match) int64 {
		n++
		id := flagItem(t, s, fmt.Sprintf("p%d", n), at, ms...)
		for i, a := range actions {
			decide(t, s, user, id, a, at.Add(time.Duration(i+1)*10*time.Minute), nil)
		}
		return id
	}
	// "meme": five items, four judged harmless, one removed; one of them
	// matched through two media (counted once).
	for _, a := range []string{"no_violation", "no_violation", "no_violation", "remove"} {
		flag(t0, []string{a}, hit("shared", "meme", "m1", 0))
	}
	flag(t0, []string{"no_violation"}, hit("shared", "meme", "m1", 0), hit("shared", "meme", "m2", 2))
	// "good": three removed (one reported), one escalated only.
	flag(t0, []string{"remove"}, hit("shared", "good", "m1", 3))
	flag(t0, []string{"report"}, hit("shared", "good", "m1", 5))
	flag(t0, []string{"remove"}, hit("shared", "good", "m1", 4))
	flag(t0, []string{"escalate"}, hit("shared", "good", "m1", 6))
	// "flipped": removed then reversed to no_violation, and the other
	// way round: each counts by its latest decision.
	i := flag(t0, nil, hit("shared", "flipped", "m1", 1))
	d := decide(t, s, user, i, "remove", t0.Add(10*time.Minute), nil)
	decide(t, s, user, i, "no_violation", t0.Add(time.Hour), &d)
	i = flag(t0, nil, hit("shared", "flipped", "m1", 1))
	d = decide(t, s, user, i, "no_violation", t0.Add(20*time.Minute), nil)
	decide(t, s, user, i, "remove", t0.Add(time.Hour), &d)
	i = flag(t0, nil, hit("shared", "flipped", "m1", 1))
	d = decide(t, s, user, i, "remove", t0.Add(30*time.Minute), nil)
	decide(t, s, user, i, "no_violation", t0.Add(time.Hour), &d)
	// "pending": nothing decided; another bank; and an old meme match
	// outside the window used below.
	flag(t0, nil, hit("shared", "pending", "m1", 7))
	flag(t0, []string{"remove"}, hit("other", "x", "m1", 0))
	flag(t0.Add(-48*time.Hour), []string{"no_violation"}, hit("shared", "meme", "m1", 0))

	got, err := postgres.BankEntryPrecision(ctx, s.Pool, postgres.EntryPrecisionFilter{Since: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e := func(bank, entry string, flagged, removed, nv int64, med time.Duration, dist float64) moderation.BankEntryPrecision {
		return moderation.BankEntryPrecision{Bank: bank, EntryID: entry, HashType: "pdq", Flagged: flagged, Removed: removed,
			NoViolation: nv, MedianDecision: med, MedianDistance: dist}
	}
	want := []moderation.BankEntryPrecision{
		e("shared", "meme", 5, 1, 4, 10*time.Minute, 0),
		e("shared", "flipped", 3, 1, 2, 20*time.Minute, 1),
		e("shared", "good", 4, 3, 0, 10*time.Minute, 4.5),
		e("other", "x", 1, 1, 0, 10*time.Minute, 0),
		e("shared", "pending", 1, 0, 0, 0, 7),
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("entry precision\n got %+v\nwant %+v", got, want)
	}
	if p, ok := got[0].Precision(); !ok || p != 0.2 {
		t.Errorf("meme precision %v %v", p, ok)
	}
	// Per bank, the same items blend the meme entry with the good ones.
	banks, err := postgres.RulePrecision(ctx, s.Pool, postgres.PrecisionFilter{Since: t0.Add(-time.Hour), Rule: "bank:shared"})
	if err != nil || len(banks) != 1 || banks[0].Flagged != 13 || banks[0].Removed != 5 || banks[0].NoViolation != 6 {
		t.Fatalf("bank precision %+v %v", banks, err)
	}

	for _, tc := range []struct {
		name string
		f    postgres.EntryPrecisionFilter
		want string
	}{
		{"all time counts the old meme item", postgres.EntryPrecisionFilter{Bank: "shared", MinDecided: 6}, "meme:6"},
		{"one bank", postgres.EntryPrecisionFilter{Since: t0, Bank: "other"}, "x:1"},
		{"min decided", postgres.EntryPrecisionFilter{Since: t0, MinDecided: 3}, "meme:5 flipped:3 good:4"},
		{"min decided above all", postgres.EntryPrecisionFilter{Since: t0, MinDecided: 100}, ""},
		{"limit keeps the worst", postgres.EntryPrecisionFilter{Since: t0, Limit: 2}, "meme:5 flipped:3"},
		{"unknown bank", postgres.EntryPrecisionFilter{Bank: "nope"}, ""},
		{"window after every flag", postgres.EntryPrecisionFilter{Since: t0.Add(time.Minute)}, ""},
	} {
		got, err := postgres.BankEntryPrecision(ctx, s.Pool, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, p := range got {
			ids = append(ids, fmt.Sprintf("%s:%d", p.EntryID, p.Flagged))
		}
		if s := strings.Join(ids, " "); s != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, s, tc.want)
		}
	}
}
