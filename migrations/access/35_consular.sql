-- The consular view (ACCESS.md, Consular view): what an embassy liaison sees
-- of its own nationals, and nothing more.
--
-- Conditions, all of which must hold:
--   1. nationality = the embassy's country
--   2. custody_status in detained, charged, convicted, awaiting_deportation, deported
--   3. consular_notification in requested, mandatory
--   4. trafficking_flag in none, cleared — or the victim consents to the embassy
-- The projection: identity, custody, facility (a shelter is never named: "in
-- the care of the authorities"), detention and deportation data, entry ban,
-- and charges from the cases that link the person as detainee or suspect.

-- Conditions 2–4, which say whether a person is visible to their own state
-- at all (whoever asks): the consular view and the consular notifications
-- (60_consular_notifications.sql) both decide by them.
CREATE OR REPLACE FUNCTION cb_consular_conditions(custody_status text, consular_notification text,
                                                  trafficking_flag text, victim_consents boolean) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
              AND consular_notification IN ('requested', 'mandatory')
              AND (trafficking_flag IN ('none', 'cleared') OR victim_consents) $$;

-- Conditions 1–4 for the principal.
CREATE OR REPLACE FUNCTION cb_consular_match(nationality text, custody_status text, consular_notification text,
                                             trafficking_flag text, victim_consents boolean) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT cb_agency_kind() = 'embassy' AND cb_has_role('liaison')
              AND nationality = cb_country()
              AND cb_consular_conditions(custody_status, consular_notification, trafficking_flag, victim_consents) $$;

-- Whether the principal sees person p in the consular projection.
CREATE OR REPLACE FUNCTION cb_person_consular(p_person uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ BEGIN RETURN COALESCE((SELECT cb_consular_match(p.nationality, p.custody_status, p.consular_notification,
                                                          p.trafficking_flag, p.victim_consents_to_embassy)
                                   FROM persons p WHERE p.id = p_person), false); END $$;

-- The facility as the person's own state may see it: a shelter (where
-- possible or identified victims are protected) is never named.
CREATE OR REPLACE FUNCTION cb_consular_facility(p_facility text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT CASE WHEN EXISTS (SELECT 1 FROM facilities f WHERE f.name = p_facility AND f.kind = 'shelter')
                      THEN 'in the care of the authorities' ELSE p_facility END $$;

-- The charges an embassy may read about a person in its consular view: for
-- each case that links the person as detainee or suspect (never as victim,
-- witness or other) its kind, legal basis, status, court name and hearing
-- date, and nothing else. Empty for anyone who does not see the person in
-- the consular view.
CREATE OR REPLACE FUNCTION cb_consular_charges(p_person uuid)
    RETURNS TABLE (case_kind text, legal_basis text, status text, court_name text, hearing_date date)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 2
    AS $$ BEGIN RETURN QUERY SELECT c.kind, c.legal_basis, c.status, ct.name, c.hearing_date
            FROM case_persons cp
            JOIN cases c ON c.id = cp.case_id
            LEFT JOIN agencies ct ON ct.id = c.court_agency_id
           WHERE cp.person_id = p_person AND cp.role IN ('detainee', 'suspect')
             AND cb_person_consular(p_person)
           ORDER BY c.hearing_date NULLS LAST, c.created_at, c.id; END $$;

GRANT EXECUTE ON FUNCTION cb_consular_conditions(text, text, text, boolean),
    cb_consular_match(text, text, text, text, boolean), cb_person_consular(uuid),
    cb_consular_facility(text), cb_consular_charges(uuid) TO casebridge_app;
REVOKE ALL ON FUNCTION cb_consular_charges(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cb_consular_charges(uuid) TO casebridge_app;

-- The embassy's nationals, with exactly the columns of the consular
-- projection. It runs with its owner's rights (RLS does not apply to the
-- owner), so this WHERE clause — the same conditions as cb_consular_match
-- and cb_consular_conditions, written inline so that the list uses
-- persons_consular_idx — is the only filter. Change them together.
--
-- Not a security_barrier view: with the barrier every page sorted all of a
-- country's nationals (650–950 ms at 1M persons); without it, 5.6 ms. This
-- is safe only because the application role cannot create functions (a
-- test proves it) and the server's queries on the view are fixed SQL with
-- bound parameters. Whoever changes those queries must keep it so.
CREATE OR REPLACE VIEW consular_nationals AS
    SELECT id, family_name, given_names, sex, date_of_birth, nationality, passport_number,
           custody_status, cb_consular_facility(facility) AS facility, detained_at, deported_at, deported_via,
           entry_ban_until
      FROM persons
     WHERE nationality = (SELECT cb_country())
       AND (SELECT cb_consular_viewer())
       AND custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
       AND consular_notification IN ('requested', 'mandatory')
       AND (trafficking_flag IN ('none', 'cleared') OR victim_consents_to_embassy);
ALTER VIEW consular_nationals SET (security_barrier = false);
GRANT SELECT ON consular_nationals TO casebridge_app;
