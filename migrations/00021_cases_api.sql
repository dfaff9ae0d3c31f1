-- What the case, person and consular API needs on top of 00020, and four
-- fixes to it (found while building the API; each is a rule ACCESS.md states
-- or a "where this page is silent, deny" that 00020 left open):
--
--  1. cases: the application role may write only the columns a user edits.
--     00020 granted UPDATE on the whole row, so an owner officer could set
--     possible_victim = false (hiding the case from counter-trafficking's
--     G3 duty) or insert a case already 'adjudicated' before a court (G5
--     without a supervisor's referral).
--  2. cases: status and court referral (status, court_agency_id,
--     hearing_date, legal_basis) change only with cb_can('case.change_status')
--     (supervisor of the owner agency), and a referral names a court. 00020
--     let any editor (officer) change them with a plain UPDATE.
--  3. persons: a new person row starts unscreened. The screening rules of
--     00020 guard UPDATE only, so a police officer could INSERT a person who
--     is already an 'identified' victim with ct_proceedings_cleared = true,
--     or deported while flagged.
--  4. case_persons: linking needs the person to be visible in full to the
--     principal. 00020 only asked for case.edit, so an officer who knew (or
--     guessed) the id of another agency's person could link it to an own case
--     and so read it in full.
--  5. persons: the consular view is a projection, and RLS filters rows, not
--     columns. With the consular branch in persons_read, an embassy's plain
--     SELECT * FROM persons returned the whole row of each national it may
--     see: trafficking flag, screening notes, asylum claim, address. The
--     branch is gone; embassies read their nationals only through the view
--     consular_nationals below, which has exactly the consular columns.
--
-- And new: existence checks for auditing 404s, the charges an embassy may
-- read, a name search index for persons, and stored responses for
-- Idempotency-Key.

-- +goose Up

-- 1. Column privileges on cases. created_by is filled by the database.
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
-- 2. Status and court referral are the owner supervisor's (ACCESS.md,
-- Actions: "change case status, refer to a court"); the court must be a
-- court. The owner role (data loads) is not the application and is not
-- checked; nor are updates made by the triggers of 00020 (possible_victim).
CREATE FUNCTION cb_cases_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF session_user <> 'casebridge_app' OR pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF (NEW.status, NEW.court_agency_id, NEW.hearing_date, NEW.legal_basis)
       IS DISTINCT FROM (OLD.status, OLD.court_agency_id, OLD.hearing_date, OLD.legal_basis)
       AND NOT cb_can('case.change_status', OLD.id) THEN
        RAISE EXCEPTION 'missing permission case.change_status for case %', OLD.reference
            USING ERRCODE = '42501';
    END IF;
    IF NEW.court_agency_id IS DISTINCT FROM OLD.court_agency_id AND NEW.court_agency_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM agencies WHERE id = NEW.court_agency_id AND kind = 'court' AND enabled) THEN
        RAISE EXCEPTION 'court_agency_id must name an enabled court'
            USING ERRCODE = 'check_violation', COLUMN = 'court_agency_id';
    END IF;
    RETURN NEW;
END $$;

-- 3. A person is created unscreened: only a suspicion may be recorded at
-- once (what an owner officer may set, ACCESS.md), and never a deportation
-- of a flagged person (the non-punishment principle, as on UPDATE).
CREATE FUNCTION cb_persons_insert_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF session_user <> 'casebridge_app' THEN
        RETURN NEW;
    END IF;
    IF NEW.trafficking_flag NOT IN ('none', 'suspected') OR NEW.screening_notes <> ''
       OR NEW.victim_consents_to_embassy OR NEW.ct_proceedings_cleared OR NEW.linked_cases <> 0 THEN
        RAISE EXCEPTION 'missing permission person.screen: a new person can only be flagged suspected'
            USING ERRCODE = '42501';
    END IF;
    IF NEW.custody_status = 'deported' AND NEW.trafficking_flag IN ('suspected', 'identified') THEN
        RAISE EXCEPTION 'a possible or identified trafficking victim is not recorded as deported without counter-trafficking''s decision'
            USING ERRCODE = 'CB409';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER cases_guard BEFORE UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION cb_cases_guard();
CREATE TRIGGER persons_insert_guard BEFORE INSERT ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_persons_insert_guard();

-- 4. Linking a person needs the person in full view.
DROP POLICY case_persons_insert ON case_persons;
CREATE POLICY case_persons_insert ON case_persons FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id) AND cb_person_access(person_id) = 'full');

-- +goose StatementBegin
-- Whether a case or person exists at all, past RLS. Only for the audit
-- record of a 404 on an existing object; never shown to a client.
CREATE FUNCTION cb_case_exists(p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM cases WHERE id = p_case) $$;

CREATE FUNCTION cb_person_exists(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM persons WHERE id = p_person) $$;

-- Whether the principal is a consular viewer at all (ACCESS.md: an embassy
-- principal with role liaison). The consular endpoints answer 403 otherwise.
CREATE FUNCTION cb_consular_viewer() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(cb_agency_kind() = 'embassy' AND cb_has_role('liaison'), false) $$;

-- The charges an embassy may read about a person in its consular view: for
-- each linked case its kind, legal basis, status, court name and hearing
-- date, and nothing else (not the reference, summary or notes). Empty for
-- anyone who does not see the person in the consular view.
CREATE FUNCTION cb_consular_charges(p_person uuid)
    RETURNS TABLE (case_kind text, legal_basis text, status text, court_name text, hearing_date date)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT c.kind, c.legal_basis, c.status, ct.name, c.hearing_date
            FROM case_persons cp
            JOIN cases c ON c.id = cp.case_id
            LEFT JOIN agencies ct ON ct.id = c.court_agency_id
           WHERE cp.person_id = p_person AND cb_person_consular(p_person)
           ORDER BY c.hearing_date NULLS LAST, c.created_at, c.id $$;
-- +goose StatementEnd

-- 5. The consular view: the persons an embassy principal sees (conditions
-- 1–4 of ACCESS.md, the same predicate as cb_consular_match, written inline
-- so that the list uses persons_consular_idx), with exactly the columns of
-- the consular projection. It runs with its owner's rights (RLS does not
-- apply to the owner), so this WHERE clause is the only filter; it is a
-- security barrier, so no caller's condition runs before it. The tests
-- check that it agrees with cb_person_access for every person and principal.
DROP POLICY persons_read ON persons;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (linked_cases = 0 AND created_by_agency_id = (SELECT cb_agency_id())
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR cb_person_full(id)
);
CREATE VIEW consular_nationals WITH (security_barrier = true) AS
    SELECT id, family_name, given_names, sex, date_of_birth, nationality, passport_number,
           custody_status, facility, detained_at, deported_at, deported_via, entry_ban_until
      FROM persons
     WHERE nationality = (SELECT cb_country())
       AND (SELECT cb_consular_viewer())
       AND custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
       AND consular_notification IN ('requested', 'mandatory')
       AND (trafficking_flag = 'none' OR victim_consents_to_embassy);
GRANT SELECT ON consular_nationals TO casebridge_app;

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

REVOKE ALL ON FUNCTION cb_cases_guard(), cb_persons_insert_guard(), cb_case_exists(uuid),
    cb_person_exists(uuid), cb_consular_charges(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_case_exists(uuid), cb_person_exists(uuid), cb_consular_viewer(),
    cb_consular_charges(uuid), cb_person_names(text, text, text, text) TO casebridge_app;

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
CREATE POLICY idempotency_own ON idempotency_keys TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id())
           AND user_id = (SELECT COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'::uuid)))
    WITH CHECK (agency_id = (SELECT cb_agency_id())
           AND user_id = (SELECT COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'::uuid)));
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO casebridge_app;

-- +goose Down
DROP TABLE idempotency_keys;
DROP INDEX persons_custody_idx, persons_nationality_idx, persons_names_search_idx;
DROP FUNCTION cb_person_names(text, text, text, text);
DROP VIEW consular_nationals;
DROP POLICY persons_read ON persons;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    (nationality = (SELECT cb_country()) AND (SELECT cb_agency_kind()) = 'embassy'
     AND (SELECT cb_has_role('liaison'))
     AND custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
     AND consular_notification IN ('requested', 'mandatory')
     AND (trafficking_flag = 'none' OR victim_consents_to_embassy))
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (linked_cases = 0 AND created_by_agency_id = (SELECT cb_agency_id())
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR cb_person_full(id)
);
DROP FUNCTION cb_consular_charges(uuid), cb_consular_viewer(), cb_person_exists(uuid), cb_case_exists(uuid);
DROP POLICY case_persons_insert ON case_persons;
CREATE POLICY case_persons_insert ON case_persons FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id));
DROP TRIGGER persons_insert_guard ON persons;
DROP TRIGGER cases_guard ON cases;
DROP FUNCTION cb_persons_insert_guard(), cb_cases_guard();
REVOKE INSERT ON persons FROM casebridge_app;
GRANT INSERT ON persons TO casebridge_app;
ALTER TABLE case_status_history ALTER COLUMN changed_by DROP DEFAULT;
ALTER TABLE shares ALTER COLUMN created_by DROP DEFAULT;
ALTER TABLE case_persons ALTER COLUMN linked_by DROP DEFAULT;
ALTER TABLE persons ALTER COLUMN created_by DROP DEFAULT;
REVOKE INSERT, UPDATE ON cases FROM casebridge_app;
GRANT INSERT, UPDATE ON cases TO casebridge_app;
ALTER TABLE cases ALTER COLUMN created_by DROP DEFAULT;
