-- Oversight figures (internal/stats): aggregates of persons that the
-- database keeps current, so the ministry's dashboard never scans a million
-- persons. Statement-level triggers with transition tables (in
-- migrations/access/75_stats.sql) add each statement's deltas in the same
-- transaction: the figures are exact as of the last commit. Only the owner
-- and the SECURITY DEFINER functions of 75_stats.sql read them; the
-- application role has no grant.

-- +goose Up
-- Persons by nationality and custody status.
CREATE TABLE stats_person_counts (
    nationality    text NOT NULL,
    custody_status text NOT NULL,
    n              bigint NOT NULL,
    PRIMARY KEY (nationality, custody_status)
);
-- Monthly events: metric 'detention' (month of detained_at), 'deportation'
-- (month of deported_at, key = route: airport, land_checkpoint, other),
-- 'victim' (month a person was first flagged a possible victim: suspected
-- or identified).
CREATE TABLE stats_person_months (
    metric text NOT NULL CHECK (metric IN ('detention', 'deportation', 'victim')),
    month  date NOT NULL,
    key    text NOT NULL DEFAULT '',
    n      bigint NOT NULL,
    PRIMARY KEY (metric, month, key)
);
-- For the cases-per-status-and-age figure.
CREATE INDEX IF NOT EXISTS cases_status_created_idx ON cases (status, created_at);

-- Backfill from the persons already there (the triggers count from now on).
INSERT INTO stats_person_counts (nationality, custody_status, n)
SELECT nationality, custody_status, count(*) FROM persons GROUP BY 1, 2;
INSERT INTO stats_person_months (metric, month, key, n)
SELECT 'detention', date_trunc('month', detained_at AT TIME ZONE 'UTC')::date, '', count(*)
FROM persons WHERE detained_at IS NOT NULL GROUP BY 2;
INSERT INTO stats_person_months (metric, month, key, n)
SELECT 'deportation', date_trunc('month', deported_at AT TIME ZONE 'UTC')::date,
       CASE WHEN deported_via ILIKE '%airport%' THEN 'airport'
            WHEN deported_via ILIKE '%checkpoint%' OR deported_via ILIKE '%border%' OR deported_via ILIKE '%land%' THEN 'land_checkpoint'
            ELSE 'other' END, count(*)
FROM persons WHERE deported_at IS NOT NULL GROUP BY 2, 3;
INSERT INTO stats_person_months (metric, month, key, n)
SELECT 'victim', date_trunc('month', created_at AT TIME ZONE 'UTC')::date, '', count(*)
FROM persons WHERE trafficking_flag IN ('suspected', 'identified') GROUP BY 2;
ALTER TABLE stats_person_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_person_months ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON stats_person_counts, stats_person_months FROM PUBLIC;

-- +goose Down
DROP INDEX IF EXISTS cases_status_created_idx;
DROP TABLE stats_person_months;
DROP TABLE stats_person_counts;
