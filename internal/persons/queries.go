package persons

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
)

// personRow is one row of selectPersons (the full projection).
type personRow struct {
	ID                   uuid.UUID  `gorm:"column:id"`
	FamilyName           string     `gorm:"column:family_name"`
	GivenNames           string     `gorm:"column:given_names"`
	FamilyNameNative     string     `gorm:"column:family_name_native"`
	GivenNamesNative     string     `gorm:"column:given_names_native"`
	Sex                  string     `gorm:"column:sex"`
	DateOfBirth          *time.Time `gorm:"column:date_of_birth"`
	Nationality          string     `gorm:"column:nationality"`
	PassportNumber       string     `gorm:"column:passport_number"`
	PassportStatus       string     `gorm:"column:passport_status"`
	PassportExpiresOn    *time.Time `gorm:"column:passport_expires_on"`
	WorkPermitNumber     string     `gorm:"column:work_permit_number"`
	WorkPermitStatus     string     `gorm:"column:work_permit_status"`
	Address              string     `gorm:"column:address"`
	CustodyStatus        string     `gorm:"column:custody_status"`
	Facility             string     `gorm:"column:facility"`
	DetainedAt           *time.Time `gorm:"column:detained_at"`
	DeportedAt           *time.Time `gorm:"column:deported_at"`
	DeportedVia          string     `gorm:"column:deported_via"`
	EntryBanUntil        *time.Time `gorm:"column:entry_ban_until"`
	TraffickingFlag      string     `gorm:"column:trafficking_flag"`
	ScreeningNotes       string     `gorm:"column:screening_notes"`
	VictimConsents       bool       `gorm:"column:victim_consents_to_embassy"`
	ProceedingsCleared   bool       `gorm:"column:ct_proceedings_cleared"`
	AsylumClaimed        bool       `gorm:"column:asylum_claimed"`
	ConsularNotification string     `gorm:"column:consular_notification"`
	CreatorID            uuid.UUID  `gorm:"column:creator_id"`
	CreatorCode          string     `gorm:"column:creator_code"`
	CreatorName          string     `gorm:"column:creator_name"`
	Version              int        `gorm:"column:version"`
	CreatedAt            time.Time  `gorm:"column:created_at"`
	UpdatedAt            time.Time  `gorm:"column:updated_at"`
}

// selectPersons reads persons under the principal's row-level security,
// which since migration 00021 returns only the persons it sees in full.
const selectPersons = `SELECT p.id, p.family_name, p.given_names, p.family_name_native, p.given_names_native,
	p.sex, p.date_of_birth, p.nationality, p.passport_number, p.passport_status, p.passport_expires_on,
	p.work_permit_number, p.work_permit_status, p.address, p.custody_status, p.facility, p.detained_at,
	p.deported_at, p.deported_via, p.entry_ban_until, p.trafficking_flag, p.screening_notes,
	p.victim_consents_to_embassy, p.ct_proceedings_cleared, p.asylum_claimed, p.consular_notification,
	a.id AS creator_id, a.code AS creator_code, a.name AS creator_name,
	p.version, p.created_at, p.updated_at
FROM persons p JOIN agencies a ON a.id = p.created_by_agency_id`

func (r personRow) toPerson() Person {
	return Person{
		ID: r.ID, FamilyName: r.FamilyName, GivenNames: r.GivenNames, FamilyNameNative: r.FamilyNameNative,
		GivenNamesNative: r.GivenNamesNative, Sex: Sex(r.Sex), DateOfBirth: r.DateOfBirth,
		Nationality: r.Nationality, PassportNumber: r.PassportNumber, PassportStatus: PassportStatus(r.PassportStatus),
		PassportExpiresOn: r.PassportExpiresOn, WorkPermitNumber: r.WorkPermitNumber,
		WorkPermitStatus: WorkPermitStatus(r.WorkPermitStatus), Address: r.Address,
		CustodyStatus: Custody(r.CustodyStatus), Facility: r.Facility, DetainedAt: r.DetainedAt,
		DeportedAt: r.DeportedAt, DeportedVia: r.DeportedVia, EntryBanUntil: r.EntryBanUntil,
		TraffickingFlag: Flag(r.TraffickingFlag), ScreeningNotes: r.ScreeningNotes,
		VictimConsents: r.VictimConsents, ProceedingsCleared: r.ProceedingsCleared,
		AsylumClaimed: r.AsylumClaimed, ConsularNotification: Notification(r.ConsularNotification),
		CreatedBy: AgencyRef{ID: r.CreatorID, Code: r.CreatorCode, Name: r.CreatorName},
		Cases:     []CaseLink{}, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func queryPersons(ctx context.Context, q string, args ...any) ([]Person, error) {
	var rows []personRow
	if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("query persons: %w", err)
	}
	out := make([]Person, len(rows))
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.toPerson()
		ids[i] = r.ID
	}
	if err := addCaseLinks(ctx, out, ids); err != nil {
		return nil, err
	}
	return out, nil
}

// addCaseLinks fills in the cases that link each person, as far as the
// principal sees them (RLS on case_persons and cases).
func addCaseLinks(ctx context.Context, ps []Person, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	var links []struct {
		PersonID  uuid.UUID `gorm:"column:person_id"`
		CaseID    uuid.UUID `gorm:"column:case_id"`
		Reference string    `gorm:"column:reference"`
		Role      string    `gorm:"column:role"`
		LinkedAt  time.Time `gorm:"column:linked_at"`
	}
	err := store.DB(ctx).Raw(`SELECT cp.person_id, cp.case_id, c.reference, cp.role, cp.linked_at
		FROM case_persons cp JOIN cases c ON c.id = cp.case_id
		WHERE cp.person_id IN ? ORDER BY cp.linked_at, cp.case_id`, ids).Scan(&links).Error
	if err != nil {
		return fmt.Errorf("query case links: %w", err)
	}
	at := make(map[uuid.UUID]int, len(ps))
	for i, p := range ps {
		at[p.ID] = i
	}
	for _, l := range links {
		i := at[l.PersonID]
		ps[i].Cases = append(ps[i].Cases, CaseLink{CaseID: l.CaseID, Reference: l.Reference, Role: Role(l.Role), LinkedAt: l.LinkedAt})
	}
	return nil
}

// getPerson is the list filtered by id.
func getPerson(ctx context.Context, id uuid.UUID) (Person, error) {
	ps, err := queryPersons(ctx, selectPersons+` WHERE p.id = ?`, id)
	if err != nil {
		return Person{}, err
	}
	if len(ps) == 0 {
		return Person{}, fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
	}
	return ps[0], nil
}

// getSummary reads person id in the summary projection (the
// person_summaries view holds only its columns), with the linking cases the
// principal sees and the person's role in each.
func getSummary(ctx context.Context, id uuid.UUID) (Summary, error) {
	var rows []struct {
		ID            uuid.UUID `gorm:"column:id"`
		FamilyName    string    `gorm:"column:family_name"`
		GivenNames    string    `gorm:"column:given_names"`
		Sex           string    `gorm:"column:sex"`
		Nationality   string    `gorm:"column:nationality"`
		CustodyStatus string    `gorm:"column:custody_status"`
	}
	err := store.DB(ctx).Raw(`SELECT id, family_name, given_names, sex, nationality, custody_status
		FROM person_summaries WHERE id = ?`, id).Scan(&rows).Error
	if err != nil {
		return Summary{}, fmt.Errorf("query person summary: %w", err)
	}
	if len(rows) == 0 {
		return Summary{}, fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
	}
	r := rows[0]
	ps := []Person{{ID: r.ID, Cases: []CaseLink{}}}
	if err := addCaseLinks(ctx, ps, []uuid.UUID{r.ID}); err != nil {
		return Summary{}, err
	}
	return Summary{ID: r.ID, FamilyName: r.FamilyName, GivenNames: r.GivenNames, Sex: Sex(r.Sex),
		Nationality: r.Nationality, CustodyStatus: Custody(r.CustodyStatus), Cases: ps[0].Cases}, nil
}

// projection asks the database which projection of person id the
// principal has: full, consular, or none (ErrNotFound).
func projection(ctx context.Context, id uuid.UUID) (Projection, error) {
	var p *string
	if err := store.DB(ctx).Raw(`SELECT cb_person_access(?)`, id).Scan(&p).Error; err != nil {
		return "", fmt.Errorf("person access: %w", err)
	}
	if p == nil {
		return "", fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
	}
	return Projection(*p), nil
}

// nationalRow is one row of selectNationals: the consular view's columns
// and the charges.
type nationalRow struct {
	ID             uuid.UUID  `gorm:"column:id"`
	FamilyName     string     `gorm:"column:family_name"`
	GivenNames     string     `gorm:"column:given_names"`
	Sex            string     `gorm:"column:sex"`
	DateOfBirth    *time.Time `gorm:"column:date_of_birth"`
	Nationality    string     `gorm:"column:nationality"`
	PassportNumber string     `gorm:"column:passport_number"`
	CustodyStatus  string     `gorm:"column:custody_status"`
	Facility       string     `gorm:"column:facility"`
	DetainedAt     *time.Time `gorm:"column:detained_at"`
	DeportedAt     *time.Time `gorm:"column:deported_at"`
	DeportedVia    string     `gorm:"column:deported_via"`
	EntryBanUntil  *time.Time `gorm:"column:entry_ban_until"`
	Charges        string     `gorm:"column:charges"`
	Notification   *string    `gorm:"column:notification"`
}

// selectNationals reads the consular view (migration 00021), which holds
// only the consular projection's columns and only the principal's
// nationals, with each one's charges (cb_consular_charges).
const selectNationals = `SELECT n.id, n.family_name, n.given_names, n.sex, n.date_of_birth, n.nationality,
	n.passport_number, n.custody_status, n.facility, n.detained_at, n.deported_at, n.deported_via,
	n.entry_ban_until,
	(SELECT COALESCE(json_agg(json_build_object('case_kind', ch.case_kind, 'legal_basis', ch.legal_basis,
		'status', ch.status, 'court_name', ch.court_name, 'hearing_date', ch.hearing_date)), '[]')
	   FROM cb_consular_charges(n.id) ch)::text AS charges,
	cb_open_notification(n.id)::text AS notification
FROM consular_nationals n`

func (r nationalRow) toNational() (National, error) {
	n := National{
		ID: r.ID, FamilyName: r.FamilyName, GivenNames: r.GivenNames, Sex: Sex(r.Sex), DateOfBirth: r.DateOfBirth,
		Nationality: r.Nationality, PassportNumber: r.PassportNumber, CustodyStatus: Custody(r.CustodyStatus),
		Facility: r.Facility, DetainedAt: r.DetainedAt, DeportedAt: r.DeportedAt, DeportedVia: r.DeportedVia,
		EntryBanUntil: r.EntryBanUntil, Charges: []Charge{},
	}
	var charges []struct {
		CaseKind    string  `json:"case_kind"`
		LegalBasis  *string `json:"legal_basis"`
		Status      string  `json:"status"`
		CourtName   *string `json:"court_name"`
		HearingDate *string `json:"hearing_date"`
	}
	if err := json.Unmarshal([]byte(r.Charges), &charges); err != nil {
		return n, fmt.Errorf("decode charges: %w", err)
	}
	if r.Notification != nil {
		n.Notification = new(OpenNotification)
		if err := json.Unmarshal([]byte(*r.Notification), n.Notification); err != nil {
			return n, fmt.Errorf("decode notification: %w", err)
		}
	}
	for _, c := range charges {
		ch := Charge{CaseKind: c.CaseKind, Status: c.Status}
		if c.LegalBasis != nil {
			ch.LegalBasis = *c.LegalBasis
		}
		if c.CourtName != nil {
			ch.CourtName = *c.CourtName
		}
		if c.HearingDate != nil {
			d, err := time.Parse(time.DateOnly, *c.HearingDate)
			if err != nil {
				return n, fmt.Errorf("decode hearing date: %w", err)
			}
			ch.HearingDate = &d
		}
		n.Charges = append(n.Charges, ch)
	}
	return n, nil
}

func queryNationals(ctx context.Context, q string, args ...any) ([]National, error) {
	var rows []nationalRow
	if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("query nationals: %w", err)
	}
	out := make([]National, len(rows))
	for i, r := range rows {
		n, err := r.toNational()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// nameQuery turns free text into a prefix tsquery over the words of the
// names ("wang we" → "wang:* & we:*"); only letters and digits pass, so
// no tsquery syntax comes from the caller.
func nameQuery(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	if len(words) > 8 {
		words = words[:8]
	}
	for i, w := range words {
		words[i] = w + ":*"
	}
	return strings.Join(words, " & ")
}

// passportKey normalizes a passport number for an exact search: upper
// case, no spaces.
func passportKey(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}
