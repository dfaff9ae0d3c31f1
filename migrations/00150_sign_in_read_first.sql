-- Sign-in without a write when nothing changed (issue 15). The upsert of
-- 00010 ends in ON CONFLICT DO UPDATE … WHERE <nothing changed>, which still
-- locks the user's row and takes a transaction id: every bearer request
-- paid a WAL flush, and all requests of one user queued on that row lock.
-- Now the row is read first and written only when a claim differs or a
-- browser sign-in is recorded (p_touch). The server also keeps resolved
-- principals (internal/auth/cache.go), so it rarely calls this at all.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cb_sign_in_user(p_issuer text, p_subject text, p_agency_id uuid, p_name text,
                                p_username text, p_email text, p_roles text[], p_touch boolean)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    cur record;
    uid uuid;
BEGIN
    -- Nothing changed: a plain read, no row lock, no transaction id.
    SELECT u.id, u.agency_id, u.name, u.username, u.email, u.roles INTO cur
      FROM users u WHERE u.issuer = p_issuer AND u.subject = p_subject;
    IF FOUND AND NOT p_touch
       AND (cur.agency_id, cur.name, cur.username, cur.email, cur.roles)
           IS NOT DISTINCT FROM (p_agency_id, p_name, p_username, p_email, p_roles) THEN
        RETURN cur.id;
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cb_sign_in_user(p_issuer text, p_subject text, p_agency_id uuid, p_name text,
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
