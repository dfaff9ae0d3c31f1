-- Web app, second wave (issue 14): an agency's name in Khmer, and an index
-- for the audit trail's "refused only" filter.

-- +goose Up
-- The Khmer name of an agency, shown when the app is in Khmer; '' when no
-- one has entered it yet (the app falls back to the name).
ALTER TABLE agencies ADD COLUMN name_km text NOT NULL DEFAULT ''
    CHECK (length(name_km) <= 200);

-- The audit list's "refused only" filter (outcome denied or not_found),
-- newest first like every other filter of that list: refusals are rare, so
-- without it the list would walk the whole time index to find a page.
CREATE INDEX audit_events_refused_idx ON audit_events (occurred_at, id)
    WHERE outcome IN ('denied', 'not_found');

-- +goose Down
DROP INDEX audit_events_refused_idx;
ALTER TABLE agencies DROP COLUMN name_km;
