// Package postgres adapts Vigil's domain to PostgreSQL through pgx/v5: the
// review queue, decisions, the audit log, rule versions, hash banks and the
// outbox. Driver errors are translated to moderation's sentinel errors here,
// at the boundary, and nowhere else.
package postgres
