-- Facilities: a managed list of the places where persons are held, each
-- with a kind (ACCESS.md, Consular view). persons.facility names one of them
-- by its name (or is empty); the check and the rule that a shelter is never
-- named to the person's own state are in migrations/access/.

-- +goose Up
CREATE TABLE facilities (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200 AND name = btrim(name)),
    kind       text NOT NULL CHECK (kind IN ('detention_centre', 'police_station', 'prison', 'shelter', 'other')),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Facilities already named by persons become facilities of kind other.
INSERT INTO facilities (name, kind)
SELECT DISTINCT facility, 'other' FROM persons WHERE facility <> '' ON CONFLICT (name) DO NOTHING;
ALTER TABLE facilities ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON facilities TO casebridge_app;
GRANT INSERT (name, kind) ON facilities TO casebridge_app;

-- +goose Down
DROP TABLE facilities;
