-- Reliability and security (issue 16).
--
-- Disabling an agency ends its people's browser sessions at once, so they
-- cannot revive when the agency is enabled again (a session is refused
-- while its agency is disabled, but it used to stay in the table). The
-- function runs as the owner: the administrator who disables the agency
-- acts through the application role, which must not need to see other
-- agencies' sessions.
CREATE OR REPLACE FUNCTION cb_end_sessions_of_disabled_agency() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF OLD.enabled AND NOT NEW.enabled THEN
        DELETE FROM sessions WHERE agency_id = NEW.id;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS cb_agency_disabled_end_sessions ON agencies;
CREATE TRIGGER cb_agency_disabled_end_sessions
    AFTER UPDATE OF enabled ON agencies
    FOR EACH ROW EXECUTE FUNCTION cb_end_sessions_of_disabled_agency();
