-- Visibility at scale: the access rules of 00020/00021, unchanged in what
-- they decide, made fast enough for a million persons (MISSION.md, "Scale
-- it must hold"; figures in docs/benchmarks.md, "Visibility at scale").
--
-- Measured before this migration, on 20,000 persons: one call of
-- cb_person_full took 23 ms, cb_case_visible 6.5 ms, cb_case_access 1.4 ms,
-- so one page of the case list (cb_case_access per case, and RLS on the
-- persons count calling cb_case_visible per link) took ~1 s, and a case's
-- persons ~70 ms. The cause: a LANGUAGE sql function that is not inlined
-- (SECURITY DEFINER ones never are, nor ones with a FROM clause) runs its
-- statement through a fresh executor on every call, and every SQL function
-- it calls in turn is parsed and planned again, call after call.
--
-- What changes:
--  1. cb_staff_ceiling and cb_share_role_ceiling become single expressions
--     (same mapping of roles to ceilings), which PostgreSQL inlines.
--  2. cb_case_access is written in PL/pgSQL, step by step: one primary-key
--     read of the case, one index read of the principal's shares of it, the
--     grants G1–G5 as in 00020. The functions around it (cb_case_visible,
--     cb_case_ceiling, cb_case_owner, cb_person_consular, cb_person_full,
--     cb_person_access, cb_can, cb_can_person, cb_consular_charges) keep
--     their statements word for word, wrapped in PL/pgSQL, which keeps
--     each statement's plan for the session.
--  3. Three read policies called one of those functions per row. They now
--     say the same with a subquery on cases, which Row-Level Security on
--     cases filters by cases_read (G1–G5, the same grants as
--     cb_case_access: 00020 keeps the two in step and its tests check it),
--     so the planner sees an index lookup instead of a function call:
--       case_persons_read, status_history_read: cb_case_visible(case_id)
--         becomes EXISTS (a visible case with that id);
--       persons_read: cb_person_full(id) becomes EXISTS (a link of the
--         person to a visible case); its other two branches (coordinator;
--         creating agency while unlinked) are already in the policy.
--  4. cases_read, grant G2: "id = ANY (array of the shared case ids)" is a
--     linear search per row, and an agency that receives thousands of
--     shares (NCCT: ~10,000 at 1M persons) paid ~10,000 comparisons per case
--     row, in the case list and in every policy that looks at cases (50 ms
--     a page). The grant now reads "id IN (SELECT … FROM cb_shared_cases())":
--     the same set (cb_shared_case_ids without the array), which PostgreSQL
--     puts in a hash table once per query (a hashed SubPlan). Its index,
--     shares_active_idx, covers expires_at, so the set is read from the
--     index alone; it replaces shares_agency_idx (same key and predicate).
--  5. consular_nationals (00021) is no longer a security_barrier view. A
--     barrier view is planned as a separate subquery that the caller's
--     ORDER BY … LIMIT cannot reach, and the planner, which cannot know the
--     principal's country when it plans, estimated ~4,000 Chinese nationals
--     instead of ~344,000, then read and sorted all of them for every page
--     of the embassy list (0.6–1.5 s a page at 1M persons). Flattened, the
--     list walks persons_consular_idx in order and stops after a page (a few
--     ms). What the barrier guarded against: a caller's condition with a
--     function that leaks its arguments (an error or a notice showing a
--     value) running on rows the view's WHERE would have removed. The
--     callers are the server's own statements, with fixed SQL and bound
--     parameters over plain comparisons; the view still runs as its owner
--     and still has exactly the consular columns and rows. Whoever adds a
--     filter on this view must keep it free of such functions.
--
-- Anyone changing a function, policy or view named here changes it here (or
-- later): a change in 00020/00021 would be overridden by this file.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cb_share_role_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cb_roles() && '{officer,supervisor}'::text[] THEN 3
                      WHEN cb_roles() && '{viewer,clerk}'::text[] THEN 2
                      WHEN cb_roles() && '{liaison,coordinator}'::text[] THEN 1 END $$;

CREATE OR REPLACE FUNCTION cb_staff_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cb_roles() && '{officer,supervisor}'::text[] THEN 3
                      WHEN cb_roles() && '{viewer}'::text[] THEN 2 END $$;

-- The union of grants G1–G5 (ACCESS.md) for one case: one row (level,
-- ceiling rank) or none; ceiling is the highest among full grants, NULL
-- when every grant is summary.
CREATE OR REPLACE FUNCTION cb_case_access(p_case uuid, OUT level text, OUT ceiling integer) RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    c        record;
    s        record;
    me       uuid := cb_agency_id();
    me_kind  text := cb_agency_kind();
    staff    integer := cb_staff_ceiling();
    via      integer := cb_share_role_ceiling();
    granted  boolean := false;
    best     integer;  -- highest ceiling among full grants
BEGIN
    SELECT cs.owner_agency_id, cs.possible_victim, cs.court_agency_id, cs.status INTO c
      FROM cases cs WHERE cs.id = p_case;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- G1 owner
    IF c.owner_agency_id = me AND staff IS NOT NULL THEN
        granted := true;
        best := GREATEST(best, staff);
    END IF;
    -- G2 share (not revoked, not expired; any role but admin)
    IF via IS NOT NULL THEN
        FOR s IN SELECT sh.level AS lvl, cb_class_rank(sh.ceiling) AS rank FROM shares sh
                  WHERE sh.case_id = p_case AND sh.agency_id = me
                    AND sh.revoked_at IS NULL AND sh.expires_at > now() LOOP
            granted := true;
            IF s.lvl = 'full' THEN
                best := GREATEST(best, LEAST(s.rank, via));
            END IF;
        END LOOP;
    END IF;
    -- G3 trafficking duty
    IF me_kind = 'counter_trafficking' AND cb_has_any_role('{viewer,officer,supervisor}') AND c.possible_victim THEN
        granted := true;
        best := GREATEST(best, CASE WHEN cb_has_any_role('{officer,supervisor}') THEN 2 ELSE 1 END);
    END IF;
    -- G4 oversight
    IF me_kind = 'interior_ministry' AND cb_has_role('coordinator') THEN
        granted := true;
        best := GREATEST(best, 1);
    END IF;
    -- G5 court
    IF me_kind = 'court' AND cb_has_role('clerk') AND c.court_agency_id = me
       AND c.status IN ('before_court', 'adjudicated') THEN
        granted := true;
        best := GREATEST(best, 2);
    END IF;
    IF granted THEN
        level := CASE WHEN best IS NOT NULL THEN 'full' ELSE 'summary' END;
        ceiling := best;
        RETURN NEXT;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION cb_case_visible(p_case uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM cb_case_access(p_case)); END $$;

CREATE OR REPLACE FUNCTION cb_case_ceiling(p_case uuid) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN COALESCE((SELECT a.ceiling FROM cb_case_access(p_case) a), -1); END $$;

CREATE OR REPLACE FUNCTION cb_case_owner(p_case uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN (SELECT owner_agency_id FROM cases WHERE id = p_case); END $$;

CREATE OR REPLACE FUNCTION cb_person_consular(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN COALESCE((SELECT cb_consular_match(p.nationality, p.custody_status, p.consular_notification,
                                                          p.trafficking_flag, p.victim_consents_to_embassy)
                                   FROM persons p WHERE p.id = p_person), false); END $$;

CREATE OR REPLACE FUNCTION cb_person_full(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_case_visible(cp.case_id))
              OR EXISTS (SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                                                   AND p.created_by_agency_id = cb_agency_id()
                                                   AND cb_staff_ceiling() IS NOT NULL)
              OR (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')); END $$;

CREATE OR REPLACE FUNCTION cb_person_access(p_person uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN CASE WHEN cb_person_full(p_person) THEN 'full'
                            WHEN cb_person_consular(p_person) THEN 'consular' END; END $$;

CREATE OR REPLACE FUNCTION cb_can(action text, p_case uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    RETURN CASE action
        WHEN 'case.create' THEN
            cb_agency_kind() IN ('immigration_police', 'counter_trafficking')
            AND cb_has_any_role('{officer,supervisor}')
        WHEN 'case.edit' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}')
        WHEN 'case.change_status' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'case.share' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'document.withdraw' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'person.screen' THEN
            cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{officer,supervisor}')
            AND EXISTS (SELECT 1 FROM cb_case_access(p_case))
        WHEN 'person.flag_suspected' THEN
            (cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{officer,supervisor}')
             AND EXISTS (SELECT 1 FROM cb_case_access(p_case)))
            OR (cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))
        WHEN 'bundle.edit' THEN
            (cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))
            OR (cb_agency_kind() = 'court' AND cb_has_role('clerk') AND EXISTS (
                SELECT 1 FROM cases c WHERE c.id = p_case AND c.court_agency_id = cb_agency_id()
                                        AND c.status IN ('before_court', 'adjudicated')))
        WHEN 'bundle.seal' THEN
            (cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor'))
            OR (cb_agency_kind() = 'court' AND cb_has_role('clerk') AND EXISTS (
                SELECT 1 FROM cases c WHERE c.id = p_case AND c.court_agency_id = cb_agency_id()
                                        AND c.status IN ('before_court', 'adjudicated')))
        ELSE false
    END;
END $$;

CREATE OR REPLACE FUNCTION cb_can_person(action text, p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_can(action, cp.case_id))
              OR (action = 'case.edit' AND EXISTS (
                    SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                       AND p.created_by_agency_id = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))); END $$;

CREATE OR REPLACE FUNCTION cb_consular_charges(p_person uuid)
    RETURNS TABLE (case_kind text, legal_basis text, status text, court_name text, hearing_date date)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN QUERY SELECT c.kind, c.legal_basis, c.status, ct.name, c.hearing_date
            FROM case_persons cp
            JOIN cases c ON c.id = cp.case_id
            LEFT JOIN agencies ct ON ct.id = c.court_agency_id
           WHERE cp.person_id = p_person AND cb_person_consular(p_person)
           ORDER BY c.hearing_date NULLS LAST, c.created_at, c.id; END $$;
-- +goose StatementEnd

DROP POLICY case_persons_read ON case_persons;
CREATE POLICY case_persons_read ON case_persons FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_persons.case_id));

DROP POLICY status_history_read ON case_status_history;
CREATE POLICY status_history_read ON case_status_history FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_status_history.case_id));

DROP POLICY persons_read ON persons;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (linked_cases = 0 AND created_by_agency_id = (SELECT cb_agency_id())
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR EXISTS (SELECT 1 FROM case_persons cp JOIN cases c ON c.id = cp.case_id
                WHERE cp.person_id = persons.id)
);

CREATE INDEX shares_active_idx ON shares (agency_id, case_id) INCLUDE (expires_at) WHERE revoked_at IS NULL;
DROP INDEX shares_agency_idx;

-- +goose StatementBegin
-- The cases shared with the principal's agency right now (G2), as a set.
CREATE FUNCTION cb_shared_cases() RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN QUERY SELECT s.case_id FROM shares s
          WHERE s.agency_id = cb_agency_id() AND s.revoked_at IS NULL AND s.expires_at > now()
            AND cb_share_role_ceiling() IS NOT NULL; END $$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION cb_shared_cases() TO casebridge_app;

DROP POLICY cases_read ON cases;
CREATE POLICY cases_read ON cases FOR SELECT TO casebridge_app USING (
    -- G1 owner
    (owner_agency_id = (SELECT cb_agency_id()) AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    -- G2 share: a hash lookup, not a linear search of an array
    OR id IN (SELECT sc FROM cb_shared_cases() sc)
    -- G3 trafficking duty
    OR (possible_victim AND (SELECT cb_agency_kind()) = 'counter_trafficking'
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    -- G4 oversight
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    -- G5 court
    OR (court_agency_id = (SELECT cb_agency_id()) AND status IN ('before_court', 'adjudicated')
        AND (SELECT cb_agency_kind()) = 'court' AND (SELECT cb_has_role('clerk')))
);

ALTER VIEW consular_nationals SET (security_barrier = false);

-- +goose Down
ALTER VIEW consular_nationals SET (security_barrier = true);

DROP POLICY cases_read ON cases;
CREATE POLICY cases_read ON cases FOR SELECT TO casebridge_app USING (
    (owner_agency_id = (SELECT cb_agency_id()) AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR id = ANY ((SELECT cb_shared_case_ids())::uuid[])
    OR (possible_victim AND (SELECT cb_agency_kind()) = 'counter_trafficking'
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (court_agency_id = (SELECT cb_agency_id()) AND status IN ('before_court', 'adjudicated')
        AND (SELECT cb_agency_kind()) = 'court' AND (SELECT cb_has_role('clerk')))
);
DROP FUNCTION cb_shared_cases();
CREATE INDEX shares_agency_idx ON shares (agency_id, case_id) WHERE revoked_at IS NULL;
DROP INDEX shares_active_idx;

DROP POLICY persons_read ON persons;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    OR (linked_cases = 0 AND created_by_agency_id = (SELECT cb_agency_id())
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    OR cb_person_full(id)
);
DROP POLICY status_history_read ON case_status_history;
CREATE POLICY status_history_read ON case_status_history FOR SELECT TO casebridge_app
    USING (cb_case_visible(case_id));
DROP POLICY case_persons_read ON case_persons;
CREATE POLICY case_persons_read ON case_persons FOR SELECT TO casebridge_app
    USING (cb_case_visible(case_id));

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cb_consular_charges(p_person uuid)
    RETURNS TABLE (case_kind text, legal_basis text, status text, court_name text, hearing_date date)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT c.kind, c.legal_basis, c.status, ct.name, c.hearing_date
            FROM case_persons cp
            JOIN cases c ON c.id = cp.case_id
            LEFT JOIN agencies ct ON ct.id = c.court_agency_id
           WHERE cp.person_id = p_person AND cb_person_consular(p_person)
           ORDER BY c.hearing_date NULLS LAST, c.created_at, c.id $$;

CREATE OR REPLACE FUNCTION cb_can_person(action text, p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_can(action, cp.case_id))
              OR (action = 'case.edit' AND EXISTS (
                    SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                       AND p.created_by_agency_id = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))) $$;

CREATE OR REPLACE FUNCTION cb_can(action text, p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT CASE action
        WHEN 'case.create' THEN
            cb_agency_kind() IN ('immigration_police', 'counter_trafficking')
            AND cb_has_any_role('{officer,supervisor}')
        WHEN 'case.edit' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}')
        WHEN 'case.change_status' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'case.share' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'document.withdraw' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'person.screen' THEN
            cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{officer,supervisor}')
            AND EXISTS (SELECT 1 FROM cb_case_access(p_case))
        WHEN 'person.flag_suspected' THEN
            (cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{officer,supervisor}')
             AND EXISTS (SELECT 1 FROM cb_case_access(p_case)))
            OR (cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))
        WHEN 'bundle.edit' THEN
            (cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))
            OR (cb_agency_kind() = 'court' AND cb_has_role('clerk') AND EXISTS (
                SELECT 1 FROM cases c WHERE c.id = p_case AND c.court_agency_id = cb_agency_id()
                                        AND c.status IN ('before_court', 'adjudicated')))
        WHEN 'bundle.seal' THEN
            (cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor'))
            OR (cb_agency_kind() = 'court' AND cb_has_role('clerk') AND EXISTS (
                SELECT 1 FROM cases c WHERE c.id = p_case AND c.court_agency_id = cb_agency_id()
                                        AND c.status IN ('before_court', 'adjudicated')))
        ELSE false
    END
    $$;

CREATE OR REPLACE FUNCTION cb_person_access(p_person uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN cb_person_full(p_person) THEN 'full'
                      WHEN cb_person_consular(p_person) THEN 'consular' END $$;

CREATE OR REPLACE FUNCTION cb_person_full(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_case_visible(cp.case_id))
              OR EXISTS (SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                                                   AND p.created_by_agency_id = cb_agency_id()
                                                   AND cb_staff_ceiling() IS NOT NULL)
              OR (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')) $$;

CREATE OR REPLACE FUNCTION cb_person_consular(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT cb_consular_match(nationality, custody_status, consular_notification,
                                                   trafficking_flag, victim_consents_to_embassy)
                             FROM persons WHERE id = p_person), false) $$;

CREATE OR REPLACE FUNCTION cb_case_owner(p_case uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT owner_agency_id FROM cases WHERE id = p_case $$;

CREATE OR REPLACE FUNCTION cb_case_ceiling(p_case uuid) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT ceiling FROM cb_case_access(p_case)), -1) $$;

CREATE OR REPLACE FUNCTION cb_case_visible(p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM cb_case_access(p_case)) $$;

CREATE OR REPLACE FUNCTION cb_case_access(p_case uuid, OUT level text, OUT ceiling integer) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH c AS (SELECT * FROM cases WHERE id = p_case),
    grants(level, ceiling) AS (
        SELECT 'full', cb_staff_ceiling() FROM c
         WHERE c.owner_agency_id = cb_agency_id() AND cb_staff_ceiling() IS NOT NULL
        UNION ALL
        SELECT s.level, LEAST(cb_class_rank(s.ceiling), cb_share_role_ceiling())
          FROM shares s JOIN c ON c.id = s.case_id
         WHERE s.agency_id = cb_agency_id() AND s.revoked_at IS NULL AND s.expires_at > now()
           AND cb_share_role_ceiling() IS NOT NULL
        UNION ALL
        SELECT 'full', CASE WHEN cb_has_any_role('{officer,supervisor}') THEN 2 ELSE 1 END FROM c
         WHERE cb_agency_kind() = 'counter_trafficking'
           AND cb_has_any_role('{viewer,officer,supervisor}') AND c.possible_victim
        UNION ALL
        SELECT 'full', 1 FROM c
         WHERE cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')
        UNION ALL
        SELECT 'full', 2 FROM c
         WHERE cb_agency_kind() = 'court' AND cb_has_role('clerk')
           AND c.court_agency_id = cb_agency_id() AND c.status IN ('before_court', 'adjudicated')
    )
    SELECT CASE WHEN bool_or(level = 'full') THEN 'full' ELSE 'summary' END,
           max(ceiling) FILTER (WHERE level = 'full')
      FROM grants HAVING count(*) > 0
    $$;

CREATE OR REPLACE FUNCTION cb_staff_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3 END)
          FROM unnest(cb_roles()) AS r $$;

CREATE OR REPLACE FUNCTION cb_share_role_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3
                           WHEN 'liaison' THEN 1 WHEN 'coordinator' THEN 1 WHEN 'clerk' THEN 2 END)
          FROM unnest(cb_roles()) AS r $$;
-- +goose StatementEnd
