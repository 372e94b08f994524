package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// TestBanksPrecision: the entry of a shared list that flags mostly
// harmless posts is marked LOW with what to do about it; an entry with
// too few decisions is not; the filters and JSON lines work.
func TestBanksPrecision(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	// entry: (removed, no_violation) items, all flagged an hour ago.
	flagged := time.Now().Add(-time.Hour)
	for _, e := range []struct {
		entry       string
		removed, nv int
	}{{"meme", 3, 22}, {"good", 21, 0}, {"few\u202e", 0, 2}} {
		_, err := s.Pool.Exec(ctx, `
WITH u AS (
    INSERT INTO users (username, password_hash, roles, password_changed_at, created_at)
    VALUES ('mod-' || md5($1), 'x', '{moderator}', now(), now()) RETURNING id
), i AS (
    INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
    SELECT $1 || '-' || g, 'test', 'a', 't', 'en', $2, $2, 'terrorist_content', 4, $2::timestamptz + interval '1 hour'
    FROM generate_series(1, $3::int + $4::int) g
    RETURNING id, post_id
), m AS (
    INSERT INTO review_matches (item_id, match_key, category, severity, bank, entry_id, hash_type, distance, media_id)
    SELECT id, 'bank:shared:' || $1 || ':m1', 'terrorist_content', 4, 'shared', $1, 'pdq', 2, 'm1' FROM i
)
INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
SELECT i.id, u.id, CASE WHEN split_part(i.post_id, '-', 2)::int <= $3 THEN 'remove' ELSE 'no_violation' END,
    'TC-1', $2::timestamptz + interval '5 minutes', $2::timestamptz + interval '1 hour'
FROM i, u`, e.entry, flagged, e.removed, e.nv)
		if err != nil {
			t.Fatal(err)
		}
	}
	db := []string{"--database-url", s.URL}

	out, errOut, err := runCLI(t, "", append([]string{"banks", "precision"}, db...)...)
	if err != nil {
		t.Fatalf("banks precision: %v\n%s", err, errOut)
	}
	if !regexpLine(out, `^shared\s+meme\s+25\s+3\s+22\s+0\.12  LOW\s+5m0s\s+2\s*$`) ||
		!regexpLine(out, `^shared\s+"few\\u202e"\s+2\s+0\s+2\s+0\.00\s+5m0s`) ||
		!regexpLine(out, `^shared\s+good\s+21\s+21\s+0\s+1\.00\s+5m0s`) ||
		strings.Count(out, "LOW") != 1 ||
		!strings.Contains(out, "1 entry below precision 0.50 (with at least 20 decided items)") ||
		!strings.Contains(out, "'vigilctl banks quarantine -m REASON BANK ENTRY'") {
		t.Errorf("banks precision:\n%s", out)
	}
	// Worst first (--min-decided leaves out the entries with little
	// evidence, whose precision is often the extreme).
	if strings.Index(out, "few") > strings.Index(out, "meme") || strings.Index(out, "meme") > strings.Index(out, "good") {
		t.Errorf("order:\n%s", out)
	}

	out, _, err = runCLI(t, "", append([]string{"banks", "precision", "--min-decided", "3", "--threshold", "0.1"}, db...)...)
	if err != nil || strings.Contains(out, "few") || strings.Contains(out, "LOW") || !strings.Contains(out, "meme") {
		t.Errorf("--min-decided 3 --threshold 0.1: %v\n%s", err, out)
	}
	out, errOut, err = runCLI(t, "", append([]string{"banks", "precision", "--bank", "other"}, db...)...)
	if err != nil || out != "" || !strings.Contains(errOut, "no bank entries") {
		t.Errorf("--bank other: %v %q %q", err, out, errOut)
	}

	out, _, err = runCLI(t, "", append([]string{"banks", "precision", "--json", "--low-min-decided", "2"}, db...)...)
	if err != nil {
		t.Fatal(err)
	}
	var low []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Bank      string   `json:"bank"`
			Entry     string   `json:"entry"`
			Decided   int64    `json:"decided"`
			Precision *float64 `json:"precision"`
			Low       bool     `json:"low"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r.Low {
			low = append(low, r.Entry)
		}
	}
	if strings.Join(low, ",") != "few\u202e,meme" {
		t.Errorf("low with --low-min-decided 2: %q\n%s", low, out)
	}
}

// TestBanksPrecisionRefused: bad flags and stray arguments are refused
// before any connection.
func TestBanksPrecisionRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--threshold", "2"}, {"--low-min-decided", "-1"}, {"--min-decided", "-1"}, {"--bank", "Shared"}, {"shared"},
	} {
		_, _, err := runCLI(t, "", append(append([]string{"banks", "precision"}, args...), "--database-url", "postgres://nobody@127.0.0.1:1/none")...)
		if err == nil || !strings.Contains(err.Error(), "banks precision: ") {
			t.Errorf("%v: %v, want refused", args, err)
		}
	}
}
