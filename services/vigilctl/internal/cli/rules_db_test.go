package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// queuePosts enqueues posts of testdata/posts.jsonl as flagged by the
// given rules (rule id → version) and records decisions (post → action).
func queuePosts(t *testing.T, s *moderationtest.Schema, flags map[string][]moderation.Match, decisions map[string]string) {
	t.Helper()
	ctx := context.Background()
	posts := map[string]moderation.Post{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, "testdata/posts.jsonl")), "\n") {
		if p, err := moderation.DecodePost([]byte(line)); err == nil {
			posts[p.ID] = p
		}
	}
	now := time.Now().UTC()
	for id, ms := range flags {
		err := postgres.NewQueue(s.Pool).Enqueue(ctx, []moderation.Flag{{Post: posts[id], Verdict: moderation.Verdict{PostID: id, Matches: ms}, FlaggedAt: now.Add(-time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	var user int64
	if err := s.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, roles, password_changed_at, created_at)
VALUES ('mod', 'x', '{moderator}', now(), now()) RETURNING id`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	for id, action := range decisions {
		if _, err := s.Pool.Exec(ctx, `
INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
SELECT id, $2, $3, 'test', $4, $4 FROM review_items WHERE post_id = $1`, id, user, action, now); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRulesPublishHistoryRollback(t *testing.T) {
	s := moderationtest.TestSchema(t)
	db := []string{"--database-url", s.URL}
	run := func(args ...string) (string, string, error) {
		return runCLI(t, "", append(append([]string{"rules"}, args[0]), append(db, args[1:]...)...)...)
	}
	out, errOut, err := run("publish", "--author", "ann", "-m", "first", "testdata/rules/valid")
	if err != nil || !strings.HasPrefix(out, "published rules version 1 (3 rules in 2 files") {
		t.Fatalf("publish: %q %q %v", out, errOut, err)
	}
	// An invalid set is not published; its problems are listed.
	out, errOut, err = run("publish", "--author", "ann", "-m", "bad", "testdata/rules/invalid")
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, "testdata/rules/invalid/") || !strings.Contains(errOut, "nothing published") {
		t.Fatalf("publish invalid: %q %q %v", out, errOut, err)
	}
	if _, _, err := run("publish", "--author", "ann", "testdata/rules/valid"); err == nil {
		t.Error("publish without -m accepted")
	}
	out, _, err = run("rollback", "--author", "bob", "1")
	if err != nil || out != "published rules version 2 (the rules of version 1)\n" {
		t.Fatalf("rollback: %q %v", out, err)
	}
	if _, _, err := run("rollback", "--author", "bob", "7"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("rollback to a missing version: %v", err)
	}
	out, _, err = run("history")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") || !strings.Contains(lines[1], "[rollback of 1]") ||
		!strings.Contains(lines[2], "ann") || !strings.Contains(lines[2], "first") {
		t.Fatalf("history: %q %v", out, err)
	}
}

func TestRulesBacktestAgainstPublishedWithPastDecisions(t *testing.T) {
	s := moderationtest.TestSchema(t)
	db := []string{"--database-url", s.URL}
	// Nothing published yet: say so and what to do instead.
	_, _, err := runCLI(t, "", append([]string{"rules", "backtest", "--rules", "testdata/rules/valid"}, append(db, "testdata/posts.jsonl")...)...)
	if err == nil || err.Error() != "rules backtest: no rule version is published yet: compare with a directory (--against DIR)" {
		t.Fatalf("backtest with nothing published: %v", err)
	}
	if _, _, err := runCLI(t, "", append([]string{"rules", "publish", "--author", "ann", "-m", "v1"}, append(db, "testdata/rules/valid")...)...); err != nil {
		t.Fatal(err)
	}
	// The workers flagged p1 (removed) and p3 (judged no violation).
	queuePosts(t, s, map[string][]moderation.Match{
		"p1": {{RuleID: "threat.attack-call", RuleVersion: 1, Category: "violent_threat", Severity: moderation.SeverityHigh}},
		"p3": {{RuleID: "spam.crypto", RuleVersion: 1, Category: "spam", Severity: moderation.SeverityLow}},
	}, map[string]string{"p1": "remove", "p3": "no_violation"})

	// The candidate drops spam.crypto and widens the threat rule.
	cand := t.TempDir()
	os.WriteFile(filepath.Join(cand, "threats.yaml"), []byte(`rules:
  - id: threat.attack-call
    description: Calls to carry out an attack
    category: violent_threat
    severity: high
    keywords: [attack the, bomb the, weather]
`), 0o644)
	os.WriteFile(filepath.Join(cand, "hate.yml"), []byte(readFile(t, "testdata/rules/valid/hate.yml")), 0o644)

	out, errOut, err := runCLI(t, "", append([]string{"rules", "backtest", "--rules", cand, "--json"}, append(db, "testdata/posts.jsonl")...)...)
	if err != nil {
		t.Fatalf("backtest: %v\n%s", err, errOut)
	}
	var rep struct {
		Baseline string
		Posts    int
		Decided  int
		Rules    []struct {
			Rule            string
			Changed         bool
			NewlyFlagged    int `json:"newly_flagged"`
			NoLongerFlagged int `json:"no_longer_flagged"`
			Before, After   struct {
				Flagged, Violation int
				NoViolation        int      `json:"no_violation"`
				Precision          *float64 `json:"precision"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Baseline != "published version 1" || rep.Posts != 5 || rep.Decided != 2 {
		t.Fatalf("report %s", out)
	}
	got := map[string]string{}
	for _, r := range rep.Rules {
		p := func(x *float64) string {
			if x == nil {
				return "-"
			}
			return jsonNum(*x)
		}
		got[r.Rule] = strings.Join([]string{boolStr(r.Changed), itoa(r.NewlyFlagged), itoa(r.NoLongerFlagged), p(r.Before.Precision), p(r.After.Precision)}, " ")
	}
	want := map[string]string{
		"threat.attack-call": "changed 1 0 1 1", // p2 newly flagged, undecided; p1 removed
		"spam.crypto":        "changed 0 1 0 -", // p3 was a false positive
		"hate.dehumanise":    "same 0 0 - -",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q (all %v)", k, got[k], w, got)
		}
	}
	// Plain summary when piped.
	out, _, err = runCLI(t, "", append([]string{"rules", "backtest", "--rules", cand}, append(db, "testdata/posts.jsonl")...)...)
	if err != nil || !strings.Contains(out, "flagged 3 -> 3: 1 newly flagged, 1 no longer flagged; 2 flagged posts have past decisions") ||
		!strings.Contains(out, "*spam.crypto") || !strings.Contains(out, `p3 [no_violation] "FREE BITCOIN`) {
		t.Errorf("text report: %v\n%s", err, out)
	}

	// Per-rule precision of the published version from the same decisions.
	out, _, err = runCLI(t, "", append([]string{"rules", "precision", "--min-decided", "1"}, db...)...)
	if err != nil || !strings.Contains(out, "LOW") || !regexpLine(out, `^spam\.crypto\s+1\s+1\s+0\s+1\s+0\.00  LOW`) ||
		!regexpLine(out, `^threat\.attack-call\s+1\s+1\s+1\s+0\s+1\.00\s`) {
		t.Errorf("precision: %v\n%s", err, out)
	}
}

func TestRulesBacktestFromKafkaWithoutGroup(t *testing.T) {
	brokers := moderationtest.Kafka(t)
	topic := moderationtest.Topic(t, brokers, "bt_", 2)
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, Balancer: &kafkago.Hash{}, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafkago.RequireAll}
	defer w.Close()
	var msgs []kafkago.Message
	for i, line := range strings.Split(strings.TrimSpace(readFile(t, "testdata/posts.jsonl")), "\n") {
		if strings.TrimSpace(line) != "" {
			msgs = append(msgs, kafkago.Message{Key: []byte{byte('a' + i)}, Value: []byte(line)})
		}
	}
	msgs = append(msgs, kafkago.Message{Key: []byte("bad"), Value: []byte("not a post")})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for range 40 {
		if err = w.WriteMessages(ctx, msgs...); !errors.Is(err, kafkago.UnknownTopicOrPartition) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "rules", "backtest", "--rules", "testdata/rules/valid", "--against", "testdata/rules/valid",
		"--decisions", "none", "--kafka-brokers", strings.Join(brokers, ","), "--json", "kafka:"+topic)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var rep struct {
		Posts, Skipped, FlaggedBefore int
		FlaggedAfter                  int `json:"flagged_after"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Posts != 5 || rep.Skipped != 1 || rep.FlaggedAfter != 3 {
		t.Fatalf("report %+v %v\n%s", rep, err, out)
	}
	// --from past the end of every partition reads nothing.
	out, _, err = runCLI(t, "", "rules", "backtest", "--rules", "testdata/rules/valid", "--against", "testdata/rules/valid",
		"--decisions", "none", "--kafka-brokers", strings.Join(brokers, ","), "--from", "1000", "--json", "kafka:"+topic)
	if err != nil || !strings.Contains(out, `"posts": 0`) {
		t.Errorf("from 1000: %v\n%s", err, out)
	}
}
