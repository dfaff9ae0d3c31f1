-- Cases: the grants G1–G5 of ACCESS.md, who may do what on a case, and the
-- policies of cases, their status history, reference counters and shares.
--
--   cb_case_access(case)   the union of the principal's grants: (level, ceiling)
--   cases_read             the same grants as a row filter, written as an
--                          OR-list of index-friendly predicates so lists stay
--                          fast at scale; the tests check that the two agree
--   cb_can(action, case)   ACCESS.md, Actions
--
-- Functions that read across RLS-protected tables are SECURITY DEFINER (they
-- run as the owner, whom RLS does not filter) with a fixed search_path;
-- otherwise a policy on cases that looks at shares, whose policy looks at
-- cases, would recurse. Most are PL/pgSQL so that each statement's plan is
-- kept for the session (a LANGUAGE sql function that is not inlined plans
-- its statement on every call: 23 ms instead of 0.5 ms per call at scale).

-- The cases shared with the principal's agency right now (G2), as a set
-- (a hashed subplan in cases_read). Admin alone gets no share grant.
CREATE OR REPLACE FUNCTION cb_shared_cases() RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 100
    AS $$ BEGIN RETURN QUERY SELECT s.case_id FROM shares s
          WHERE s.agency_id = cb_agency_id() AND s.revoked_at IS NULL AND s.expires_at > now()
            AND cb_share_role_ceiling() IS NOT NULL; END $$;

-- The union of grants G1–G5 for one case: one row (level, ceiling rank) or
-- none; ceiling is the highest among full grants, NULL when every grant is
-- summary. At most one row: ROWS 1 tells the planner so (the default of
-- 1,000 made every statement using it cost enough to be JIT-compiled).
CREATE OR REPLACE FUNCTION cb_case_access(p_case uuid, OUT level text, OUT ceiling integer) RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 1
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

-- Whether every case the principal can see reaches it through a share
-- (G2): none of the conditions of G1, G3, G4, G5 below (and in cases_read)
-- can hold for it. An embassy liaison, for one. The case list then starts
-- from the principal's shares instead of walking every case in list order
-- through the policy (emb-au sees 35 of 200,000 cases: 2.8 s a page).
-- It only chooses a plan; cases_read still decides every row.
CREATE OR REPLACE FUNCTION cb_sees_only_shared_cases() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NOT COALESCE(cb_staff_ceiling() IS NOT NULL
                              OR (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator'))
                              OR (cb_agency_kind() = 'court' AND cb_has_role('clerk')), false) $$;

CREATE OR REPLACE FUNCTION cb_case_visible(p_case uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM cb_case_access(p_case)); END $$;

-- Whether the principal has a full grant on the case.
CREATE OR REPLACE FUNCTION cb_case_full(p_case uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM cb_case_access(p_case) a WHERE a.level = 'full'); END $$;

-- The highest classification rank of the case's documents the principal may
-- read (-1: none). For the documents policies.
CREATE OR REPLACE FUNCTION cb_case_ceiling(p_case uuid) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN COALESCE((SELECT a.ceiling FROM cb_case_access(p_case) a), -1); END $$;

CREATE OR REPLACE FUNCTION cb_case_owner(p_case uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN (SELECT owner_agency_id FROM cases WHERE id = p_case); END $$;

-- The cases the principal sees only at summary level: shared to its agency
-- at level summary and with no full grant. Only G2 gives summary grants, so
-- this set is small (usually empty) and a hashed subplan in the persons
-- policy.
CREATE OR REPLACE FUNCTION cb_summary_only_cases() RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 10
    AS $$ BEGIN RETURN QUERY SELECT DISTINCT s.case_id FROM shares s
          WHERE s.agency_id = cb_agency_id() AND s.level = 'summary'
            AND s.revoked_at IS NULL AND s.expires_at > now()
            AND cb_share_role_ceiling() IS NOT NULL
            AND NOT cb_case_full(s.case_id); END $$;

-- Whether a case exists at all, past RLS. Only for the audit record of a
-- 404 on an existing object; never shown to a client.
CREATE OR REPLACE FUNCTION cb_case_exists(p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM cases WHERE id = p_case) $$;

-- Who may do what (ACCESS.md, Actions), for actions on a case. Reading
-- follows the grants; this answers for everything else.
CREATE OR REPLACE FUNCTION cb_can(action text, p_case uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    RETURN CASE action
        WHEN 'case.create' THEN
            cb_agency_kind() IN ('immigration_police', 'counter_trafficking')
            AND cb_has_any_role('{officer,supervisor}')
        -- edit, link/unlink, create/edit persons in it, custody data, documents
        WHEN 'case.edit' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_any_role('{officer,supervisor}')
        WHEN 'case.change_status' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'case.share' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        WHEN 'document.withdraw' THEN
            cb_case_owner(p_case) = cb_agency_id() AND cb_has_role('supervisor')
        -- full screening: counter-trafficking officers with a grant on the case
        WHEN 'person.screen' THEN
            cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{officer,supervisor}')
            AND EXISTS (SELECT 1 FROM cb_case_access(p_case))
        -- the owner's officers may only raise a suspicion
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

GRANT EXECUTE ON FUNCTION cb_shared_cases(), cb_sees_only_shared_cases(), cb_case_access(uuid), cb_case_visible(uuid), cb_case_full(uuid),
    cb_case_ceiling(uuid), cb_case_owner(uuid), cb_summary_only_cases(), cb_case_exists(uuid),
    cb_can(text, uuid) TO casebridge_app;
REVOKE ALL ON FUNCTION cb_case_exists(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_case_exists(uuid) TO casebridge_app;

-- Row-Level Security. The SELECT policies are the read rules; writes are
-- allowed only where cb_can says so.
DROP POLICY IF EXISTS cases_read ON cases;
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
DROP POLICY IF EXISTS cases_insert ON cases;
CREATE POLICY cases_insert ON cases FOR INSERT TO casebridge_app WITH CHECK (
    owner_agency_id = (SELECT cb_agency_id()) AND cb_can('case.create', NULL));
DROP POLICY IF EXISTS cases_update ON cases;
CREATE POLICY cases_update ON cases FOR UPDATE TO casebridge_app
    USING (cb_can('case.edit', id)) WITH CHECK (owner_agency_id = (SELECT cb_agency_id()));

DROP POLICY IF EXISTS counters_own ON case_reference_counters;
CREATE POLICY counters_own ON case_reference_counters TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id())) WITH CHECK (agency_id = (SELECT cb_agency_id()));

-- A case's status history is visible with the case (RLS on cases decides).
DROP POLICY IF EXISTS status_history_read ON case_status_history;
CREATE POLICY status_history_read ON case_status_history FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_status_history.case_id));
DROP POLICY IF EXISTS status_history_insert ON case_status_history;
CREATE POLICY status_history_insert ON case_status_history FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.change_status', case_id));

-- The owner agency sees its case's shares; the receiving agency its own.
DROP POLICY IF EXISTS shares_read ON shares;
CREATE POLICY shares_read ON shares FOR SELECT TO casebridge_app USING (
    (agency_id = (SELECT cb_agency_id()) AND (SELECT cb_share_role_ceiling()) IS NOT NULL)
    OR (cb_case_owner(case_id) = (SELECT cb_agency_id()) AND (SELECT cb_staff_ceiling()) IS NOT NULL));
DROP POLICY IF EXISTS shares_insert ON shares;
CREATE POLICY shares_insert ON shares FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.share', case_id));
DROP POLICY IF EXISTS shares_update ON shares;
CREATE POLICY shares_update ON shares FOR UPDATE TO casebridge_app
    USING (cb_can('case.share', case_id)) WITH CHECK (cb_can('case.share', case_id));

-- cases.possible_victim (grant G3) follows the links and flags, whoever
-- changes them (the triggers run as the owner). persons.linked_cases too.
CREATE OR REPLACE FUNCTION cb_refresh_possible_victim(p_case uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ UPDATE cases c SET possible_victim = v.flagged
            FROM (SELECT EXISTS (SELECT 1 FROM case_persons cp JOIN persons p ON p.id = cp.person_id
                                  WHERE cp.case_id = p_case
                                    AND p.trafficking_flag IN ('suspected', 'identified')) AS flagged) v
           WHERE c.id = p_case AND c.possible_victim IS DISTINCT FROM v.flagged $$;
REVOKE ALL ON FUNCTION cb_refresh_possible_victim(uuid) FROM PUBLIC;

-- Once per statement, over its transition table (an import links 10,000
-- persons in one INSERT): one UPDATE of the persons linked or unlinked, and
-- of the cases whose flag may change. A new link can only make a case a
-- possible-victim case (when the person is flagged); a removed link can only
-- end that, so only possible-victim cases that lost a link are recomputed.
-- (Per row, every link re-read all links of its case: quadratic on imports.)
CREATE OR REPLACE FUNCTION cb_case_persons_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE persons p SET linked_cases = p.linked_cases + n.links
          FROM (SELECT l.person_id, count(*) AS links FROM cb_new_links l GROUP BY l.person_id) n
         WHERE p.id = n.person_id;
        UPDATE cases c SET possible_victim = true
         WHERE NOT c.possible_victim
           AND c.id IN (SELECT l.case_id FROM cb_new_links l JOIN persons p ON p.id = l.person_id
                         WHERE p.trafficking_flag IN ('suspected', 'identified'));
    ELSE
        UPDATE persons p SET linked_cases = p.linked_cases - o.links
          FROM (SELECT l.person_id, count(*) AS links FROM cb_old_links l GROUP BY l.person_id) o
         WHERE p.id = o.person_id;
        PERFORM cb_refresh_possible_victim(c.id)
           FROM cases c WHERE c.possible_victim AND c.id IN (SELECT l.case_id FROM cb_old_links l);
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS case_persons_changed ON case_persons;
DROP TRIGGER IF EXISTS case_persons_linked ON case_persons;
CREATE TRIGGER case_persons_linked AFTER INSERT ON case_persons
    REFERENCING NEW TABLE AS cb_new_links FOR EACH STATEMENT EXECUTE FUNCTION cb_case_persons_changed();
DROP TRIGGER IF EXISTS case_persons_unlinked ON case_persons;
CREATE TRIGGER case_persons_unlinked AFTER DELETE ON case_persons
    REFERENCING OLD TABLE AS cb_old_links FOR EACH STATEMENT EXECUTE FUNCTION cb_case_persons_changed();

-- Status and court referral are the owner supervisor's (ACCESS.md, Actions:
-- "change case status, refer to a court"); the court must be a court. The
-- owner role (data loads) is not the application and is not checked; nor
-- are updates made by other triggers (possible_victim).
CREATE OR REPLACE FUNCTION cb_cases_guard() RETURNS trigger
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
CREATE OR REPLACE TRIGGER cases_guard BEFORE UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION cb_cases_guard();

-- The non-punishment principle for referral to court: no case goes before
-- the court while a linked person's screening is open or they are an
-- identified victim, unless counter-trafficking cleared the proceedings.
CREATE OR REPLACE FUNCTION cb_case_referral_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NEW.status = 'before_court' AND OLD.status <> 'before_court' AND EXISTS (
        SELECT 1 FROM case_persons cp JOIN persons p ON p.id = cp.person_id
         WHERE cp.case_id = NEW.id AND p.trafficking_flag IN ('suspected', 'identified')
           AND NOT p.ct_proceedings_cleared) THEN
        RAISE EXCEPTION 'case % links a possible or identified trafficking victim: referral needs counter-trafficking''s decision', NEW.reference
            USING ERRCODE = 'CB409';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER cases_referral_guard BEFORE UPDATE OF status ON cases
    FOR EACH ROW EXECUTE FUNCTION cb_case_referral_guard();
REVOKE ALL ON FUNCTION cb_case_persons_changed(), cb_cases_guard(), cb_case_referral_guard() FROM PUBLIC;
