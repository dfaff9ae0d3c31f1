// Package authztest builds the authorization test world of spec/ACCESS.md
// and states, independently of the SQL, what each principal should see and
// may do in it. The database-level test (internal/cases) and the HTTP
// authorization matrix (internal/httpapi) both use it: the world is the
// setting, Model is the oracle written from ACCESS.md's tables, and the tests
// compare the database and the API with it cell by cell.
//
// It is test support: only tests import it.
package authztest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
)

// Agency is an agency of the world.
type Agency struct {
	ID      uuid.UUID
	Code    string
	Name    string
	Kind    access.Kind
	Country string
}

// Principal is a signed-in user of the world. Claimed are the roles its
// token claims; Roles are the ones its agency's kind allows (what the
// server keeps).
type Principal struct {
	Name    string
	UserID  uuid.UUID
	Agency  *Agency
	Claimed []string
	Roles   []access.Role
}

// Access returns the principal as the server would carry it.
func (p *Principal) Access() access.Principal {
	return access.Principal{
		UserID: p.UserID, Issuer: "authztest", Subject: p.Name, Name: p.Name,
		AgencyID: p.Agency.ID, AgencyCode: p.Agency.Code, AgencyName: p.Agency.Name, Kind: p.Agency.Kind,
		Country: p.Agency.Country, Roles: p.Roles,
	}
}

// Has reports whether p holds any of roles.
func (p *Principal) Has(roles ...access.Role) bool {
	return slices.ContainsFunc(roles, func(r access.Role) bool { return slices.Contains(p.Roles, r) })
}

// Case is a case of the world, in one situation of ACCESS.md.
type Case struct {
	Name    string
	ID      uuid.UUID
	Owner   *Agency
	Status  string
	Court   *Agency
	Shares  []*Share
	Persons []*Person
	Version int
}

// Share is a share of a case.
type Share struct {
	ID      uuid.UUID
	Case    *Case
	Agency  *Agency
	Level   string
	Ceiling string
	Expired bool
	Revoked bool
}

// Active reports whether the share grants anything now.
func (s *Share) Active() bool { return !s.Expired && !s.Revoked }

// Person is a person of the world.
type Person struct {
	Name         string
	ID           uuid.UUID
	Creator      *Agency
	Nationality  string
	Custody      string
	Notification string
	Flag         string
	Consents     bool
	Cleared      bool
	Asylum       bool
	Cases        []*Case
	// Roles is the person's role in a case when it is not detainee.
	Roles        map[*Case]string
	Facility     string
	FacilityKind string
	Version      int
}

// Role is x's role in case c.
func (x *Person) Role(c *Case) string {
	if r, ok := x.Roles[c]; ok {
		return r
	}
	return "detainee"
}

// Facilities of the world, by name: kind.
var Facilities = map[string]string{
	"Phnom Penh IDC":             "detention_centre",
	"Social affairs shelter, PP": "shelter",
}

// Document is a document of a case, perhaps about one person.
type Document struct {
	Name           string
	ID             uuid.UUID
	Case           *Case
	Person         *Person // nil: about no person
	Classification string
	Releasable     bool
	Withdrawn      bool
}

// World is every agency, principal, case, share, person and document.
type World struct {
	Agencies   map[string]*Agency
	Principals []*Principal
	Cases      []*Case
	Persons    []*Person
	Shares     []*Share
	Documents  []*Document
	// Counters are the agencies with a case reference counter row;
	// IdemOwners the principals with a stored idempotency key.
	Counters   []*Agency
	IdemOwners []*Principal
}

// Case returns the case named name.
func (w *World) Case(name string) *Case {
	for _, c := range w.Cases {
		if c.Name == name {
			return c
		}
	}
	panic("authztest: no case " + name)
}

// Person returns the person named name.
func (w *World) Person(name string) *Person {
	for _, p := range w.Persons {
		if p.Name == name {
			return p
		}
	}
	panic("authztest: no person " + name)
}

// Principal returns the principal named name.
func (w *World) Principal(name string) *Principal {
	for _, p := range w.Principals {
		if p.Name == name {
			return p
		}
	}
	panic("authztest: no principal " + name)
}

// newDirectory makes the agencies and principals every world shares.
func newDirectory() *World {
	w := &World{Agencies: map[string]*Agency{}}
	agency := func(code, name string, kind access.Kind, country string) *Agency {
		a := &Agency{ID: uuid.New(), Code: code, Name: name, Kind: kind, Country: country}
		w.Agencies[code] = a
		return a
	}
	gdi := agency("gdi", "General Department of Immigration", access.KindImmigrationPolice, "")
	ppm := agency("ppm", "Preah Sihanouk Provincial Police", access.KindImmigrationPolice, "")
	ncct := agency("ncct", "National Committee for Counter Trafficking", access.KindCounterTrafficking, "")
	embCN := agency("emb-cn", "Embassy of the People's Republic of China", access.KindEmbassy, "CN")
	embVN := agency("emb-vn", "Embassy of Viet Nam", access.KindEmbassy, "VN")
	moi := agency("moi", "Ministry of Interior", access.KindInteriorMinistry, "")
	courtPP := agency("court-pp", "Phnom Penh Court of First Instance", access.KindCourt, "")
	courtSR := agency("court-sr", "Siem Reap Court of First Instance", access.KindCourt, "")

	principal := func(name string, a *Agency, claimed ...string) {
		roles, _ := access.FilterRoles(a.Kind, claimed)
		w.Principals = append(w.Principals, &Principal{Name: name, UserID: uuid.New(), Agency: a,
			Claimed: claimed, Roles: roles})
	}
	principal("gdi-officer", gdi, "officer")
	principal("gdi-supervisor", gdi, "supervisor")
	principal("gdi-viewer", gdi, "viewer")
	principal("gdi-admin", gdi, "admin")
	principal("gdi-norole", gdi, "liaison", "clerk") // roles its kind does not allow: none count
	principal("ppm-officer", ppm, "officer")
	principal("ncct-officer", ncct, "officer")
	principal("ncct-supervisor", ncct, "supervisor")
	principal("ncct-viewer", ncct, "viewer")
	principal("emb-cn-liaison", embCN, "liaison")
	principal("emb-vn-liaison", embVN, "liaison")
	principal("moi-coordinator", moi, "coordinator")
	principal("moi-admin", moi, "admin")
	principal("court-pp-clerk", courtPP, "clerk")
	principal("court-sr-clerk", courtSR, "clerk")
	return w
}

// New describes the fixed world of named situations (nothing is written
// yet; see Insert).
func New() *World {
	w := newDirectory()
	gdi, ppm, ncct := w.Agencies["gdi"], w.Agencies["ppm"], w.Agencies["ncct"]
	embVN, moi := w.Agencies["emb-vn"], w.Agencies["moi"]
	courtPP, courtSR := w.Agencies["court-pp"], w.Agencies["court-sr"]

	kase := func(name string, owner *Agency, status string, court *Agency) *Case {
		c := &Case{Name: name, ID: uuid.New(), Owner: owner, Status: status, Court: court, Version: 1}
		w.Cases = append(w.Cases, c)
		return c
	}
	share := func(c *Case, to *Agency, level, ceiling string, expired, revoked bool) {
		s := &Share{ID: uuid.New(), Case: c, Agency: to, Level: level, Ceiling: ceiling, Expired: expired, Revoked: revoked}
		c.Shares = append(c.Shares, s)
		w.Shares = append(w.Shares, s)
	}
	person := func(name string, creator *Agency, nationality, custody, notification, flag string, cs ...*Case) *Person {
		p := &Person{Name: name, ID: uuid.New(), Creator: creator, Nationality: nationality, Custody: custody,
			Notification: notification, Flag: flag, Cases: cs, Version: 1, Roles: map[*Case]string{},
			Facility: "Phnom Penh IDC", FacilityKind: "detention_centre"}
		for _, c := range cs {
			c.Persons = append(c.Persons, p)
		}
		w.Persons = append(w.Persons, p)
		return p
	}

	own := kase("owned", gdi, "open", nil)
	sharedFull := kase("shared-full", gdi, "investigation", nil)
	share(sharedFull, ppm, "full", "confidential", false, false)
	share(sharedFull, embVN, "full", "secret", false, false) // a liaison's ceiling is restricted
	sharedSummary := kase("shared-summary", gdi, "open", nil)
	share(sharedSummary, ppm, "summary", "restricted", false, false)
	share(sharedSummary, courtSR, "summary", "public", false, false)
	share(sharedSummary, moi, "summary", "public", false, false) // the coordinator's G4 is full anyway
	sharedExpired := kase("shared-expired", gdi, "investigation", nil)
	share(sharedExpired, ppm, "full", "secret", true, false)
	sharedRevoked := kase("shared-revoked", gdi, "investigation", nil)
	share(sharedRevoked, ppm, "full", "secret", false, true)
	victim := kase("victim", gdi, "investigation", nil)
	cleared := kase("cleared-victim", gdi, "open", nil)
	kase("court-pre-referral", gdi, "investigation", nil)
	courtBefore := kase("court-before", gdi, "before_court", courtPP)
	courtAfter := kase("court-adjudicated", gdi, "adjudicated", courtPP)
	kase("court-closed", gdi, "closed", courtPP)
	ppmOwn := kase("ppm-owned", ppm, "open", nil)
	ncctOwn := kase("ncct-owned", ncct, "investigation", nil)

	// The consular conditions of ACCESS.md, each failing alone for the
	// Chinese embassy against the baseline "cn-detained".
	person("cn-detained", gdi, "CN", "detained", "requested", "none", own)
	person("vn-detained", gdi, "VN", "detained", "requested", "none", own)          // 1: another nationality
	person("cn-at-large", gdi, "CN", "at_large", "requested", "none", sharedFull)   // 2: not in custody
	person("cn-declined", gdi, "CN", "detained", "declined", "none", sharedSummary) // 3: declined
	person("cn-victim", gdi, "CN", "detained", "requested", "suspected", victim)    // 4: possible victim, no consent
	consent := person("cn-victim-consents", gdi, "CN", "detained", "requested", "identified", victim)
	consent.Consents = true
	// A consenting victim at a shelter: the embassy sees them, never the shelter's name.
	consent.Facility, consent.FacilityKind = "Social affairs shelter, PP", "shelter"
	// Screening ended cleared: no longer a possible victim, visible under conditions 1–3.
	clr := person("cn-cleared", gdi, "CN", "detained", "requested", "cleared", cleared)
	clr.Cleared = true
	// A witness in one case and a suspect in another: charges name only the latter.
	wit := person("cn-witness", gdi, "CN", "detained", "requested", "none", courtBefore, own)
	wit.Roles[courtBefore] = "witness"
	wit.Roles[own] = "suspect"
	asylum := person("cn-claimant", gdi, "CN", "detained", "mandatory", "none", own)
	asylum.Asylum = true
	person("cn-deported", gdi, "CN", "deported", "mandatory", "none", sharedExpired)
	person("cn-charged", gdi, "CN", "charged", "requested", "none", courtBefore)
	person("cn-convicted", gdi, "CN", "convicted", "requested", "none", courtAfter, sharedRevoked)
	person("vn-ppm", ppm, "VN", "awaiting_deportation", "requested", "none", ppmOwn)
	// A summary share shows persons in the summary projection only.
	person("th-summary", gdi, "TH", "detained", "requested", "none", sharedSummary)
	// The Vietnamese embassy holds a full share of "shared-full": its own
	// national there, an asylum claimant, is still consular-only to it.
	vnClaimant := person("vn-shared-claimant", gdi, "VN", "detained", "requested", "none", sharedFull)
	vnClaimant.Asylum = true
	person("cn-ncct", ncct, "CN", "detained", "requested", "identified", ncctOwn)
	person("cn-unlinked", gdi, "CN", "detained", "requested", "none")
	person("scratch-gdi", gdi, "TH", "at_large", "requested", "none")
	person("scratch-ppm", ppm, "TH", "at_large", "requested", "none")
	person("scratch-ncct", ncct, "TH", "at_large", "requested", "none")

	w.Counters = []*Agency{gdi, ppm}
	w.IdemOwners = []*Principal{w.Principal("gdi-officer"), w.Principal("ppm-officer")}
	return w
}

// Insert writes the world as the owner role (it is the setting, not what
// is under test).
func (w *World) Insert(t testing.TB, owner *gorm.DB) {
	t.Helper()
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := owner.Exec(sql, args...).Error; err != nil {
			t.Fatalf("authztest: %v\n%s", err, sql)
		}
	}
	for _, code := range sortedKeys(w.Agencies) {
		a := w.Agencies[code]
		var country any
		if a.Country != "" {
			country = a.Country
		}
		exec(`INSERT INTO agencies (id, code, name, kind, country) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Code, a.Name, string(a.Kind), country)
	}
	for i, c := range w.Cases {
		var court any
		var hearing any
		var basis any
		if c.Court != nil {
			court, hearing, basis = c.Court.ID, time.Date(2026, 3, 10+i, 0, 0, 0, 0, time.UTC), "Law on Immigration, art. 29"
		}
		exec(`INSERT INTO cases (id, reference, owner_agency_id, title, kind, status, court_agency_id, hearing_date,
				legal_basis, summary, notes, operation_name)
			VALUES (?, ?, ?, ?, 'illegal_work', ?, ?, ?, ?, 'Summary of '||?, 'Notes of '||?, 'Operation '||?)`,
			c.ID, fmt.Sprintf("%s-2026-%06d", c.Owner.Code, i+1), c.Owner.ID, "Case "+c.Name, c.Status,
			court, hearing, basis, c.Name, c.Name, c.Name)
		if c.Status != "open" {
			exec(`INSERT INTO case_status_history (case_id, from_status, to_status, note) VALUES (?, 'open', ?, 'world')`,
				c.ID, c.Status)
		}
	}
	for _, name := range sortedKeys(Facilities) {
		exec(`INSERT INTO facilities (name, kind) VALUES (?, ?)`, name, Facilities[name])
	}
	for _, p := range w.Persons {
		var deported any
		if p.Custody == "deported" {
			deported = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
		}
		exec(`INSERT INTO persons (id, family_name, given_names, nationality, custody_status, deported_at,
				consular_notification, trafficking_flag, victim_consents_to_embassy, ct_proceedings_cleared,
				asylum_claimed, screening_notes, address, created_by_agency_id, facility)
			VALUES (?, ?, 'Given', ?, ?, ?, ?, ?, ?, ?, ?, 'screening of '||?, 'address of '||?, ?, ?)`,
			p.ID, "Family "+p.Name, p.Nationality, p.Custody, deported, p.Notification, p.Flag, p.Consents,
			p.Cleared, p.Asylum, p.Name, p.Name, p.Creator.ID, p.Facility)
		for _, c := range p.Cases {
			exec(`INSERT INTO case_persons (case_id, person_id, role) VALUES (?, ?, ?)`, c.ID, p.ID, p.Role(c))
		}
	}
	for _, d := range w.Documents {
		sha := fmt.Sprintf("%064x", d.ID[:])
		var person any
		if d.Person != nil {
			person = d.Person.ID
		}
		var withdrawnAt, reason any
		if d.Withdrawn {
			withdrawnAt, reason = time.Now(), "withdrawn in the world"
		}
		err := owner.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO blobs (sha256, size) VALUES (?, 10)`, sha).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO documents (id, case_id, person_id, title, kind, classification,
					consular_releasable, current_version, withdrawn_at, withdrawn_reason)
				VALUES (?, ?, ?, ?, 'evidence', ?, ?, 1, ?, ?)`, d.ID, d.Case.ID, person, "Document "+d.Name,
				d.Classification, d.Releasable, withdrawnAt, reason).Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO document_versions (document_id, version, sha256, size, media_type, filename)
				VALUES (?, 1, ?, 10, 'application/pdf', 'world.pdf')`, d.ID, sha).Error
		})
		if err != nil {
			t.Fatalf("authztest: document %s: %v", d.Name, err)
		}
	}
	for _, s := range w.Shares {
		created, expires := "now()", "now() + interval '90 days'"
		if s.Expired {
			created, expires = "now() - interval '40 days'", "now() - interval '10 days'"
		}
		var revoked any
		if s.Revoked {
			revoked = time.Now()
		}
		exec(`INSERT INTO shares (id, case_id, agency_id, level, ceiling, purpose, created_at, expires_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, 'Joint investigation', `+created+`, `+expires+`, ?)`,
			s.ID, s.Case.ID, s.Agency.ID, s.Level, s.Ceiling, revoked)
	}
	for _, a := range w.Counters {
		exec(`INSERT INTO case_reference_counters (agency_id, year, last) VALUES (?, 2026, 20)`, a.ID)
	}
	for _, p := range w.IdemOwners {
		exec(`INSERT INTO idempotency_keys (agency_id, user_id, key, request_hash, status, body)
			VALUES (?, ?, 'world-key', sha256('x'), 201, '{}')`, p.Agency.ID, p.UserID)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
