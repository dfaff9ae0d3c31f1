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
