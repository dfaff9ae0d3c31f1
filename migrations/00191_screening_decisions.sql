-- Counter-trafficking's decisions on a person's screening, each with its
-- reason, as rows of their own (ACCESS.md, non-punishment; MISSION.md):
-- cleared (not a victim), identified_victim, no_objection_to_proceedings
-- (deportation or a court referral may go on). The application records
-- one in the transaction that changes the person accordingly, and the
-- non-punishment rules (migrations/access/30_persons.sql) refuse that change
-- without it. Never shown to the person's own state.

-- +goose Up
CREATE TABLE screening_decisions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id         uuid NOT NULL REFERENCES persons (id),
    decision          text NOT NULL CHECK (decision IN ('cleared', 'identified_victim', 'no_objection_to_proceedings')),
    reason            text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    -- The trafficking flag when the decision was taken.
    flag_before       text NOT NULL CHECK (flag_before IN ('none', 'suspected', 'identified', 'cleared')),
    decided_at        timestamptz NOT NULL DEFAULT now(),
    decided_by        uuid DEFAULT cb_user_id(),
    decided_by_name   text NOT NULL DEFAULT '' CHECK (length(decided_by_name) <= 200),
    decided_by_agency uuid REFERENCES agencies (id) DEFAULT cb_agency_id()
);
CREATE INDEX screening_decisions_person_idx ON screening_decisions (person_id, decided_at DESC, id DESC);
ALTER TABLE screening_decisions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT (person_id, decision, reason, flag_before, decided_by_name) ON screening_decisions TO casebridge_app;

-- +goose Down
DROP TABLE screening_decisions;
