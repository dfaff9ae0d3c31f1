-- The person aggregates become append-only deltas: each statement that
-- changes persons inserts its own rows (no counter row is updated, so
-- concurrent writers never wait on each other, however long one of them
-- runs — a bulk import of thousands of persons commits in one transaction),
-- and the readers sum them. The stats functions fold the deltas into one
-- row per key once they pile up (migrations/access/75_stats.sql).

-- +goose Up
ALTER TABLE stats_person_counts DROP CONSTRAINT stats_person_counts_pkey;
ALTER TABLE stats_person_counts ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
ALTER TABLE stats_person_months DROP CONSTRAINT stats_person_months_pkey;
ALTER TABLE stats_person_months ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE INDEX stats_person_months_month_idx ON stats_person_months (month);

-- +goose Down
DROP INDEX stats_person_months_month_idx;
ALTER TABLE stats_person_months DROP COLUMN id;
ALTER TABLE stats_person_counts DROP COLUMN id;
DELETE FROM stats_person_months;
DELETE FROM stats_person_counts;
ALTER TABLE stats_person_counts ADD PRIMARY KEY (nationality, custody_status);
ALTER TABLE stats_person_months ADD PRIMARY KEY (metric, month, key);
