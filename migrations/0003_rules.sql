-- Published rule sets: immutable, numbered versions of the files under
-- rules/, written by `vigilctl rules publish` (and `rollback`, which
-- republishes an old version's files as a new version) and loaded by the
-- ingest workers, which LISTEN on the vigil_rules channel for new ones.

-- +goose Up
CREATE TABLE rule_versions (
    -- 1, 2, 3… without gaps: publish takes a table lock to number versions.
    version bigint PRIMARY KEY CHECK (version > 0),
    author text NOT NULL CHECK (author <> ''),
    message text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Digest of the files (moderation.RulesDigest).
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The version whose content a rollback republished.
    rollback_of bigint REFERENCES rule_versions (version),
    rule_count integer NOT NULL CHECK (rule_count >= 0)
);

CREATE TABLE rule_files (
    version bigint NOT NULL REFERENCES rule_versions (version),
    -- Path relative to the rules directory, as shown in error messages.
    name text NOT NULL CHECK (name <> ''),
    content bytea NOT NULL,
    PRIMARY KEY (version, name)
);

-- +goose StatementBegin
CREATE FUNCTION rule_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published rule versions are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER rule_versions_no_update BEFORE UPDATE OR DELETE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION rule_versions_immutable();
CREATE TRIGGER rule_files_no_update BEFORE UPDATE OR DELETE ON rule_files
    FOR EACH ROW EXECUTE FUNCTION rule_versions_immutable();

-- +goose Down
DROP TABLE rule_files;
DROP TABLE rule_versions;
DROP FUNCTION rule_versions_immutable;
