// Package demo is the demo world of `casebridge dev`, modelled on the two
// news reports in the product brief's seeds, with invented names: the Tuol
// Kork raid (225 detained: 222 Chinese, 3 Vietnamese, three valid
// passports), the November deportations (130: 110 Chinese, 20 Vietnamese,
// three women; via Phnom Penh International Airport and the Trapaing Phlong
// checkpoint; three-year entry bans), the Preah Sihanouk inspections (a
// one-in-ten sample of the 2,760 foreigners at ten locations), an online-scam
// compound with possible and identified trafficking victims, cases before and
// decided by the court, and shares between agencies (active, expired,
// revoked). The agencies are those of configs/demo-accounts.yaml plus a
// second court and a provincial police office.
//
// Build makes the world in memory, the same every time (a seeded
// generator); Load writes it once into a migrated database, as the owner
// role, in one transaction.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/configs"
)

// extraAgencies are demo agencies without demo accounts: a second court and
// a provincial police office, so that "another agency" exists.
var extraAgencies = []Agency{
	{Code: "sihanoukville-court", Name: "Preah Sihanouk Provincial Court of First Instance", Kind: "court"},
	{Code: "police-psn", Name: "Preah Sihanouk Provincial Police, Immigration Office", Kind: "immigration_police"},
}

// agencies returns the agencies of configs/demo-accounts.yaml and the extra
// ones.
func agencies() []Agency {
	var dir struct {
		Agencies []struct {
			Code    string `yaml:"code"`
			Name    string `yaml:"name"`
			Kind    string `yaml:"kind"`
			Country string `yaml:"country"`
		} `yaml:"agencies"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(configs.DemoAccounts)).Decode(&dir); err != nil {
		// The file is embedded and checked by the devidp tests.
		panic(fmt.Sprintf("demo: parse configs/demo-accounts.yaml: %v", err))
	}
	var out []Agency
	for _, a := range dir.Agencies {
		out = append(out, Agency{Code: a.Code, Name: a.Name, Kind: a.Kind, Country: a.Country})
	}
	out = append(out, extraAgencies...)
	for i := range out {
		out[i].NameKm = khmerNames[out[i].Code]
	}
	return out
}

// khmerNames are the demo agencies' names in Khmer (agencies.name_km),
// shown when the web app is in Khmer.
var khmerNames = map[string]string{
	"gdi":                 "អគ្គនាយកដ្ឋានអន្តោប្រវេសន៍",
	"ncct":                "គណៈកម្មាធិការជាតិប្រយុទ្ធប្រឆាំងការជួញដូរមនុស្ស",
	"emb-cn":              "ស្ថានទូតសាធារណរដ្ឋប្រជាមានិតចិន",
	"emb-vn":              "ស្ថានទូតសាធារណរដ្ឋសង្គមនិយមវៀតណាម",
	"emb-us":              "ស្ថានទូតសហរដ្ឋអាមេរិក",
	"emb-au":              "ស្ថានទូតអូស្ត្រាលី",
	"moi":                 "ក្រសួងមហាផ្ទៃ",
	"pp-court":            "សាលាដំបូងរាជធានីភ្នំពេញ",
	"sihanoukville-court": "សាលាដំបូងខេត្តព្រះសីហនុ",
	"police-psn":          "ស្នងការដ្ឋាននគរបាលខេត្តព្រះសីហនុ ការិយាល័យអន្តោប្រវេសន៍",
}

// Counts says what the demo world holds in the database.
type Counts struct {
	Agencies, Cases, Persons, Links, Shares int
}

// Result is what Load did.
type Result struct {
	// Loaded is true when this call wrote the world; false when it was
	// there already (or the database holds other cases: see Skipped).
	Loaded bool
	// Skipped explains why nothing was written, if so.
	Skipped string
	Counts  Counts
}

// String is the line `casebridge dev` prints.
func (r Result) String() string {
	c := r.Counts
	what := fmt.Sprintf("%d agencies, %d cases, %d persons, %d case–person links, %d shares",
		c.Agencies, c.Cases, c.Persons, c.Links, c.Shares)
	switch {
	case r.Loaded:
		return "demo data loaded: " + what
	case r.Skipped != "":
		return "demo data not loaded (" + r.Skipped + "); the database holds " + what
	default:
		return "demo data already loaded: " + what
	}
}

// marker is how Load knows the world is there: the Tuol Kork raid case.
const markerOperation = "Operation Tuol Kork"

// Load writes the demo world into the migrated database at ownerURL (the
// owner role, which Row-Level Security does not filter and the persons
// guard does not check) in one transaction, unless it is there already. A
// database that already holds other cases is left alone. The derived
// columns (persons.linked_cases, cases.possible_victim) are kept by the
// database's triggers as the links go in.
func Load(ctx context.Context, ownerURL string) (Result, error) {
	return load(ctx, ownerURL, time.Now())
}

func load(ctx context.Context, ownerURL string, now time.Time) (Result, error) {
	var res Result
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return res, fmt.Errorf("demo: connect: %w", err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("demo: begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	// Two `dev` processes starting at once load it once.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('casebridge demo load'))"); err != nil {
		return res, fmt.Errorf("demo: lock: %w", err)
	}
	var loaded, anyCase bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases WHERE reference = $1 AND operation_name = $2),
		EXISTS (SELECT 1 FROM cases)`, RefTuolKork, markerOperation).Scan(&loaded, &anyCase); err != nil {
		return res, fmt.Errorf("demo: check marker: %w", err)
	}
	w := Build(now)
	switch {
	case loaded:
	case anyCase:
		res.Skipped = "the database already holds cases"
	default:
		if err := write(ctx, tx, w); err != nil {
			return res, err
		}
		res.Loaded = true
	}
	if res.Counts, err = count(ctx, tx, w); err != nil {
		return res, err
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("demo: commit: %w", err)
	}
	return res, nil
}

// count counts the demo's rows in the database (by the demo's agencies,
// cases and persons).
func count(ctx context.Context, tx pgx.Tx, w *World) (Counts, error) {
	var c Counts
	codes := make([]string, len(w.Agencies))
	for i, a := range w.Agencies {
		codes[i] = a.Code
	}
	refs := make([]string, len(w.Cases))
	for i, k := range w.Cases {
		refs[i] = k.Reference
	}
	err := tx.QueryRow(ctx, `WITH c AS (SELECT id FROM cases WHERE reference = ANY ($2))
		SELECT (SELECT count(*) FROM agencies WHERE code = ANY ($1)),
		       (SELECT count(*) FROM c),
		       (SELECT count(DISTINCT cp.person_id) FROM case_persons cp JOIN c ON c.id = cp.case_id)
		         + (SELECT count(*) FROM persons p JOIN agencies a ON a.id = p.created_by_agency_id
		             WHERE a.code = ANY ($1) AND p.linked_cases = 0),
		       (SELECT count(*) FROM case_persons cp JOIN c ON c.id = cp.case_id),
		       (SELECT count(*) FROM shares s JOIN c ON c.id = s.case_id)`, codes, refs).
		Scan(&c.Agencies, &c.Cases, &c.Persons, &c.Links, &c.Shares)
	if err != nil {
		return c, fmt.Errorf("demo: count: %w", err)
	}
	return c, nil
}

func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func write(ctx context.Context, tx pgx.Tx, w *World) error {
	ids := map[string]any{}
	for _, a := range w.Agencies {
		var id [16]byte
		var kind string
		// An existing agency keeps its names, except that a Khmer name
		// nobody entered yet is filled in.
		err := tx.QueryRow(ctx, `INSERT INTO agencies (code, name, name_km, kind, country) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (code) DO UPDATE SET name_km = CASE WHEN agencies.name_km = '' THEN EXCLUDED.name_km
			                                                ELSE agencies.name_km END
			RETURNING id, kind`,
			a.Code, a.Name, a.NameKm, a.Kind, nullable(a.Country)).Scan(&id, &kind)
		if err != nil {
			return fmt.Errorf("demo: agency %s: %w", a.Code, err)
		}
		if kind != a.Kind {
			return fmt.Errorf("demo: agency %s exists with kind %s, not %s", a.Code, kind, a.Kind)
		}
		ids[a.Code] = id
	}

	for name, kind := range Facilities {
		if _, err := tx.Exec(ctx, `INSERT INTO facilities (name, kind) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			name, kind); err != nil {
			return fmt.Errorf("demo: facility %s: %w", name, err)
		}
	}

	persons := make([][]any, len(w.Persons))
	for i, p := range w.Persons {
		persons[i] = []any{p.ID, p.Family, p.Given, p.FamilyNative, p.GivenNative, p.Sex, p.DateOfBirth,
			p.Nationality, p.PassportNumber, p.PassportStatus, p.PassportExpires, p.PermitNumber, p.PermitStatus,
			p.Address, p.Custody, p.Facility, p.DetainedAt, p.DeportedAt, p.DeportedVia, p.EntryBanUntil,
			p.Flag, p.ScreeningNotes, p.Consents, p.Cleared, p.Asylum, p.Notification,
			ids[p.CreatedBy], p.CreatedAt, p.CreatedAt}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"persons"}, []string{"id", "family_name", "given_names",
		"family_name_native", "given_names_native", "sex", "date_of_birth", "nationality", "passport_number",
		"passport_status", "passport_expires_on", "work_permit_number", "work_permit_status", "address",
		"custody_status", "facility", "detained_at", "deported_at", "deported_via", "entry_ban_until",
		"trafficking_flag", "screening_notes", "victim_consents_to_embassy", "ct_proceedings_cleared",
		"asylum_claimed", "consular_notification", "created_by_agency_id", "created_at", "updated_at"},
		pgx.CopyFromRows(persons)); err != nil {
		return fmt.Errorf("demo: persons: %w", err)
	}

	counters := map[[2]any]int64{}
	var links, history [][]any
	for _, c := range w.Cases {
		var court, hearing any
		if c.Court != "" {
			court, hearing = ids[c.Court], c.HearingDate
		}
		_, err := tx.Exec(ctx, `INSERT INTO cases (id, reference, owner_agency_id, title, kind, status,
			operation_name, operation_place, operation_date, summary, notes, court_agency_id, hearing_date,
			legal_basis, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			c.ID, c.Reference, ids[c.Owner], c.Title, c.Kind, c.Status, c.OperationName, c.OperationPlace,
			c.OperationDate, c.Summary, c.Notes, court, hearing, nullable(c.LegalBasis), c.CreatedAt, c.UpdatedAt)
		if err != nil {
			return fmt.Errorf("demo: case %s: %w", c.Reference, err)
		}
		for _, l := range c.Links {
			links = append(links, []any{c.ID, w.Persons[l.Person].ID, l.Role, c.CreatedAt})
		}
		for _, h := range c.History {
			history = append(history, []any{c.ID, nullable(h.From), h.To, h.Note, h.At})
		}
		key := [2]any{ids[c.Owner], c.CreatedAt.Year()}
		var n int64
		if _, err := fmt.Sscanf(c.Reference[len(c.Reference)-6:], "%d", &n); err != nil {
			return fmt.Errorf("demo: reference %s: %w", c.Reference, err)
		}
		counters[key] = max(counters[key], n)
	}
	// Links go in row by row (a few hundred), so the triggers keep
	// persons.linked_cases and cases.possible_victim.
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"case_persons"}, []string{"case_id", "person_id", "role", "linked_at"},
		pgx.CopyFromRows(links)); err != nil {
		return fmt.Errorf("demo: links: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"case_status_history"}, []string{"case_id", "from_status", "to_status", "note", "changed_at"},
		pgx.CopyFromRows(history)); err != nil {
		return fmt.Errorf("demo: status history: %w", err)
	}
	for k, n := range counters {
		if _, err := tx.Exec(ctx, `INSERT INTO case_reference_counters (agency_id, year, last) VALUES ($1, $2, $3)
			ON CONFLICT (agency_id, year) DO UPDATE SET last = GREATEST(case_reference_counters.last, EXCLUDED.last)`,
			k[0], k[1], n); err != nil {
			return fmt.Errorf("demo: reference counters: %w", err)
		}
	}
	for _, s := range w.Shares {
		if _, err := tx.Exec(ctx, `INSERT INTO shares (id, case_id, agency_id, level, ceiling, purpose, expires_at,
			created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			s.ID, w.Cases[s.Case].ID, ids[s.Agency], s.Level, s.Ceiling, s.Purpose, s.Expires, s.Created, s.Revoked); err != nil {
			return fmt.Errorf("demo: share of %s with %s: %w", w.Cases[s.Case].Reference, s.Agency, err)
		}
	}
	if err := checkDerived(ctx, tx, w); err != nil {
		return err
	}
	if err := writeConsular(ctx, tx, w, ids); err != nil {
		return err
	}
	return writeImports(ctx, tx, w, ids)
}

// checkDerived compares the columns the triggers maintain with the world.
func checkDerived(ctx context.Context, tx pgx.Tx, w *World) error {
	for _, c := range w.Cases {
		want := false
		for _, l := range c.Links {
			if f := w.Persons[l.Person].Flag; f == "suspected" || f == "identified" {
				want = true
			}
		}
		var got bool
		if err := tx.QueryRow(ctx, "SELECT possible_victim FROM cases WHERE id = $1", c.ID).Scan(&got); err != nil {
			return fmt.Errorf("demo: check %s: %w", c.Reference, err)
		}
		if got != want {
			return errors.New("demo: cases.possible_victim of " + c.Reference + " disagrees with its persons")
		}
	}
	return nil
}
