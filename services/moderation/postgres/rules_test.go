package postgres_test

import (
	"context"
	"errors"
	"fmt"
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
