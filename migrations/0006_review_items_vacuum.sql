-- Vacuum review_items every 10,000 dead rows (5,000 items claimed and
-- decided) instead of after a fifth of the table. Each claim walks the
-- claim-order index from its start, where the entries of the items claimed
-- since the last vacuum lie (dead once the claim commits: the claimed row
-- is a new version outside the partial index); past tens of thousands of
-- them, which the default scale factor allowed on a queue of a million,
-- every claim read hundreds of index pages and took milliseconds. A vacuum that often needs the launcher to look
-- often too (autovacuum_naptime, a server setting: deploy/local/postgres.sh).

-- +goose Up
ALTER TABLE review_items SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000
);

-- +goose Down
ALTER TABLE review_items RESET (
    autovacuum_vacuum_scale_factor,
    autovacuum_vacuum_threshold
);
