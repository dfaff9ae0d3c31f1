// Package persons is the people in the case files: foreign nationals with
// their identity, custody and screening data, their links to cases, and the
// consular view an embassy has of its own nationals.
//
// As in internal/cases, the database decides: a person the principal may not
// see does not exist for it; the projection (full or consular) is the one
// cb_person_access reports; the consular projection is read from the view
// consular_nationals, which has no other columns; and who may change which
// column is checked by the database's guards (cb_can_person, the persons
// triggers), which this package asks first only to answer 403 with a clear
// permission.
package persons

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/validate"
)

// Sex of a person.
type Sex string

// Sexes.
var Sexes = []Sex{"female", "male", "other", "unknown"}

// Custody is where a person stands in custody.
type Custody string

// Custody statuses.
const (
	CustodyAtLarge             Custody = "at_large"
	CustodyDetained            Custody = "detained"
	CustodyCharged             Custody = "charged"
	CustodyConvicted           Custody = "convicted"
	CustodyAwaitingDeportation Custody = "awaiting_deportation"
	CustodyDeported            Custody = "deported"
	CustodyReleased            Custody = "released"
)

// Custodies lists every custody status.
var Custodies = []Custody{CustodyAtLarge, CustodyDetained, CustodyCharged, CustodyConvicted,
	CustodyAwaitingDeportation, CustodyDeported, CustodyReleased}

// Flag is the trafficking screening result.
type Flag string

// Trafficking flags.
const (
	FlagNone       Flag = "none"
	FlagSuspected  Flag = "suspected"
	FlagIdentified Flag = "identified"
	FlagCleared    Flag = "cleared"
)

// Flags lists every trafficking flag.
var Flags = []Flag{FlagNone, FlagSuspected, FlagIdentified, FlagCleared}

// Notification is the consular notification choice.
type Notification string

// Consular notification choices. Mandatory is never chosen: it is set for
// the nationals of the countries configured in consular.mandatory_countries.
const (
	NotificationRequested Notification = "requested"
	NotificationDeclined  Notification = "declined"
	NotificationMandatory Notification = "mandatory"
)

// PassportStatus is what is known of a person's passport.
type PassportStatus string

// Passport statuses.
var PassportStatuses = []PassportStatus{"valid", "expired", "invalid", "none", "unknown"}

// WorkPermitStatus is what is known of a person's work permit.
type WorkPermitStatus string

// Work permit statuses.
var WorkPermitStatuses = []WorkPermitStatus{"valid", "expired", "none", "unknown"}

// Role is a person's role in a case.
type Role string

// Roles in a case.
var Roles = []Role{"detainee", "suspect", "witness", "victim", "other"}

// Projection is how much of a person a principal sees.
type Projection string

// Projections (ACCESS.md, Persons).
const (
	ProjectionFull     Projection = "full"
	ProjectionSummary  Projection = "summary"
	ProjectionConsular Projection = "consular"
)

// AgencyRef names an agency.
type AgencyRef struct {
	ID   uuid.UUID
	Code string
	Name string
}

// CaseLink is a case that links a person, as far as the principal sees it.
type CaseLink struct {
	CaseID    uuid.UUID
	Reference string
	Role      Role
	LinkedAt  time.Time
}

// Person is the full projection of a person.
type Person struct {
	ID                   uuid.UUID
	FamilyName           string
	GivenNames           string
	FamilyNameNative     string
	GivenNamesNative     string
	Sex                  Sex
	DateOfBirth          *time.Time // dates are calendar dates
	Nationality          string
	PassportNumber       string
	PassportStatus       PassportStatus
	PassportExpiresOn    *time.Time
	WorkPermitNumber     string
	WorkPermitStatus     WorkPermitStatus
	Address              string
	CustodyStatus        Custody
	Facility             string
	DetainedAt           *time.Time
	DeportedAt           *time.Time
	DeportedVia          string
	EntryBanUntil        *time.Time
	TraffickingFlag      Flag
	ScreeningNotes       string
	VictimConsents       bool
	ProceedingsCleared   bool
	AsylumClaimed        bool
	ConsularNotification Notification
	CreatedBy            AgencyRef
	Cases                []CaseLink
	Version              int
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// National is the consular projection of a person (ACCESS.md, Consular
// view): nothing else is ever read for it.
type National struct {
	ID             uuid.UUID
	FamilyName     string
	GivenNames     string
	Sex            Sex
	DateOfBirth    *time.Time
	Nationality    string
	PassportNumber string
	CustodyStatus  Custody
	Facility       string
	DetainedAt     *time.Time
	Charges        []Charge
	DeportedAt     *time.Time
	DeportedVia    string
	EntryBanUntil  *time.Time
	// Notification is the open consular notification about the person
	// (ACCESS.md: part of the consular projection), nil when none.
	Notification *OpenNotification
}

// OpenNotification is the consular notification about a national that is
// not withdrawn: its id, episode, when it fell due and when the embassy
// acknowledged it.
type OpenNotification struct {
	ID             uuid.UUID  `json:"id"`
	Episode        int        `json:"episode"`
	DueAt          time.Time  `json:"due_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

// Charge is what an embassy learns of one case that links its national.
type Charge struct {
	CaseKind    string
	LegalBasis  string
	Status      string
	CourtName   string
	HearingDate *time.Time
}

// Summary is the summary projection of a person (ACCESS.md, Persons): what
// a principal whose grants on the linking cases are all summary sees. Cases
// are the linking cases it sees, with the person's role in each.
type Summary struct {
	ID            uuid.UUID
	FamilyName    string
	GivenNames    string
	Sex           Sex
	Nationality   string
	CustodyStatus Custody
	Cases         []CaseLink
}

// Record is a person in the projection the principal has: exactly one of
// Person (full), Summary and National (consular) is set.
type Record struct {
	Projection Projection
	Person     *Person
	Summary    *Summary
	National   *National
}

// Linked is a person as linked to one case: Person in full, or Summary when
// the principal sees the person in the summary projection only.
type Linked struct {
	Role     Role
	LinkedAt time.Time
	Person   *Person
	Summary  *Summary
}

// key is the linked person's place in the list order.
func (l Linked) key() nameKey {
	if l.Person != nil {
		return nameKey{Family: l.Person.FamilyName, Given: l.Person.GivenNames, ID: l.Person.ID}
	}
	return nameKey{Family: l.Summary.FamilyName, Given: l.Summary.GivenNames, ID: l.Summary.ID}
}

// Fields is the editable data of a person; New and Patch use it. A nil
// pointer is "not given" (Patch: unchanged). For the nullable dates a
// non-nil pointer to nil clears.
type Fields struct {
	FamilyName           *string
	GivenNames           *string
	FamilyNameNative     *string
	GivenNamesNative     *string
	Sex                  *Sex
	DateOfBirth          **time.Time
	Nationality          *string
	PassportNumber       *string
	PassportStatus       *PassportStatus
	PassportExpiresOn    **time.Time
	WorkPermitNumber     *string
	WorkPermitStatus     *WorkPermitStatus
	Address              *string
	CustodyStatus        *Custody
	Facility             *string
	DetainedAt           **time.Time
	DeportedAt           **time.Time
	DeportedVia          *string
	EntryBanUntil        **time.Time
	AsylumClaimed        *bool
	ConsularNotification *Notification
}

// Screening changes a person's trafficking screening; nil leaves a field.
type Screening struct {
	TraffickingFlag    *Flag
	ScreeningNotes     *string
	VictimConsents     *bool
	ProceedingsCleared *bool
	// Reason is counter-trafficking's reason for the decision the
	// screening records (clearing a possible victim, identifying a
	// victim, no objection to proceedings): required for the first and the
	// last, kept as a screening decision of its own.
	Reason *string
}

// Screening decisions (ACCESS.md non-punishment): each is a row with its
// reason in the screening history.
const (
	DecisionCleared     = "cleared"
	DecisionIdentified  = "identified_victim"
	DecisionNoObjection = "no_objection_to_proceedings"
)

// decisions returns the decisions that applying s to a person whose flag
// is now cur and whose proceedings are cleared or not records.
func (s Screening) decisions(cur Flag, cleared bool) []string {
	var out []string
	flagged := cur == FlagSuspected || cur == FlagIdentified
	if s.TraffickingFlag != nil && *s.TraffickingFlag == FlagCleared && flagged {
		out = append(out, DecisionCleared)
	}
	if s.TraffickingFlag != nil && *s.TraffickingFlag == FlagIdentified && cur != FlagIdentified {
		out = append(out, DecisionIdentified)
	}
	if s.ProceedingsCleared != nil && *s.ProceedingsCleared && !cleared {
		out = append(out, DecisionNoObjection)
	}
	return out
}

// ScreeningDecision is one decision in a person's screening history.
type ScreeningDecision struct {
	ID         uuid.UUID `gorm:"column:id"`
	Decision   string    `gorm:"column:decision"`
	Reason     string    `gorm:"column:reason"`
	FlagBefore string    `gorm:"column:flag_before"`
	DecidedAt  time.Time `gorm:"column:decided_at"`
	DecidedBy  string    `gorm:"column:decided_by_name"`
	AgencyID   uuid.UUID `gorm:"column:agency_id"`
	AgencyCode string    `gorm:"column:agency_code"`
	AgencyName string    `gorm:"column:agency_name"`
	AgencyKind string    `gorm:"column:agency_kind"`
}

// Field limits, as the database checks them.
const (
	maxName     = 200
	maxDocument = 40
	maxAddress  = 500
	maxFacility = 200
	maxNotes    = 20000
)

func (f *Fields) normalize() {
	for _, s := range []*string{f.FamilyName, f.GivenNames, f.FamilyNameNative, f.GivenNamesNative,
		f.PassportNumber, f.WorkPermitNumber, f.Address, f.Facility, f.DeportedVia} {
		if s != nil {
			*s = strings.TrimSpace(*s)
		}
	}
	if f.Nationality != nil {
		*f.Nationality = strings.ToUpper(strings.TrimSpace(*f.Nationality))
	}
}

// Validate checks the given fields and returns every bad one; creating
// says whether the required ones must be there.
func (f Fields) Validate(creating bool, now time.Time) error {
	var fs apperr.Fields
	if creating && f.FamilyName == nil {
		fs.Add("family_name", "is required")
	}
	if f.FamilyName != nil && *f.FamilyName == "" {
		fs.Add("family_name", "must not be empty")
	}
	if creating && f.Nationality == nil {
		fs.Add("nationality", "is required (ISO 3166-1 alpha-2, e.g. CN)")
	}
	if f.Nationality != nil && !validate.Country(strings.ToUpper(strings.TrimSpace(*f.Nationality))) {
		fs.Add("nationality", "must be an ISO 3166-1 alpha-2 country code, e.g. CN")
	}
	text := []struct {
		name  string
		v     *string
		limit int
	}{
		{"family_name", f.FamilyName, maxName}, {"given_names", f.GivenNames, maxName},
		{"family_name_native", f.FamilyNameNative, maxName}, {"given_names_native", f.GivenNamesNative, maxName},
		{"passport_number", f.PassportNumber, maxDocument}, {"work_permit_number", f.WorkPermitNumber, maxDocument},
		{"address", f.Address, maxAddress}, {"facility", f.Facility, maxFacility},
		{"deported_via", f.DeportedVia, maxFacility},
	}
	for _, t := range text {
		if t.v != nil {
			checkText(&fs, t.name, *t.v, t.limit)
		}
	}
	if f.Sex != nil && !slices.Contains(Sexes, *f.Sex) {
		fs.Add("sex", "must be one of %s", join(Sexes))
	}
	if f.PassportStatus != nil && !slices.Contains(PassportStatuses, *f.PassportStatus) {
		fs.Add("passport_status", "must be one of %s", join(PassportStatuses))
	}
	if f.WorkPermitStatus != nil && !slices.Contains(WorkPermitStatuses, *f.WorkPermitStatus) {
		fs.Add("work_permit_status", "must be one of %s", join(WorkPermitStatuses))
	}
	if f.CustodyStatus != nil && !slices.Contains(Custodies, *f.CustodyStatus) {
		fs.Add("custody_status", "must be one of %s", join(Custodies))
	}
	if f.ConsularNotification != nil && *f.ConsularNotification != NotificationRequested &&
		*f.ConsularNotification != NotificationDeclined {
		fs.Add("consular_notification", "must be requested or declined (mandatory is set by the server for the configured countries)")
	}
	if creating && f.CustodyStatus != nil && *f.CustodyStatus == CustodyDeported && (f.DeportedAt == nil || *f.DeportedAt == nil) {
		fs.Add("deported_at", "is required when custody_status is deported")
	}
	if f.DateOfBirth != nil && *f.DateOfBirth != nil && (*f.DateOfBirth).After(now) {
		fs.Add("date_of_birth", "must not be in the future")
	}
	for _, t := range []struct {
		name string
		v    **time.Time
	}{{"detained_at", f.DetainedAt}, {"deported_at", f.DeportedAt}} {
		if t.v != nil && *t.v != nil && (*t.v).After(now.Add(24*time.Hour)) {
			fs.Add(t.name, "must not be in the future")
		}
	}
	return fs.Err()
}

// Validate checks a screening change and returns every bad field.
func (s Screening) Validate() error {
	var fs apperr.Fields
	if s.TraffickingFlag == nil && s.ScreeningNotes == nil && s.VictimConsents == nil && s.ProceedingsCleared == nil {
		fs.Add("body", "changes nothing; send at least one field")
	}
	if s.Reason != nil {
		checkText(&fs, "reason", *s.Reason, 2000)
	}
	if s.TraffickingFlag != nil && !slices.Contains(Flags, *s.TraffickingFlag) {
		fs.Add("trafficking_flag", "must be one of %s", join(Flags))
	}
	if s.ScreeningNotes != nil {
		checkText(&fs, "screening_notes", *s.ScreeningNotes, maxNotes)
	}
	return fs.Err()
}

func checkText(fs *apperr.Fields, name, v string, limit int) {
	if utf8.RuneCountInString(v) > limit {
		fs.Add(name, "must be at most %d characters", limit)
	}
	if strings.ContainsRune(v, 0) {
		fs.Add(name, "must not contain NUL characters")
	}
}

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
