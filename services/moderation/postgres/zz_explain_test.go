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

func TestZZExplain(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	seed(t, s.Pool, 100000, time.Now().Add(-time.Hour), "")
	s.Pool.Exec(ctx, "ANALYZE review_items")
	users := postgres.NewUsers(s.Pool, postgres.UserOptions{Password: cheap})
	u, _ := users.Create(ctx, "x", "bench", "bench-password-long", []moderation.Role{moderation.RoleModerator})
	r := postgres.NewReviews(s.Pool, postgres.ReviewOptions{})
	for i := 0; i < 20; i++ {
		t0 := time.Now()
		it, err := r.Claim(ctx, u, moderation.ClaimFilter{})
		t1 := time.Now()
		_, err2 := r.Decide(ctx, u, false, it[0].ID, moderation.DecisionInput{Action: "remove", ReasonCode: "TC-1"})
		t.Logf("claim %v decide %v %v %v", t1.Sub(t0), time.Since(t1), err, err2)
	}
	rows, _ := s.Pool.Query(ctx, `EXPLAIN ANALYZE SELECT id FROM review_items WHERE status IN ('pending', 'escalated') AND queue = 'default'
    ORDER BY severity DESC, sla_deadline, flagged_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`)
	for rows.Next() {
		var l string
		rows.Scan(&l)
		t.Log(l)
	}
}
