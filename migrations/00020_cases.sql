-- Cases, persons, links and shares, with the access rules of spec/ACCESS.md.
--
-- The rules live here, in SQL, once:
--   * cb_case_access(case)      the union of grants G1–G5: (level, ceiling)
--   * the RLS policies          which rows exist for the principal
--   * cb_can(action, case)      who may do what (ACCESS.md, Actions)
-- The policies are written as OR-lists of index-friendly predicates so that
-- lists stay fast at scale; cb_case_access states the same rules grant by
-- grant. The authorization tests check that the two agree for every
-- principal and case situation.
--
-- Functions that read across RLS-protected tables are SECURITY DEFINER (they
-- run as the owner, which RLS does not filter) with a fixed search_path;
-- otherwise a policy on cases that looks at shares, whose policy looks at
-- cases, would recurse.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION cb_has_any_role(roles text[]) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_roles() && roles $$;

-- Classification levels as ranks, so ceilings compare with integers.
CREATE FUNCTION cb_class_rank(c text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE c WHEN 'public' THEN 0 WHEN 'restricted' THEN 1
                        WHEN 'confidential' THEN 2 WHEN 'secret' THEN 3 END $$;

CREATE FUNCTION cb_class_name(r integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['public','restricted','confidential','secret'])[r + 1] $$;

-- The best ceiling P's roles give it through a share (G2): viewer →
-- confidential, officer/supervisor → secret, liaison → restricted,
-- coordinator → restricted, clerk → confidential. NULL: no role but admin.
CREATE FUNCTION cb_share_role_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3
                           WHEN 'liaison' THEN 1 WHEN 'coordinator' THEN 1 WHEN 'clerk' THEN 2 END)
          FROM unnest(cb_roles()) AS r $$;

-- The owner's role ceiling (G1): viewer → confidential, officer/supervisor → secret.
CREATE FUNCTION cb_staff_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3 END)
          FROM unnest(cb_roles()) AS r $$;
-- +goose StatementEnd

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
CREATE INDEX shares_agency_idx ON shares (agency_id, case_id) WHERE revoked_at IS NULL;
CREATE INDEX shares_case_idx ON shares (case_id, created_at);

-- +goose StatementBegin
-- Cases shared with the principal's agency right now (G2), with the best
-- level and ceiling of its active shares. Computed once per query.
CREATE FUNCTION cb_shared_case_ids() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE(array_agg(DISTINCT case_id), '{}') FROM shares
          WHERE agency_id = cb_agency_id() AND revoked_at IS NULL AND expires_at > now()
            AND cb_share_role_ceiling() IS NOT NULL $$;

-- The principal's access to one case: the union of grants G1–G5 of
-- ACCESS.md. One row (level, ceiling rank) or none. ceiling is the highest
-- ceiling among full grants (documents up to it are readable), NULL when
-- every grant is summary.
CREATE FUNCTION cb_case_access(p_case uuid, OUT level text, OUT ceiling integer) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    WITH c AS (SELECT * FROM cases WHERE id = p_case),
    grants(level, ceiling) AS (
        -- G1 owner
        SELECT 'full', cb_staff_ceiling() FROM c
         WHERE c.owner_agency_id = cb_agency_id() AND cb_staff_ceiling() IS NOT NULL
        UNION ALL
        -- G2 share (not revoked, not expired; any role but admin)
        SELECT s.level, LEAST(cb_class_rank(s.ceiling), cb_share_role_ceiling())
          FROM shares s JOIN c ON c.id = s.case_id
         WHERE s.agency_id = cb_agency_id() AND s.revoked_at IS NULL AND s.expires_at > now()
           AND cb_share_role_ceiling() IS NOT NULL
        UNION ALL
        -- G3 trafficking duty
        SELECT 'full', CASE WHEN cb_has_any_role('{officer,supervisor}') THEN 2 ELSE 1 END FROM c
         WHERE cb_agency_kind() = 'counter_trafficking'
           AND cb_has_any_role('{viewer,officer,supervisor}') AND c.possible_victim
        UNION ALL
        -- G4 oversight
        SELECT 'full', 1 FROM c
         WHERE cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')
        UNION ALL
        -- G5 court
        SELECT 'full', 2 FROM c
         WHERE cb_agency_kind() = 'court' AND cb_has_role('clerk')
           AND c.court_agency_id = cb_agency_id() AND c.status IN ('before_court', 'adjudicated')
    )
    SELECT CASE WHEN bool_or(level = 'full') THEN 'full' ELSE 'summary' END,
           max(ceiling) FILTER (WHERE level = 'full')
      FROM grants HAVING count(*) > 0
    $$;

CREATE FUNCTION cb_case_visible(p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM cb_case_access(p_case)) $$;

-- The highest classification rank of the case's documents the principal may
-- read (-1: none). For the documents policies.
CREATE FUNCTION cb_case_ceiling(p_case uuid) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT ceiling FROM cb_case_access(p_case)), -1) $$;

CREATE FUNCTION cb_case_owner(p_case uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT owner_agency_id FROM cases WHERE id = p_case $$;

-- The consular view (ACCESS.md, conditions 1–4) for one person row.
CREATE FUNCTION cb_consular_match(nationality text, custody_status text, consular_notification text,
                                  trafficking_flag text, victim_consents boolean) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_agency_kind() = 'embassy' AND cb_has_role('liaison')
              AND nationality = cb_country()
              AND custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
              AND consular_notification IN ('requested', 'mandatory')
              AND (trafficking_flag = 'none' OR victim_consents) $$;

-- Whether the principal sees person p in the consular projection.
CREATE FUNCTION cb_person_consular(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT cb_consular_match(nationality, custody_status, consular_notification,
                                                   trafficking_flag, victim_consents_to_embassy)
                             FROM persons WHERE id = p_person), false) $$;

-- Whether the principal sees person p in full: a grant on a linking case,
-- the creating agency while no case links p, or a coordinator.
CREATE FUNCTION cb_person_full(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_case_visible(cp.case_id))
              OR EXISTS (SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                                                   AND p.created_by_agency_id = cb_agency_id()
                                                   AND cb_staff_ceiling() IS NOT NULL)
              OR (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')) $$;

-- The projection a principal gets of a person: 'full', 'consular' or NULL.
CREATE FUNCTION cb_person_access(p_person uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN cb_person_full(p_person) THEN 'full'
                      WHEN cb_person_consular(p_person) THEN 'consular' END $$;

-- Who may do what (ACCESS.md, Actions), for actions on a case. Reading
-- follows the grants; this answers for everything else.
CREATE FUNCTION cb_can(action text, p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    SELECT CASE action
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
    END
    $$;

-- Whether the principal may act on person p: through any linking case for
-- which cb_can(action) holds, or, for an unlinked person, as an officer of
-- the creating agency.
CREATE FUNCTION cb_can_person(action text, p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM case_persons cp WHERE cp.person_id = p_person AND cb_can(action, cp.case_id))
              OR (action = 'case.edit' AND EXISTS (
                    SELECT 1 FROM persons p WHERE p.id = p_person AND p.linked_cases = 0
                       AND p.created_by_agency_id = cb_agency_id() AND cb_has_any_role('{officer,supervisor}'))) $$;
-- +goose StatementEnd

-- Row-Level Security. The SELECT policies are the read rules; writes are
-- allowed only where cb_can says so.
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY cases_read ON cases FOR SELECT TO casebridge_app USING (
    -- G1 owner
    (owner_agency_id = (SELECT cb_agency_id()) AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    -- G2 share
    OR id = ANY ((SELECT cb_shared_case_ids())::uuid[])
    -- G3 trafficking duty
    OR (possible_victim AND (SELECT cb_agency_kind()) = 'counter_trafficking'
        AND (SELECT cb_staff_ceiling()) IS NOT NULL)
    -- G4 oversight
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
    -- G5 court
    OR (court_agency_id = (SELECT cb_agency_id()) AND status IN ('before_court', 'adjudicated')
        AND (SELECT cb_agency_kind()) = 'court' AND (SELECT cb_has_role('clerk')))
);
CREATE POLICY cases_insert ON cases FOR INSERT TO casebridge_app WITH CHECK (
    owner_agency_id = (SELECT cb_agency_id()) AND cb_can('case.create', NULL));
CREATE POLICY cases_update ON cases FOR UPDATE TO casebridge_app
    USING (cb_can('case.edit', id)) WITH CHECK (owner_agency_id = (SELECT cb_agency_id()));
GRANT SELECT, INSERT, UPDATE ON cases TO casebridge_app;

ALTER TABLE case_reference_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY counters_own ON case_reference_counters TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id())) WITH CHECK (agency_id = (SELECT cb_agency_id()));
GRANT SELECT, INSERT, UPDATE ON case_reference_counters TO casebridge_app;

ALTER TABLE case_status_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY status_history_read ON case_status_history FOR SELECT TO casebridge_app
    USING (cb_case_visible(case_id));
CREATE POLICY status_history_insert ON case_status_history FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.change_status', case_id));
GRANT SELECT, INSERT ON case_status_history TO casebridge_app;

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
CREATE POLICY persons_read ON persons FOR SELECT TO casebridge_app USING (
    -- the consular view, inline so the embassy list uses persons_consular_idx
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
CREATE POLICY persons_insert ON persons FOR INSERT TO casebridge_app WITH CHECK (
    created_by_agency_id = (SELECT cb_agency_id()) AND cb_can('case.create', NULL));
-- Updates: an editor of a linking case (or the creator while unlinked), or a
-- counter-trafficking screener. Which columns each may change is checked by
-- the persons_guard trigger below.
CREATE POLICY persons_update ON persons FOR UPDATE TO casebridge_app
    USING (cb_can_person('case.edit', id) OR cb_can_person('person.flag_suspected', id))
    WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON persons TO casebridge_app;

ALTER TABLE case_persons ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_persons_read ON case_persons FOR SELECT TO casebridge_app
    USING (cb_case_visible(case_id));
CREATE POLICY case_persons_insert ON case_persons FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id));
CREATE POLICY case_persons_delete ON case_persons FOR DELETE TO casebridge_app
    USING (cb_can('case.edit', case_id));
GRANT SELECT, INSERT, DELETE ON case_persons TO casebridge_app;

ALTER TABLE shares ENABLE ROW LEVEL SECURITY;
-- The owner agency sees its case's shares; the receiving agency sees its own.
CREATE POLICY shares_read ON shares FOR SELECT TO casebridge_app USING (
    (agency_id = (SELECT cb_agency_id()) AND (SELECT cb_share_role_ceiling()) IS NOT NULL)
    OR (cb_case_owner(case_id) = (SELECT cb_agency_id()) AND (SELECT cb_staff_ceiling()) IS NOT NULL));
CREATE POLICY shares_insert ON shares FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.share', case_id));
CREATE POLICY shares_update ON shares FOR UPDATE TO casebridge_app
    USING (cb_can('case.share', case_id)) WITH CHECK (cb_can('case.share', case_id));
GRANT SELECT, INSERT ON shares TO casebridge_app;
GRANT UPDATE (revoked_at, revoked_by) ON shares TO casebridge_app;

GRANT EXECUTE ON FUNCTION cb_has_any_role(text[]), cb_class_rank(text), cb_class_name(integer),
    cb_share_role_ceiling(), cb_staff_ceiling(), cb_shared_case_ids(), cb_case_access(uuid),
    cb_case_visible(uuid), cb_case_ceiling(uuid), cb_case_owner(uuid),
    cb_consular_match(text, text, text, text, boolean), cb_person_consular(uuid),
    cb_person_full(uuid), cb_person_access(uuid), cb_can(text, uuid), cb_can_person(text, uuid)
    TO casebridge_app;

-- +goose StatementBegin
-- Derived columns: cases.possible_victim and persons.linked_cases follow the
-- links and flags, whoever changes them (the triggers run as the owner).
CREATE FUNCTION cb_refresh_possible_victim(p_case uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ UPDATE cases c SET possible_victim = v.flagged
            FROM (SELECT EXISTS (SELECT 1 FROM case_persons cp JOIN persons p ON p.id = cp.person_id
                                  WHERE cp.case_id = p_case
                                    AND p.trafficking_flag IN ('suspected', 'identified')) AS flagged) v
           WHERE c.id = p_case AND c.possible_victim IS DISTINCT FROM v.flagged $$;

CREATE FUNCTION cb_case_persons_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE persons SET linked_cases = linked_cases + 1 WHERE id = NEW.person_id;
        PERFORM cb_refresh_possible_victim(NEW.case_id);
    ELSE
        UPDATE persons SET linked_cases = linked_cases - 1 WHERE id = OLD.person_id;
        PERFORM cb_refresh_possible_victim(OLD.case_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER case_persons_changed AFTER INSERT OR DELETE ON case_persons
    FOR EACH ROW EXECUTE FUNCTION cb_case_persons_changed();

CREATE FUNCTION cb_person_flag_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE c uuid;
BEGIN
    FOR c IN SELECT case_id FROM case_persons WHERE person_id = NEW.id LOOP
        PERFORM cb_refresh_possible_victim(c);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER persons_flag_changed AFTER UPDATE OF trafficking_flag ON persons
    FOR EACH ROW WHEN (OLD.trafficking_flag IS DISTINCT FROM NEW.trafficking_flag)
    EXECUTE FUNCTION cb_person_flag_changed();

-- Column rules for person updates by the application role (ACCESS.md,
-- Actions), and the non-punishment principle (MISSION.md): a person whose
-- screening is open or who is an identified victim is not recorded as
-- deported without counter-trafficking's decision. The owner role (data
-- loads, migrations) is not the application and is not checked.
CREATE FUNCTION cb_persons_guard() RETURNS trigger
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
        -- the owner's officers may only raise a suspicion
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
CREATE TRIGGER persons_guard BEFORE UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_persons_guard();

CREATE FUNCTION cb_non_punishment() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NEW.custody_status = 'deported' AND OLD.custody_status <> 'deported'
       AND NEW.trafficking_flag IN ('suspected', 'identified') AND NOT NEW.ct_proceedings_cleared THEN
        RAISE EXCEPTION 'person % is a possible or identified trafficking victim: deportation needs counter-trafficking''s decision', NEW.id
            USING ERRCODE = 'CB409';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER persons_non_punishment BEFORE UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_non_punishment();

-- The same principle for referral to court: no case goes before the court
-- while a linked person's screening is open or they are an identified victim,
-- unless counter-trafficking cleared the proceedings.
CREATE FUNCTION cb_case_referral_guard() RETURNS trigger
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
CREATE TRIGGER cases_referral_guard BEFORE UPDATE OF status ON cases
    FOR EACH ROW EXECUTE FUNCTION cb_case_referral_guard();
-- +goose StatementEnd

-- +goose Down
DROP TABLE shares, case_persons, persons, case_status_history, case_reference_counters, cases CASCADE;
DROP FUNCTION cb_case_referral_guard(), cb_non_punishment(), cb_persons_guard(), cb_person_flag_changed(),
    cb_case_persons_changed(), cb_refresh_possible_victim(uuid), cb_can_person(text, uuid), cb_can(text, uuid),
    cb_person_access(uuid), cb_person_full(uuid), cb_person_consular(uuid),
    cb_consular_match(text, text, text, text, boolean), cb_case_owner(uuid), cb_case_ceiling(uuid),
    cb_case_visible(uuid), cb_case_access(uuid), cb_shared_case_ids(), cb_staff_ceiling(),
    cb_share_role_ceiling(), cb_class_name(integer), cb_class_rank(text), cb_has_any_role(text[]);
