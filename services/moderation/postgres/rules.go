package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// RulesChannel is the LISTEN/NOTIFY channel on which a publish announces
// its version number to the workers.
const RulesChannel = "vigil_rules"

// RuleStore keeps published rule versions in rule_versions and rule_files
// (migration 0003). Versions are immutable: the tables refuse UPDATE and
// DELETE, and a rollback is a new version.
type RuleStore struct {
	pool  *pgxpool.Pool
	clock Clock
}

// NewRuleStore returns a store on pool; clock stamps created_at (nil =
// SystemClock).
func NewRuleStore(pool *pgxpool.Pool, clock Clock) *RuleStore {
	if clock == nil {
		clock = SystemClock{}
	}
	return &RuleStore{pool: pool, clock: clock}
}

// PublishRequest is what Publish stores. The caller has compiled the files
// (so nothing invalid is published) and passes the rule count it found.
type PublishRequest struct {
	Author     string
	Message    string
	Files      []moderation.RuleFile
	Rules      int
	RollbackOf int64 // the version being republished, for Rollback
}

// Publish stores files as the next version, appends a rule_publish (or
// rule_rollback) audit event and notifies RulesChannel, all in one
// transaction: workers are notified only once the version is committed.
// Returns an error wrapping moderation.ErrInvalid if there are no files or
// no author.
func (s *RuleStore) Publish(ctx context.Context, req PublishRequest) (moderation.RuleVersion, error) {
	if req.Author == "" {
		return moderation.RuleVersion{}, fmt.Errorf("publishing rules: no author: %w", moderation.ErrInvalid)
	}
	if len(req.Files) == 0 {
		return moderation.RuleVersion{}, fmt.Errorf("publishing rules: no rule files: %w", moderation.ErrInvalid)
	}
	v := moderation.RuleVersion{
		Author: req.Author, Message: req.Message, CreatedAt: s.clock.Now().UTC().Truncate(time.Microsecond),
		SHA256: moderation.RulesDigest(req.Files), RollbackOf: req.RollbackOf, Rules: req.Rules,
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Numbering without gaps: one publisher at a time. Readers are not
		// blocked by this lock mode.
		if _, err := tx.Exec(ctx, `LOCK TABLE rule_versions IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) + 1 FROM rule_versions`).Scan(&v.Version); err != nil {
			return err
		}
		var rollbackOf *int64
		if req.RollbackOf > 0 {
			rollbackOf = &req.RollbackOf
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO rule_versions (version, author, message, created_at, sha256, rollback_of, rule_count)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			v.Version, v.Author, v.Message, v.CreatedAt, v.SHA256, rollbackOf, v.Rules); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, f := range req.Files {
			batch.Queue(`INSERT INTO rule_files (version, name, content) VALUES ($1, $2, $3)`, v.Version, f.Name, f.Data)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		action := moderation.AuditRulePublish
		details := map[string]any{"version": v.Version, "sha256": v.SHA256, "rules": v.Rules, "files": len(req.Files), "message": v.Message}
		if req.RollbackOf > 0 {
			action = moderation.AuditRuleRollback
			details["rollback_of"] = req.RollbackOf
		}
		if _, err := AppendAudit(ctx, tx, v.CreatedAt, v.Author, action, "rules:"+strconv.FormatInt(v.Version, 10), details); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, RulesChannel, strconv.FormatInt(v.Version, 10))
		return err
	})
	if err != nil {
		return moderation.RuleVersion{}, fmt.Errorf("publishing rules: %w", interpretError(err))
	}
	v.Files = req.Files
	return v, nil
}

// Rollback publishes the files of version as a new version. Returns an
// error wrapping moderation.ErrNotFound if version does not exist.
func (s *RuleStore) Rollback(ctx context.Context, version int64, author, message string) (moderation.RuleVersion, error) {
	old, err := s.Version(ctx, version)
	if err != nil {
		return moderation.RuleVersion{}, fmt.Errorf("rolling back rules: %w", err)
	}
	if message == "" {
		message = fmt.Sprintf("rollback to version %d", version)
	}
	return s.Publish(ctx, PublishRequest{Author: author, Message: message, Files: old.Files, Rules: old.Rules, RollbackOf: version})
}

// Latest returns the newest version with its files. Returns
// moderation.ErrNotFound if nothing was ever published.
func (s *RuleStore) Latest(ctx context.Context) (moderation.RuleVersion, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM rule_versions`).Scan(&n)
	if err != nil {
		return moderation.RuleVersion{}, fmt.Errorf("loading latest rules: %w", interpretError(err))
	}
	if n == 0 {
		return moderation.RuleVersion{}, fmt.Errorf("loading latest rules: %w", moderation.ErrNotFound)
	}
	return s.Version(ctx, n)
}

// LatestVersion returns the newest version number, 0 if none.
func (s *RuleStore) LatestVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM rule_versions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading latest rule version: %w", interpretError(err))
	}
	return n, nil
}

// Version returns one version with its files. Returns
// moderation.ErrNotFound if it does not exist.
func (s *RuleStore) Version(ctx context.Context, version int64) (moderation.RuleVersion, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx, versionSQL+` WHERE version = $1`, version))
	if err != nil {
		return v, fmt.Errorf("loading rules version %d: %w", version, interpretError(err))
	}
	rows, err := s.pool.Query(ctx, `SELECT name, content FROM rule_files WHERE version = $1 ORDER BY name`, version)
	if err != nil {
		return v, fmt.Errorf("loading rules version %d: %w", version, interpretError(err))
	}
	v.Files, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.RuleFile, error) {
		var f moderation.RuleFile
		err := r.Scan(&f.Name, &f.Data)
		return f, err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("loading rules version %d: %w", version, interpretError(err))
	}
	return v, nil
}

// History lists versions newest first, without their files; limit <= 0
// lists all.
func (s *RuleStore) History(ctx context.Context, limit int) ([]moderation.RuleVersion, error) {
	q := versionSQL + ` ORDER BY version DESC`
	args := []any{}
	if limit > 0 {
		q += ` LIMIT $1`
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing rule versions: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.RuleVersion, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("listing rule versions: %w", interpretError(err))
	}
	return out, nil
}

const versionSQL = `SELECT version, author, message, created_at, sha256, COALESCE(rollback_of, 0), rule_count FROM rule_versions`

func scanVersion(r pgx.Row) (moderation.RuleVersion, error) {
	var v moderation.RuleVersion
	err := r.Scan(&v.Version, &v.Author, &v.Message, &v.CreatedAt, &v.SHA256, &v.RollbackOf, &v.Rules)
	return v, err
}

// Listen LISTENs on RulesChannel on a connection of its own and calls
// notify with each announced version until ctx is done or the connection
// fails, which it returns (the caller reconnects). ready is called once
// the LISTEN is in place, so the caller can catch up on versions published
// before it.
func (s *RuleStore) Listen(ctx context.Context, ready func(), notify func(version int64)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listening for rules: %w", interpretError(err))
	}
	// A connection that LISTENed must not go back to the pool: take it out.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+RulesChannel); err != nil {
		return fmt.Errorf("listening for rules: %w", interpretError(err))
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for rules notification: %w", err)
		}
		v, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			continue // not ours to interpret; the poll catches up
		}
		notify(v)
	}
}
