-- Audit: the event log and the Merkle tree over it (internal/audit,
-- docs/audit.md).
--
-- audit_events      one row per audited action, written by audit.Record in
--                   the request's own transaction.
-- audit_queue       ids of events not yet in the tree. Filled by a trigger on
--                   audit_events, emptied by the sequencer. See below for why.
-- audit_leaves      tree index -> event id.
-- audit_hashes      the tree's stored hashes, by tlog stored-hash index.
-- audit_checkpoints every signed checkpoint (tree size, root, signed note).
--
-- Everything but the queue is append-only for the application role: it is
-- granted INSERT and SELECT only, and a trigger refuses UPDATE, DELETE and
-- TRUNCATE even to the owner unless the owner first disables it on purpose
-- (which is what the tamper tests do; what they change is then caught by
-- `casebridge audit verify` and `casebridge audit witness`).
--
-- Why a queue table. Event ids come from an identity sequence, and id order
-- is not commit order: a transaction that took id 100 may commit after one
-- that took id 101, so a sequencer that remembers "everything up to the
-- highest id I saw" would skip 100 forever. Scanning for "events without a
-- leaf" avoids that but is an anti-join over 100M rows. Instead the same
-- INSERT puts the id into audit_queue (by trigger, so no writer can forget),
-- in the same transaction: a queue row becomes visible exactly when its event
-- commits, however late. The sequencer takes the lowest queued ids under an
-- advisory lock, writes their leaves and hashes, deletes the queue rows and
-- signs a checkpoint, all in one transaction; a crash rolls it all back and
-- the rows are still queued. The queue only holds the backlog (normally a few
-- hundred rows), so finding the next batch is an index scan of a small table
-- whatever the size of the log. A queue row deleted by someone else would
-- leave an event outside the tree forever; `audit verify` reports any event
-- that is neither in the tree nor queued.

-- +goose Up
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id uuid,
    actor_issuer  text NOT NULL DEFAULT '' CHECK (length(actor_issuer) <= 1000),
    actor_subject text NOT NULL DEFAULT '' CHECK (length(actor_subject) <= 1000),
    actor_name    text NOT NULL DEFAULT '' CHECK (length(actor_name) <= 1000),
    agency_id     uuid,
    agency_code   text NOT NULL DEFAULT '' CHECK (length(agency_code) <= 200),
    action        text NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
    object_type   text NOT NULL DEFAULT '' CHECK (length(object_type) <= 200),
    object_id     text NOT NULL DEFAULT '' CHECK (length(object_id) <= 1000),
    -- No foreign keys: the audit outlives the cases, users and agencies it
    -- names.
    case_id       uuid,
    outcome       text NOT NULL CHECK (outcome IN ('ok', 'denied', 'not_found', 'error')),
    request_id    text NOT NULL DEFAULT '' CHECK (length(request_id) <= 200),
    client_addr   text NOT NULL DEFAULT '' CHECK (length(client_addr) <= 200),
    details       jsonb NOT NULL DEFAULT '{}'
);

-- The admin list is ordered by (occurred_at, id) descending and keyset-
-- paginated on it; each filter has an index ending in the same keys.
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, occurred_at, id)
    WHERE actor_user_id IS NOT NULL;
CREATE INDEX audit_events_agency_idx ON audit_events (agency_id, occurred_at, id)
    WHERE agency_id IS NOT NULL;
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at, id);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, occurred_at, id);
CREATE INDEX audit_events_case_idx ON audit_events (case_id, occurred_at, id)
    WHERE case_id IS NOT NULL;

CREATE TABLE audit_queue (
    event_id bigint PRIMARY KEY
);
-- Every queued row is deleted a moment later: vacuum it by dead-row count,
-- not by a fraction of its (tiny) size, so it never bloats.
ALTER TABLE audit_queue SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                             autovacuum_vacuum_cost_delay = 0);

CREATE TABLE audit_leaves (
    idx      bigint PRIMARY KEY CHECK (idx >= 0),
    event_id bigint NOT NULL UNIQUE
);

CREATE TABLE audit_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_checkpoints (
    size       bigint PRIMARY KEY CHECK (size > 0),
    root       bytea NOT NULL CHECK (length(root) = 32),
    note       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- +goose StatementBegin
CREATE FUNCTION audit_enqueue() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_queue (event_id) SELECT id FROM added;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_enqueue AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_enqueue();

-- +goose StatementBegin
CREATE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_hashes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
-- The queue is consumed (DELETE) but never edited or emptied wholesale.
CREATE TRIGGER audit_queue_no_update BEFORE UPDATE OR TRUNCATE ON audit_queue
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Who reads and inserts events: migrations/access/48_records.sql.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;

-- Column list: the database alone assigns id and occurred_at, so the
-- application can neither forge an event's time nor take an id the
-- sequence will hand out later.
GRANT SELECT ON audit_events TO casebridge_app;
GRANT INSERT (actor_user_id, actor_issuer, actor_subject, actor_name, agency_id, agency_code,
              action, object_type, object_id, case_id, outcome, request_id, client_addr, details)
    ON audit_events TO casebridge_app;
GRANT SELECT, INSERT, DELETE ON audit_queue TO casebridge_app;
GRANT SELECT, INSERT ON audit_leaves, audit_hashes, audit_checkpoints TO casebridge_app;

-- +goose Down
DROP TABLE audit_checkpoints, audit_hashes, audit_leaves, audit_queue, audit_events;
DROP FUNCTION audit_refuse_change(), audit_enqueue();
