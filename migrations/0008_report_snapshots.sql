-- Transparency reports of a past period stay the same whenever they are
-- run. A re-flag (the same post seen again and matched differently) raises
-- an item's category and adds matches; reports grouped by the item's
-- current category and matches, so it moved past periods' numbers, which
-- auditors publish. Now what a report groups by is recorded when it
-- happens (docs/reports.md):
--
-- - on each decision, the item's category and detection source when the
--   decision was recorded (decisions.category, decisions.detection_source),
--   written by the service's decision statements from the item they lock,
--   and copied from the item by a trigger for any insert that leaves them
--   out;
-- - on each item, its category and detection source at its first flag
--   (flagged_category, flagged_detection_source), never changed, and its
--   current detection source (detection_source), which the ingest workers
--   keep up to date at every flag so the trigger need not read the
--   matches.
--
-- Detection sources are those of moderation.SourceKeyword and its
-- siblings. The item columns are NULL for rows written without them (by an
-- ingest worker older than this migration during a rollout, or by hand):
-- item_detection_source then reads the matches, and reports fall back to
-- the item's current values for such rows.
--
-- Existing rows are filled from the items' current values, as reports
-- showed them until now. The migration runs in one transaction holding
-- both tables' exclusive locks (flags, claims and decisions wait for it),
-- rewrites every item and decision once, and lifts the decisions'
-- append-only trigger for that transaction only. Expect seconds per
-- million rows; run it off-peak.

-- +goose Up
ALTER TABLE review_items
    ADD COLUMN detection_source text,
    ADD COLUMN flagged_category text,
    ADD COLUMN flagged_detection_source text;
ALTER TABLE decisions
    ADD COLUMN category text,
    ADD COLUMN detection_source text;

-- The detection source of an item from the matches recorded for it (an
-- index range scan of review_matches' primary key).
-- +goose StatementBegin
CREATE FUNCTION item_detection_source(p_item bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bool_or(m.rule_id IS NOT NULL) AND bool_or(m.bank IS NOT NULL) THEN 'keyword_rule+hash_bank'
        WHEN bool_or(m.bank IS NOT NULL) THEN 'hash_bank'
        WHEN bool_or(m.rule_id IS NOT NULL) THEN 'keyword_rule'
        ELSE 'none' END
    FROM review_matches m WHERE m.item_id = p_item
$$;
-- +goose StatementEnd

UPDATE review_items i SET (detection_source, flagged_detection_source, flagged_category) =
    (SELECT s, s, i.category FROM item_detection_source(i.id) s);

ALTER TABLE decisions DISABLE TRIGGER decisions_no_update;
UPDATE decisions d SET category = i.category, detection_source = i.detection_source
FROM review_items i WHERE i.id = d.item_id;
ALTER TABLE decisions ENABLE TRIGGER decisions_no_update;

-- What the item is when the decision is recorded, for an insert that does
-- not say (scripts, fixtures, any future path). The service's decision
-- statements write both from the item row they hold locked, so the
-- trigger's WHEN skips them without entering plpgsql: run on every
-- decision, the function cost the claim-and-decide path about a tenth of
-- its throughput (BENCHMARKS.md, eighth session).
-- +goose StatementBegin
CREATE FUNCTION decisions_snapshot_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.category, COALESCE(i.detection_source, item_detection_source(i.id))
    INTO NEW.category, NEW.detection_source
    FROM review_items i WHERE i.id = NEW.item_id;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER decisions_snapshot_item BEFORE INSERT ON decisions
    FOR EACH ROW WHEN (NEW.category IS NULL OR NEW.detection_source IS NULL)
    EXECUTE FUNCTION decisions_snapshot_item();

ALTER TABLE decisions
    ALTER COLUMN category SET NOT NULL,
    ALTER COLUMN detection_source SET NOT NULL,
    ADD CONSTRAINT decisions_detection_source_check
        CHECK (detection_source IN ('keyword_rule', 'hash_bank', 'keyword_rule+hash_bank', 'none'));
ALTER TABLE review_items
    ADD CONSTRAINT review_items_detection_source_check
        CHECK (detection_source IN ('keyword_rule', 'hash_bank', 'keyword_rule+hash_bank', 'none')),
    ADD CONSTRAINT review_items_flagged_detection_source_check
        CHECK (flagged_detection_source IN ('keyword_rule', 'hash_bank', 'keyword_rule+hash_bank', 'none'));

-- +goose Down
DROP TRIGGER decisions_snapshot_item ON decisions;
DROP FUNCTION decisions_snapshot_item;
ALTER TABLE decisions DROP COLUMN detection_source, DROP COLUMN category;
ALTER TABLE review_items
    DROP COLUMN flagged_detection_source,
    DROP COLUMN flagged_category,
    DROP COLUMN detection_source;
DROP FUNCTION item_detection_source;
