-- Consular notifications and visits (ACCESS.md, Consular notifications and
-- visits). The rules that create, withdraw and show them are in
-- migrations/access/60_consular_notifications.sql.
--
-- A custody episode starts when a person enters custody (detained, charged,
-- convicted, awaiting deportation) from outside it and ends when they are
-- released or deported; persons.custody_episode counts them, so a
-- notification is unique per person, episode and country.

-- +goose Up
ALTER TABLE persons ADD COLUMN custody_episode integer NOT NULL DEFAULT 0;

CREATE TABLE consular_notifications (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id        uuid NOT NULL REFERENCES persons (id),
    -- The country whose embassy is notified (the person's nationality).
    country          text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    episode          integer NOT NULL CHECK (episode >= 1),
    -- When the notification became due (the person became visible to the
    -- embassy in custody); overdue is measured from here.
    due_at           timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  uuid,
    -- Set when the person stops being visible to the embassy: the
    -- notification leaves its inbox; the ministry still sees it.
    withdrawn_at     timestamptz,
    CONSTRAINT consular_notifications_once UNIQUE (person_id, episode, country)
);
CREATE INDEX consular_notifications_inbox_idx ON consular_notifications (country, due_at DESC, id DESC)
    WHERE withdrawn_at IS NULL;
CREATE INDEX consular_notifications_due_idx ON consular_notifications (due_at DESC, id DESC);
ALTER TABLE consular_notifications ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON consular_notifications TO casebridge_app;
GRANT UPDATE (acknowledged_at, acknowledged_by) ON consular_notifications TO casebridge_app;

CREATE TABLE consular_visits (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id           uuid NOT NULL REFERENCES persons (id),
    country             text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    agency_id           uuid NOT NULL REFERENCES agencies (id),
    requested_by        uuid DEFAULT cb_user_id(),
    requested_at        timestamptz NOT NULL DEFAULT now(),
    preferred_from      date NOT NULL,
    preferred_to        date NOT NULL,
    note                text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    status              text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'scheduled', 'refused')),
    visit_at            timestamptz,
    place               text CHECK (length(place) BETWEEN 1 AND 300),
    refusal_reason      text CHECK (length(refusal_reason) BETWEEN 1 AND 2000),
    answered_by         uuid,
    answered_by_agency  uuid REFERENCES agencies (id),
    answered_at         timestamptz,
    CHECK (preferred_to >= preferred_from),
    CHECK (status <> 'scheduled' OR (visit_at IS NOT NULL AND place IS NOT NULL)),
    CHECK (status <> 'refused' OR refusal_reason IS NOT NULL),
    CHECK ((status = 'requested') = (answered_at IS NULL))
);
CREATE INDEX consular_visits_person_idx ON consular_visits (person_id, requested_at DESC, id DESC);
CREATE INDEX consular_visits_open_idx ON consular_visits (requested_at, id) WHERE status = 'requested';
ALTER TABLE consular_visits ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON consular_visits TO casebridge_app;
GRANT INSERT (person_id, country, agency_id, preferred_from, preferred_to, note) ON consular_visits TO casebridge_app;
GRANT UPDATE (status, visit_at, place, refusal_reason, answered_by, answered_by_agency, answered_at)
    ON consular_visits TO casebridge_app;

-- +goose Down
DROP TABLE consular_visits;
DROP TABLE consular_notifications;
ALTER TABLE persons DROP COLUMN custody_episode;
