-- Consular notifications and visits (ACCESS.md, Consular notifications and
-- visits; MISSION.md, victim safeguards).
--
-- A notification to the embassy of country K about person P is due when P
-- becomes visible to K in the consular view (cb_consular_conditions, the
-- rule that decides the view) while in custody: detained, charged,
-- convicted or awaiting deportation. It is created by a trigger in the same
-- transaction as the change that makes it due — a detention recorded, a
-- nationality corrected, a consular choice changed, consent given, a flag
-- cleared — so no code path can forget one, and it exists once per person,
-- custody episode and country (a unique constraint, whatever races).
-- When P stops being visible to K (a flag set without consent, notification
-- declined where not mandatory, released, nationality corrected) it is
-- withdrawn: it leaves K's inbox at once, and coordinators still see it.
-- If P becomes visible again in the same episode (a screening cleared), the
-- same notification is due again from that moment.

-- The custody episode: a new one starts when a person enters custody from
-- outside it (or is recorded in custody). The application cannot set it.
CREATE OR REPLACE FUNCTION cb_person_custody_episode() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    held text[] := '{detained,charged,convicted,awaiting_deportation}';
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.custody_episode := CASE WHEN NEW.custody_status = ANY (held) THEN 1 ELSE 0 END;
    ELSE
        NEW.custody_episode := OLD.custody_episode
            + CASE WHEN NEW.custody_status = ANY (held) AND NOT OLD.custody_status = ANY (held) THEN 1 ELSE 0 END;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER persons_custody_episode BEFORE INSERT OR UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_person_custody_episode();

-- Row by row for an update (the API changes one person at a time; a
-- trigger with a column list cannot see a transition table), once per
-- statement for inserts (an import inserts 10,000 persons in one
-- statement): the same two steps over the inserted rows.
CREATE OR REPLACE FUNCTION cb_person_notifications() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    visible boolean := cb_consular_conditions(NEW.custody_status, NEW.consular_notification,
                                              NEW.trafficking_flag, NEW.victim_consents_to_embassy);
    held boolean := NEW.custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation');
BEGIN
    -- Leaves the inbox of any embassy that may no longer see the person.
    UPDATE consular_notifications SET withdrawn_at = now()
     WHERE person_id = NEW.id AND withdrawn_at IS NULL
       AND (country <> NEW.nationality OR NOT visible);
    IF visible AND held THEN
        INSERT INTO consular_notifications (person_id, country, episode)
        VALUES (NEW.id, NEW.nationality, NEW.custody_episode)
        ON CONFLICT ON CONSTRAINT consular_notifications_once DO UPDATE
            SET withdrawn_at = NULL, due_at = now()
          WHERE consular_notifications.withdrawn_at IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER persons_notifications
    AFTER UPDATE OF nationality, custody_status, consular_notification, trafficking_flag,
                    victim_consents_to_embassy ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_person_notifications();
REVOKE ALL ON FUNCTION cb_person_notifications() FROM PUBLIC;

CREATE OR REPLACE FUNCTION cb_persons_inserted_notifications() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    UPDATE consular_notifications cn SET withdrawn_at = now()
      FROM cb_new_persons n
     WHERE cn.person_id = n.id AND cn.withdrawn_at IS NULL
       AND (cn.country <> n.nationality
            OR NOT cb_consular_conditions(n.custody_status, n.consular_notification,
                                          n.trafficking_flag, n.victim_consents_to_embassy));
    INSERT INTO consular_notifications (person_id, country, episode)
    SELECT n.id, n.nationality, n.custody_episode FROM cb_new_persons n
     WHERE n.custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation')
       AND cb_consular_conditions(n.custody_status, n.consular_notification,
                                  n.trafficking_flag, n.victim_consents_to_embassy)
    ON CONFLICT ON CONSTRAINT consular_notifications_once DO UPDATE
        SET withdrawn_at = NULL, due_at = now()
      WHERE consular_notifications.withdrawn_at IS NOT NULL;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS persons_notifications_insert ON persons;
CREATE TRIGGER persons_notifications_insert AFTER INSERT ON persons
    REFERENCING NEW TABLE AS cb_new_persons FOR EACH STATEMENT EXECUTE FUNCTION cb_persons_inserted_notifications();
REVOKE ALL ON FUNCTION cb_persons_inserted_notifications() FROM PUBLIC;

-- Whether the principal's agency owns a case that links person p as
-- detainee or suspect: its staff see and (officers, supervisors) answer the
-- consular visit requests about p.
CREATE OR REPLACE FUNCTION cb_owns_custody_case(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN cb_staff_ceiling() IS NOT NULL AND EXISTS (
              SELECT 1 FROM case_persons cp JOIN cases c ON c.id = cp.case_id
               WHERE cp.person_id = p_person AND cp.role IN ('detainee', 'suspect')
                 AND c.owner_agency_id = cb_agency_id()); END $$;

CREATE OR REPLACE FUNCTION cb_can_answer_visit(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN cb_has_any_role('{officer,supervisor}') AND cb_owns_custody_case(p_person); END $$;

GRANT EXECUTE ON FUNCTION cb_owns_custody_case(uuid), cb_can_answer_visit(uuid) TO casebridge_app;

-- The embassy's inbox: its country's notifications that are not withdrawn,
-- about persons it sees now. Coordinators see every notification.
DROP POLICY IF EXISTS consular_notifications_read ON consular_notifications;
CREATE POLICY consular_notifications_read ON consular_notifications FOR SELECT TO casebridge_app USING (
    ((SELECT cb_consular_viewer()) AND country = (SELECT cb_country()) AND withdrawn_at IS NULL
     AND cb_person_consular(person_id))
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
);
-- Acknowledged by a liaison of the notified embassy, while the person is
-- visible to it.
DROP POLICY IF EXISTS consular_notifications_ack ON consular_notifications;
CREATE POLICY consular_notifications_ack ON consular_notifications FOR UPDATE TO casebridge_app
    USING ((SELECT cb_consular_viewer()) AND country = (SELECT cb_country()) AND withdrawn_at IS NULL
           AND cb_person_consular(person_id))
    WITH CHECK ((SELECT cb_consular_viewer()) AND country = (SELECT cb_country())
                AND acknowledged_by = (SELECT cb_user_id()));

-- Visits: the requesting embassy while it sees the person; the staff of an
-- agency owning a case that links the person as detainee or suspect;
-- coordinators (to see unanswered requests).
DROP POLICY IF EXISTS consular_visits_read ON consular_visits;
CREATE POLICY consular_visits_read ON consular_visits FOR SELECT TO casebridge_app USING (
    ((SELECT cb_consular_viewer()) AND agency_id = (SELECT cb_agency_id()) AND cb_person_consular(person_id))
    OR cb_owns_custody_case(person_id)
    OR ((SELECT cb_agency_kind()) = 'interior_ministry' AND (SELECT cb_has_role('coordinator')))
);
DROP POLICY IF EXISTS consular_visits_request ON consular_visits;
CREATE POLICY consular_visits_request ON consular_visits FOR INSERT TO casebridge_app WITH CHECK (
    (SELECT cb_consular_viewer()) AND agency_id = (SELECT cb_agency_id()) AND country = (SELECT cb_country())
    AND cb_person_consular(person_id));
DROP POLICY IF EXISTS consular_visits_answer ON consular_visits;
CREATE POLICY consular_visits_answer ON consular_visits FOR UPDATE TO casebridge_app
    USING (status = 'requested' AND cb_can_answer_visit(person_id))
    WITH CHECK (cb_can_answer_visit(person_id) AND answered_by_agency = (SELECT cb_agency_id()));

-- Whether a notification or visit exists at all, past RLS: only for the
-- audit record of a 404 on an existing one.
CREATE OR REPLACE FUNCTION cb_consular_record_exists(p_kind text, p_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE p_kind
                 WHEN 'notification' THEN EXISTS (SELECT 1 FROM consular_notifications WHERE id = p_id)
                 WHEN 'visit' THEN EXISTS (SELECT 1 FROM consular_visits WHERE id = p_id)
                 ELSE false END $$;
REVOKE ALL ON FUNCTION cb_consular_record_exists(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_consular_record_exists(text, uuid) TO casebridge_app;
