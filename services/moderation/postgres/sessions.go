package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// SessionOptions configures Sessions. The zero value is usable.
type SessionOptions struct {
	Clock    Clock         // SystemClock when nil
	Idle     time.Duration // a session unused this long ends; 30 minutes when zero
	Absolute time.Duration // no session outlives this; 12 hours when zero
}

// Sessions are server-side browser sessions. The cookie holds a random
// secret; only its SHA-256 is stored. Each session carries a CSRF token
// that state-changing requests must echo.
type Sessions struct {
	pool     *pgxpool.Pool
	clock    Clock
	idle     time.Duration
	absolute time.Duration
}

// NewSessions returns Sessions over pool.
func NewSessions(pool *pgxpool.Pool, o SessionOptions) *Sessions {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Minute
	}
	if o.Absolute <= 0 {
		o.Absolute = 12 * time.Hour
	}
	return &Sessions{pool: pool, clock: o.Clock, idle: o.Idle, absolute: o.Absolute}
}

func (s *Sessions) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Create starts a session for usr and returns its secret (for the cookie).
func (s *Sessions) Create(ctx context.Context, usr moderation.User) (string, moderation.Session, error) {
	secret, hash := moderation.NewSecret(moderation.SessionPrefix)
	csrf := make([]byte, 32)
	if _, err := rand.Read(csrf); err != nil {
		return "", moderation.Session{}, fmt.Errorf("reading random csrf token: %w", err)
	}
	now := s.now()
	ses := moderation.Session{User: usr, CSRFToken: base64.RawURLEncoding.EncodeToString(csrf), CreatedAt: now, ExpiresAt: now.Add(s.absolute)}
	err := s.pool.QueryRow(ctx, `
INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4, $4, $5) RETURNING id`, hash, usr.ID, ses.CSRFToken, now, ses.ExpiresAt).Scan(&ses.ID)
	if err != nil {
		return "", ses, fmt.Errorf("creating session: %w", interpretError(err))
	}
	return secret, ses, nil
}

// Lookup returns the live session for secret, extending its idle timeout.
// Returns ErrUnauthenticated for an unknown, expired or idle session or a
// disabled user.
func (s *Sessions) Lookup(ctx context.Context, secret string) (moderation.Session, error) {
	var ses moderation.Session
	var roles []string
	var lastSeen time.Time
	err := s.pool.QueryRow(ctx, `
SELECT s.id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at,
    u.id, u.username, u.roles, u.disabled_at, u.locked_until, u.created_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, moderation.HashSecret(secret)).
		Scan(&ses.ID, &ses.CSRFToken, &ses.CreatedAt, &ses.ExpiresAt, &lastSeen,
			&ses.User.ID, &ses.User.Username, &roles, &ses.User.DisabledAt, &ses.User.LockedUntil, &ses.User.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ses, moderation.ErrUnauthenticated
	}
	if err != nil {
		return ses, fmt.Errorf("looking up session: %w", interpretError(err))
	}
	now := s.now()
	if !now.Before(ses.ExpiresAt) || now.Sub(lastSeen) >= s.idle || ses.User.DisabledAt != nil {
		return moderation.Session{}, moderation.ErrUnauthenticated
	}
	for _, r := range roles {
		ses.User.Roles = append(ses.User.Roles, moderation.Role(r))
	}
	if now.Sub(lastSeen) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, ses.ID, now); err != nil {
			return ses, fmt.Errorf("touching session: %w", interpretError(err))
		}
	}
	return ses, nil
}

// Delete ends the session with secret; ending an unknown session is not an
// error.
func (s *Sessions) Delete(ctx context.Context, secret string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, moderation.HashSecret(secret)); err != nil {
		return fmt.Errorf("ending session: %w", interpretError(err))
	}
	return nil
}

// DeleteExpired removes sessions that can no longer be used.
func (s *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-s.idle))
	if err != nil {
		return 0, fmt.Errorf("removing expired sessions: %w", interpretError(err))
	}
	return tag.RowsAffected(), nil
}
