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
// parameters (0006) set and reset; 0008 fills the report snapshots of a
// populated schema.
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
	// Migration 0008 fills the report snapshots of existing items and
	// decisions from the items' current values.
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatalf("down to 7: %v", err)
	}
	s.Pool.Reset()
	if _, err := s.Pool.Exec(ctx, `
		INSERT INTO users (username, password_hash, password_changed_at, created_at) VALUES ('u', 'x', now(), now());
		INSERT INTO review_items (post_id, platform, author_id, post_created_at, flagged_at, category, severity, sla_deadline, status)
		VALUES ('p1', 'p', 'a', now(), now(), 'hate', 3, now(), 'decided'), ('p2', 'p', 'a', now(), now(), 'spam', 1, now(), 'pending');
		INSERT INTO review_matches (item_id, match_key, rule_id, rule_version, category, severity)
		SELECT id, 'rule:r1', 'r1', 1, 'hate', 3 FROM review_items WHERE post_id = 'p1';
		INSERT INTO review_matches (item_id, match_key, bank, entry_id, category, severity)
		SELECT id, 'bank:b:e1:m', 'b', 'e1', 'hate', 3 FROM review_items WHERE post_id = 'p1';
		INSERT INTO decisions (item_id, actor_id, action, reason_code, created_at, sla_deadline)
		SELECT i.id, u.id, 'remove', 'H-1', now(), now() FROM review_items i, users u WHERE i.post_id = 'p1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up to 8: %v", err)
	}
	s.Pool.Reset()
	var cat, src, flaggedCat, itemSrc, flaggedSrc string
	if err := s.Pool.QueryRow(ctx, `
		SELECT d.category, d.detection_source, i.flagged_category, i.detection_source, i.flagged_detection_source
		FROM decisions d JOIN review_items i ON i.id = d.item_id`).Scan(&cat, &src, &flaggedCat, &itemSrc, &flaggedSrc); err != nil {
		t.Fatal(err)
	}
	if cat != "hate" || src != "keyword_rule+hash_bank" || flaggedCat != "hate" || itemSrc != src || flaggedSrc != src {
		t.Errorf("backfilled decision %s %s, item %s %s %s", cat, src, flaggedCat, itemSrc, flaggedSrc)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT flagged_category, detection_source FROM review_items WHERE post_id = 'p2'`).Scan(&flaggedCat, &itemSrc); err != nil ||
		flaggedCat != "spam" || itemSrc != "none" {
		t.Errorf("backfilled item without matches: %s %s %v", flaggedCat, itemSrc, err)
	}
	// Decisions stay append-only once the backfill is done.
	if _, err := s.Pool.Exec(ctx, `UPDATE decisions SET category = 'spam'`); err == nil {
		t.Error("a decision was updated after migration 0008")
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
