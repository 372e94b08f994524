-- The review queue: one item per flagged post, its matches and its media.
-- Written by the ingest workers, read by vigil-review.

-- +goose Up
CREATE TABLE category_slas (
    category text PRIMARY KEY,
    sla interval NOT NULL CHECK (sla > interval '0'),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- EU Regulation 2021/784 asks for removal of terrorist content within one hour.
INSERT INTO category_slas (category, sla) VALUES
    ('terrorist_content', interval '1 hour'),
    ('violent_threat', interval '4 hours'),
    ('hate', interval '24 hours'),
    ('spam', interval '72 hours');

CREATE TABLE review_items (
    id bigserial PRIMARY KEY,
    post_id text NOT NULL UNIQUE,
    platform text NOT NULL,
    author_id text NOT NULL,
    author_handle text NOT NULL DEFAULT '',
    text text NOT NULL DEFAULT '',
    lang text NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    post_created_at timestamptz NOT NULL,
    flagged_at timestamptz NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    category text NOT NULL,
    severity smallint NOT NULL CHECK (severity BETWEEN 1 AND 4),
    queue text NOT NULL DEFAULT 'default',
    sla_deadline timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'claimed', 'escalated', 'decided')),
    claimed_by bigint,
    claimed_at timestamptz,
    lease_expires_at timestamptz,
    decided_at timestamptz,
    -- Where the post came from, for tracing a flag back to its message.
    source_topic text NOT NULL DEFAULT '',
    source_partition integer NOT NULL DEFAULT 0,
    source_offset bigint NOT NULL DEFAULT 0
);
-- The claim order: severity first, then SLA deadline, then age.
CREATE INDEX review_items_claim_order ON review_items (severity DESC, sla_deadline, flagged_at, id)
    WHERE status IN ('pending', 'escalated');
CREATE INDEX review_items_lease ON review_items (lease_expires_at) WHERE status = 'claimed';
CREATE INDEX review_items_flagged_at ON review_items (flagged_at);

CREATE TABLE review_matches (
    item_id bigint NOT NULL REFERENCES review_items (id) ON DELETE CASCADE,
    match_key text NOT NULL,
    rule_id text,
    rule_version bigint,
    category text NOT NULL,
    severity smallint NOT NULL CHECK (severity BETWEEN 1 AND 4),
    spans jsonb NOT NULL DEFAULT '[]',
    bank text,
    entry_id text,
    hash_type text,
    distance integer,
    media_id text,
    hash text,
    matched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, match_key)
);
CREATE INDEX review_matches_rule ON review_matches (rule_id, rule_version) WHERE rule_id IS NOT NULL;
CREATE INDEX review_matches_hash ON review_matches (hash) WHERE hash IS NOT NULL;

-- Evidence: media bytes stored content-addressed, so they survive the post's
-- deletion on the platform. Purged by the retention job.
CREATE TABLE media_blobs (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    mime text NOT NULL,
    bytes bytea,
    size_bytes bigint NOT NULL,
    width integer,
    height integer,
    stored_at timestamptz NOT NULL DEFAULT now(),
    purged_at timestamptz
);

CREATE TABLE review_media (
    item_id bigint NOT NULL REFERENCES review_items (id) ON DELETE CASCADE,
    media_id text NOT NULL,
    mime text NOT NULL,
    url text NOT NULL DEFAULT '',
    sha256 text REFERENCES media_blobs (sha256),
    PRIMARY KEY (item_id, media_id)
);

-- Transactional outbox: rows written in the same transaction as the
-- decision they announce, relayed to Kafka (moderation.actions) and marked
-- sent after the broker acknowledged them.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Append-only, hash-chained audit log. Each event's hash covers the previous
-- event's hash, so editing or deleting any row breaks the chain from there
-- on (vigilctl audit verify). audit_head serialises appends.
CREATE TABLE audit_events (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}',
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX audit_events_action ON audit_events (action, at);
CREATE INDEX audit_events_subject ON audit_events (subject) WHERE subject <> '';
CREATE TABLE audit_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only;
DROP TABLE outbox;
DROP TABLE review_media;
DROP TABLE media_blobs;
DROP TABLE review_matches;
DROP TABLE review_items;
DROP TABLE category_slas;
