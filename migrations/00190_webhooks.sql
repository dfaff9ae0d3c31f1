-- Webhooks to agency systems (docs/webhooks.md): an agency's endpoint and
-- secret, the outbox of events, and the delivery log. The rules that fill
-- the outbox and decide who reads what are in
-- migrations/access/62_webhooks.sql.
--
-- The outbox (webhook_events) is written by triggers on
-- consular_notifications and consular_visits, in the transaction of the
-- change that makes the event, so an event exists exactly when that change
-- commits. A dispatcher job turns each event into one delivery per agency
-- with a webhook (webhook_deliveries, unique per event and agency) and one
-- River job per delivery; every attempt is logged (webhook_attempts).

-- +goose Up
CREATE TABLE agency_webhooks (
    agency_id     uuid PRIMARY KEY REFERENCES agencies (id),
    url           text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- The signing secret, encrypted with AES-256-GCM under the key of the
    -- setting webhooks.secret_key: nonce (12 bytes) then ciphertext and tag.
    -- Never returned by the API.
    secret_sealed bytea NOT NULL,
    -- A short fingerprint of the secret (first bytes of its SHA-256, hex)
    -- so an admin can tell which secret is set without seeing it.
    secret_hint   text NOT NULL CHECK (length(secret_hint) <= 16),
    secret_set_at timestamptz NOT NULL DEFAULT now(),
    enabled       boolean NOT NULL DEFAULT true,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    uuid DEFAULT cb_user_id()
);
ALTER TABLE agency_webhooks ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON agency_webhooks TO casebridge_app;

CREATE TABLE webhook_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type            text NOT NULL CHECK (type IN ('notification.created', 'notification.withdrawn', 'visit.answered')),
    -- The country whose embassy is told (notifications), or the requesting
    -- agency (visits).
    country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    agency_id       uuid REFERENCES agencies (id),
    person_id       uuid NOT NULL REFERENCES persons (id),
    notification_id uuid REFERENCES consular_notifications (id),
    visit_id        uuid REFERENCES consular_visits (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    dispatched_at   timestamptz
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (created_at, id) WHERE dispatched_at IS NULL;
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
GRANT SELECT, UPDATE (dispatched_at) ON webhook_events TO casebridge_app;

CREATE TABLE webhook_deliveries (
    -- The message id sent as webhook-id: the same on every attempt, so a
    -- receiver can drop a repeat.
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES webhook_events (id),
    agency_id        uuid NOT NULL REFERENCES agencies (id),
    type             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text CHECK (length(last_error) <= 1000),
    delivered_at     timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (event_id, agency_id),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_agency_idx ON webhook_deliveries (agency_id, created_at DESC, id DESC);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT (event_id, agency_id, type),
    UPDATE (status, attempts, last_attempt_at, last_status_code, last_error, delivered_at)
    ON webhook_deliveries TO casebridge_app;

CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer NOT NULL CHECK (attempt >= 1),
    at           timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text CHECK (length(error) <= 1000),
    duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (delivery_id, attempt)
);
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON webhook_attempts TO casebridge_app;

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE agency_webhooks;
