-- Documents: metadata, immutable versions and the record of stored bytes,
-- with the document rules of spec/ACCESS.md.
--
-- Bytes live in the blob store (internal/blob) under their SHA-256. A
-- version row is inserted only after its bytes are durable there, in the
-- same transaction as the blobs row that protects them from the sweeper.
-- Versions are never updated or deleted; a document is never deleted
-- (withdrawal is a soft delete and keeps the bytes).
--
-- Reading: a document is visible iff a full grant on its case has a ceiling
-- at or above its classification (cb_case_ceiling, 00020), or by the
-- embassy rule (about a person in the embassy's consular view, consular
-- releasable, at most restricted); a withdrawn one only to supervisors of
-- the owner agency. Versions are visible with their document.

-- +goose Up
CREATE TABLE blobs (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- No grant: the application records and looks up blobs only through the
-- functions below.

CREATE TABLE documents (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id             uuid NOT NULL REFERENCES cases (id),
    person_id           uuid REFERENCES persons (id),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    kind                text NOT NULL CHECK (kind IN (
                            'passport', 'identity_document', 'visa', 'work_permit', 'residence_permit',
                            'court_order', 'judgment', 'indictment', 'charge_sheet', 'deportation_order',
                            'statement', 'evidence', 'photo', 'medical_report', 'police_report',
                            'correspondence', 'consular_note', 'other')),
    classification      text NOT NULL CHECK (classification IN ('public', 'restricted', 'confidential', 'secret')),
    consular_releasable boolean NOT NULL DEFAULT false,
    current_version     integer NOT NULL CHECK (current_version >= 1),
    -- Counts changes (new version, withdrawal): the metadata ETag.
    revision            integer NOT NULL DEFAULT 1,
    withdrawn_at        timestamptz,
    withdrawn_by        uuid,
    withdrawn_reason    text CHECK (length(withdrawn_reason) BETWEEN 1 AND 2000),
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL)),
    CHECK (NOT consular_releasable OR classification IN ('public', 'restricted'))
);
-- The two lists, newest first, keyset on (created_at, id).
CREATE INDEX documents_case_idx ON documents (case_id, created_at DESC, id DESC);
CREATE INDEX documents_person_idx ON documents (person_id, created_at DESC, id DESC) WHERE person_id IS NOT NULL;

CREATE TABLE document_versions (
    document_id uuid NOT NULL REFERENCES documents (id),
    version     integer NOT NULL CHECK (version >= 1),
    sha256      text NOT NULL REFERENCES blobs (sha256),
    size        bigint NOT NULL CHECK (size > 0),
    media_type  text NOT NULL CHECK (length(media_type) BETWEEN 1 AND 200),
    -- Metadata only, sanitised by the application; never a storage path.
    filename    text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, version)
);
CREATE INDEX document_versions_sha256_idx ON document_versions (sha256);

-- A document's current version exists (checked at commit: the document row
-- and its first version are inserted in one transaction).
ALTER TABLE documents ADD CONSTRAINT documents_current_version_fk
    FOREIGN KEY (id, current_version) REFERENCES document_versions (document_id, version)
    DEFERRABLE INITIALLY DEFERRED;

-- +goose StatementBegin
-- Why withdrawing document d is refused by legal hold, or NULL: its case is
-- before the court or adjudicated. (The bundles migration extends this with
-- sealed bundles.)
CREATE FUNCTION cb_document_hold(p_doc uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN c.status IN ('before_court', 'adjudicated') THEN 'case ' || c.status END
            FROM documents d JOIN cases c ON c.id = d.case_id WHERE d.id = p_doc $$;

-- Whether a document exists, past RLS: to audit a 404 on an existing one.
CREATE FUNCTION cb_document_exists(p_doc uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM documents WHERE id = p_doc) $$;

-- The advisory lock an upload and the sweeper take on one blob.
CREATE FUNCTION cb_blob_lock_key(sha text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtextextended('casebridge.blob:' || sha, 0) $$;

-- Records durable bytes (idempotent), in the transaction of the version
-- that refers to them.
CREATE FUNCTION cb_record_blob(sha text, bytes bigint) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ INSERT INTO blobs (sha256, size) VALUES (sha, bytes) ON CONFLICT (sha256) DO NOTHING $$;

-- For the sweeper: whether any version refers to the bytes ...
CREATE FUNCTION cb_blob_referenced(sha text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = sha)
              OR EXISTS (SELECT 1 FROM document_versions WHERE sha256 = sha) $$;

-- ... and which of a batch of stored hashes nothing refers to.
CREATE FUNCTION cb_unreferenced_blobs(hashes text[]) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT h FROM unnest(hashes) AS h
           WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = h)
             AND NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.sha256 = h) $$;

-- For verify: every recorded blob, in pages after a hash.
CREATE FUNCTION cb_recorded_blobs(after text, lim integer) RETURNS TABLE (sha256 text, size bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT b.sha256, b.size FROM blobs b WHERE b.sha256 > after ORDER BY b.sha256 LIMIT lim $$;

-- Rules for changes to documents. Withdrawal is final and the metadata of a
-- document does not change (the column grants already say so to the
-- application; this holds for every role). For the application role: only
-- a permitted principal withdraws, never under legal hold, and versions go
-- up one at a time on documents that are not withdrawn.
CREATE FUNCTION cb_documents_guard() RETURNS trigger
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
CREATE TRIGGER documents_guard BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION cb_documents_guard();

-- Versions are immutable, for every role.
CREATE FUNCTION cb_document_versions_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'document versions are immutable (document %, version %)', OLD.document_id, OLD.version
        USING ERRCODE = '42501';
END $$;
CREATE TRIGGER document_versions_immutable BEFORE UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION cb_document_versions_immutable();

-- A new version is the document's current one (no gaps, no rewriting).
CREATE FUNCTION cb_document_versions_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NEW.version <> (SELECT current_version FROM documents WHERE id = NEW.document_id) THEN
        RAISE EXCEPTION 'version % of document % is not its current version', NEW.version, NEW.document_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_versions_check BEFORE INSERT ON document_versions
    FOR EACH ROW EXECUTE FUNCTION cb_document_versions_check();
-- +goose StatementEnd

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_read ON documents FOR SELECT TO casebridge_app USING (
    (withdrawn_at IS NULL
     OR (cb_case_owner(case_id) = (SELECT cb_agency_id()) AND (SELECT cb_has_role('supervisor'))))
    AND (
        -- a full grant whose ceiling covers the classification (G1–G5)
        cb_class_rank(classification) <= cb_case_ceiling(case_id)
        -- the embassy rule
        OR (consular_releasable AND classification IN ('public', 'restricted')
            AND (SELECT cb_agency_kind()) = 'embassy' AND person_id IS NOT NULL
            AND cb_person_consular(person_id))
    )
);
-- Uploading is editing the case (ACCESS.md: officer, supervisor of the owner).
CREATE POLICY documents_insert ON documents FOR INSERT TO casebridge_app
    WITH CHECK (cb_can('case.edit', case_id) AND withdrawn_at IS NULL);
CREATE POLICY documents_update ON documents FOR UPDATE TO casebridge_app
    USING (cb_can('case.edit', case_id)) WITH CHECK (cb_can('case.edit', case_id));
GRANT SELECT, INSERT ON documents TO casebridge_app;
GRANT UPDATE (current_version, revision, updated_at, withdrawn_at, withdrawn_by, withdrawn_reason)
    ON documents TO casebridge_app;

ALTER TABLE document_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY document_versions_read ON document_versions FOR SELECT TO casebridge_app
    USING (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_id));
CREATE POLICY document_versions_insert ON document_versions FOR INSERT TO casebridge_app
    WITH CHECK (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_id AND d.withdrawn_at IS NULL
                                                    AND cb_can('case.edit', d.case_id)));
GRANT SELECT, INSERT ON document_versions TO casebridge_app;

GRANT EXECUTE ON FUNCTION cb_document_hold(uuid), cb_document_exists(uuid), cb_blob_lock_key(text),
    cb_record_blob(text, bigint), cb_blob_referenced(text), cb_unreferenced_blobs(text[]),
    cb_recorded_blobs(text, integer) TO casebridge_app;
REVOKE EXECUTE ON FUNCTION cb_document_hold(uuid), cb_document_exists(uuid), cb_record_blob(text, bigint),
    cb_blob_referenced(text), cb_unreferenced_blobs(text[]), cb_recorded_blobs(text, integer),
    cb_documents_guard(), cb_document_versions_check() FROM PUBLIC;

-- +goose Down
DROP TABLE document_versions, documents, blobs CASCADE;
DROP FUNCTION cb_document_versions_check(), cb_document_versions_immutable(), cb_documents_guard(),
    cb_recorded_blobs(text, integer), cb_unreferenced_blobs(text[]), cb_blob_referenced(text),
    cb_record_blob(text, bigint), cb_blob_lock_key(text), cb_document_exists(uuid), cb_document_hold(uuid);
