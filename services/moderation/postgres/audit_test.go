package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func appendEvents(t *testing.T, s *moderationtest.Schema, n int) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	for i := range n {
		err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			_, err := postgres.AppendAudit(ctx, tx, at.Add(time.Duration(i)*time.Second), "alice", "decision", "item:1",
				map[string]any{"n": i, "note": "b", "a": []int{1, 2}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChainVerifies(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	appendEvents(t, s, 5)
	br, n, err := postgres.VerifyAudit(context.Background(), s.Pool)
	if err != nil || br != nil || n != 5 {
		t.Fatalf("verify: break=%+v n=%d err=%v", br, n, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	appendEvents(t, s, 1)
	for _, sql := range []string{"UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events", "TRUNCATE audit_events"} {
		if _, err := s.Pool.Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger to refuse", sql, err)
		}
	}
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql string
		seq       int64
	}{
		{"edited actor", "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3},
		{"edited details", `UPDATE audit_events SET details = '{"n": 99}' WHERE seq = 2`, 2},
		{"deleted middle", "DELETE FROM audit_events WHERE seq = 2", 2},
		{"deleted tail", "DELETE FROM audit_events WHERE seq = 4", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := moderationtest.TestSchema(t)
			appendEvents(t, s, 4)
			ctx := context.Background()
			// A superuser can switch the trigger off; the chain still tells.
			if _, err := s.Pool.Exec(ctx, "ALTER TABLE audit_events DISABLE TRIGGER USER"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Pool.Exec(ctx, c.sql); err != nil {
				t.Fatal(err)
			}
			br, _, err := postgres.VerifyAudit(ctx, s.Pool)
			if err != nil {
				t.Fatal(err)
			}
			if br == nil || br.Seq != c.seq {
				t.Fatalf("break = %+v, want at seq %d", br, c.seq)
			}
		})
	}
}
