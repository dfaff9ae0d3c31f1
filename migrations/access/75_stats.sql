-- Oversight figures (ACCESS.md, Actions: "read oversight figures:
-- coordinator; admin"). Admins see no case content, so the figures cannot
-- be read through the case policies as the application role sees them:
-- they come from SECURITY DEFINER functions that first check the reader
-- and then return aggregates only (counts by nationality, status, month,
-- route), never a row that names a person or a case.
--
-- The person aggregates (stats_person_counts, stats_person_months) are kept
-- current by statement-level triggers on persons, in the writer's own
-- transaction: exact as of the last commit. Cases per status and age are
-- counted from cases (index cases_status_created_idx) on each call.

-- Who may read the figures: a coordinator of the interior ministry, or an
-- admin (of any agency).
CREATE OR REPLACE FUNCTION cb_stats_reader() RETURNS boolean
    LANGUAGE sql STABLE SET search_path = public, pg_temp
    AS $$ SELECT (cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator'))
                 OR (cb_agency_id() IS NOT NULL AND cb_has_role('admin')) $$;

CREATE OR REPLACE FUNCTION cb_stats_require() RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
    AS $$ BEGIN
    IF NOT COALESCE(cb_stats_reader(), false) THEN
        RAISE EXCEPTION 'oversight figures are for coordinators and admins' USING ERRCODE = '42501';
    END IF;
END $$;

-- The deportation route of a person's deported_via text.
CREATE OR REPLACE FUNCTION cb_stats_route(via text) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN via ILIKE '%airport%' THEN 'airport'
                      WHEN via ILIKE '%checkpoint%' OR via ILIKE '%border%' OR via ILIKE '%land%' THEN 'land_checkpoint'
                      ELSE 'other' END $$;

-- Persons by nationality and custody status.
CREATE OR REPLACE FUNCTION cb_stats_persons() RETURNS TABLE (nationality text, custody_status text, n bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    RETURN QUERY SELECT s.nationality, s.custody_status, s.n FROM stats_person_counts s
        WHERE s.n > 0 ORDER BY s.nationality, s.custody_status;
END $$;

-- Monthly events from p_from to p_to (first days of months), by metric and key.
CREATE OR REPLACE FUNCTION cb_stats_months(p_from date, p_to date)
    RETURNS TABLE (metric text, month date, key text, n bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    RETURN QUERY SELECT s.metric, s.month, s.key, s.n FROM stats_person_months s
        WHERE s.month BETWEEN p_from AND p_to AND s.n > 0 ORDER BY s.metric, s.month, s.key;
END $$;

-- Cases by status and age (since created): under 30 days, 30-89, 90-364, a
-- year or more.
CREATE OR REPLACE FUNCTION cb_stats_cases() RETURNS TABLE (status text, age_bucket text, n bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    RETURN QUERY SELECT c.status,
        CASE WHEN c.created_at > now() - interval '30 days' THEN 'under_30_days'
             WHEN c.created_at > now() - interval '90 days' THEN '30_to_89_days'
             WHEN c.created_at > now() - interval '365 days' THEN '90_to_364_days'
             ELSE 'a_year_or_more' END AS age_bucket,
        count(*) FROM cases c GROUP BY 1, 2 ORDER BY 1, 2;
END $$;

REVOKE ALL ON FUNCTION cb_stats_persons(), cb_stats_months(date, date), cb_stats_cases() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_stats_reader(), cb_stats_require(), cb_stats_route(text), cb_stats_persons(),
    cb_stats_months(date, date), cb_stats_cases() TO casebridge_app;

-- The triggers that keep the aggregates. Each statement adds its deltas
-- (new rows +1, old rows -1), in key order so that concurrent writers lock
-- the counter rows in the same order.
CREATE OR REPLACE FUNCTION cb_stats_apply(d jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    INSERT INTO stats_person_counts (nationality, custody_status, n)
    SELECT x.nationality, x.custody_status, sum(x.n) FROM jsonb_to_recordset(d -> 'counts')
        AS x(nationality text, custody_status text, n bigint)
    GROUP BY 1, 2 HAVING sum(x.n) <> 0 ORDER BY 1, 2
    ON CONFLICT (nationality, custody_status) DO UPDATE SET n = stats_person_counts.n + EXCLUDED.n;
    INSERT INTO stats_person_months (metric, month, key, n)
    SELECT x.metric, x.month, x.key, sum(x.n) FROM jsonb_to_recordset(d -> 'months')
        AS x(metric text, month date, key text, n bigint)
    GROUP BY 1, 2, 3 HAVING sum(x.n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (metric, month, key) DO UPDATE SET n = stats_person_months.n + EXCLUDED.n;
END $$;
REVOKE ALL ON FUNCTION cb_stats_apply(jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION cb_stats_persons_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    counts jsonb := '[]';
    months jsonb := '[]';
BEGIN
    -- Most updates (linked_cases, names, versions) change no figure.
    IF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (
            SELECT 1 FROM cb_new nw JOIN cb_old od ON od.id = nw.id
             WHERE (nw.nationality, nw.custody_status, nw.detained_at, nw.deported_at, nw.deported_via, nw.trafficking_flag)
                   IS DISTINCT FROM (od.nationality, od.custody_status, od.detained_at, od.deported_at, od.deported_via, od.trafficking_flag)) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        counts := counts || COALESCE((SELECT jsonb_agg(jsonb_build_object('nationality', g.nationality,
                'custody_status', g.custody_status, 'n', g.n))
            FROM (SELECT nationality, custody_status, count(*) AS n FROM cb_new GROUP BY 1, 2) g), '[]');
        months := months || COALESCE((SELECT jsonb_agg(jsonb_build_object('metric', g.metric, 'month', g.month, 'key', g.key, 'n', g.n))
            FROM (SELECT 'detention' AS metric, date_trunc('month', detained_at AT TIME ZONE 'UTC')::date AS month, '' AS key, count(*) AS n
                  FROM cb_new WHERE detained_at IS NOT NULL GROUP BY 2
                  UNION ALL
                  SELECT 'deportation', date_trunc('month', deported_at AT TIME ZONE 'UTC')::date, cb_stats_route(deported_via), count(*)
                  FROM cb_new WHERE deported_at IS NOT NULL GROUP BY 2, 3) g), '[]');
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        counts := counts || COALESCE((SELECT jsonb_agg(jsonb_build_object('nationality', g.nationality,
                'custody_status', g.custody_status, 'n', -g.n))
            FROM (SELECT nationality, custody_status, count(*) AS n FROM cb_old GROUP BY 1, 2) g), '[]');
        months := months || COALESCE((SELECT jsonb_agg(jsonb_build_object('metric', g.metric, 'month', g.month, 'key', g.key, 'n', -g.n))
            FROM (SELECT 'detention' AS metric, date_trunc('month', detained_at AT TIME ZONE 'UTC')::date AS month, '' AS key, count(*) AS n
                  FROM cb_old WHERE detained_at IS NOT NULL GROUP BY 2
                  UNION ALL
                  SELECT 'deportation', date_trunc('month', deported_at AT TIME ZONE 'UTC')::date, cb_stats_route(deported_via), count(*)
                  FROM cb_old WHERE deported_at IS NOT NULL GROUP BY 2, 3) g), '[]');
    END IF;
    -- Possible victims: counted once, in the month a person is first
    -- flagged suspected or identified (at creation: the month created).
    IF TG_OP = 'INSERT' THEN
        months := months || COALESCE((SELECT jsonb_agg(jsonb_build_object('metric', 'victim', 'month', g.month, 'key', '', 'n', g.n))
            FROM (SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month, count(*) AS n FROM cb_new
                  WHERE trafficking_flag IN ('suspected', 'identified') GROUP BY 1) g), '[]');
    ELSIF TG_OP = 'UPDATE' THEN
        months := months || COALESCE((SELECT jsonb_agg(jsonb_build_object('metric', 'victim', 'month',
                date_trunc('month', now() AT TIME ZONE 'UTC')::date, 'key', '', 'n', g.n))
            FROM (SELECT count(*) AS n FROM cb_new nw JOIN cb_old od ON od.id = nw.id
                  WHERE nw.trafficking_flag IN ('suspected', 'identified')
                    AND od.trafficking_flag NOT IN ('suspected', 'identified')) g WHERE g.n > 0), '[]');
    END IF;
    PERFORM cb_stats_apply(jsonb_build_object('counts', counts, 'months', months));
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION cb_stats_persons_changed() FROM PUBLIC;

DROP TRIGGER IF EXISTS persons_stats_insert ON persons;
CREATE TRIGGER persons_stats_insert AFTER INSERT ON persons
    REFERENCING NEW TABLE AS cb_new FOR EACH STATEMENT EXECUTE FUNCTION cb_stats_persons_changed();
DROP TRIGGER IF EXISTS persons_stats_update ON persons;
CREATE TRIGGER persons_stats_update AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS cb_old NEW TABLE AS cb_new FOR EACH STATEMENT EXECUTE FUNCTION cb_stats_persons_changed();
DROP TRIGGER IF EXISTS persons_stats_delete ON persons;
CREATE TRIGGER persons_stats_delete AFTER DELETE ON persons
    REFERENCING OLD TABLE AS cb_old FOR EACH STATEMENT EXECUTE FUNCTION cb_stats_persons_changed();
