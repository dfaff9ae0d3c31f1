-- Bulk imports of persons into a case (internal/imports): the validated
-- file's rows and its report, kept until the importer commits them. The
-- policies are in migrations/access/70_imports.sql.

-- +goose Up
CREATE TABLE imports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL REFERENCES cases (id),
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    created_by   uuid,
    filename     text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
    format       text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL CHECK (size >= 0),
    status       text NOT NULL DEFAULT 'validated' CHECK (status IN ('validated', 'invalid', 'committed')),
    total_rows   integer NOT NULL CHECK (total_rows >= 0),
    -- every bad row: [{line, column, reason}]
    errors       jsonb NOT NULL DEFAULT '[]',
    -- the parsed rows, each with its line: what commit inserts
    rows         jsonb NOT NULL DEFAULT '[]',
    -- what commit did: {created: [ids], linked: [ids]}
    result       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    committed_at timestamptz,
    committed_by uuid,
    CHECK ((status = 'committed') = (committed_at IS NOT NULL))
);
CREATE INDEX imports_case_idx ON imports (case_id, created_at DESC);
-- Existing persons are found by passport number (linked, not duplicated).
CREATE INDEX IF NOT EXISTS persons_passport_idx ON persons (passport_number, nationality) WHERE passport_number <> '';
ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON imports TO casebridge_app;
GRANT UPDATE (status, result, committed_at, committed_by) ON imports TO casebridge_app;
-- An import names its new persons' ids before it inserts them (one INSERT
-- for all rows, then one for all links), so it may give persons.id.
GRANT INSERT (id) ON persons TO casebridge_app;

-- +goose Down
REVOKE INSERT (id) ON persons FROM casebridge_app;
DROP INDEX IF EXISTS persons_passport_idx;
DROP TABLE imports;
