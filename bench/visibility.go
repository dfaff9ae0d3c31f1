// Package bench measures CaseBridge at its planning scale (MISSION.md: a
// million persons, 200,000 cases): the lists that Row-Level Security
// filters, explained and timed as the server runs them — inside
// store.WithTx, as casebridge_app, with a principal published to the
// policies.
//
// The checks here run twice: at 20,000 persons in `make test`
// (visibility_test.go), and at 1,000,000 persons by `make bench-scale`
// (cmd/scale), whose figures are in docs/benchmarks.md.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/cases"
	"github.com/casebridge/casebridge/internal/store"
)

// LargeTables may never be read by a sequential scan in a list plan.
var LargeTables = []string{"cases", "persons", "case_persons", "shares"}

// Principals the checks run as, by demo account name.
var Principals = []struct {
	Account string
	Agency  string
	Roles   []access.Role
}{
	{"emb-cn-liaison", "emb-cn", []access.Role{access.RoleLiaison}},
	{"emb-au-liaison", "emb-au", []access.Role{access.RoleLiaison}},
	{"gdi-officer", "gdi", []access.Role{access.RoleOfficer}},
	{"court-clerk", "pp-court", []access.Role{access.RoleClerk}},
	{"ncct-officer", "ncct", []access.Role{access.RoleOfficer}},
	{"moi-coordinator", "moi", []access.Role{access.RoleCoordinator}},
	{"psn-police-officer", "police-psn", []access.Role{access.RoleOfficer}},
}

// Principal resolves a demo account of Principals against the database.
func Principal(ctx context.Context, owner *gorm.DB, account string) (access.Principal, error) {
	for _, p := range Principals {
		if p.Account != account {
			continue
		}
		var row struct {
			ID      uuid.UUID
			Code    string
			Name    string
			Kind    string
			Country *string
		}
		if err := owner.WithContext(ctx).Raw(`SELECT id, code, name, kind, country FROM agencies WHERE code = ?`, p.Agency).Scan(&row).Error; err != nil {
			return access.Principal{}, fmt.Errorf("look up agency %s: %w", p.Agency, err)
		}
		if row.ID == uuid.Nil {
			return access.Principal{}, fmt.Errorf("look up agency %s: not found", p.Agency)
		}
		pr := access.Principal{UserID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(account)), Subject: account, Name: account,
			AgencyID: row.ID, AgencyCode: row.Code, AgencyName: row.Name, Kind: access.Kind(row.Kind), Roles: p.Roles}
		if row.Country != nil {
			pr.Country = *row.Country
		}
		return pr, nil
	}
	return access.Principal{}, fmt.Errorf("unknown bench principal %s", account)
}

// Query is one list as a service would send it.
type Query struct {
	Name    string
	Account string // principal, from Principals
	SQL     string
	Args    []any
	// Anchor is true for queries that only serve as a reference point.
	Anchor bool
	// Shares names the agency when the principal sees cases only through
	// shares: its plan must start from them (visibility_test.go).
	Shares string
}

// The statements below mirror the services' (internal/persons selectNationals
// and OfCase) as they are written; when those change, change these. The case
// list is taken from internal/cases itself (ListSQL).

// nationalsSQL is the embassy list: the consular view with each national's
// charges.
const nationalsSQL = `SELECT n.id, n.family_name, n.given_names, n.sex, n.date_of_birth, n.nationality,
	n.passport_number, n.custody_status, n.facility, n.detained_at, n.deported_at, n.deported_via,
	n.entry_ban_until,
	(SELECT COALESCE(json_agg(json_build_object('case_kind', ch.case_kind, 'legal_basis', ch.legal_basis,
		'status', ch.status, 'court_name', ch.court_name, 'hearing_date', ch.hearing_date)), '[]')
	   FROM cb_consular_charges(n.id) ch)::text AS charges
FROM consular_nationals n`

// personsSQL reads persons in full (the second step of a case's persons).
const personsSQL = `SELECT p.id, p.family_name, p.given_names, p.family_name_native, p.given_names_native,
	p.sex, p.date_of_birth, p.nationality, p.passport_number, p.passport_status, p.passport_expires_on,
	p.work_permit_number, p.work_permit_status, p.address, p.custody_status, p.facility, p.detained_at,
	p.deported_at, p.deported_via, p.entry_ban_until, p.trafficking_flag, p.screening_notes,
	p.victim_consents_to_embassy, p.ct_proceedings_cleared, p.asylum_claimed, p.consular_notification,
	a.id AS creator_id, a.code AS creator_code, a.name AS creator_name,
	p.version, p.created_at, p.updated_at
FROM persons p JOIN agencies a ON a.id = p.created_by_agency_id`

// consularWhere: conditions 2 and 3 of the consular view, for the owner's
// cursor lookup (persons_consular_idx).
const consularWhere = `nationality = ?
	AND custody_status IN ('detained', 'charged', 'convicted', 'awaiting_deportation', 'deported')
	AND consular_notification IN ('requested', 'mandatory')`

// Cursors are the keyset positions of the "later page" queries.
type Cursors struct {
	EmbassyFamily, EmbassyGiven string
	EmbassyID                   uuid.UUID
	CaseUpdated                 time.Time
	CaseID                      uuid.UUID
	// CaseWithPersons is a case of the gdi with several persons.
	CaseWithPersons uuid.UUID
	// Person is any person, for the primary-key anchor.
	Person uuid.UUID
}

// FindCursors picks positions deep in the lists (page ~20), as the owner.
func FindCursors(ctx context.Context, owner *gorm.DB, country string) (Cursors, error) {
	var c Cursors
	db := owner.WithContext(ctx)
	var emb struct {
		FamilyName, GivenNames string
		ID                     uuid.UUID
	}
	if err := db.Raw(`SELECT family_name, given_names, id FROM persons WHERE `+consularWhere+`
		ORDER BY family_name, given_names, id OFFSET 1000 LIMIT 1`, country).Scan(&emb).Error; err != nil {
		return c, fmt.Errorf("find embassy cursor: %w", err)
	}
	c.EmbassyFamily, c.EmbassyGiven, c.EmbassyID = emb.FamilyName, emb.GivenNames, emb.ID
	var cs struct {
		UpdatedAt time.Time
		ID        uuid.UUID
	}
	if err := db.Raw(`SELECT c.updated_at, c.id FROM cases c JOIN agencies a ON a.id = c.owner_agency_id
		WHERE a.code = 'gdi' ORDER BY c.updated_at DESC, c.id DESC OFFSET 1000 LIMIT 1`).Scan(&cs).Error; err != nil {
		return c, fmt.Errorf("find case cursor: %w", err)
	}
	c.CaseUpdated, c.CaseID = cs.UpdatedAt, cs.ID
	var one struct{ ID uuid.UUID }
	if err := db.Raw(`SELECT c.id FROM cases c JOIN agencies a ON a.id = c.owner_agency_id
		WHERE a.code = 'gdi' AND (SELECT count(*) FROM case_persons cp WHERE cp.case_id = c.id) >= 8
		ORDER BY c.reference LIMIT 1`).Scan(&one).Error; err != nil {
		return c, fmt.Errorf("find a case with persons: %w", err)
	}
	c.CaseWithPersons = one.ID
	if err := db.Raw(`SELECT person_id AS id FROM case_persons WHERE case_id = ? LIMIT 1`, c.CaseWithPersons).Scan(&one).Error; err != nil {
		return c, fmt.Errorf("find a person: %w", err)
	}
	c.Person = one.ID
	if c.EmbassyID == uuid.Nil || c.CaseID == uuid.Nil || c.CaseWithPersons == uuid.Nil {
		return c, fmt.Errorf("find cursors: the database holds too little data (seed it first)")
	}
	return c, nil
}

// Queries returns the lists checked and timed, as the services send them
// (pages of 50: the services ask for one row more to know whether a next
// page exists).
func Queries(c Cursors) []Query {
	// The case list is the service's own statement (cases.ListSQL).
	caseList := func(name, account, where string, args ...any) Query {
		var w []string
		if where != "" {
			w = []string{where}
		}
		return Query{Name: name, Account: account, SQL: cases.ListSQL(w, 51), Args: cases.ListArgs(args)}
	}
	return []Query{
		{Name: "embassy list, first page", Account: "emb-cn-liaison",
			SQL: nationalsSQL + "\nORDER BY n.family_name, n.given_names, n.id LIMIT 51"},
		{Name: "embassy list, page ~20", Account: "emb-cn-liaison",
			SQL:  nationalsSQL + "\nWHERE (n.family_name, n.given_names, n.id) > (?, ?, ?)\nORDER BY n.family_name, n.given_names, n.id LIMIT 51",
			Args: []any{c.EmbassyFamily, c.EmbassyGiven, c.EmbassyID}},
		caseList("case list, gdi officer", "gdi-officer", ""),
		caseList("case list, gdi officer, status=investigation", "gdi-officer", "c.status IN (?)", "investigation"),
		caseList("case list, gdi officer, page ~20", "gdi-officer", "(c.updated_at, c.id) < (?, ?)", c.CaseUpdated, c.CaseID),
		caseList("case list, court clerk", "court-clerk", ""),
		caseList("case list, ncct officer", "ncct-officer", ""),
		caseList("case list, provincial police officer", "psn-police-officer", ""),
		onlyShares(caseList("case list, embassy liaison (shares only)", "emb-cn-liaison", ""), "emb-cn"),
		onlyShares(caseList("case list, embassy with few shares", "emb-au-liaison", ""), "emb-au"),
		caseList("case list, ministry coordinator", "moi-coordinator", ""),
		{Name: "case's persons (links), gdi officer", Account: "gdi-officer",
			SQL: `SELECT cp.role, cp.linked_at, p.id FROM case_persons cp JOIN persons p ON p.id = cp.person_id
		WHERE cp.case_id = ? ORDER BY p.family_name, p.given_names, p.id LIMIT 51`,
			Args: []any{c.CaseWithPersons}},
		{Name: "case's persons (rows), gdi officer", Account: "gdi-officer",
			SQL:  personsSQL + ` WHERE p.id IN (SELECT person_id FROM case_persons WHERE case_id = ?)`,
			Args: []any{c.CaseWithPersons}},
		{Name: "anchor: person by primary key", Account: "gdi-officer", Anchor: true,
			SQL: `SELECT id, family_name FROM persons WHERE id = ?`, Args: []any{c.Person}},
	}
}

func onlyShares(q Query, agency string) Query {
	q.Shares = agency
	return q
}

// Plan is the EXPLAIN (ANALYZE, BUFFERS) of one query.
type Plan struct {
	Query    Query
	Text     string   // EXPLAIN text output
	SeqScans []string // large tables read by a sequential scan
	Nodes    []string // scan nodes: "Index Scan using x on t", …
	Time     float64  // execution time reported, ms
	// CasesRead is how many rows of cases the executed scans produced or
	// filtered away (summed over loops): what the plan walked.
	CasesRead float64
}

// Options for Explain.
type Options struct {
	// NoSeqScan sets enable_seqscan = off: at small scale a sequential scan
	// of a few pages can be the planner's honest best; the small-scale
	// check asks whether an index path exists at all.
	NoSeqScan bool
}

// Explain runs EXPLAIN (ANALYZE, BUFFERS) of q as its principal, in a
// transaction set up exactly as the server's (store.WithTx).
func Explain(ctx context.Context, app *gorm.DB, p access.Principal, q Query, opt Options) (Plan, error) {
	plan := Plan{Query: q}
	ctx = access.WithPrincipal(store.WithDB(ctx, app), p)
	err := store.WithTx(ctx, func(ctx context.Context) error {
		db := store.DB(ctx)
		if opt.NoSeqScan {
			if err := db.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
		}
		var js string
		if err := db.Raw("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+q.SQL, q.Args...).Scan(&js).Error; err != nil {
			return err
		}
		var doc []struct {
			Plan          node    `json:"Plan"`
			ExecutionTime float64 `json:"Execution Time"`
		}
		if err := json.Unmarshal([]byte(js), &doc); err != nil {
			return err
		}
		plan.Time = doc[0].ExecutionTime
		doc[0].Plan.walk(func(n node) {
			if n.Relation == "" {
				return
			}
			desc := n.Type
			if n.Index != "" {
				desc += " using " + n.Index
			}
			desc += " on " + n.Relation
			plan.Nodes = append(plan.Nodes, desc)
			if n.Relation == "cases" {
				plan.CasesRead += (n.Rows + n.Removed + n.Rechecks) * n.Loops
			}
			if n.Type == "Seq Scan" && slices.Contains(LargeTables, n.Relation) {
				plan.SeqScans = append(plan.SeqScans, n.Relation)
			}
		})
		rows, err := db.Raw("EXPLAIN (ANALYZE, BUFFERS) "+q.SQL, q.Args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		plan.Text = strings.Join(lines, "\n")
		return rows.Err()
	})
	if err != nil {
		return plan, fmt.Errorf("explain %q: %w", q.Name, err)
	}
	return plan, nil
}

type node struct {
	Type     string  `json:"Node Type"`
	Relation string  `json:"Relation Name"`
	Index    string  `json:"Index Name"`
	Rows     float64 `json:"Actual Rows"`
	Loops    float64 `json:"Actual Loops"`
	Removed  float64 `json:"Rows Removed by Filter"`
	Rechecks float64 `json:"Rows Removed by Index Recheck"`
	Plans    []node  `json:"Plans"`
}

func (n node) walk(fn func(node)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// Latency is the distribution of one query's wall time, measured from the
// client around the whole transaction (BEGIN, role and principal, query,
// rows, COMMIT), as a request would see it.
type Latency struct {
	Name     string
	N        int
	P50, P99 time.Duration
	Rows     int
}

// Measure runs q n times (after a warm-up) as principal p and reports the
// percentiles. With asOwner false, db is the application role's pool and
// each run is a store.WithTx transaction, exactly as the server's. With
// asOwner true, db is the owner's pool: the same statement runs with the
// same principal settings but as the owner role, which Row-Level Security
// does not filter — the anchor that isolates what the policies cost.
func Measure(ctx context.Context, db *gorm.DB, p access.Principal, q Query, n int, asOwner bool) (Latency, error) {
	lat := Latency{Name: q.Name, N: n}
	base := access.WithPrincipal(store.WithDB(ctx, db), p)
	read := func(tx *gorm.DB) (int, error) {
		rows, err := tx.Raw(q.SQL, q.Args...).Rows()
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		count := 0
		for rows.Next() {
			count++
		}
		return count, rows.Err()
	}
	run := func() (count int, err error) {
		if asOwner {
			err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := publish(tx, p); err != nil {
					return err
				}
				count, err = read(tx)
				return err
			})
			return count, err
		}
		err = store.WithTx(base, func(ctx context.Context) error {
			count, err = read(store.DB(ctx))
			return err
		})
		return count, err
	}
	for range min(max(5, n/10), 20) {
		if _, err := run(); err != nil {
			return lat, fmt.Errorf("measure %q: %w", q.Name, err)
		}
	}
	// Slow statements stop early (after 5 runs and 30 s) so one bad list
	// does not hold up the report; N says how many ran.
	times := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 0; i < n && (i < 5 || time.Since(start) < 30*time.Second); i++ {
		t := time.Now()
		rows, err := run()
		if err != nil {
			return lat, fmt.Errorf("measure %q: %w", q.Name, err)
		}
		times = append(times, time.Since(t))
		lat.Rows = rows
	}
	n = len(times)
	lat.N = n
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	lat.P50 = times[n/2]
	lat.P99 = times[min(n-1, n*99/100)]
	return lat, nil
}

// publish sets the principal's settings as store.WithTx does, without
// switching role.
func publish(tx *gorm.DB, p access.Principal) error {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	return tx.Exec(`SELECT set_config('casebridge.user_id', ?, true),
		set_config('casebridge.agency_id', ?, true),
		set_config('casebridge.agency_kind', ?, true),
		set_config('casebridge.country', ?, true),
		set_config('casebridge.roles', ?, true)`,
		p.UserID.String(), p.AgencyID.String(), string(p.Kind), p.Country, strings.Join(roles, ",")).Error
}
