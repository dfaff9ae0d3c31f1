-- Records that belong to a principal rather than to a case: the audit log
-- and stored Idempotency-Key responses.

-- The audit log: anyone may insert (every principal's actions are audited,
-- and so are refused sign-ins, which have no principal); platform admins,
-- the sequencer and the verifier (which mark their own transactions with
-- casebridge.audit_system) read.
DROP POLICY IF EXISTS audit_events_insert ON audit_events;
CREATE POLICY audit_events_insert ON audit_events FOR INSERT TO casebridge_app WITH CHECK (true);
DROP POLICY IF EXISTS audit_events_read ON audit_events;
CREATE POLICY audit_events_read ON audit_events FOR SELECT TO casebridge_app
    USING ((SELECT cb_has_role('admin')) OR (SELECT cb_setting('audit_system')) = 'on');

-- Idempotency-Key: each principal sees only its own stored responses.
DROP POLICY IF EXISTS idempotency_own ON idempotency_keys;
CREATE POLICY idempotency_own ON idempotency_keys TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id())
           AND user_id = (SELECT COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'::uuid)))
    WITH CHECK (agency_id = (SELECT cb_agency_id())
           AND user_id = (SELECT COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'::uuid)));

-- The audit trail's labels, for people (issue 14): a case's reference by
-- its id, and a case id by its reference (the trail's "case" filter). Only
-- for platform admins, who alone read the trail. An admin has no grant on
-- any case (ACCESS.md: admin alone sees no case content), so these read
-- past RLS and return the reference and nothing else: a reference is an
-- identifier the trail already carries as an id, not case content. Persons
-- and documents get no label (their names and titles are content).
CREATE OR REPLACE FUNCTION cb_audit_case_reference(p_case uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    IF p_case IS NULL OR NOT cb_has_role('admin') THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT reference FROM cases WHERE id = p_case);
END $$;

CREATE OR REPLACE FUNCTION cb_audit_case_id(p_reference text) RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    IF NOT cb_has_role('admin') THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT id FROM cases WHERE reference IN (btrim(p_reference), upper(btrim(p_reference))));
END $$;

REVOKE ALL ON FUNCTION cb_audit_case_reference(uuid), cb_audit_case_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_audit_case_reference(uuid), cb_audit_case_id(text) TO casebridge_app;
