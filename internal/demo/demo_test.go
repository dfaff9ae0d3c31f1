package demo

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/configs"
	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The demo world's size, as the package comment and the seeds describe it.
var wantCounts = Counts{Agencies: 10, Cases: 17, Persons: 672, Links: 670, Shares: 5}

func TestLoadOnceThenAlreadyLoaded(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	first, err := Load(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Loaded || first.Counts != wantCounts {
		t.Fatalf("first load: %+v, want loaded with %+v", first, wantCounts)
	}
	second, err := Load(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	if second.Loaded || second.Skipped != "" || second.Counts != wantCounts {
		t.Fatalf("second load: %+v, want already loaded with %+v", second, wantCounts)
	}
	// Nothing doubled anywhere, not only among the demo's own rows.
	owner := ownerConn(t, db.OwnerURL)
	var persons, cases, links, shares, history int
	if err := owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM cases),
		(SELECT count(*) FROM case_persons), (SELECT count(*) FROM shares), (SELECT count(*) FROM case_status_history)`).
		Scan(&persons, &cases, &links, &shares, &history); err != nil {
		t.Fatal(err)
	}
	if persons != wantCounts.Persons || cases != wantCounts.Cases || links != wantCounts.Links || shares != wantCounts.Shares {
		t.Fatalf("database holds %d persons, %d cases, %d links, %d shares", persons, cases, links, shares)
	}
	w := Build(time.Now())
	wantHistory := 0
	for _, c := range w.Cases {
		wantHistory += len(c.History)
	}
	if history != wantHistory {
		t.Fatalf("status history: %d rows, want %d", history, wantHistory)
	}
	// The next case GDI opens continues the numbering.
	var last int64
	if err := owner.QueryRow(ctx, `SELECT last FROM case_reference_counters r JOIN agencies a ON a.id = r.agency_id
		WHERE a.code = 'gdi' AND r.year = 2026`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last != 5 {
		t.Fatalf("gdi 2026 counter = %d, want 5", last)
	}
}

func TestLoadLeavesADatabaseInUseAlone(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	owner := ownerConn(t, db.OwnerURL)
	if _, err := owner.Exec(ctx, `INSERT INTO agencies (code, name, kind) VALUES ('x-police', 'X', 'immigration_police');
		INSERT INTO cases (reference, owner_agency_id, title, kind)
		SELECT 'X-1', id, 'Someone else''s case', 'illegal_entry' FROM agencies WHERE code = 'x-police'`); err != nil {
		t.Fatal(err)
	}
	res, err := Load(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Loaded || res.Skipped == "" {
		t.Fatalf("load into a database with cases: %+v, want skipped", res)
	}
	var n int
	if err := owner.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&n); err != nil || n != 1 {
		t.Fatalf("cases after a skipped load: %d (%v), want 1", n, err)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	a, b := Build(now), Build(now)
	if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
		t.Fatal("two builds differ")
	}
	if a.Persons[0].ID != b.Persons[0].ID || a.Persons[0].Family == "" {
		t.Fatalf("first person: %+v", a.Persons[0])
	}
}

// The figures of the seeds, read back from the database.
func TestSeedFigures(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	if _, err := Load(ctx, db.OwnerURL); err != nil {
		t.Fatal(err)
	}
	owner := ownerConn(t, db.OwnerURL)
	q := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := owner.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
		return n
	}
	of := func(ref, cond string) int {
		t.Helper()
		return q(`SELECT count(*) FROM persons p JOIN case_persons cp ON cp.person_id = p.id
			JOIN cases c ON c.id = cp.case_id WHERE c.reference = $1 AND (`+cond+`)`, ref)
	}
	checks := []struct {
		what      string
		got, want int
	}{
		// Tuol Kork raid: 222 Chinese and 3 Vietnamese, three valid passports,
		// held at the detention centre, before the Phnom Penh court under Art. 29.
		{"Tuol Kork: persons", of(RefTuolKork, "true"), 225},
		{"Tuol Kork: Chinese", of(RefTuolKork, "p.nationality = 'CN'"), 222},
		{"Tuol Kork: Vietnamese", of(RefTuolKork, "p.nationality = 'VN'"), 3},
		{"Tuol Kork: valid passports", of(RefTuolKork, "p.passport_status = 'valid'"), 3},
		{"Tuol Kork: detained at the centre", of(RefTuolKork, "p.custody_status = 'detained' AND p.facility = '"+facilityPochentong+"'"), 225},
		{"Tuol Kork: before pp-court under Art. 29 with a hearing", q(`SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.court_agency_id
			WHERE c.reference = $1 AND c.status = 'before_court' AND a.code = 'pp-court' AND c.hearing_date IS NOT NULL
			AND c.legal_basis = 'Immigration Law Art. 29' AND c.kind = 'illegal_entry' AND c.possible_victim`, RefTuolKork), 1},
		{"Tuol Kork: flagged persons all cleared by NCCT", of(RefTuolKork, "p.trafficking_flag IN ('suspected', 'identified') AND NOT p.ct_proceedings_cleared"), 0},
		{"Tuol Kork: flagged person", of(RefTuolKork, "p.trafficking_flag IN ('suspected', 'identified')"), 1},
		// November deportations.
		{"deportations: persons", of(RefDeportations, "true"), 130},
		{"deportations: Chinese via the airport on 7 November", of(RefDeportations,
			"p.nationality = 'CN' AND p.deported_via = 'Phnom Penh International Airport' AND p.deported_at::date = '2026-11-07'"), 110},
		{"deportations: Vietnamese via Trapaing Phlong on 8 November", of(RefDeportations,
			"p.nationality = 'VN' AND p.deported_via = 'Trapaing Phlong International Border Checkpoint' AND p.deported_at::date = '2026-11-08'"), 20},
		{"deportations: women", of(RefDeportations, "p.sex = 'female'"), 3},
		{"deportations: three-year bans", of(RefDeportations,
			"p.custody_status = 'deported' AND p.entry_ban_until = (p.deported_at AT TIME ZONE 'UTC')::date + interval '3 years'"), 130},
		// Preah Sihanouk inspections, a one-in-ten sample.
		{"inspections: cases", q(`SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.owner_agency_id
			WHERE a.code = 'ncct' AND c.operation_date BETWEEN '2026-08-18' AND '2026-10-04'`), 10},
		{"inspections: persons", q(`SELECT count(*) FROM case_persons cp JOIN cases c ON c.id = cp.case_id WHERE c.reference LIKE 'NCCT-%'`), 276},
		{"inspections: without valid passports", q(`SELECT count(*) FROM persons p JOIN case_persons cp ON cp.person_id = p.id
			JOIN cases c ON c.id = cp.case_id WHERE c.reference LIKE 'NCCT-%' AND p.passport_status <> 'valid'`), 81},
		{"inspections: passport but no work permit", q(`SELECT count(*) FROM persons p JOIN case_persons cp ON cp.person_id = p.id
			JOIN cases c ON c.id = cp.case_id WHERE c.reference LIKE 'NCCT-%' AND p.passport_status = 'valid' AND p.work_permit_status <> 'valid'`), 151},
		{"inspections: deported", q(`SELECT count(*) FROM persons p JOIN case_persons cp ON cp.person_id = p.id
			JOIN cases c ON c.id = cp.case_id WHERE c.reference LIKE 'NCCT-%' AND p.custody_status = 'deported'`), 68},
		{"inspections: awaiting deportation at NCCT", q(`SELECT count(*) FROM persons p JOIN case_persons cp ON cp.person_id = p.id
			JOIN cases c ON c.id = cp.case_id WHERE c.reference LIKE 'NCCT-%' AND p.custody_status = 'awaiting_deportation'
			AND p.facility = '` + facilityNCCT + `'`), 92},
		// Victims, consent, asylum, embassies' nationals, notifications.
		{"victims without consent", q(`SELECT count(*) FROM persons WHERE trafficking_flag IN ('suspected', 'identified') AND NOT victim_consents_to_embassy`), -1},
		{"victims with consent", q(`SELECT count(*) FROM persons WHERE trafficking_flag IN ('suspected', 'identified') AND victim_consents_to_embassy`), -1},
		{"identified victims", q(`SELECT count(*) FROM persons WHERE trafficking_flag = 'identified'`), -1},
		{"asylum claims", q(`SELECT count(*) FROM persons WHERE asylum_claimed`), 2},
		{"US nationals in custody", q(`SELECT count(*) FROM persons WHERE nationality = 'US' AND custody_status IN ('detained', 'awaiting_deportation')`), 5},
		{"Australian nationals in custody", q(`SELECT count(*) FROM persons WHERE nationality = 'AU' AND custody_status IN ('detained', 'awaiting_deportation')`), 4},
		{"notifications declined", q(`SELECT count(*) FROM persons WHERE consular_notification = 'declined'`), -1},
		{"no flagged person deported without NCCT's decision", q(`SELECT count(*) FROM persons WHERE custody_status = 'deported'
			AND trafficking_flag IN ('suspected', 'identified') AND NOT ct_proceedings_cleared`), 0},
		{"no case before a court with an uncleared victim", q(`SELECT count(*) FROM cases c JOIN case_persons cp ON cp.case_id = c.id
			JOIN persons p ON p.id = cp.person_id WHERE c.status IN ('before_court', 'adjudicated')
			AND p.trafficking_flag IN ('suspected', 'identified') AND NOT p.ct_proceedings_cleared`), 0},
		// Statuses and shares.
		{"adjudicated cases", q(`SELECT count(*) FROM cases WHERE status = 'adjudicated'`), 1},
		{"closed cases", q(`SELECT count(*) FROM cases WHERE status = 'closed'`), 8},
		{"cases before the Sihanoukville court", q(`SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.court_agency_id
			WHERE a.code = 'sihanoukville-court' AND c.status = 'before_court'`), 1},
		{"active gdi→ncct full confidential share", q(`SELECT count(*) FROM shares s JOIN agencies a ON a.id = s.agency_id
			JOIN cases c ON c.id = s.case_id JOIN agencies o ON o.id = c.owner_agency_id
			WHERE o.code = 'gdi' AND a.code = 'ncct' AND s.level = 'full' AND s.ceiling = 'confidential'
			AND s.revoked_at IS NULL AND s.expires_at > now()`), 1},
		{"active gdi→emb-cn summary restricted share", q(`SELECT count(*) FROM shares s JOIN agencies a ON a.id = s.agency_id
			WHERE a.code = 'emb-cn' AND s.level = 'summary' AND s.ceiling = 'restricted' AND s.revoked_at IS NULL AND s.expires_at > now()`), 1},
		{"expired shares", q(`SELECT count(*) FROM shares WHERE expires_at <= now() AND revoked_at IS NULL`), 1},
		{"revoked shares", q(`SELECT count(*) FROM shares WHERE revoked_at IS NOT NULL`), 1},
		{"persons in no case", q(`SELECT count(*) FROM persons WHERE linked_cases = 0`), 2},
	}
	for _, c := range checks {
		if c.want < 0 {
			if c.got == 0 {
				t.Errorf("%s: none, want some", c.what)
			}
			continue
		}
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
}

// For every demo account, what the database shows it — cases, persons in
// full, case–person links and the consular view — is exactly what the rules
// of spec/ACCESS.md give it, computed here in Go from the demo world. This
// runs at the database level (store.WithTx as casebridge_app with the
// account's principal), below the HTTP API.
func TestEachDemoAccountSeesWhatAccessSays(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ctx := t.Context()
	if _, err := Load(ctx, db.OwnerURL); err != nil {
		t.Fatal(err)
	}
	w := Build(time.Now())
	app := testenv.Open(t, db.AppURL)
	owner := ownerConn(t, db.OwnerURL)
	agencyIDs := map[string]uuid.UUID{}
	for _, a := range w.Agencies {
		var id uuid.UUID
		if err := owner.QueryRow(ctx, "SELECT id FROM agencies WHERE code = $1", a.Code).Scan(&id); err != nil {
			t.Fatal(err)
		}
		agencyIDs[a.Code] = id
	}

	accounts := demoAccounts(t)
	if len(accounts) < 11 {
		t.Fatalf("only %d demo accounts", len(accounts))
	}
	for _, acc := range accounts {
		t.Run(acc.Username, func(t *testing.T) {
			ag := agencyOf(w, acc.Agency)
			roles, _ := access.FilterRoles(access.Kind(ag.Kind), acc.Roles)
			p := access.Principal{UserID: uuid.New(), Subject: acc.Username, AgencyID: agencyIDs[ag.Code],
				AgencyCode: ag.Code, AgencyName: ag.Name, Kind: access.Kind(ag.Kind), Country: ag.Country, Roles: roles}
			want := expected(w, ag, roles)
			got := observed(t, store.WithDB(ctx, app), p, w)
			if ag.Kind == "embassy" {
				shelterNames(t, store.WithDB(ctx, app), p, w)
			}
			for _, part := range []struct {
				name      string
				got, want []string
			}{
				{"cases", got.cases, want.cases},
				{"persons in full", got.persons, want.persons},
				{"case–person links", got.links, want.links},
				{"consular view", got.consular, want.consular},
			} {
				if !slices.Equal(part.got, part.want) {
					t.Errorf("%s: sees %d, ACCESS.md gives %d\n  extra: %v\n  missing: %v", part.name,
						len(part.got), len(part.want), head(minus(part.got, part.want)), head(minus(part.want, part.got)))
				}
			}
			spotChecks(t, acc.Username, w, got)
		})
	}
}

// spotChecks states the headline of ACCESS.md for some accounts in words,
// so that a wrong oracle above cannot hide a wrong world.
func spotChecks(t *testing.T, account string, w *World, got seen) {
	t.Helper()
	byID := map[string]Person{}
	for _, p := range w.Persons {
		byID[p.ID.String()] = p
	}
	switch account {
	case "emb-cn-liaison":
		if len(got.consular) < 200 {
			t.Errorf("emb-cn sees %d nationals, want the detained Chinese (200+)", len(got.consular))
		}
		for _, id := range got.consular {
			p := byID[id]
			if p.Nationality != "CN" {
				t.Errorf("emb-cn sees a %s national", p.Nationality)
			}
			if (p.Flag == "suspected" || p.Flag == "identified") && !p.Consents {
				t.Errorf("emb-cn sees a flagged person without consent")
			}
			if p.Notification == "declined" {
				t.Errorf("emb-cn sees a person who declined notification")
			}
		}
		if !slices.Equal(got.cases, []string{RefTuolKork}) {
			t.Errorf("emb-cn cases: %v, want only the one shared with it", got.cases)
		}
	case "ncct-officer":
		for _, ref := range []string{RefTuolKork, RefScamCompound, RefReam} {
			if !slices.Contains(got.cases, ref) {
				t.Errorf("ncct does not see %s, which links a possible victim", ref)
			}
		}
		if slices.Contains(got.cases, RefDeportations) || slices.Contains(got.cases, RefForgery) {
			t.Errorf("ncct sees a GDI case without victims: %v", got.cases)
		}
	case "court-clerk":
		if !slices.Equal(got.cases, []string{RefForgery, RefTuolKork}) {
			t.Errorf("court clerk sees %v, want the adjudicated and the before-court case of pp-court", got.cases)
		}
	case "admin":
		if len(got.cases)+len(got.persons)+len(got.consular) != 0 {
			t.Errorf("admin sees case content: %d cases, %d persons", len(got.cases), len(got.persons))
		}
	case "gdi-officer":
		if slices.Contains(got.cases, RefReam) {
			t.Errorf("gdi sees the provincial police's case")
		}
		if !slices.Contains(got.cases, RefInspection(4)) || slices.Contains(got.cases, RefInspection(5)) {
			t.Errorf("gdi should see exactly the inspection NCCT shared with it: %v", got.cases)
		}
	case "emb-vn-liaison":
		if len(got.cases) != 0 {
			t.Errorf("emb-vn sees %v through an expired share", got.cases)
		}
	case "emb-au-liaison":
		if len(got.cases) != 0 {
			t.Errorf("emb-au sees %v through a revoked share", got.cases)
		}
		if len(got.consular) != 1 {
			t.Errorf("emb-au sees %d nationals, want the one victim who consents (the others: no consent, declined)", len(got.consular))
		}
	case "emb-us-liaison":
		if len(got.consular) != 4 {
			t.Errorf("emb-us sees %d nationals, want 4 of 5 (one victim without consent)", len(got.consular))
		}
	case "moi-coordinator":
		if len(got.cases) != len(w.Cases) || len(got.persons) != len(w.Persons) {
			t.Errorf("coordinator sees %d cases and %d persons, want all", len(got.cases), len(got.persons))
		}
	}
}

type seen struct {
	cases, persons, links, consular []string
}

// expected applies ACCESS.md to the demo world.
func expected(w *World, ag Agency, roles []access.Role) seen {
	has := func(rs ...access.Role) bool {
		for _, r := range rs {
			if slices.Contains(roles, r) {
				return true
			}
		}
		return false
	}
	staff := has(access.RoleViewer, access.RoleOfficer, access.RoleSupervisor)
	nonAdmin := slices.ContainsFunc(roles, func(r access.Role) bool { return r != access.RoleAdmin })
	var s seen
	visibleCase := map[int]bool{}
	fullCase := map[int]bool{}
	for i, c := range w.Cases {
		g, summaryOnly := false, true
		if c.Owner == ag.Code && staff { // G1
			g, summaryOnly = true, false
		}
		for _, sh := range w.Shares { // G2
			if sh.Case == i && sh.Agency == ag.Code && sh.Describe == "active" && nonAdmin {
				g = true
				summaryOnly = summaryOnly && sh.Level == "summary"
			}
		}
		victim := false
		for _, l := range c.Links {
			if f := w.Persons[l.Person].Flag; f == "suspected" || f == "identified" {
				victim = true
			}
		}
		if ag.Kind == "counter_trafficking" && staff && victim { // G3
			g, summaryOnly = true, false
		}
		if ag.Kind == "interior_ministry" && has(access.RoleCoordinator) { // G4
			g, summaryOnly = true, false
		}
		if ag.Kind == "court" && has(access.RoleClerk) && c.Court == ag.Code &&
			(c.Status == "before_court" || c.Status == "adjudicated") { // G5
			g, summaryOnly = true, false
		}
		if g {
			visibleCase[i] = true
			fullCase[i] = !summaryOnly
			s.cases = append(s.cases, c.Reference)
			for _, l := range c.Links {
				// An embassy's own nationals are left out of a shared case's
				// person list (and so of every count over it).
				if p := w.Persons[l.Person]; ag.Kind == "embassy" && p.Nationality == ag.Country {
					continue
				}
				s.links = append(s.links, c.Reference+"/"+w.Persons[l.Person].ID.String())
			}
		}
	}
	linked := map[int]bool{}
	full := map[int]bool{}
	for i, c := range w.Cases {
		for _, l := range c.Links {
			linked[l.Person] = true
			if fullCase[i] {
				full[l.Person] = true
			}
		}
	}
	custody := []string{"detained", "charged", "convicted", "awaiting_deportation", "deported"}
	for i, p := range w.Persons {
		// An embassy never sees its own nationals in full, shares or not
		// (ACCESS.md, Own state).
		ownState := ag.Kind == "embassy" && p.Nationality == ag.Country
		if (full[i] || (!linked[i] && p.CreatedBy == ag.Code && staff) ||
			(ag.Kind == "interior_ministry" && has(access.RoleCoordinator))) && !ownState {
			s.persons = append(s.persons, p.ID.String())
		}
		if ag.Kind == "embassy" && has(access.RoleLiaison) && p.Nationality == ag.Country &&
			slices.Contains(custody, p.Custody) && p.Notification != "declined" &&
			(p.Flag == "none" || p.Flag == "cleared" || p.Consents) { // condition 4: a cleared screening ended
			s.consular = append(s.consular, p.ID.String())
		}
	}
	sortAll(&s)
	return s
}

// shelterNames checks that an embassy's nationals at a shelter are shown
// "in the care of the authorities", never at the shelter by name (the demo
// has consenting victims there whom their embassy sees).
func shelterNames(t *testing.T, ctx context.Context, p access.Principal, w *World) {
	t.Helper()
	atShelter := map[string]bool{}
	for _, x := range w.Persons {
		if Facilities[x.Facility] == "shelter" {
			atShelter[x.ID.String()] = true
		}
	}
	var rows []struct{ ID, Facility string }
	err := store.WithTx(access.WithPrincipal(ctx, p), func(ctx context.Context) error {
		return store.DB(ctx).Raw("SELECT id::text AS id, facility FROM consular_nationals").Scan(&rows).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range rows {
		if strings.Contains(strings.ToLower(r.Facility), "shelter") {
			t.Errorf("%s sees a national at %q", p.Subject, r.Facility)
		}
		if atShelter[r.ID] {
			seen++
			if r.Facility != "in the care of the authorities" {
				t.Errorf("%s sees a national at the shelter as %q", p.Subject, r.Facility)
			}
		}
	}
	if p.Country == "CN" && seen == 0 {
		t.Errorf("emb-cn sees none of its nationals at the shelter: the demo should have a consenting one")
	}
}

// observed reads what the database shows principal p.
func observed(t *testing.T, ctx context.Context, p access.Principal, w *World) seen {
	t.Helper()
	var s seen
	refOf := map[string]string{}
	for _, c := range w.Cases {
		refOf[c.ID.String()] = c.Reference
	}
	err := store.WithTx(access.WithPrincipal(ctx, p), func(ctx context.Context) error {
		db := store.DB(ctx)
		if err := db.Raw("SELECT reference FROM cases").Scan(&s.cases).Error; err != nil {
			return err
		}
		if err := db.Raw("SELECT id::text FROM persons").Scan(&s.persons).Error; err != nil {
			return err
		}
		var links []struct{ CaseID, PersonID string }
		if err := db.Raw("SELECT case_id::text AS case_id, person_id::text AS person_id FROM case_persons").Scan(&links).Error; err != nil {
			return err
		}
		for _, l := range links {
			s.links = append(s.links, refOf[l.CaseID]+"/"+l.PersonID)
		}
		return db.Raw("SELECT id::text FROM consular_nationals").Scan(&s.consular).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	sortAll(&s)
	return s
}

func sortAll(s *seen) {
	for _, l := range []*[]string{&s.cases, &s.persons, &s.links, &s.consular} {
		sort.Strings(*l)
		if *l == nil {
			*l = []string{}
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 5)] }

type account struct {
	Username string   `yaml:"username"`
	Agency   string   `yaml:"agency"`
	Roles    []string `yaml:"roles"`
}

func demoAccounts(t *testing.T) []account {
	t.Helper()
	var dir struct {
		Accounts []account `yaml:"accounts"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(configs.DemoAccounts)).Decode(&dir); err != nil {
		t.Fatal(err)
	}
	return dir.Accounts
}

func agencyOf(w *World, code string) Agency {
	for _, a := range w.Agencies {
		if a.Code == code {
			return a
		}
	}
	panic("no agency " + code)
}

func ownerConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
