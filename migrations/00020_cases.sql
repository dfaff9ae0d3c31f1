-- Cases, persons, links and shares: tables, indexes and table privileges.
--
-- The access rules of spec/ACCESS.md for these tables — grant functions,
-- Row-Level Security policies, column guards and the non-punishment
-- triggers — live in migrations/access/20_cases.sql and 30_persons.sql.

-- +goose Up
CREATE TABLE cases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference        text NOT NULL UNIQUE,
    owner_agency_id  uuid NOT NULL REFERENCES agencies (id),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    kind             text NOT NULL CHECK (kind IN ('illegal_entry', 'illegal_work', 'smuggling',
                                                   'trafficking', 'document_fraud')),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'investigation',
                                                   'before_court', 'adjudicated', 'closed')),
    operation_name   text CHECK (length(operation_name) <= 200),
    operation_place  text CHECK (length(operation_place) <= 200),
    operation_date   date,
    summary          text NOT NULL DEFAULT '' CHECK (length(summary) <= 20000),
    notes            text NOT NULL DEFAULT '' CHECK (length(notes) <= 50000),
    court_agency_id  uuid REFERENCES agencies (id),
    hearing_date     date,
    legal_basis      text CHECK (length(legal_basis) <= 500),
    -- Maintained by triggers: true while any linked person is flagged
    -- suspected or identified (grant G3).
    possible_victim  boolean NOT NULL DEFAULT false,
    search           tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('simple', coalesce(reference, '')), 'A') ||
                         setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
                         setweight(to_tsvector('simple', coalesce(operation_name, '') || ' ' ||
                                                         coalesce(operation_place, '')), 'B') ||
                         setweight(to_tsvector('simple', coalesce(summary, '')), 'C')) STORED,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (status NOT IN ('before_court', 'adjudicated') OR court_agency_id IS NOT NULL)
);
-- Every list filter has an index the RLS predicate can use with it; lists are
-- ordered by (updated_at, id) for keyset pagination.
CREATE INDEX cases_owner_updated_idx ON cases (owner_agency_id, updated_at DESC, id DESC);
CREATE INDEX cases_updated_idx ON cases (updated_at DESC, id DESC);
CREATE INDEX cases_court_idx ON cases (court_agency_id, updated_at DESC, id DESC) WHERE court_agency_id IS NOT NULL;
CREATE INDEX cases_victim_idx ON cases (updated_at DESC, id DESC) WHERE possible_victim;
CREATE INDEX cases_status_idx ON cases (status, updated_at DESC, id DESC);
CREATE INDEX cases_kind_idx ON cases (kind, updated_at DESC, id DESC);
CREATE INDEX cases_search_idx ON cases USING gin (search);

CREATE TABLE case_reference_counters (
    agency_id uuid NOT NULL REFERENCES agencies (id),
    year      integer NOT NULL,
    last      bigint NOT NULL,
    PRIMARY KEY (agency_id, year)
);

CREATE TABLE case_status_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    from_status text,
    to_status   text NOT NULL,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    changed_by  uuid,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_status_history_case_idx ON case_status_history (case_id, id);

CREATE TABLE persons (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_name                 text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    given_names                 text NOT NULL DEFAULT '' CHECK (length(given_names) <= 200),
    family_name_native          text NOT NULL DEFAULT '' CHECK (length(family_name_native) <= 200),
    given_names_native          text NOT NULL DEFAULT '' CHECK (length(given_names_native) <= 200),
    sex                         text NOT NULL DEFAULT 'unknown' CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    date_of_birth               date,
    nationality                 text NOT NULL CHECK (nationality ~ '^[A-Z]{2}$'),
    passport_number             text NOT NULL DEFAULT '' CHECK (length(passport_number) <= 40),
    passport_status             text NOT NULL DEFAULT 'unknown' CHECK (passport_status IN
                                    ('valid', 'expired', 'invalid', 'none', 'unknown')),
    passport_expires_on         date,
    work_permit_number          text NOT NULL DEFAULT '' CHECK (length(work_permit_number) <= 40),
    work_permit_status          text NOT NULL DEFAULT 'unknown' CHECK (work_permit_status IN
                                    ('valid', 'expired', 'none', 'unknown')),
    address                     text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    custody_status              text NOT NULL DEFAULT 'at_large' CHECK (custody_status IN
                                    ('at_large', 'detained', 'charged', 'convicted',
                                     'awaiting_deportation', 'deported', 'released')),
    facility                    text NOT NULL DEFAULT '' CHECK (length(facility) <= 200),
    detained_at                 timestamptz,
    deported_at                 timestamptz,
    deported_via                text NOT NULL DEFAULT '' CHECK (length(deported_via) <= 200),
    entry_ban_until             date,
    trafficking_flag            text NOT NULL DEFAULT 'none' CHECK (trafficking_flag IN
                                    ('none', 'suspected', 'identified', 'cleared')),
    screening_notes             text NOT NULL DEFAULT '' CHECK (length(screening_notes) <= 20000),
    victim_consents_to_embassy  boolean NOT NULL DEFAULT false,
    -- Counter-trafficking's decision that proceedings against a flagged
    -- person may go on (the non-punishment principle).
    ct_proceedings_cleared      boolean NOT NULL DEFAULT false,
    asylum_claimed              boolean NOT NULL DEFAULT false,
    consular_notification       text NOT NULL DEFAULT 'requested' CHECK (consular_notification IN
                                    ('requested', 'declined', 'mandatory')),
    created_by_agency_id        uuid NOT NULL REFERENCES agencies (id),
    -- Maintained by triggers: how many cases link this person.
    linked_cases                integer NOT NULL DEFAULT 0,
    version                     integer NOT NULL DEFAULT 1,
    created_by                  uuid,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK (custody_status <> 'deported' OR deported_at IS NOT NULL)
);
-- The embassy list: one index that holds exactly the persons an embassy may
-- ever see (conditions 2 and 3), by nationality, in list order.
CREATE INDEX persons_consular_idx ON persons (nationality, family_name, given_names, id)
    WHERE custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
      AND consular_notification IN ('requested', 'mandatory');
CREATE INDEX persons_creator_idx ON persons (created_by_agency_id, family_name, id) WHERE linked_cases = 0;
CREATE INDEX persons_name_idx ON persons (family_name, given_names, id);
CREATE INDEX persons_flag_idx ON persons (trafficking_flag) WHERE trafficking_flag IN ('suspected', 'identified');

CREATE TABLE case_persons (
    case_id    uuid NOT NULL REFERENCES cases (id),
    person_id  uuid NOT NULL REFERENCES persons (id),
    role       text NOT NULL DEFAULT 'detainee' CHECK (role IN ('detainee', 'suspect', 'witness', 'victim', 'other')),
    linked_by  uuid,
    linked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, person_id)
);
CREATE INDEX case_persons_person_idx ON case_persons (person_id, case_id);

CREATE TABLE shares (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id     uuid NOT NULL REFERENCES cases (id),
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    level       text NOT NULL CHECK (level IN ('summary', 'full')),
    ceiling     text NOT NULL CHECK (ceiling IN ('public', 'restricted', 'confidential', 'secret')),
    purpose     text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 1000),
    expires_at  timestamptz NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_by  uuid,
    CHECK (expires_at > created_at AND expires_at <= created_at + interval '365 days')
);
-- Covers expires_at, so the principal's active shares are read from the index alone.
CREATE INDEX shares_active_idx ON shares (agency_id, case_id) INCLUDE (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX shares_case_idx ON shares (case_id, created_at);

-- Row-Level Security: with no policy a table shows the application nothing;
-- the policies are in migrations/access/.
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_reference_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_status_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE shares ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON cases TO casebridge_app;
GRANT SELECT, INSERT, UPDATE ON case_reference_counters TO casebridge_app;
GRANT SELECT, INSERT ON case_status_history TO casebridge_app;
GRANT SELECT, INSERT, UPDATE ON persons TO casebridge_app;
GRANT SELECT, INSERT, DELETE ON case_persons TO casebridge_app;
GRANT SELECT, INSERT ON shares TO casebridge_app;
GRANT UPDATE (revoked_at, revoked_by) ON shares TO casebridge_app;

-- +goose Down
DROP TABLE shares, case_persons, persons, case_status_history, case_reference_counters, cases CASCADE;
