-- Per-agency upload quota (issue 16): at most `quota` bytes of uploads per
-- agency per UTC day. The portal passes documents.agency_daily_quota; it
-- calls nothing when the setting is 0 (off). The agency is always the
-- principal's own (cb_agency_id()): no caller can charge or read another
-- agency's usage.

-- cb_upload_quota_used: bytes the principal's agency uploaded today
-- (checked before the file streams, so an agency whose quota is used up
-- stores nothing at all).
CREATE OR REPLACE FUNCTION cb_upload_quota_used() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT COALESCE((SELECT u.bytes FROM upload_usage u
                           WHERE u.agency_id = cb_agency_id()
                             AND u.day = (now() AT TIME ZONE 'UTC')::date), 0) $$;

-- cb_charge_upload: in the upload's commit transaction, adds size to the
-- agency's usage of today when the total stays within quota. allowed is
-- false (and nothing is charged) otherwise; used is the usage before this
-- upload. The row lock of the upsert serialises concurrent uploads of one
-- agency, so two uploads can never both fit into the last bytes of the
-- quota; a rolled-back upload charges nothing.
CREATE OR REPLACE FUNCTION cb_charge_upload(size bigint, quota bigint)
    RETURNS TABLE (allowed boolean, used bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    ROWS 1
    AS $$
DECLARE
    agency uuid := cb_agency_id();
    today  date := (now() AT TIME ZONE 'UTC')::date;
    total  bigint;
BEGIN
    IF agency IS NULL OR size IS NULL OR size < 0 OR quota IS NULL OR quota < 1 THEN
        RAISE EXCEPTION 'cb_charge_upload: no agency, or a bad size or quota'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM upload_usage u WHERE u.agency_id = agency AND u.day < today;
    IF size <= quota THEN
        INSERT INTO upload_usage AS u (agency_id, day, bytes) VALUES (agency, today, size)
        ON CONFLICT (agency_id, day) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes
            WHERE u.bytes + EXCLUDED.bytes <= quota
        RETURNING u.bytes INTO total;
        IF total IS NOT NULL THEN
            RETURN QUERY SELECT true, total - size;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT false, COALESCE((SELECT u.bytes FROM upload_usage u
                                         WHERE u.agency_id = agency AND u.day = today), 0);
END
$$;

REVOKE ALL ON FUNCTION cb_upload_quota_used(), cb_charge_upload(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_upload_quota_used(), cb_charge_upload(bigint, bigint) TO casebridge_app;
