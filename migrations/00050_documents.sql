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

-- +goose StatementEnd

-- Who reads and changes documents, legal hold and the version rules:
-- migrations/access/40_documents.sql.
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON documents TO casebridge_app;
GRANT UPDATE (current_version, revision, updated_at, withdrawn_at, withdrawn_by, withdrawn_reason)
    ON documents TO casebridge_app;

ALTER TABLE document_versions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON document_versions TO casebridge_app;

GRANT EXECUTE ON FUNCTION cb_blob_lock_key(text),
    cb_record_blob(text, bigint), cb_blob_referenced(text), cb_unreferenced_blobs(text[]),
    cb_recorded_blobs(text, integer) TO casebridge_app;
REVOKE EXECUTE ON FUNCTION cb_record_blob(text, bigint),
    cb_blob_referenced(text), cb_unreferenced_blobs(text[]), cb_recorded_blobs(text, integer) FROM PUBLIC;

-- +goose Down
DROP TABLE document_versions, documents, blobs CASCADE;
DROP FUNCTION cb_recorded_blobs(text, integer), cb_unreferenced_blobs(text[]), cb_blob_referenced(text),
    cb_record_blob(text, bigint), cb_blob_lock_key(text);
