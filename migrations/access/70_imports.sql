-- Bulk imports (ACCESS.md, Actions: "run a bulk import into a case: officer,
-- supervisor of the owner agency"). An import, its rows and its report are
-- seen only by those who may run one into its case: the same rule as
-- editing the case (cb_can 'case.edit'), for the importer's own agency.

CREATE OR REPLACE FUNCTION cb_can_import(p_case uuid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = public, pg_temp
    AS $$ SELECT COALESCE(cb_can('case.edit', p_case), false) $$;
GRANT EXECUTE ON FUNCTION cb_can_import(uuid) TO casebridge_app;

DROP POLICY IF EXISTS imports_read ON imports;
CREATE POLICY imports_read ON imports FOR SELECT TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id()) AND cb_can_import(case_id));
DROP POLICY IF EXISTS imports_insert ON imports;
CREATE POLICY imports_insert ON imports FOR INSERT TO casebridge_app
    WITH CHECK (agency_id = (SELECT cb_agency_id()) AND cb_can_import(case_id));
DROP POLICY IF EXISTS imports_update ON imports;
CREATE POLICY imports_update ON imports FOR UPDATE TO casebridge_app
    USING (agency_id = (SELECT cb_agency_id()) AND cb_can_import(case_id))
    WITH CHECK (agency_id = (SELECT cb_agency_id()) AND cb_can_import(case_id));
