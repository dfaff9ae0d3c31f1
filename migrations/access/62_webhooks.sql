-- Webhooks to embassy systems (docs/webhooks.md; tables in migration
-- 00190).
--
-- Who: an admin sets an embassy's endpoint and reads its delivery log
-- (ACCESS.md, "manage agencies and users … admin"; embassies hold no admin
-- role). The log holds no person data: event type, status, attempts,
-- status codes, errors and times. The delivery worker marks its
-- transactions with casebridge.webhook_system = on to read the outbox and
-- secrets and to write the log.
--
-- What: the events are written by triggers here, in the transaction of the
-- notification or visit change, and only for a country (notifications) or
-- agency (visits) that has an enabled webhook, so nothing accumulates for
-- embassies without one. The body of each delivery is built when it is
-- sent, by cb_webhook_data, as the embassy's liaison would read it: through
-- the consular view, cb_consular_charges and the RLS policies of
-- consular_notifications and consular_visits. A notification or visit the
-- embassy no longer sees (a trafficking flag set without consent, say)
-- yields no body and the delivery is cancelled, never sent.

CREATE OR REPLACE FUNCTION cb_webhook_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(cb_setting('webhook_system') = 'on', false) $$;
GRANT EXECUTE ON FUNCTION cb_webhook_system() TO casebridge_app;

DROP POLICY IF EXISTS agency_webhooks_read ON agency_webhooks;
CREATE POLICY agency_webhooks_read ON agency_webhooks FOR SELECT TO casebridge_app
    USING ((SELECT cb_has_role('admin')) OR (SELECT cb_webhook_system()));
DROP POLICY IF EXISTS agency_webhooks_insert ON agency_webhooks;
CREATE POLICY agency_webhooks_insert ON agency_webhooks FOR INSERT TO casebridge_app
    WITH CHECK ((SELECT cb_has_role('admin'))
                AND EXISTS (SELECT 1 FROM agencies a WHERE a.id = agency_id AND a.kind = 'embassy'));
DROP POLICY IF EXISTS agency_webhooks_update ON agency_webhooks;
CREATE POLICY agency_webhooks_update ON agency_webhooks FOR UPDATE TO casebridge_app
    USING ((SELECT cb_has_role('admin')))
    WITH CHECK ((SELECT cb_has_role('admin'))
                AND EXISTS (SELECT 1 FROM agencies a WHERE a.id = agency_id AND a.kind = 'embassy'));

DROP POLICY IF EXISTS webhook_events_system ON webhook_events;
CREATE POLICY webhook_events_system ON webhook_events TO casebridge_app
    USING ((SELECT cb_webhook_system())) WITH CHECK ((SELECT cb_webhook_system()));

DROP POLICY IF EXISTS webhook_deliveries_read ON webhook_deliveries;
CREATE POLICY webhook_deliveries_read ON webhook_deliveries FOR SELECT TO casebridge_app
    USING ((SELECT cb_has_role('admin')) OR (SELECT cb_webhook_system()));
DROP POLICY IF EXISTS webhook_deliveries_insert ON webhook_deliveries;
CREATE POLICY webhook_deliveries_insert ON webhook_deliveries FOR INSERT TO casebridge_app
    WITH CHECK ((SELECT cb_webhook_system()));
DROP POLICY IF EXISTS webhook_deliveries_update ON webhook_deliveries;
CREATE POLICY webhook_deliveries_update ON webhook_deliveries FOR UPDATE TO casebridge_app
    USING ((SELECT cb_webhook_system())) WITH CHECK ((SELECT cb_webhook_system()));

DROP POLICY IF EXISTS webhook_attempts_read ON webhook_attempts;
CREATE POLICY webhook_attempts_read ON webhook_attempts FOR SELECT TO casebridge_app
    USING ((SELECT cb_has_role('admin')) OR (SELECT cb_webhook_system()));
DROP POLICY IF EXISTS webhook_attempts_insert ON webhook_attempts;
CREATE POLICY webhook_attempts_insert ON webhook_attempts FOR INSERT TO casebridge_app
    WITH CHECK ((SELECT cb_webhook_system()));

-- The outbox: notification.created when a notification is created or due
-- again (a screening cleared), notification.withdrawn when it leaves the
-- inbox. Only the ids travel in the outbox.
CREATE OR REPLACE FUNCTION cb_notification_webhook_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    kind text;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.withdrawn_at IS NULL THEN
        kind := 'notification.created';
    ELSIF TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
        kind := 'notification.withdrawn';
    ELSIF TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS NULL THEN
        kind := 'notification.created';
    ELSE
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM agency_webhooks w JOIN agencies a ON a.id = w.agency_id
                WHERE a.kind = 'embassy' AND a.country = NEW.country AND a.enabled AND w.enabled) THEN
        INSERT INTO webhook_events (type, country, person_id, notification_id)
        VALUES (kind, NEW.country, NEW.person_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER consular_notifications_webhooks
    AFTER INSERT OR UPDATE OF withdrawn_at ON consular_notifications
    FOR EACH ROW EXECUTE FUNCTION cb_notification_webhook_event();
REVOKE ALL ON FUNCTION cb_notification_webhook_event() FROM PUBLIC;

-- visit.answered when an officer schedules or refuses a visit request: to
-- the agency that requested it.
CREATE OR REPLACE FUNCTION cb_visit_webhook_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF OLD.status = 'requested' AND NEW.status <> 'requested'
       AND EXISTS (SELECT 1 FROM agency_webhooks w WHERE w.agency_id = NEW.agency_id AND w.enabled) THEN
        INSERT INTO webhook_events (type, country, agency_id, person_id, visit_id)
        VALUES ('visit.answered', NEW.country, NEW.agency_id, NEW.person_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER consular_visits_webhooks
    AFTER UPDATE OF status ON consular_visits
    FOR EACH ROW EXECUTE FUNCTION cb_visit_webhook_event();
REVOKE ALL ON FUNCTION cb_visit_webhook_event() FROM PUBLIC;

-- The open consular notification of person p as the principal sees it
-- (RLS on consular_notifications: for an embassy only its own, never a
-- withdrawn one): id, episode, due and acknowledgement times; NULL when
-- there is none. Part of the consular projection (ACCESS.md).
CREATE OR REPLACE FUNCTION cb_open_notification(p_person uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT jsonb_build_object('id', n.id, 'episode', n.episode,
                                    'due_at', to_char(n.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                    'acknowledged_at', to_char(n.acknowledged_at AT TIME ZONE 'UTC',
                                                               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
            FROM consular_notifications n
           WHERE n.person_id = p_person AND n.withdrawn_at IS NULL
           ORDER BY n.episode DESC, n.due_at DESC LIMIT 1 $$;
GRANT EXECUTE ON FUNCTION cb_open_notification(uuid) TO casebridge_app;

-- The person in the consular projection, as JSON with the keys of
-- GET /consular/nationals/{id}; NULL when the principal does not see them
-- in the consular view. Runs with the caller's rights (the view decides).
CREATE OR REPLACE FUNCTION cb_consular_national_json(p_person uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT jsonb_build_object(
                 'id', n.id, 'family_name', n.family_name, 'given_names', n.given_names, 'sex', n.sex,
                 'date_of_birth', n.date_of_birth, 'nationality', n.nationality,
                 'passport_number', n.passport_number, 'custody_status', n.custody_status,
                 'facility', n.facility,
                 'detained_at', to_char(n.detained_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 'charges', (SELECT COALESCE(jsonb_agg(jsonb_build_object('case_kind', ch.case_kind,
                                 'legal_basis', NULLIF(ch.legal_basis, ''), 'status', ch.status,
                                 'court_name', NULLIF(ch.court_name, ''), 'hearing_date', ch.hearing_date)),
                                 '[]'::jsonb)
                               FROM cb_consular_charges(n.id) ch),
                 'deported_at', to_char(n.deported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 'deported_via', n.deported_via, 'entry_ban_until', n.entry_ban_until,
                 'notification', cb_open_notification(n.id))
            FROM consular_nationals n WHERE n.id = p_person $$;
GRANT EXECUTE ON FUNCTION cb_consular_national_json(uuid) TO casebridge_app;

-- The data of a webhook event for the principal (the embassy the delivery
-- goes to), or NULL when that embassy does not see it now:
--   notification.created: the notification and the person in the consular
--     projection;
--   notification.withdrawn: the notification's id and the person's id,
--     nothing else;
--   visit.answered: the answer and the person in the consular projection.
CREATE OR REPLACE FUNCTION cb_webhook_data(p_type text, p_person uuid, p_notification uuid, p_visit uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    person jsonb;
    item jsonb;
BEGIN
    IF NOT cb_consular_viewer() THEN
        RETURN NULL;
    END IF;
    IF p_type = 'notification.withdrawn' THEN
        RETURN jsonb_build_object('notification', jsonb_build_object('id', p_notification),
                                  'person', jsonb_build_object('id', p_person));
    END IF;
    person := cb_consular_national_json(p_person);
    IF person IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_type = 'notification.created' THEN
        SELECT jsonb_build_object('id', n.id, 'episode', n.episode,
                   'due_at', to_char(n.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
          INTO item FROM consular_notifications n
         WHERE n.id = p_notification AND n.person_id = p_person AND n.withdrawn_at IS NULL;
        IF item IS NULL THEN
            RETURN NULL;
        END IF;
        RETURN jsonb_build_object('notification', item, 'person', person - 'notification');
    ELSIF p_type = 'visit.answered' THEN
        SELECT jsonb_build_object('id', v.id, 'status', v.status, 'preferred_from', v.preferred_from,
                   'preferred_to', v.preferred_to,
                   'visit_at', to_char(v.visit_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   'place', v.place, 'refusal_reason', v.refusal_reason,
                   'answered_at', to_char(v.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
          INTO item FROM consular_visits v
         WHERE v.id = p_visit AND v.person_id = p_person AND v.agency_id = cb_agency_id();
        IF item IS NULL THEN
            RETURN NULL;
        END IF;
        RETURN jsonb_build_object('visit', item, 'person', person);
    END IF;
    RETURN NULL;
END $$;
GRANT EXECUTE ON FUNCTION cb_webhook_data(text, uuid, uuid, uuid) TO casebridge_app;
