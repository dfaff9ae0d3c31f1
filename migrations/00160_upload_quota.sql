-- Per-agency upload quota (documents.agency_daily_quota): the bytes each
-- agency's uploads committed per UTC day. Written only by cb_charge_upload
-- (migrations/access/96_upload_quota.sql) inside the transaction that
-- commits the upload, so a refused or rolled-back upload charges nothing.
-- Rows of earlier days are removed as the agency uploads again.

-- +goose Up
CREATE TABLE upload_usage (
    agency_id uuid NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    day       date NOT NULL,
    bytes     bigint NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (agency_id, day)
);
-- The application role reaches it only through the functions (SECURITY
-- DEFINER): no grant on the table.
ALTER TABLE upload_usage ENABLE ROW LEVEL SECURITY;

-- +goose Down
DROP TABLE upload_usage;
