-- Foundation: the privilege baseline, the principal helper functions that
-- every Row-Level Security policy uses, and the agencies table.
--
-- The server connects as casebridge_app (created by the bootstrap, not here:
-- roles are cluster objects). Every request runs in a transaction that sets
-- the casebridge.* settings below; with none set, the helpers return NULL and
-- every policy denies.

-- +goose Up
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO casebridge_app;
-- Temporary tables are tables too: the application role creates none.
-- +goose StatementBegin
DO $$ BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
-- +goose StatementEnd
-- /readyz (as the app role) compares the applied version with the binary's.
GRANT SELECT ON goose_db_version TO casebridge_app;

-- Principal helpers. Policies must call them wrapped in a scalar subquery,
-- e.g. (SELECT cb_agency_id()), so PostgreSQL evaluates them once per query
-- (an InitPlan) instead of once per row, and can use them as index keys.
CREATE FUNCTION cb_setting(name text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('casebridge.' || name, true), '') $$;

CREATE FUNCTION cb_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_setting('user_id')::uuid $$;

CREATE FUNCTION cb_agency_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_setting('agency_id')::uuid $$;

CREATE FUNCTION cb_agency_kind() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_setting('agency_kind') $$;

CREATE FUNCTION cb_country() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_setting('country') $$;

CREATE FUNCTION cb_roles() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(string_to_array(cb_setting('roles'), ','), '{}'::text[]) $$;

CREATE FUNCTION cb_has_role(role text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT role = ANY (cb_roles()) $$;

GRANT EXECUTE ON FUNCTION cb_setting(text), cb_user_id(), cb_agency_id(), cb_agency_kind(),
    cb_country(), cb_roles(), cb_has_role(text) TO casebridge_app;

CREATE TABLE agencies (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind       text NOT NULL CHECK (kind IN ('immigration_police', 'counter_trafficking',
                                             'embassy', 'interior_ministry', 'court')),
    -- ISO 3166-1 alpha-2. text with a CHECK, not char(2): a char(n) column
    -- compared with a text setting is cast and loses its index.
    country    text CHECK (country ~ '^[A-Z]{2}$'),
    enabled    boolean NOT NULL DEFAULT true,
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'embassy' OR country IS NOT NULL)
);
CREATE INDEX agencies_kind_idx ON agencies (kind, country);

-- Policies: migrations/access/10_principal.sql.
ALTER TABLE agencies ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON agencies TO casebridge_app;

-- +goose Down
DROP TABLE agencies;
DROP FUNCTION cb_has_role(text), cb_roles(), cb_country(), cb_agency_kind(), cb_agency_id(),
    cb_user_id(), cb_setting(text);
REVOKE SELECT ON goose_db_version FROM casebridge_app;
REVOKE USAGE ON SCHEMA public FROM casebridge_app;
GRANT USAGE ON SCHEMA public TO PUBLIC;
-- +goose StatementBegin
DO $$ BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END $$;
-- +goose StatementEnd
