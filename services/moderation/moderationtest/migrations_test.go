package moderationtest_test

import (
	"context"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/vigil-moderation/vigil/migrations"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

// TestMigrationsDownUp: every migration's Down undoes its Up, so an
// operator can roll back a release: all the way down and up again on a
// schema holding a quarantine (migration 0005 moves that state between
// tables), which must survive the round trip, and review_items' storage
// parameters (0006) set and reset.
func TestMigrationsDownUp(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	db, err := migrations.OpenDB(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `
		INSERT INTO hash_banks (name, hash_type, threshold, category, severity) VALUES ('b', 'phash', 10, 'hate', 3);
		INSERT INTO hash_bank_entries (bank, entry_id, hash) VALUES ('b', 'e1', '00000000000000ff');
		INSERT INTO hash_entry_states (bank, entry_id, quarantined_at) VALUES ('b', 'e1', now())`); err != nil {
		t.Fatal(err)
	}
	// Migration 0006 sets review_items' autovacuum, and its Down resets it.
	reloptions := func() string {
		t.Helper()
		var o string
		if err := s.Pool.QueryRow(ctx, `SELECT COALESCE(array_to_string(reloptions, ' '), '') FROM pg_class WHERE oid = 'review_items'::regclass`).Scan(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	const vacuum = "autovacuum_vacuum_scale_factor=0 autovacuum_vacuum_threshold=10000"
	if o := reloptions(); o != vacuum {
		t.Fatalf("review_items storage parameters %q, want %q", o, vacuum)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatalf("down to 4: %v", err)
	}
	if o := reloptions(); o != "" {
		t.Fatalf("review_items storage parameters %q after down to 4, want none", o)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if o := reloptions(); o != vacuum {
		t.Fatalf("review_items storage parameters %q after up, want %q", o, vacuum)
	}
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM hash_entry_states WHERE bank = 'b' AND entry_id = 'e1' AND quarantined_at IS NOT NULL`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("quarantine lost over down and up: %d %v", n, err)
	}
	s.Pool.Reset() // cached plans name dropped tables
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up from 0: %v", err)
	}
}
