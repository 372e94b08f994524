-- Quarantine state of hash-bank entries, kept apart from the entries so that
-- it covers every bank the workers match: banks stored in Postgres and banks
-- shipped as files under rules/banks/, which have no rows here. A worker's
-- bad-entry guard records a quarantine for either kind, and it holds on
-- every worker and across restarts until a rule engineer confirms the entry.

-- +goose Up
CREATE TABLE hash_entry_states (
    bank text NOT NULL CHECK (bank ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    entry_id text NOT NULL CHECK (entry_id <> ''),
    -- Set when the bad-entry guard or a person takes the entry out of
    -- service, cleared when a rule engineer confirms it.
    quarantined_at timestamptz,
    confirmed_at timestamptz,
    PRIMARY KEY (bank, entry_id)
);

INSERT INTO hash_entry_states (bank, entry_id, quarantined_at, confirmed_at)
SELECT bank, entry_id, quarantined_at, confirmed_at FROM hash_bank_entries
WHERE quarantined_at IS NOT NULL OR confirmed_at IS NOT NULL;

ALTER TABLE hash_bank_entries DROP COLUMN quarantined_at, DROP COLUMN confirmed_at;

-- +goose Down
ALTER TABLE hash_bank_entries ADD COLUMN quarantined_at timestamptz, ADD COLUMN confirmed_at timestamptz;
UPDATE hash_bank_entries e SET quarantined_at = s.quarantined_at, confirmed_at = s.confirmed_at
FROM hash_entry_states s WHERE s.bank = e.bank AND s.entry_id = e.entry_id;
DROP TABLE hash_entry_states;
