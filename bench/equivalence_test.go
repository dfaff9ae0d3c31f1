package bench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// refCaseAccess is cb_case_access as migration 00020 wrote it (with its
// cb_staff_ceiling and cb_share_role_ceiling), for every case at once: the
// reference the faster functions and policies of 00040 are held to.
const refCaseAccess = `
WITH p AS (
    SELECT (SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3 END)
              FROM unnest(cb_roles()) AS r) AS staff,
           (SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3
                              WHEN 'liaison' THEN 1 WHEN 'coordinator' THEN 1 WHEN 'clerk' THEN 2 END)
              FROM unnest(cb_roles()) AS r) AS via),
grants(id, level, ceiling) AS (
    SELECT c.id, 'full', p.staff FROM cases c, p
     WHERE c.owner_agency_id = cb_agency_id() AND p.staff IS NOT NULL
    UNION ALL
    SELECT s.case_id, s.level, LEAST(cb_class_rank(s.ceiling), p.via) FROM shares s, p
     WHERE s.agency_id = cb_agency_id() AND s.revoked_at IS NULL AND s.expires_at > now() AND p.via IS NOT NULL
    UNION ALL
    SELECT c.id, 'full', CASE WHEN cb_has_any_role('{officer,supervisor}') THEN 2 ELSE 1 END FROM cases c
     WHERE cb_agency_kind() = 'counter_trafficking' AND cb_has_any_role('{viewer,officer,supervisor}') AND c.possible_victim
    UNION ALL
    SELECT c.id, 'full', 1 FROM cases c WHERE cb_agency_kind() = 'interior_ministry' AND cb_has_role('coordinator')
    UNION ALL
    SELECT c.id, 'full', 2 FROM cases c
     WHERE cb_agency_kind() = 'court' AND cb_has_role('clerk') AND c.court_agency_id = cb_agency_id()
       AND c.status IN ('before_court', 'adjudicated')),
ref AS (
    SELECT id, CASE WHEN bool_or(level = 'full') THEN 'full' ELSE 'summary' END AS level,
           max(ceiling) FILTER (WHERE level = 'full') AS ceiling
      FROM grants GROUP BY id)`

// equivalence: the functions and policies that migration 00040 rewrote for
// speed decide exactly what 00020 decided, for every case, a sample of
// persons and every link of the seeded world, as principals of every kind
// and role mix (and none).
func (w *world) equivalence(t *testing.T) {
	ctx := t.Context()
	type who struct {
		agency string
		roles  []access.Role
	}
	var principals []who
	for _, code := range []string{"gdi", "ncct", "emb-cn", "moi", "pp-court", "sihanoukville-court", "police-psn"} {
		for _, roles := range [][]access.Role{
			{access.RoleViewer}, {access.RoleOfficer}, {access.RoleAdmin, access.RoleLiaison},
			{access.RoleCoordinator}, {access.RoleClerk}, {},
		} {
			principals = append(principals, who{code, roles})
		}
	}
	// A sample of persons, chosen by the owner (as the application role the
	// sample itself would be filtered).
	var sampleIDs []string
	if err := w.owner.Raw(`SELECT id::text FROM persons ORDER BY id LIMIT 1500`).Scan(&sampleIDs).Error; err != nil {
		t.Fatal(err)
	}
	personSample := strings.Join(sampleIDs, ",")
	var caseIDs []string
	if err := w.owner.Raw(`SELECT id::text FROM cases ORDER BY id LIMIT 800`).Scan(&caseIDs).Error; err != nil {
		t.Fatal(err)
	}
	caseSample := strings.Join(caseIDs, ",")
	checked := 0
	for _, pr := range principals {
		p := w.principal(t, pr.agency, pr.roles)
		name := fmt.Sprintf("%s %v", pr.agency, pr.roles)

		// cb_case_access (PL/pgSQL) against the 00020 statement, as the owner
		// with the principal's settings (the functions are SECURITY DEFINER).
		var diff int
		var sample string
		err := w.owner.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := publish(tx, p); err != nil {
				return err
			}
			row := tx.Raw(refCaseAccess + `
				SELECT count(*), COALESCE(min(c.reference), '') FROM cases c
				  LEFT JOIN ref ON ref.id = c.id
				  LEFT JOIN LATERAL cb_case_access(c.id) a ON true
				 WHERE (ref.level, ref.ceiling) IS DISTINCT FROM (a.level, a.ceiling)`).Row()
			return row.Scan(&diff, &sample)
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff > 0 {
			t.Errorf("%s: cb_case_access differs from 00020 on %d cases (e.g. %s)", name, diff, sample)
		}

		// What RLS shows the application role, against the functions.
		want := map[string][]string{}
		err = w.owner.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := publish(tx, p); err != nil {
				return err
			}
			for key, sql := range map[string]string{
				"cases": refCaseAccess + ` SELECT id::text FROM ref ORDER BY 1`,
				"links": `SELECT case_id::text || '/' || person_id::text FROM case_persons
					WHERE case_id = ANY (string_to_array(@cases, ',')::uuid[]) AND cb_case_visible(case_id)
					  AND NOT cb_person_own_state(person_id) ORDER BY 1`,
				// cb_person_full, and an embassy never sees its own nationals
				// in full (ACCESS.md, own state; persons_not_own_state).
				"persons": `SELECT id::text FROM persons WHERE id = ANY (string_to_array(@sample, ',')::uuid[]) AND cb_person_full(id)
					AND NOT (cb_agency_kind() = 'embassy' AND nationality = cb_country()) ORDER BY 1`,
				"history": `SELECT id::text FROM case_status_history WHERE id <= 3000 AND cb_case_visible(case_id) ORDER BY 1`,
			} {
				var ids []string
				if err := tx.Raw(sql, sampleArgs(sql, personSample, caseSample)...).Scan(&ids).Error; err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				want[key] = ids
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		err = store.WithTx(access.WithPrincipal(store.WithDB(ctx, w.app), p), func(ctx context.Context) error {
			for key, sql := range map[string]string{
				"cases": `SELECT id::text FROM cases ORDER BY 1`,
				"links": `SELECT case_id::text || '/' || person_id::text FROM case_persons
					WHERE case_id = ANY (string_to_array(@cases, ',')::uuid[]) ORDER BY 1`,
				"persons": `SELECT id::text FROM persons WHERE id = ANY (string_to_array(@sample, ',')::uuid[]) ORDER BY 1`,
				"history": `SELECT id::text FROM case_status_history WHERE id <= 3000 ORDER BY 1`,
			} {
				var ids []string
				if err := store.DB(ctx).Raw(sql, sampleArgs(sql, personSample, caseSample)...).Scan(&ids).Error; err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				got[key] = ids
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for key := range want {
			if strings.Join(got[key], ",") != strings.Join(want[key], ",") {
				t.Errorf("%s: RLS on %s shows %d rows, the grant functions %d", name, key, len(got[key]), len(want[key]))
			}
			checked += len(want[key])
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d visible rows compared: the world is too small to tell", checked)
	}
	t.Logf("%d principals, %d visible rows compared", len(principals), checked)

	// The two ceilings, for every set of roles.
	all := []string{"viewer", "officer", "supervisor", "admin", "liaison", "coordinator", "clerk"}
	for mask := range 1 << len(all) {
		var roles []string
		for i, r := range all {
			if mask&(1<<i) != 0 {
				roles = append(roles, r)
			}
		}
		var same bool
		err := w.owner.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`SELECT set_config('casebridge.roles', ?, true)`, strings.Join(roles, ",")).Error; err != nil {
				return err
			}
			return tx.Raw(`SELECT cb_staff_ceiling() IS NOT DISTINCT FROM
				  (SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3 END) FROM unnest(cb_roles()) r)
				AND cb_share_role_ceiling() IS NOT DISTINCT FROM
				  (SELECT max(CASE r WHEN 'viewer' THEN 2 WHEN 'officer' THEN 3 WHEN 'supervisor' THEN 3
				                     WHEN 'liaison' THEN 1 WHEN 'coordinator' THEN 1 WHEN 'clerk' THEN 2 END) FROM unnest(cb_roles()) r)`).
				Row().Scan(&same)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !same {
			t.Errorf("roles %v: the ceilings differ from 00020", roles)
		}
	}
}

// sampleArgs binds @sample and @cases for the statements that use them.
func sampleArgs(sql, persons, cases string) []any {
	named := map[string]any{}
	if strings.Contains(sql, "@sample") {
		named["sample"] = persons
	}
	if strings.Contains(sql, "@cases") {
		named["cases"] = cases
	}
	if len(named) == 0 {
		return nil
	}
	return []any{named}
}

func (w *world) principal(t *testing.T, code string, roles []access.Role) access.Principal {
	t.Helper()
	var a struct {
		ID      string
		Kind    string
		Country *string
	}
	if err := w.owner.Raw(`SELECT id::text AS id, kind, country FROM agencies WHERE code = ?`, code).Scan(&a).Error; err != nil || a.ID == "" {
		t.Fatalf("agency %s: %v", code, err)
	}
	p := access.Principal{AgencyCode: code, Kind: access.Kind(a.Kind), Roles: roles}
	if err := p.AgencyID.UnmarshalText([]byte(a.ID)); err != nil {
		t.Fatal(err)
	}
	if a.Country != nil {
		p.Country = *a.Country
	}
	return p
}

// publish sets a principal's settings in an owner transaction, as
// store.WithTx does for the application role.
func publish(tx *gorm.DB, p access.Principal) error {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	return tx.Exec(`SELECT set_config('casebridge.agency_id', ?, true), set_config('casebridge.agency_kind', ?, true),
		set_config('casebridge.country', ?, true), set_config('casebridge.roles', ?, true)`,
		p.AgencyID.String(), string(p.Kind), p.Country, strings.Join(roles, ",")).Error
}
