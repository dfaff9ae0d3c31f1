-- Large imports commit in a background job (internal/imports, job kind
-- imports.commit): the request marks the import "committing" and enqueues
-- the job in the same transaction; the job writes every row in one
-- transaction, reporting its progress here as it goes, and ends
-- "committed" — or "failed" with the reason when a rule refused it (the
-- importer may commit again after fixing what was refused).

-- +goose Up
ALTER TABLE imports DROP CONSTRAINT imports_status_check;
ALTER TABLE imports ADD CONSTRAINT imports_status_check
    CHECK (status IN ('validated', 'invalid', 'committing', 'committed', 'failed'));
ALTER TABLE imports
    ADD COLUMN link_existing       boolean NOT NULL DEFAULT false,
    ADD COLUMN commit_requested_at timestamptz,
    ADD COLUMN progress_done       integer NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    ADD COLUMN progress_total      integer NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
    ADD COLUMN commit_error        text CHECK (length(commit_error) <= 2000);
GRANT UPDATE (link_existing, commit_requested_at, progress_done, progress_total, commit_error) ON imports TO casebridge_app;

-- +goose Down
REVOKE UPDATE (link_existing, commit_requested_at, progress_done, progress_total, commit_error) ON imports FROM casebridge_app;
ALTER TABLE imports DROP COLUMN link_existing, DROP COLUMN commit_requested_at, DROP COLUMN progress_done,
    DROP COLUMN progress_total, DROP COLUMN commit_error;
UPDATE imports SET status = 'validated' WHERE status IN ('committing', 'failed');
ALTER TABLE imports DROP CONSTRAINT imports_status_check;
ALTER TABLE imports ADD CONSTRAINT imports_status_check CHECK (status IN ('validated', 'invalid', 'committed'));
