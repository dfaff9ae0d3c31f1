-- Rate limits (internal/ratelimit): hits per bucket (what is limited:
-- sign_in, token_failure, download) and subject (a client address or a
-- user id) in fixed windows, shared by every instance of the portal.
-- Rows of past windows are removed as the limiter goes.

-- +goose Up
CREATE TABLE rate_limits (
    bucket       text NOT NULL CHECK (length(bucket) <= 64),
    subject      text NOT NULL CHECK (length(subject) <= 200),
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (bucket, subject, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO casebridge_app;

-- +goose Down
DROP TABLE rate_limits;
