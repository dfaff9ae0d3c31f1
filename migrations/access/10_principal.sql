-- Principal: roles, ceilings and classification ranks, and the directory
-- tables every principal reads (agencies, users).
--
-- The principal's own settings (cb_setting, cb_user_id, cb_agency_id,
-- cb_agency_kind, cb_country, cb_roles, cb_has_role) are schema functions of
-- migration 00001: column defaults use them, so they exist before any table.
-- Policies must call them wrapped in a scalar subquery, e.g.
-- (SELECT cb_agency_id()), so PostgreSQL evaluates them once per query.

CREATE OR REPLACE FUNCTION cb_has_any_role(roles text[]) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_roles() && roles $$;

-- Classification levels as ranks, so ceilings compare with integers:
-- public 0 < restricted 1 < confidential 2 < secret 3.
CREATE OR REPLACE FUNCTION cb_class_rank(c text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE c WHEN 'public' THEN 0 WHEN 'restricted' THEN 1
                        WHEN 'confidential' THEN 2 WHEN 'secret' THEN 3 END $$;

CREATE OR REPLACE FUNCTION cb_class_name(r integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['public','restricted','confidential','secret'])[r + 1] $$;

-- The best ceiling P's roles give it through a share (G2): officer,
-- supervisor → secret; viewer, clerk → confidential; liaison, coordinator →
-- restricted. NULL: no role but admin. A single expression, so PostgreSQL
-- inlines it.
CREATE OR REPLACE FUNCTION cb_share_role_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cb_roles() && '{officer,supervisor}'::text[] THEN 3
                      WHEN cb_roles() && '{viewer,clerk}'::text[] THEN 2
                      WHEN cb_roles() && '{liaison,coordinator}'::text[] THEN 1 END $$;

-- The agency-staff role ceiling (G1, and staff of any agency kind):
-- officer, supervisor → secret; viewer → confidential; NULL otherwise.
CREATE OR REPLACE FUNCTION cb_staff_ceiling() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN cb_roles() && '{officer,supervisor}'::text[] THEN 3
                      WHEN cb_roles() && '{viewer}'::text[] THEN 2 END $$;

-- Whether the principal is a consular viewer at all (ACCESS.md: an embassy
-- principal with role liaison). The consular endpoints answer 403 otherwise.
CREATE OR REPLACE FUNCTION cb_consular_viewer() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(cb_agency_kind() = 'embassy' AND cb_has_role('liaison'), false) $$;

GRANT EXECUTE ON FUNCTION cb_has_any_role(text[]), cb_class_rank(text), cb_class_name(integer),
    cb_share_role_ceiling(), cb_staff_ceiling(), cb_consular_viewer() TO casebridge_app;

-- Agencies are directory data, not case content: every transaction may read
-- them (sign-in resolves the agency claim before there is a principal). Only
-- a platform admin may create or change one.
DROP POLICY IF EXISTS agencies_read ON agencies;
CREATE POLICY agencies_read ON agencies FOR SELECT TO casebridge_app USING (true);
DROP POLICY IF EXISTS agencies_admin_insert ON agencies;
CREATE POLICY agencies_admin_insert ON agencies FOR INSERT TO casebridge_app
    WITH CHECK ((SELECT cb_has_role('admin')));
DROP POLICY IF EXISTS agencies_admin_update ON agencies;
CREATE POLICY agencies_admin_update ON agencies FOR UPDATE TO casebridge_app
    USING ((SELECT cb_has_role('admin'))) WITH CHECK ((SELECT cb_has_role('admin')));

-- Users: one's own row, one's agency's rows, and every row for an admin.
-- Sign-in writes users only through cb_sign_in_user (migration 00010).
DROP POLICY IF EXISTS users_read ON users;
CREATE POLICY users_read ON users FOR SELECT TO casebridge_app
    USING (id = (SELECT cb_user_id())
        OR agency_id = (SELECT cb_agency_id())
        OR (SELECT cb_has_role('admin')));
