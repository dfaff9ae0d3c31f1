-- Sign-in: users (one per identity at an OpenID provider), browser sessions
-- and pending browser sign-ins.
--
-- Who may touch what, and why (sign-in runs before there is a principal):
-- * users has Row-Level Security. The application role may read its own row,
--   the rows of its own agency, and every row when it is an admin; it never
--   writes users directly. Sign-in creates or updates the row through
--   cb_sign_in_user(), a SECURITY DEFINER function that can do only that.
-- * sessions and auth_logins hold no case content and no secrets: a session
--   is found by the SHA-256 of its token (the token itself is only in the
--   browser's cookie), a pending sign-in by the SHA-256 of its state. The
--   sign-in code reads and writes them directly, without RLS, before it knows
--   a principal; no endpoint lists them.

-- +goose Up
CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    agency_id       uuid NOT NULL REFERENCES agencies (id),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    username        text NOT NULL DEFAULT '' CHECK (length(username) <= 200),
    email           text NOT NULL DEFAULT '' CHECK (length(email) <= 320),
    -- The effective roles of the last sign-in (after dropping the roles the
    -- agency's kind does not allow).
    roles           text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    CONSTRAINT users_identity_key UNIQUE (issuer, subject)
);
CREATE INDEX users_agency_idx ON users (agency_id);
-- The admin's user list pages by (created_at, id).
CREATE INDEX users_created_idx ON users (created_at, id);

-- Policy: migrations/access/10_principal.sql.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON users TO casebridge_app;

-- cb_sign_in_user creates the user (issuer, subject) or brings its profile up
-- to date, and returns its id. It writes only when something changed, so a
-- bearer request that calls it on every request costs one index lookup.
-- touch records a browser sign-in in last_sign_in_at.
-- +goose StatementBegin
CREATE FUNCTION cb_sign_in_user(p_issuer text, p_subject text, p_agency_id uuid, p_name text,
                                p_username text, p_email text, p_roles text[], p_touch boolean)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    uid uuid;
BEGIN
    INSERT INTO users AS u (issuer, subject, agency_id, name, username, email, roles, last_sign_in_at)
    VALUES (p_issuer, p_subject, p_agency_id, p_name, p_username, p_email, p_roles,
            CASE WHEN p_touch THEN now() END)
    ON CONFLICT (issuer, subject) DO UPDATE
        SET agency_id = EXCLUDED.agency_id, name = EXCLUDED.name, username = EXCLUDED.username,
            email = EXCLUDED.email, roles = EXCLUDED.roles, updated_at = now(),
            last_sign_in_at = CASE WHEN p_touch THEN now() ELSE u.last_sign_in_at END
        WHERE p_touch
           OR (u.agency_id, u.name, u.username, u.email, u.roles)
              IS DISTINCT FROM (EXCLUDED.agency_id, EXCLUDED.name, EXCLUDED.username, EXCLUDED.email, EXCLUDED.roles)
    RETURNING u.id INTO uid;
    IF uid IS NULL THEN
        SELECT u.id INTO uid FROM users u WHERE u.issuer = p_issuer AND u.subject = p_subject;
    END IF;
    RETURN uid;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION cb_sign_in_user(text, text, uuid, text, text, text, text[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_sign_in_user(text, text, uuid, text, text, text, text[], boolean) TO casebridge_app;

-- A browser session. The principal is kept as it was at sign-in (user,
-- agency, effective roles); the agency row is joined on every request, so
-- disabling an agency ends its sessions at once.
CREATE TABLE sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash   bytea NOT NULL CHECK (length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    name         text NOT NULL,
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    roles        text[] NOT NULL,
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO casebridge_app;

-- A browser sign-in under way: what the callback needs to finish it. Single
-- use (deleted when the callback reads it) and short-lived.
CREATE TABLE auth_logins (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce      text NOT NULL,
    verifier   text NOT NULL,
    return_to  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_logins_expires_idx ON auth_logins (expires_at);
GRANT SELECT, INSERT, DELETE ON auth_logins TO casebridge_app;

-- +goose Down
DROP TABLE auth_logins;
DROP TABLE sessions;
DROP FUNCTION cb_sign_in_user(text, text, uuid, text, text, text, text[], boolean);
DROP TABLE users;
