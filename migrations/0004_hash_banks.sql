-- Hash banks: named sets of perceptual hashes of known harmful images, with
-- per-entry labels. The same data as the files under rules/banks/ (format in
-- docs/hashing.md); the ingest workers compile either source into an index.

-- +goose Up
CREATE TABLE hash_banks (
    name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    hash_type text NOT NULL CHECK (hash_type IN ('pdq', 'phash', 'dhash', 'ahash')),
    -- Largest Hamming distance that matches.
    threshold smallint NOT NULL CHECK (threshold >= 0 AND threshold < 128),
    -- PDQ hashes of posted images below this quality are not matched.
    min_quality smallint NOT NULL DEFAULT 50 CHECK (min_quality BETWEEN 0 AND 100),
    -- Also match rotated and mirrored copies (PDQ).
    dihedral boolean NOT NULL DEFAULT false,
    category text NOT NULL,
    severity smallint NOT NULL CHECK (severity BETWEEN 1 AND 4),
    source text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hash_bank_entries (
    bank text NOT NULL REFERENCES hash_banks (name) ON DELETE CASCADE,
    entry_id text NOT NULL CHECK (entry_id <> ''),
    -- Lowercase hex: 64 digits for PDQ, 16 for the 64-bit hashes.
    hash text NOT NULL CHECK (hash ~ '^[0-9a-f]+$' AND length(hash) IN (16, 64)),
    category text NOT NULL DEFAULT '',  -- '' = the bank's
    source text NOT NULL DEFAULT '',    -- '' = the bank's
    external_id text NOT NULL DEFAULT '',
    -- Set when the bad-entry guard or a person takes the entry out of
    -- service, cleared when a rule engineer confirms it.
    quarantined_at timestamptz,
    confirmed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank, entry_id)
);

-- Cross-bank look-up of one hash ("is this image banked anywhere?").
CREATE INDEX hash_bank_entries_hash ON hash_bank_entries (hash);

-- +goose Down
DROP TABLE hash_bank_entries;
DROP TABLE hash_banks;
