-- Persons (ACCESS.md, Persons): who sees a person in full, in the summary
-- projection, or not at all, and who may change which of its columns.
--
--   full      a full grant on a case linking P; the creating agency while P
--             is linked to no case; coordinators
--   summary   only summary grants on the cases linking P: id, names, sex,
--             nationality, custody status and P's role in that case
--   consular  an embassy's own national in its consular view (35_consular.sql)
--
-- Own state: an embassy never sees its own nationals through a case grant,
-- whatever shares it holds; only the consular view applies to them, and they
-- are left out of a shared case's person list and of every count over it.
--
-- RLS filters rows, not columns: persons_read returns only the persons the
-- principal sees in full. The summary projection is read through
-- cb_case_person_list and person_summaries, which hold only its columns.

-- Whether person p is a national of the embassy principal's own country.
CREATE OR REPLACE FUNCTION cb_person_own_state(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN cb_agency_kind() = 'embassy' AND EXISTS (
              SELECT 1 FROM persons WHERE id = p_person AND nationality = cb_country()); END $$;

-- Whether the principal sees person p in full through a grant (before the
-- own-state rule, which cb_person_access applies).
CREATE OR REPLACE FUNCTION cb_person_full(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_case_full(cp.case_id))
              OR EXISTS (SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                                                   AND p.created_by_agency_id = cb_agency_id()
                                                   AND cb_staff_ceiling() IS NOT NULL)
              OR (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')); END $$;

-- Whether some grant (full or summary) shows person p through a linking case.
CREATE OR REPLACE FUNCTION cb_person_linked_visible(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM case_persons cp
                                WHERE cp.person_id = p_person AND cb_case_visible(cp.case_id)); END $$;

-- The projection a principal gets of a person: 'full', 'summary',
-- 'consular' or NULL (not visible: 404).
CREATE OR REPLACE FUNCTION cb_person_access(p_person uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF cb_person_own_state(p_person) THEN
        RETURN CASE WHEN cb_person_consular(p_person) THEN 'consular' END;
    END IF;
    IF cb_person_full(p_person) THEN
        RETURN 'full';
    END IF;
    IF cb_person_linked_visible(p_person) THEN
        RETURN 'summary';
    END IF;
    RETURN NULL;
END $$;

-- Whether the principal may act on person p: through any linking case for
-- which cb_can(action) holds, or, for an unlinked person, as an officer of
-- the creating agency.
CREATE OR REPLACE FUNCTION cb_can_person(action text, p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_can(action, cp.case_id))
              OR (action = 'case.edit' AND EXISTS (
                    SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                       AND p.created_by_agency_id = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))); END $$;

-- Whether a person exists at all, past RLS: to audit a 404 on an existing one.
CREATE OR REPLACE FUNCTION cb_person_exists(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM persons WHERE id = p_person) $$;

-- The persons of one case as the principal may list them, with the summary
-- projection's columns and their role: nothing when the case is not visible
-- to it; never an embassy's own nationals.
CREATE OR REPLACE FUNCTION cb_case_person_list(p_case uuid)
    RETURNS TABLE (person_id uuid, role text, linked_at timestamptz, family_name text, given_names text,
                   sex text, nationality text, custody_status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 50
    AS $$
BEGIN
    IF NOT cb_case_visible(p_case) THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT p.id, cp.role, cp.linked_at, p.family_name, p.given_names, p.sex, p.nationality,
                        p.custody_status
                   FROM case_persons cp JOIN persons p ON p.id = cp.person_id
                  WHERE cp.case_id = p_case
                    AND NOT (cb_agency_kind() = 'embassy' AND p.nationality = cb_country());
END $$;

-- The summary projection of the persons the principal sees in it (and of
-- those it sees in full): for GET /persons/{id} when the projection is
-- 'summary'. Runs as its owner, so its WHERE clause is the only filter.
CREATE OR REPLACE VIEW person_summaries WITH (security_barrier = true) AS
    SELECT id, family_name, given_names, sex, nationality, custody_status
      FROM persons
     WHERE cb_person_access(id) IN ('full', 'summary');

GRANT EXECUTE ON FUNCTION cb_person_own_state(uuid), cb_person_full(uuid), cb_person_linked_visible(uuid),
    cb_person_access(uuid), cb_can_person(text, uuid), cb_case_person_list(uuid) TO casebridge_app;
REVOKE ALL ON FUNCTION cb_person_exists(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_person_exists(uuid) TO casebridge_app;
GRANT SELECT ON person_summaries TO casebridge_app;

-- Reading persons in full. The "linked" branch asks RLS on case_persons and
-- cases for a visible linking case that is not seen at summary level only.
DROP POLICY IF EXISTS persons_read ON persons;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (linked_cases = 0 AND created_by_agency_id = (SELECT cb_agency_id())
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR EXISTS (SELECT 1 FROM case_persons cp JOIN cases c ON c.id = cp.case_id
                WHERE cp.person_id = persons.id
                  AND c.id NOT IN (SELECT so FROM cb_summary_only_cases() so))
);
-- Own state: ANDed with every permissive policy, whatever they become.
DROP POLICY IF EXISTS persons_not_own_state ON persons;
CREATE POLICY persons_not_own_state ON persons AS RESTRICTIVE FOR SELECT TO casebridge_app
    USING (NOT ((SELECT cb_agency_kind()) = 'embassy' AND nationality = (SELECT cb_country())));
DROP POLICY IF EXISTS persons_insert ON persons;
CREATE POLICY persons_insert ON persons FOR INSERT TO casebridge_app WITH CHECK (
    created_by_agency_id = (SELECT cb_agency_id()) AND cb_can('case.create', NULL));
-- Updates: an editor of a linking case (or the creator while unlinked), or a
-- counter-trafficking screener. Which columns each may change is checked by
-- the persons_guard trigger below.
DROP POLICY IF EXISTS persons_update ON persons;
CREATE POLICY persons_update ON persons FOR UPDATE TO casebridge_app
    USING (cb_can_person('case.edit', id) OR cb_can_person('person.flag_suspected', id))
    WITH CHECK (true);

-- Links are visible with their case, except an embassy's own nationals:
-- so every count over case_persons (a case's persons_count) counts only
-- what the principal may see.
DROP POLICY IF EXISTS case_persons_read ON case_persons;
CREATE POLICY case_persons_read ON case_persons FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_persons.case_id)
           AND ((SELECT cb_agency_kind()) IS DISTINCT FROM 'embassy' OR NOT cb_person_own_state(person_id)));
-- Linking needs the case's edit permission and the person in full view (so
-- an officer cannot read another agency's person by linking its id).
DROP POLICY IF EXISTS case_persons_insert ON case_persons;
CREATE POLICY case_persons_insert ON case_persons FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id) AND cb_person_access(person_id) = 'full');
DROP POLICY IF EXISTS case_persons_delete ON case_persons;
CREATE POLICY case_persons_delete ON case_persons FOR DELETE TO casebridge_app
    USING (cb_can('case.edit', case_id));

-- cases.possible_victim follows a person's flag (20_cases.sql).
CREATE OR REPLACE FUNCTION cb_person_flag_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT case_id FROM case_persons WHERE person_id = NEW.id LOOP
        PERFORM cb_refresh_possible_victim(c);
    END LOOP;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER persons_flag_changed AFTER UPDATE OF trafficking_flag ON persons
    FOR EACH ROW WHEN (OLD.trafficking_flag IS DISTINCT FROM NEW.trafficking_flag)
    EXECUTE FUNCTION cb_person_flag_changed();

-- Column rules for person updates by the application role (ACCESS.md,
-- Actions): screening columns are counter-trafficking's (G1, G2 or G3 on a
-- linked case), and the owner's officers may raise `none` to `suspected`
-- and nothing else. The owner role (data loads, migrations) is not checked.
CREATE OR REPLACE FUNCTION cb_persons_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    screening_changed boolean := NEW.trafficking_flag IS DISTINCT FROM OLD.trafficking_flag
        OR NEW.screening_notes IS DISTINCT FROM OLD.screening_notes
        OR NEW.victim_consents_to_embassy IS DISTINCT FROM OLD.victim_consents_to_embassy
        OR NEW.ct_proceedings_cleared IS DISTINCT FROM OLD.ct_proceedings_cleared;
    other_changed boolean := (to_jsonb(NEW) - ARRAY['trafficking_flag', 'screening_notes',
        'victim_consents_to_embassy', 'ct_proceedings_cleared', 'version', 'updated_at', 'linked_cases'])
        IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['trafficking_flag', 'screening_notes',
        'victim_consents_to_embassy', 'ct_proceedings_cleared', 'version', 'updated_at', 'linked_cases']);
BEGIN
    IF session_user <> 'casebridge_app' THEN
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.created_by_agency_id <> OLD.created_by_agency_id
       OR NEW.linked_cases <> OLD.linked_cases AND pg_trigger_depth() = 1 THEN
        RAISE EXCEPTION 'person % : identity columns are not editable', OLD.id USING ERRCODE = '42501';
    END IF;
    IF other_changed AND NOT cb_can_person('case.edit', OLD.id) THEN
        RAISE EXCEPTION 'missing permission case.edit for person %', OLD.id USING ERRCODE = '42501';
    END IF;
    IF screening_changed AND NOT cb_can_person('person.screen', OLD.id) THEN
        IF NOT (cb_can_person('person.flag_suspected', OLD.id)
                AND NEW.trafficking_flag = 'suspected' AND OLD.trafficking_flag = 'none'
                AND NEW.screening_notes = OLD.screening_notes
                AND NEW.victim_consents_to_embassy = OLD.victim_consents_to_embassy
                AND NEW.ct_proceedings_cleared = OLD.ct_proceedings_cleared) THEN
            RAISE EXCEPTION 'missing permission person.screen for person %', OLD.id USING ERRCODE = '42501';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER persons_guard BEFORE UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_persons_guard();

-- A person is created unscreened: only a suspicion may be recorded at once
-- (what an owner officer may set), and never a deportation of a flagged
-- person (the non-punishment principle, as on UPDATE).
CREATE OR REPLACE FUNCTION cb_persons_insert_guard() RETURNS trigger
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
CREATE OR REPLACE TRIGGER persons_insert_guard BEFORE INSERT ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_persons_insert_guard();

-- The non-punishment principle (MISSION.md): a person whose screening is
-- open, or who is an identified victim, is not recorded as deported without
-- counter-trafficking's decision.
--
-- Counter-trafficking's decision is its own row with a reason
-- (screening_decisions): for the application, clearing a possible or
-- identified victim's flag needs a `cleared` decision, and clearing the
-- proceedings (ct_proceedings_cleared, which allows deportation and court
-- referral) a `no_objection_to_proceedings` decision, recorded in the same
-- transaction. Data loads by the owner role are not checked.
CREATE OR REPLACE FUNCTION cb_non_punishment() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF session_user = 'casebridge_app' THEN
        IF NEW.ct_proceedings_cleared AND NOT OLD.ct_proceedings_cleared
           AND NOT EXISTS (SELECT 1 FROM screening_decisions d WHERE d.person_id = NEW.id
                             AND d.decision = 'no_objection_to_proceedings' AND d.decided_at = now()) THEN
            RAISE EXCEPTION 'person %: clearing the proceedings needs counter-trafficking''s decision with a reason', NEW.id
                USING ERRCODE = 'CB409';
        END IF;
        IF NEW.trafficking_flag = 'cleared' AND OLD.trafficking_flag IN ('suspected', 'identified')
           AND NOT EXISTS (SELECT 1 FROM screening_decisions d WHERE d.person_id = NEW.id
                             AND d.decision = 'cleared' AND d.decided_at = now()) THEN
            RAISE EXCEPTION 'person %: clearing a possible victim needs counter-trafficking''s decision with a reason', NEW.id
                USING ERRCODE = 'CB409';
        END IF;
    END IF;
    IF NEW.custody_status = 'deported' AND OLD.custody_status <> 'deported'
       AND NEW.trafficking_flag IN ('suspected', 'identified') AND NOT NEW.ct_proceedings_cleared THEN
        RAISE EXCEPTION 'person % is a possible or identified trafficking victim: deportation needs counter-trafficking''s decision', NEW.id
            USING ERRCODE = 'CB409';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER persons_non_punishment BEFORE UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_non_punishment();
REVOKE ALL ON FUNCTION cb_person_flag_changed(), cb_persons_guard(), cb_persons_insert_guard(),
    cb_non_punishment() FROM PUBLIC;

-- Screening decisions: read by whoever sees the person in full (who sees
-- the flag and the notes already), never by their own state; recorded by
-- counter-trafficking screeners (person.screen) for their own agency.
DROP POLICY IF EXISTS screening_decisions_read ON screening_decisions;
CREATE POLICY screening_decisions_read ON screening_decisions FOR SELECT TO casebridge_app
    USING (cb_person_full(person_id));
DROP POLICY IF EXISTS screening_decisions_insert ON screening_decisions;
CREATE POLICY screening_decisions_insert ON screening_decisions FOR INSERT TO casebridge_app
    WITH CHECK (cb_can_person('person.screen', person_id)
                AND decided_by_agency = (SELECT cb_agency_id())
                AND decided_by IS NOT DISTINCT FROM (SELECT cb_user_id()));
