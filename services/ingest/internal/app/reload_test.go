package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

const (
	rulesV1 = `rules:
  - id: r.alpha
    description: alpha
    category: spam
    severity: low
    keywords: [alpha]
`
	rulesV2 = rulesV1 + `  - id: r.beta
    description: beta
    category: spam
    severity: medium
    keywords: [beta]
`
	// A version the workers cannot compile (unknown severity): published
	// behind the CLI's back, as if by an older vigilctl.
	rulesBroken = `rules:
  - id: r.broken
    description: broken
    category: spam
    severity: apocalyptic
    keywords: [alpha]
`
)

func publish(t *testing.T, store *postgres.RuleStore, rules, msg string) int64 {
	t.Helper()
	v, err := store.Publish(context.Background(), postgres.PublishRequest{
		Author: "reload-test", Message: msg, Rules: strings.Count(rules, "- id:"),
		Files: []moderation.RuleFile{{Name: "test.yaml", Data: []byte(rules)}},
	})
	if err != nil {
		t.Fatalf("publishing %s: %v", msg, err)
	}
	return v.Version
}

// postMsgs returns posts prefix-start … prefix-(start+n-1); every one says
// alpha and beta, so version 1 flags it once and version 2 twice.
func postMsgs(prefix string, start, n int) []kafkago.Message {
	var out []kafkago.Message
	for i := start; i < start+n; i++ {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		p := moderation.Post{V: 1, ID: id, Platform: "test", Author: moderation.Author{ID: "a"},
			Text: fmt.Sprintf("post %d: alpha and beta", i), CreatedAt: time.Now().UTC()}
		b, _ := json.Marshal(p)
		out = append(out, kafkago.Message{Key: []byte(id), Value: b})
	}
	return out
}

// readyInfo returns /readyz's info.rule_version.
func readyInfo(t *testing.T, addr string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var body struct {
		Info map[string]string `json:"info"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	return body.Info["rule_version"]
}

type matched struct {
	post      string
	partition int
	offset    int64
	rules     string // sorted rule ids
	versions  []int64
}

func loadMatched(t *testing.T, e *env) map[string]matched {
	t.Helper()
	rows, err := e.schema.Pool.Query(context.Background(), `
SELECT i.post_id, i.source_partition, i.source_offset, m.rule_id, m.rule_version
FROM review_items i JOIN review_matches m ON m.item_id = i.id ORDER BY i.post_id, m.rule_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]matched{}
	for rows.Next() {
		var id, rule string
		var part int
		var off, ver int64
		if err := rows.Scan(&id, &part, &off, &rule, &ver); err != nil {
			t.Fatal(err)
		}
		m := out[id]
		m.post, m.partition, m.offset = id, part, off
		if m.rules != "" {
			m.rules += ","
		}
		m.rules += rule
		m.versions = append(m.versions, ver)
		out[id] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func waitItems(t *testing.T, e *env, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for itemCount(t, e.schema) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue has %d items after %v, want %d", itemCount(t, e.schema), timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitVersion(t *testing.T, w *worker, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for counter(t, w.reg, "vigil_rules_active_version") != float64(want) || readyInfo(t, w.addr) != fmt.Sprint(want) {
		if time.Now().After(deadline) {
			t.Fatalf("worker on rule version %v (readyz %q) after %v, want %d",
				counter(t, w.reg, "vigil_rules_active_version"), readyInfo(t, w.addr), timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRulesHotReload publishes new rule versions while the real worker
// consumes: every post is queued exactly once, all matches of a post come
// from one version, versions never go back within a partition, posts sent
// after the switch use the new version, and a version that does not
// compile leaves the last good one active.
func TestRulesHotReload(t *testing.T) {
	e := newEnv(t, 2)
	store := postgres.NewRuleStore(e.schema.Pool, nil)
	v1 := publish(t, store, rulesV1, "v1")

	w := startWorker(t, e.config())
	waitVersion(t, w, v1, 30*time.Second)

	// Phase A: all matched by version 1.
	produce(t, e.brokers, e.topic, postMsgs("a", 0, 100), 0)
	waitItems(t, e, 100, 60*time.Second)

	// Phase B: publish version 2 while posts stream in.
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		wr := writer(e.brokers, e.topic)
		defer wr.Close()
		for i := 0; i < 400; i += 10 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := wr.WriteMessages(ctx, postMsgs("b", i, 10)...)
			cancel()
			if err != nil {
				t.Errorf("producing: %v", err)
				return
			}
			sent.Store(int64(i + 10))
			time.Sleep(25 * time.Millisecond)
		}
	}()
	for sent.Load() < 100 {
		time.Sleep(10 * time.Millisecond)
	}
	v2 := publish(t, store, rulesV2, "v2")
	published := time.Now()
	waitVersion(t, w, v2, 15*time.Second)
	switchedAfter := sent.Load() // posts b-N with N >= this were sent after the switch
	t.Logf("switched to version %d %v after publishing, %d of 400 phase-B posts sent by then", v2, time.Since(published).Round(time.Millisecond), switchedAfter)
	<-done
	waitItems(t, e, 500, 60*time.Second)

	// Phase C: a broken version is refused; the worker stays on version 2.
	errorsBefore := counter(t, w.reg, "vigil_rules_reloads_total", "result", "error")
	publish(t, store, rulesBroken, "broken")
	deadline := time.Now().Add(15 * time.Second)
	for counter(t, w.reg, "vigil_rules_reloads_total", "result", "error") == errorsBefore {
		if time.Now().After(deadline) {
			t.Fatal("broken version was not noticed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	produce(t, e.brokers, e.topic, postMsgs("c", 0, 20), 0)
	waitItems(t, e, 520, 60*time.Second)
	if v := counter(t, w.reg, "vigil_rules_active_version"); v != float64(v2) {
		t.Fatalf("active version %v after a broken publish, want %d", v, v2)
	}

	// Phase D: a rollback to version 1 is a new version with v1's rules.
	v4, err := store.Rollback(context.Background(), v1, "reload-test", "")
	if err != nil {
		t.Fatal(err)
	}
	waitVersion(t, w, v4.Version, 15*time.Second)
	produce(t, e.brokers, e.topic, postMsgs("d", 0, 20), 0)
	waitItems(t, e, 540, 60*time.Second)

	got := loadMatched(t, e)
	if len(got) != 540 {
		t.Fatalf("%d posts queued, want 540", len(got))
	}
	// Per item: one version, and exactly that version's rules.
	wantRules := map[int64]string{v1: "r.alpha", v2: "r.alpha,r.beta", v4.Version: "r.alpha"}
	version := map[string]int64{}
	for id, m := range got {
		for _, v := range m.versions {
			if v != m.versions[0] {
				t.Fatalf("%s matched by versions %v: processed twice or mixed", id, m.versions)
			}
		}
		v := m.versions[0]
		if wantRules[v] != m.rules {
			t.Fatalf("%s: rules %s from version %d, want %s", id, m.rules, v, wantRules[v])
		}
		version[id] = v
	}
	var n1, n2 int
	for id, v := range version {
		var idx int
		switch {
		case strings.HasPrefix(id, "a-"):
			if v != v1 {
				t.Errorf("%s: version %d, want %d", id, v, v1)
			}
		case strings.HasPrefix(id, "b-"):
			fmt.Sscanf(id, "b-%d", &idx)
			if int64(idx) >= switchedAfter && v != v2 {
				t.Errorf("%s sent after the switch: version %d, want %d", id, v, v2)
			}
			if v == v1 {
				n1++
			} else {
				n2++
			}
		case strings.HasPrefix(id, "c-"):
			if v != v2 {
				t.Errorf("%s: version %d, want %d (the last good)", id, v, v2)
			}
		case strings.HasPrefix(id, "d-"):
			if v != v4.Version {
				t.Errorf("%s: version %d, want %d", id, v, v4.Version)
			}
		}
	}
	t.Logf("phase B: %d posts by version %d, %d by version %d", n1, v1, n2, v2)
	// Within a partition, offsets in order never go back to an older version.
	byPart := map[int][]matched{}
	for _, m := range got {
		byPart[m.partition] = append(byPart[m.partition], m)
	}
	for p, ms := range byPart {
		sort.Slice(ms, func(i, j int) bool { return ms[i].offset < ms[j].offset })
		for i := 1; i < len(ms); i++ {
			a, b := version[ms[i-1].post], version[ms[i].post]
			// v4 (the rollback) is newer than v2 although its rules are v1's.
			if b < a {
				t.Fatalf("partition %d: offset %d (%s) has version %d after offset %d (%s) with %d",
					p, ms[i].offset, ms[i].post, b, ms[i-1].offset, ms[i-1].post, a)
			}
		}
	}
}
