-- Documents (ACCESS.md, Case grants and Consular view): who reads a
-- document, who changes it, and legal hold.
--
-- A principal reads document D of case C iff
--   * a full grant on C has ceiling >= D.classification — except that an
--     embassy never reads a document about its own national this way
--     (own state), or
--   * (embassies) D is about a person P in its consular view,
--     D.consular_releasable and D.classification <= restricted;
-- and a withdrawn document only by supervisors of the owner agency.

-- Why withdrawing document d is refused by legal hold, or NULL: its case is
-- before the court or adjudicated, or a version of it is in a sealed bundle
-- (migration 00180).
CREATE OR REPLACE FUNCTION cb_document_hold(p_doc uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN c.status IN ('before_court', 'adjudicated') THEN 'case ' || c.status
                      WHEN EXISTS (SELECT 1 FROM bundle_items i JOIN bundles b ON b.id = i.bundle_id
                                    WHERE i.document_id = d.id AND b.state = 'sealed')
                           THEN 'in a sealed court bundle' END
            FROM documents d JOIN cases c ON c.id = d.case_id WHERE d.id = p_doc $$;

-- Whether a document exists, past RLS: to audit a 404 on an existing one.
CREATE OR REPLACE FUNCTION cb_document_exists(p_doc uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM documents WHERE id = p_doc) $$;

-- Whether a readable document belongs in a case's document list: a document
-- about an embassy's own national is shown with the person in the consular
-- view, never in a shared case's list.
CREATE OR REPLACE FUNCTION cb_document_listed(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN p_person IS NULL OR cb_agency_kind() IS DISTINCT FROM 'embassy'
                       OR NOT cb_person_own_state(p_person); END $$;

REVOKE ALL ON FUNCTION cb_document_hold(uuid), cb_document_exists(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_document_hold(uuid), cb_document_exists(uuid), cb_document_listed(uuid)
    TO casebridge_app;

DROP POLICY IF EXISTS documents_read ON documents;
CREATE POLICY documents_read ON documents FOR SELECT TO casebridge_app USING (
    (withdrawn_at IS NULL
     OR (cb_case_owner(case_id) = (SELECT cb_agency_id()) AND (SELECT cb_has_role('supervisor'))))
    AND (
        -- a full grant whose ceiling covers the classification (G1–G5),
        -- never about an embassy's own national
        (cb_class_rank(classification) <= cb_case_ceiling(case_id)
         AND ((SELECT cb_agency_kind()) IS DISTINCT FROM 'embassy' OR person_id IS NULL
              OR NOT cb_person_own_state(person_id)))
        -- the consular document rule
        OR (consular_releasable AND classification IN ('public', 'restricted')
            AND (SELECT cb_agency_kind()) = 'embassy' AND person_id IS NOT NULL
            AND cb_person_consular(person_id))
    )
);
-- Uploading is editing the case (ACCESS.md: officer, supervisor of the owner).
DROP POLICY IF EXISTS documents_insert ON documents;
CREATE POLICY documents_insert ON documents FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id) AND withdrawn_at IS NULL);
DROP POLICY IF EXISTS documents_update ON documents;
CREATE POLICY documents_update ON documents FOR UPDATE TO casebridge_app
    USING (cb_can('case.edit', case_id)) WITH CHECK (cb_can('case.edit', case_id));

-- Versions are visible with their document.
DROP POLICY IF EXISTS document_versions_read ON document_versions;
CREATE POLICY document_versions_read ON document_versions FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_id));
DROP POLICY IF EXISTS document_versions_insert ON document_versions;
CREATE POLICY document_versions_insert ON document_versions FOR INSERT TO casebridge_app
    WITH CHECK (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_id AND d.withdrawn_at IS NULL
                                                    AND cb_can('case.edit', d.case_id)));

-- Rules for changes to documents. Withdrawal is final and the metadata of a
-- document does not change (the column grants already say so to the
-- application; this holds for every role). For the application role: only
-- a permitted principal withdraws, never under legal hold, and versions go
-- up one at a time on documents that are not withdrawn.
CREATE OR REPLACE FUNCTION cb_documents_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    hold text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'documents are never deleted (withdraw document % instead)', OLD.id USING ERRCODE = '42501';
    END IF;
    IF OLD.withdrawn_at IS NOT NULL AND (NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
            OR NEW.withdrawn_by IS DISTINCT FROM OLD.withdrawn_by
            OR NEW.withdrawn_reason IS DISTINCT FROM OLD.withdrawn_reason
            OR NEW.current_version <> OLD.current_version) THEN
        RAISE EXCEPTION 'document % is withdrawn; the withdrawal is final', OLD.id USING ERRCODE = '42501';
    END IF;
    IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.created_at <> OLD.created_at
       OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'document %: identity columns are not editable', OLD.id USING ERRCODE = '42501';
    END IF;
    IF session_user <> 'casebridge_app' THEN
        RETURN NEW;
    END IF;
    IF NEW.withdrawn_at IS NOT NULL AND OLD.withdrawn_at IS NULL THEN
        IF NOT cb_can('document.withdraw', OLD.case_id) THEN
            RAISE EXCEPTION 'missing permission document.withdraw for document %', OLD.id USING ERRCODE = '42501';
        END IF;
        hold := cb_document_hold(OLD.id);
        IF hold IS NOT NULL THEN
            RAISE EXCEPTION 'document % is under legal hold (%)', OLD.id, hold USING ERRCODE = '42501';
        END IF;
    END IF;
    IF NEW.current_version NOT IN (OLD.current_version, OLD.current_version + 1) THEN
        RAISE EXCEPTION 'document %: versions go up one at a time', OLD.id USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER documents_guard BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION cb_documents_guard();

-- Versions are immutable, for every role.
CREATE OR REPLACE FUNCTION cb_document_versions_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'document versions are immutable (document %, version %)', OLD.document_id, OLD.version
        USING ERRCODE = '42501';
END $$;
CREATE OR REPLACE TRIGGER document_versions_immutable BEFORE UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION cb_document_versions_immutable();

-- A new version is the document's current one (no gaps, no rewriting).
CREATE OR REPLACE FUNCTION cb_document_versions_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NEW.version <> (SELECT current_version FROM documents WHERE id = NEW.document_id) THEN
        RAISE EXCEPTION 'version % of document % is not its current version', NEW.version, NEW.document_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER document_versions_check BEFORE INSERT ON document_versions
    FOR EACH ROW EXECUTE FUNCTION cb_document_versions_check();
REVOKE ALL ON FUNCTION cb_documents_guard(), cb_document_versions_check() FROM PUBLIC;
