-- Clusters group the undecided items whose media matched the same
-- hash-bank entry (the known image), not the items whose media had the
-- same hash: re-uploads of one image are re-encoded, resized or cropped,
-- so their hashes differ by a few bits and every copy formed a cluster of
-- its own. The lookup index follows the new key.

-- +goose Up
CREATE INDEX review_matches_entry ON review_matches (bank, entry_id) WHERE bank IS NOT NULL;
DROP INDEX review_matches_hash;

-- +goose Down
CREATE INDEX review_matches_hash ON review_matches (hash) WHERE hash IS NOT NULL;
DROP INDEX review_matches_entry;
