-- Court bundles (ACCESS.md, Actions: "create, edit, build a bundle: officer,
-- supervisor of the owner agency; clerk with G5"; "seal a bundle: supervisor
-- of the owner agency; clerk with G5"; "download a bundle: anyone who may
-- read every document in it").
--
-- A bundle is seen with a full grant on its case (its contents are case
-- content, not part of the summary projection); a bundle of a case the
-- principal cannot see does not exist for it. Its sections and items are
-- seen with the bundle. The actions are cb_bundle_can; create, edit and
-- build are cb_can('bundle.edit'), sealing cb_can('bundle.seal') (the case
-- actions, migrations/access/20_cases.sql).

-- Who may do what to bundle b. SECURITY INVOKER on purpose: "download"
-- asks whether every document version in the bundle is readable by the
-- principal, which is what the documents policy answers for the caller.
CREATE OR REPLACE FUNCTION cb_bundle_can(action text, p_bundle uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
    AS $$
DECLARE
    c uuid;
BEGIN
    SELECT b.case_id INTO c FROM bundles b WHERE b.id = p_bundle;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    RETURN CASE action
        WHEN 'bundle.edit' THEN COALESCE(cb_can('bundle.edit', c), false)
        WHEN 'bundle.build' THEN COALESCE(cb_can('bundle.edit', c), false)
        WHEN 'bundle.seal' THEN COALESCE(cb_can('bundle.seal', c), false)
        WHEN 'bundle.download' THEN NOT EXISTS (
            SELECT 1 FROM bundle_items i
             WHERE i.bundle_id = p_bundle
               AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = i.document_id))
        ELSE false
    END;
END $$;

-- Whether a bundle exists, past RLS: to audit a 404 on an existing one.
CREATE OR REPLACE FUNCTION cb_bundle_exists(p_bundle uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM bundles WHERE id = p_bundle) $$;

-- The case of a bundle, past RLS (NULL: none): for the item check below.
CREATE OR REPLACE FUNCTION cb_bundle_case(p_bundle uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT case_id FROM bundles WHERE id = p_bundle $$;

-- Whether the bundle's contents may change now: not sealed, not building.
CREATE OR REPLACE FUNCTION cb_bundle_open(p_bundle uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT state NOT IN ('sealed', 'building') FROM bundles WHERE id = p_bundle), false) $$;

REVOKE ALL ON FUNCTION cb_bundle_exists(uuid), cb_bundle_case(uuid), cb_bundle_open(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_bundle_can(text, uuid), cb_bundle_exists(uuid), cb_bundle_case(uuid),
    cb_bundle_open(uuid) TO casebridge_app;

DROP POLICY IF EXISTS bundles_read ON bundles;
CREATE POLICY bundles_read ON bundles FOR SELECT TO casebridge_app USING (cb_case_full(case_id));
DROP POLICY IF EXISTS bundles_insert ON bundles;
CREATE POLICY bundles_insert ON bundles FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('bundle.edit', case_id) AND state = 'draft');
DROP POLICY IF EXISTS bundles_update ON bundles;
CREATE POLICY bundles_update ON bundles FOR UPDATE TO casebridge_app
    USING (cb_case_full(case_id)) WITH CHECK (cb_can('bundle.edit', case_id));

-- Sections and items: seen with their bundle; written by an editor of the
-- bundle while it is open, an item only naming a version of a document of
-- the bundle's own case that the editor can read (the documents policy in
-- the subquery answers for the caller).
DROP POLICY IF EXISTS bundle_sections_read ON bundle_sections;
CREATE POLICY bundle_sections_read ON bundle_sections FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM bundles b WHERE b.id = bundle_id));
DROP POLICY IF EXISTS bundle_sections_insert ON bundle_sections;
CREATE POLICY bundle_sections_insert ON bundle_sections FOR INSERT TO casebridge_app
    WITH CHECK (cb_bundle_open(bundle_id) AND cb_bundle_can('bundle.edit', bundle_id));
DROP POLICY IF EXISTS bundle_sections_delete ON bundle_sections;
CREATE POLICY bundle_sections_delete ON bundle_sections FOR DELETE TO casebridge_app
    USING (cb_bundle_open(bundle_id) AND cb_bundle_can('bundle.edit', bundle_id));

DROP POLICY IF EXISTS bundle_items_read ON bundle_items;
CREATE POLICY bundle_items_read ON bundle_items FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM bundles b WHERE b.id = bundle_id));
DROP POLICY IF EXISTS bundle_items_insert ON bundle_items;
CREATE POLICY bundle_items_insert ON bundle_items FOR INSERT TO casebridge_app
    WITH CHECK (cb_bundle_open(bundle_id) AND cb_bundle_can('bundle.edit', bundle_id)
                AND EXISTS (SELECT 1 FROM documents d
                             WHERE d.id = document_id AND d.case_id = cb_bundle_case(bundle_id)
                               AND d.withdrawn_at IS NULL));
DROP POLICY IF EXISTS bundle_items_delete ON bundle_items;
CREATE POLICY bundle_items_delete ON bundle_items FOR DELETE TO casebridge_app
    USING (cb_bundle_open(bundle_id) AND cb_bundle_can('bundle.edit', bundle_id));

-- Rules for changes to bundles, for every role: a sealed bundle never
-- changes, nor does what a bundle is (case, version chain). For the
-- application: sealing needs bundle.seal and a build of the current
-- contents; every other change needs bundle.edit (the policy says so too).
CREATE OR REPLACE FUNCTION cb_bundles_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'bundles are never deleted (bundle %)', OLD.id USING ERRCODE = '42501';
    END IF;
    IF OLD.state = 'sealed' THEN
        RAISE EXCEPTION 'bundle % is sealed; it does not change', OLD.id USING ERRCODE = '42501';
    END IF;
    IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.based_on IS DISTINCT FROM OLD.based_on
       OR NEW.bundle_version <> OLD.bundle_version OR NEW.created_at <> OLD.created_at
       OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'bundle %: identity columns are not editable', OLD.id USING ERRCODE = '42501';
    END IF;
    IF NEW.state = 'sealed' THEN
        IF session_user = 'casebridge_app' AND NOT cb_can('bundle.seal', OLD.case_id) THEN
            RAISE EXCEPTION 'missing permission bundle.seal for bundle %', OLD.id USING ERRCODE = '42501';
        END IF;
        IF OLD.state <> 'built' OR OLD.built_contents_at IS DISTINCT FROM OLD.contents_changed_at
           OR NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256 THEN
            RAISE EXCEPTION 'bundle % is not built from its current contents; it cannot be sealed', OLD.id
                USING ERRCODE = 'CB409';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER bundles_guard BEFORE UPDATE OR DELETE ON bundles
    FOR EACH ROW EXECUTE FUNCTION cb_bundles_guard();

-- Sections and items of a sealed bundle never change, for every role.
CREATE OR REPLACE FUNCTION cb_bundle_parts_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    b uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.bundle_id ELSE NEW.bundle_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM bundles WHERE id = b AND state = 'sealed') THEN
        RAISE EXCEPTION 'bundle % is sealed; its contents do not change', b USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER bundle_sections_guard BEFORE INSERT OR UPDATE OR DELETE ON bundle_sections
    FOR EACH ROW EXECUTE FUNCTION cb_bundle_parts_guard();
CREATE OR REPLACE TRIGGER bundle_items_guard BEFORE INSERT OR UPDATE OR DELETE ON bundle_items
    FOR EACH ROW EXECUTE FUNCTION cb_bundle_parts_guard();

-- An item names a version of a document of the bundle's own case (for every
-- role: the policy above checks it for the application as the caller sees
-- documents; this holds for data loads too).
CREATE OR REPLACE FUNCTION cb_bundle_items_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM documents d JOIN bundles b ON b.case_id = d.case_id
                    WHERE d.id = NEW.document_id AND b.id = NEW.bundle_id) THEN
        RAISE EXCEPTION 'document % is not a document of the bundle''s case', NEW.document_id
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER bundle_items_check BEFORE INSERT ON bundle_items
    FOR EACH ROW EXECUTE FUNCTION cb_bundle_items_check();
REVOKE ALL ON FUNCTION cb_bundles_guard(), cb_bundle_parts_guard(), cb_bundle_items_check() FROM PUBLIC;
