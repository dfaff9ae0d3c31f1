-- Facilities: the managed list of places where persons are held, each with
-- a kind. A person's facility names one of them (or is empty). A `shelter`
-- is never named to the person's own state (35_consular.sql).

DROP POLICY IF EXISTS facilities_read ON facilities;
-- The agencies that hold, screen, oversee or try persons read the list;
-- embassies do not (they learn a national's facility only through the
-- consular view).
CREATE POLICY facilities_read ON facilities FOR SELECT TO casebridge_app USING (
    (SELECT cb_agency_kind()) IN ('immigration_police', 'counter_trafficking', 'interior_ministry', 'court'));
-- Officers and supervisors of the agencies that hold persons register
-- facilities; platform admins too.
DROP POLICY IF EXISTS facilities_insert ON facilities;
CREATE POLICY facilities_insert ON facilities FOR INSERT TO casebridge_app WITH CHECK (
    (SELECT cb_has_role('admin'))
    OR ((SELECT cb_agency_kind()) IN ('immigration_police', 'counter_trafficking')
        AND (SELECT cb_has_any_role('{officer,supervisor}'))));

CREATE OR REPLACE FUNCTION cb_person_facility_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NEW.facility <> '' AND (TG_OP = 'INSERT' OR NEW.facility IS DISTINCT FROM OLD.facility)
       AND NOT EXISTS (SELECT 1 FROM facilities WHERE name = NEW.facility) THEN
        RAISE EXCEPTION 'facility must name a registered facility'
            USING ERRCODE = 'check_violation', COLUMN = 'facility';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER persons_facility_check BEFORE INSERT OR UPDATE OF facility ON persons
    FOR EACH ROW EXECUTE FUNCTION cb_person_facility_check();
REVOKE ALL ON FUNCTION cb_person_facility_check() FROM PUBLIC;
