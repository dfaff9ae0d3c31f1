-- A person's own state sees them only through the consular view.
--
-- ACCESS.md gives the full person record to anyone with a grant on a linking
-- case, and an embassy can hold a grant through a share (G2). Read literally,
-- a share to the embassy of country K would then show K's nationals in full:
-- trafficking flag, screening notes, asylum claim. That contradicts two rules
-- stated as absolute (MISSION.md, victim safeguards; ACCESS.md, consular
-- view): a possible victim's own state learns of them only with their consent,
-- and an asylum claim is never disclosed to the person's own state. Where the
-- rules conflict we take the one that protects the person: an embassy sees its
-- own nationals only in the consular projection (conditions 1–4 still apply),
-- whatever shares it holds. Nationals of other countries in a shared case are
-- unaffected. Recorded in docs/access-decisions.md.
--
-- Written as a RESTRICTIVE policy (ANDed with every permissive one) and a
-- wrapper around the projection function, so it holds whatever the
-- permissive rules become. The consular_nationals view runs as its owner and
-- is not filtered by it.

-- +goose Up
CREATE POLICY persons_not_own_state ON persons AS RESTRICTIVE FOR SELECT TO casebridge_app
    USING (NOT ((SELECT cb_agency_kind()) = 'embassy' AND nationality = (SELECT cb_country())));

-- +goose StatementBegin
CREATE FUNCTION cb_person_own_state(p_person uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT cb_agency_kind() = 'embassy' AND EXISTS (
              SELECT 1 FROM persons WHERE id = p_person AND nationality = cb_country()) $$;

ALTER FUNCTION cb_person_access(uuid) RENAME TO cb_person_access_by_grant;

CREATE FUNCTION cb_person_access(p_person uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN cb_person_own_state(p_person)
                      THEN CASE WHEN cb_person_consular(p_person) THEN 'consular' END
                      ELSE cb_person_access_by_grant(p_person) END $$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION cb_person_own_state(uuid), cb_person_access(uuid) TO casebridge_app;

-- +goose Down
DROP FUNCTION cb_person_access(uuid);
ALTER FUNCTION cb_person_access_by_grant(uuid) RENAME TO cb_person_access;
DROP FUNCTION cb_person_own_state(uuid);
DROP POLICY persons_not_own_state ON persons;
