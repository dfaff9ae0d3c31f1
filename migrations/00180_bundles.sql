-- Court bundles (internal/bundles): per case, an ordered list of lettered
-- sections, each an ordered list of document VERSIONS (a later upload does
-- not change a bundle), built into one PDF by a background job and sealed.
-- A late-additions bundle (based_on a sealed one) is the sealed bundle's
-- next version: its main part is the sealed contents, frozen; only its late
-- additions change.
--
-- Who sees and changes them: migrations/access/50_bundles.sql.

-- +goose Up
CREATE TABLE bundles (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id             uuid NOT NULL REFERENCES cases (id),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    hearing_date        date,
    numbering           text NOT NULL CHECK (numbering IN ('consecutive', 'per_section')),
    state               text NOT NULL DEFAULT 'draft'
                            CHECK (state IN ('draft', 'building', 'built', 'failed', 'sealed')),
    based_on            uuid UNIQUE REFERENCES bundles (id),
    bundle_version      integer NOT NULL DEFAULT 1 CHECK (bundle_version >= 1),
    -- Counts build requests: a build job records its result only while the
    -- bundle is still building the generation it was started for.
    build_generation    integer NOT NULL DEFAULT 0,
    progress_done       integer NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    progress_total      integer NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
    -- A failed build: {document_id, title, reason}.
    error               jsonb,
    -- The last successful build: the PDF's bytes (a recorded blob, so the
    -- sweeper keeps them), its page count, where each source landed, and
    -- the contents it was built from.
    pdf_sha256          text REFERENCES blobs (sha256),
    pdf_size            bigint,
    pages               integer,
    entries             jsonb,
    built_contents_at   timestamptz,
    built_at            timestamptz,
    -- Sealing fixes the PDF and records its manifest.
    manifest            jsonb,
    sealed_at           timestamptz,
    sealed_by           uuid,
    -- Changed by every edit of what goes into the PDF (title, hearing date,
    -- numbering, sections): the build time written into the PDF, so the
    -- same contents give the same bytes; a build from older contents is stale.
    contents_changed_at timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'sealed') = (sealed_at IS NOT NULL)),
    CHECK (state <> 'sealed' OR (pdf_sha256 IS NOT NULL AND manifest IS NOT NULL)),
    CHECK (state <> 'built' OR pdf_sha256 IS NOT NULL),
    CHECK ((based_on IS NULL) = (bundle_version = 1))
);
CREATE INDEX bundles_case_idx ON bundles (case_id, created_at DESC, id DESC);

-- part: 'main' or 'late' (the late additions, appended after the main part).
CREATE TABLE bundle_sections (
    bundle_id uuid NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    part      text NOT NULL CHECK (part IN ('main', 'late')),
    position  integer NOT NULL CHECK (position >= 0),
    label     text NOT NULL CHECK (label ~ '^[A-Z]{1,3}$'),
    title     text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    PRIMARY KEY (bundle_id, part, position),
    UNIQUE (bundle_id, part, label)
);

CREATE TABLE bundle_items (
    bundle_id        uuid NOT NULL,
    part             text NOT NULL,
    section_position integer NOT NULL,
    position         integer NOT NULL CHECK (position >= 0),
    document_id      uuid NOT NULL,
    version          integer NOT NULL,
    PRIMARY KEY (bundle_id, part, section_position, position),
    FOREIGN KEY (bundle_id, part, section_position)
        REFERENCES bundle_sections (bundle_id, part, position) ON DELETE CASCADE,
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version)
);
-- Legal hold looks up the bundles a document is in.
CREATE INDEX bundle_items_document_idx ON bundle_items (document_id);

ALTER TABLE bundles ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON bundles TO casebridge_app;
GRANT UPDATE (title, hearing_date, numbering, state, build_generation, progress_done, progress_total, error,
              pdf_sha256, pdf_size, pages, entries, built_contents_at, built_at, manifest, sealed_at, sealed_by,
              contents_changed_at, version, updated_at) ON bundles TO casebridge_app;
ALTER TABLE bundle_sections ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON bundle_sections TO casebridge_app;
ALTER TABLE bundle_items ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON bundle_items TO casebridge_app;

-- +goose Down
DROP TABLE bundle_items, bundle_sections, bundles;
