package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func TestTmpProbe(t *testing.T) {
	if os.Getenv("VIGIL_PROBE") != "1" {
		t.Skip()
	}
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	seed(t, s.Pool, 100000, time.Now().Add(-time.Hour), "")
	s.Pool.Exec(ctx, "ANALYZE review_items")
	reviews := postgres.NewReviews(s.Pool, postgres.ReviewOptions{})
	users := postgres.NewUsers(s.Pool, postgres.UserOptions{Password: cheap})
	u, _ := users.Create(ctx, "bench", "probe", "bench-password-long", []moderation.Role{moderation.RoleModerator})
	in := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	var tc, td time.Duration
	n := 500
	for i := 0; i < n; i++ {
		t0 := time.Now()
		got, err := reviews.Claim(ctx, u, moderation.ClaimFilter{Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := reviews.Decide(ctx, u, false, got[0].ID, in); err != nil {
			t.Fatal(err)
		}
		tc += t1.Sub(t0)
		td += time.Since(t1)
	}
	t.Log(postgres.GroupCommitPhases(reviews))
	t.Logf("claim %.3f ms, decide %.3f ms", float64(tc)/float64(n)/1e6, float64(td)/float64(n)/1e6)
	var tb time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		var x int
		if err := s.Pool.QueryRow(ctx, `SELECT 1`).Scan(&x); err != nil {
			t.Fatal(err)
		}
		tb += time.Since(t0)
	}
	t.Logf("select 1 %.3f ms", float64(tb)/float64(n)/1e6)
	tb = 0
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := s.Pool.Exec(ctx, `SELECT audit_append(now(), 'x', 'claim', 'item:1', '{"items":[1]}')`); err != nil {
			t.Fatal(err)
		}
		tb += time.Since(t0)
	}
	t.Logf("audit_append alone (own txn) %.3f ms", float64(tb)/float64(n)/1e6)
	claim := `EXPLAIN (ANALYZE, BUFFERS)
WITH picked AS (
    SELECT id FROM review_items WHERE status IN ('pending', 'escalated') AND queue = 'default'
    ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
upd AS (
    UPDATE review_items r SET status = 'claimed', claimed_by = 1, claimed_at = now(),
        lease_expires_at = now()
    FROM picked WHERE r.id = picked.id
    RETURNING r.*),
aud AS (
    SELECT audit_append(now(), 'probe', 'claim',
        CASE WHEN count(*) = 1 THEN 'item:' || min(id) ELSE 'items' END,
        jsonb_build_object('items', jsonb_agg(id ORDER BY id), 'queue', 'default', 'lease_expires_at', 'x')) AS seq
    FROM upd HAVING count(*) > 0)
SELECT upd.id, ` + "COALESCE((SELECT jsonb_agg(m.rule_id) FROM review_matches m WHERE m.item_id = upd.id), '[]'), COALESCE((SELECT jsonb_agg(v.media_id) FROM review_media v WHERE v.item_id = upd.id), '[]')" + `, (SELECT seq FROM aud) FROM upd`
	for _, q := range []string{claim, claim, `EXPLAIN ANALYZE SELECT audit_append(now(), 'x', 'claim', 'item:1', '{"items":[1]}')`,
		`EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM review_items WHERE status IN ('pending','escalated') AND queue = 'default' ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
	} {
		rows, _ := s.Pool.Query(ctx, q)
		for rows.Next() {
			var l string
			rows.Scan(&l)
			t.Log(l)
		}
		rows.Close()
	}
}
