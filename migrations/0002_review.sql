-- Review: users and their credentials, decisions, legal holds and the
-- retention state of review items. Written by vigil-review and vigilctl.

-- +goose Up
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
    -- argon2id in PHC string format; never the password.
    password_hash text NOT NULL,
    roles text[] NOT NULL DEFAULT '{}'
        CHECK (roles <@ ARRAY['moderator', 'lead', 'rule_engineer', 'auditor', 'admin']::text[]),
    disabled_at timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    password_changed_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

-- Server-side sessions. The cookie carries a random token; only its
-- SHA-256 is stored, so a leaked table hands out no live sessions.
CREATE TABLE sessions (
    id bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens for automation: hashed at rest, scoped, expiring, revocable.
CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Decisions are the system of record: append-only; a reversal is a new row
-- naming the row it reverses, and an item's outcome is its latest decision.
-- Per-rule precision and reviewer statistics are computed from this table.
CREATE TABLE decisions (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES review_items,
    actor_id bigint NOT NULL REFERENCES users,
    action text NOT NULL CHECK (action IN ('remove', 'no_violation', 'escalate', 'report')),
    reason_code text NOT NULL,
    note text NOT NULL DEFAULT '',
    reverses bigint REFERENCES decisions,
    created_at timestamptz NOT NULL,
    -- Copied from the item, so SLA statistics survive later changes.
    sla_deadline timestamptz NOT NULL,
    claimed_at timestamptz
);
CREATE INDEX decisions_item ON decisions (item_id, id);
CREATE INDEX decisions_actor ON decisions (actor_id, created_at);
CREATE INDEX decisions_created ON decisions (created_at);
-- A decision is reversed at most once; reversing again means reversing the
-- reversal.
CREATE UNIQUE INDEX decisions_reverses ON decisions (reverses) WHERE reverses IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'decisions is append-only: % is not allowed (a reversal is a new decision)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER decisions_no_update BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only();

-- The latest decision's action, kept on the item so the retention purge and
-- the queue need no scan of decisions.
ALTER TABLE review_items
    ADD COLUMN outcome text CHECK (outcome IN ('remove', 'no_violation', 'escalate', 'report')),
    ADD COLUMN purged_at timestamptz;
CREATE INDEX review_items_purgeable ON review_items (decided_at)
    WHERE outcome = 'remove' AND purged_at IS NULL;
CREATE INDEX review_items_status ON review_items (status, id);
CREATE INDEX review_media_sha256 ON review_media (sha256) WHERE sha256 IS NOT NULL;

-- Legal holds keep an item's evidence past the retention period. A hold is
-- lifted, not deleted; at most one active hold per item.
CREATE TABLE legal_holds (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES review_items,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    placed_by bigint NOT NULL REFERENCES users,
    placed_at timestamptz NOT NULL,
    lifted_by bigint REFERENCES users,
    lifted_at timestamptz
);
CREATE UNIQUE INDEX legal_holds_active ON legal_holds (item_id) WHERE lifted_at IS NULL;

-- audit_append appends one event to the audit hash chain inside the
-- calling statement, computing exactly moderation.ChainHash (length-prefixed
-- fields: prev hash, seq, time as Go's RFC 3339 with trimmed fractional
-- seconds in UTC, actor, action, subject, canonical jsonb text). The hot
-- paths (claim, decide) call it from their single statement, so the
-- audit_head row lock is held for microseconds plus the commit instead of
-- several client round trips. postgres.VerifyAudit checks what it writes.
-- +goose StatementBegin
CREATE FUNCTION audit_append(p_at timestamptz, p_actor text, p_action text, p_subject text, p_details jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_us bigint;
    v_at text;
    v_seqt text;
    v_details text := p_details::text;
    v_hash text;
    v_ts timestamptz := date_trunc('microseconds', p_at);
BEGIN
    UPDATE audit_head SET seq = seq + 1 RETURNING seq, hash INTO v_seq, v_prev;
    v_us := extract(microseconds FROM (v_ts AT TIME ZONE 'UTC'))::bigint % 1000000;
    v_at := to_char(v_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN v_us = 0 THEN '' ELSE '.' || rtrim(lpad(v_us::text, 6, '0'), '0') END || 'Z';
    v_seqt := v_seq::text;
    v_hash := encode(sha256(convert_to(
        octet_length(v_prev)::text || ':' || v_prev ||
        octet_length(v_seqt)::text || ':' || v_seqt ||
        octet_length(v_at)::text || ':' || v_at ||
        octet_length(p_actor)::text || ':' || p_actor ||
        octet_length(p_action)::text || ':' || p_action ||
        octet_length(p_subject)::text || ':' || p_subject ||
        octet_length(v_details)::text || ':' || v_details, 'UTF8')), 'hex');
    INSERT INTO audit_events (seq, at, actor, action, subject, details, prev_hash, hash)
    VALUES (v_seq, v_ts, p_actor, p_action, p_subject, p_details, v_prev, v_hash);
    UPDATE audit_head SET hash = v_hash;
    RETURN v_seq;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_append;
DROP TABLE legal_holds;
DROP INDEX review_media_sha256;
DROP INDEX review_items_status;
DROP INDEX review_items_purgeable;
ALTER TABLE review_items DROP COLUMN purged_at, DROP COLUMN outcome;
DROP TABLE decisions;
DROP FUNCTION decisions_append_only;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
