-- Oversight figures (ACCESS.md, Actions: "read oversight figures:
-- coordinator; admin"). Admins see no case content, so the figures cannot
-- be read through the case policies as the application role sees them:
-- they come from SECURITY DEFINER functions that first check the reader
-- and then return aggregates only (counts by nationality, status, month,
-- route), never a row that names a person or a case.
--
-- The person aggregates (stats_person_counts, stats_person_months) are kept
-- current by statement-level triggers on persons, in the writer's own
-- transaction: exact as of the last commit. They are append-only deltas
-- (summed on read, folded when they pile up), so writers never queue on a
-- counter row. Cases per status and age are
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

-- Folds the aggregate deltas into one row per key once more than 1,000
-- have piled up (one folder at a time; the rows it deletes are committed
-- ones, so writers adding new deltas never wait for it).
CREATE OR REPLACE FUNCTION cb_stats_fold() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('cb_stats_fold')) THEN
        RETURN;
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM stats_person_counts LIMIT 1001) x) > 1000 THEN
        WITH gone AS (DELETE FROM stats_person_counts RETURNING nationality, custody_status, n)
        INSERT INTO stats_person_counts (nationality, custody_status, n)
        SELECT nationality, custody_status, sum(n) FROM gone GROUP BY 1, 2 HAVING sum(n) <> 0;
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM stats_person_months LIMIT 1001) x) > 1000 THEN
        WITH gone AS (DELETE FROM stats_person_months RETURNING metric, month, key, n)
        INSERT INTO stats_person_months (metric, month, key, n)
        SELECT metric, month, key, sum(n) FROM gone GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
END $$;
REVOKE ALL ON FUNCTION cb_stats_fold() FROM PUBLIC;

-- Persons by nationality and custody status.
CREATE OR REPLACE FUNCTION cb_stats_persons() RETURNS TABLE (nationality text, custody_status text, n bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    PERFORM cb_stats_fold();
    RETURN QUERY SELECT s.nationality, s.custody_status, sum(s.n)::bigint FROM stats_person_counts s
        GROUP BY 1, 2 HAVING sum(s.n) > 0 ORDER BY 1, 2;
END $$;

-- Monthly events from p_from to p_to (first days of months), by metric and key.
CREATE OR REPLACE FUNCTION cb_stats_months(p_from date, p_to date)
    RETURNS TABLE (metric text, month date, key text, n bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    PERFORM cb_stats_fold();
    RETURN QUERY SELECT s.metric, s.month, s.key, sum(s.n)::bigint FROM stats_person_months s
        WHERE s.month BETWEEN p_from AND p_to GROUP BY 1, 2, 3 HAVING sum(s.n) > 0 ORDER BY 1, 2, 3;
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

-- Consular notification delay per embassy (country notified): how many
-- notifications, how many acknowledged, the median and 90th percentile of
-- the time from due to acknowledged (seconds), and how many are overdue now
-- (unacknowledged, not withdrawn, due longer ago than p_overdue, the
-- setting consular.overdue_after). Computed from consular_notifications on
-- each call (its due index); counts and durations only.
CREATE OR REPLACE FUNCTION cb_stats_notifications(p_overdue interval)
    RETURNS TABLE (country text, embassies text, notifications bigint, acknowledged bigint,
                   median_seconds double precision, p90_seconds double precision, overdue bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    PERFORM cb_stats_require();
    RETURN QUERY SELECT n.country,
        COALESCE((SELECT string_agg(a.code, ',' ORDER BY a.code) FROM agencies a
                   WHERE a.kind = 'embassy' AND a.country = n.country), ''),
        count(*),
        count(n.acknowledged_at),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM n.acknowledged_at - n.due_at)::double precision)
            FILTER (WHERE n.acknowledged_at IS NOT NULL),
        percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM n.acknowledged_at - n.due_at)::double precision)
            FILTER (WHERE n.acknowledged_at IS NOT NULL),
        count(*) FILTER (WHERE n.acknowledged_at IS NULL AND n.withdrawn_at IS NULL AND n.due_at < now() - p_overdue)
      FROM consular_notifications n GROUP BY n.country ORDER BY n.country;
END $$;

REVOKE ALL ON FUNCTION cb_stats_persons(), cb_stats_months(date, date), cb_stats_cases(),
    cb_stats_notifications(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_stats_reader(), cb_stats_require(), cb_stats_route(text), cb_stats_persons(),
    cb_stats_months(date, date), cb_stats_cases(), cb_stats_notifications(interval) TO casebridge_app;

-- The triggers that keep the aggregates. Each statement appends its
-- deltas (new rows +1, old rows -1), one row per key it changed: no row is
-- updated, so concurrent writers never wait on each other.
CREATE OR REPLACE FUNCTION cb_stats_apply(d jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN
    INSERT INTO stats_person_counts (nationality, custody_status, n)
    SELECT x.nationality, x.custody_status, sum(x.n) FROM jsonb_to_recordset(d -> 'counts')
        AS x(nationality text, custody_status text, n bigint)
    GROUP BY 1, 2 HAVING sum(x.n) <> 0;
    INSERT INTO stats_person_months (metric, month, key, n)
    SELECT x.metric, x.month, x.key, sum(x.n) FROM jsonb_to_recordset(d -> 'months')
        AS x(metric text, month date, key text, n bigint)
    GROUP BY 1, 2, 3 HAVING sum(x.n) <> 0;
END $$;
REVOKE ALL ON FUNCTION cb_stats_apply(jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION cb_stats_persons_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    counts jsonb := '[]';
    months jsonb := '[]';
BEGIN
    -- Most updates (linked_cases, names, versions) change no figure. (A
    -- set difference, hashed: a join of the two transition tables planned
    -- for EXISTS ran as a nested loop, quadratic when an import links
    -- 10,000 persons in one statement. A row is updated at most once per
    -- statement, so "a row whose figures changed" is "a new (id, figures)
    -- not among the old ones"; EXCEPT compares NULLs as IS DISTINCT FROM.)
    IF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (
            SELECT nw.id, nw.nationality, nw.custody_status, nw.detained_at, nw.deported_at, nw.deported_via, nw.trafficking_flag
              FROM cb_new nw
            EXCEPT ALL
            SELECT od.id, od.nationality, od.custody_status, od.detained_at, od.deported_at, od.deported_via, od.trafficking_flag
              FROM cb_old od) THEN
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
