-- What the case, person and consular API needs on top of 00020: column
-- privileges (the application writes only the columns a user edits; the
-- database fills in who did it), the person name search, and stored
-- responses for Idempotency-Key. The rules that go with them (status and
-- referral guard, unscreened new persons, linking needs the person in full
-- view, the consular view) are in migrations/access/.

-- +goose Up

-- Column privileges on cases. created_by is filled by the database.
ALTER TABLE cases ALTER COLUMN created_by SET DEFAULT cb_user_id();
REVOKE INSERT, UPDATE ON cases FROM casebridge_app;
GRANT INSERT (reference, owner_agency_id, title, kind, operation_name, operation_place, operation_date,
              summary, notes) ON cases TO casebridge_app;
GRANT UPDATE (title, kind, status, operation_name, operation_place, operation_date, summary, notes,
              court_agency_id, hearing_date, legal_basis, version, updated_at) ON cases TO casebridge_app;

ALTER TABLE persons ALTER COLUMN created_by SET DEFAULT cb_user_id();
ALTER TABLE case_persons ALTER COLUMN linked_by SET DEFAULT cb_user_id();
ALTER TABLE shares ALTER COLUMN created_by SET DEFAULT cb_user_id();
ALTER TABLE case_status_history ALTER COLUMN changed_by SET DEFAULT cb_user_id();
REVOKE INSERT ON persons FROM casebridge_app;
GRANT INSERT (family_name, given_names, family_name_native, given_names_native, sex, date_of_birth,
              nationality, passport_number, passport_status, passport_expires_on, work_permit_number,
              work_permit_status, address, custody_status, facility, detained_at, deported_at,
              deported_via, entry_ban_until, trafficking_flag, asylum_claimed, consular_notification,
              created_by_agency_id) ON persons TO casebridge_app;

-- +goose StatementBegin
-- Name search for the person list (?q=): words of the Latin and native
-- names, matched by prefix.
CREATE FUNCTION cb_person_names(family text, given text, family_native text, given_native text)
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('simple'::regconfig, family || ' ' || given || ' ' || family_native || ' ' || given_native) $$;
-- +goose StatementEnd
CREATE INDEX persons_names_search_idx ON persons
    USING gin (cb_person_names(family_name, given_names, family_name_native, given_names_native));
CREATE INDEX persons_nationality_idx ON persons (nationality, family_name, given_names, id);
CREATE INDEX persons_custody_idx ON persons (custody_status, family_name, given_names, id);

GRANT EXECUTE ON FUNCTION cb_person_names(text, text, text, text) TO casebridge_app;

-- Idempotency-Key: the stored response of a create, per principal and key,
-- for 24 hours (API.md, "Idempotent retries"). request_hash is the SHA-256 of
-- method, path and body: the same key with another request is refused.
CREATE TABLE idempotency_keys (
    agency_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       integer NOT NULL,
    location     text NOT NULL DEFAULT '',
    etag         text NOT NULL DEFAULT '',
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO casebridge_app;

-- +goose Down
DROP TABLE idempotency_keys;
DROP INDEX persons_custody_idx, persons_nationality_idx, persons_names_search_idx;
DROP FUNCTION cb_person_names(text, text, text, text);
REVOKE INSERT ON persons FROM casebridge_app;
GRANT INSERT ON persons TO casebridge_app;
ALTER TABLE case_status_history ALTER COLUMN changed_by DROP DEFAULT;
ALTER TABLE shares ALTER COLUMN created_by DROP DEFAULT;
ALTER TABLE case_persons ALTER COLUMN linked_by DROP DEFAULT;
ALTER TABLE persons ALTER COLUMN created_by DROP DEFAULT;
REVOKE INSERT, UPDATE ON cases FROM casebridge_app;
GRANT INSERT, UPDATE ON cases TO casebridge_app;
ALTER TABLE cases ALTER COLUMN created_by DROP DEFAULT;
