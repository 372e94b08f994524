-- Appeals (complaints): users whose post was removed or reported ask for
-- it to be reinstated, through the platform, which forwards the complaint
-- to vigil-review (EU Regulation 2021/784 Art. 10, DSA Art. 20). A lead
-- other than the one who made the decision appealed against resolves it:
-- upheld, or reinstated by a reversal to no_violation, which this table
-- links. Transparency reports count appeals received and resolved by
-- outcome (Art. 7, DSA Art. 15/24). Additive only: no existing table is
-- rewritten.

-- +goose Up
CREATE TABLE appeals (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES review_items,
    -- The platform's id of the complaint: intake is idempotent on it.
    platform_appeal_id text NOT NULL UNIQUE CHECK (length(platform_appeal_id) BETWEEN 1 AND 256),
    -- The final decision the user complains about (the item's latest
    -- final decision at intake): its actor may not resolve the appeal.
    decision_id bigint NOT NULL REFERENCES decisions,
    -- The user's statement, hostile text; bounded in characters.
    statement text NOT NULL DEFAULT '' CHECK (char_length(statement) <= 4000),
    -- When the user submitted it on the platform, as the platform says.
    received_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz,
    outcome text CHECK (outcome IN ('upheld', 'reinstated')),
    resolved_by bigint REFERENCES users,
    reason_code text,
    note text NOT NULL DEFAULT '',
    -- The reversal to no_violation of a reinstated appeal.
    reinstatement_decision_id bigint REFERENCES decisions,
    CHECK ((resolved_at IS NULL) = (outcome IS NULL)
        AND (resolved_at IS NULL) = (resolved_by IS NULL)
        AND (resolved_at IS NULL) = (reason_code IS NULL)),
    CHECK ((outcome IS NOT DISTINCT FROM 'reinstated') = (reinstatement_decision_id IS NOT NULL))
);
-- Open appeals, oldest first (the leads' page).
CREATE INDEX appeals_open ON appeals (received_at, id) WHERE resolved_at IS NULL;
-- At most one open appeal per item: a second complaint about the same
-- decision waits for the first one's outcome.
CREATE UNIQUE INDEX appeals_open_item ON appeals (item_id) WHERE resolved_at IS NULL;
CREATE INDEX appeals_item ON appeals (item_id);
-- Transparency reports: received and resolved in a period.
CREATE INDEX appeals_received ON appeals (received_at);
CREATE INDEX appeals_resolved ON appeals (resolved_at) WHERE resolved_at IS NOT NULL;

-- +goose Down
DROP TABLE appeals;
