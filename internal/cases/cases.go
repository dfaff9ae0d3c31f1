// Package cases is the case file: cases, their status and court referral,
// and the shares that open a case to another agency.
//
// Who sees what is decided by PostgreSQL (migrations 00020 and 00021): every
// method runs in store.WithTx with the principal of ctx, a case the
// principal has no grant on does not exist for it (ErrNotFound), and before
// an action the service asks cb_can (ErrForbidden naming the permission when
// it says no). The projection of a case (summary or full) is shaped here from
// the access level the database reports (cb_case_access); this package
// restates no rule of spec/ACCESS.md.
package cases

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
)

// Kind is what a case is about.
type Kind string

// Case kinds.
const (
	KindIllegalEntry  Kind = "illegal_entry"
	KindIllegalWork   Kind = "illegal_work"
	KindSmuggling     Kind = "smuggling"
	KindTrafficking   Kind = "trafficking"
	KindDocumentFraud Kind = "document_fraud"
)

// Kinds lists every case kind.
var Kinds = []Kind{KindIllegalEntry, KindIllegalWork, KindSmuggling, KindTrafficking, KindDocumentFraud}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Status is where a case stands.
type Status string

// Case statuses.
const (
	StatusOpen          Status = "open"
	StatusInvestigation Status = "investigation"
	StatusBeforeCourt   Status = "before_court"
	StatusAdjudicated   Status = "adjudicated"
	StatusClosed        Status = "closed"
)

// Statuses lists every status, in the order a case usually passes them.
var Statuses = []Status{StatusOpen, StatusInvestigation, StatusBeforeCourt, StatusAdjudicated, StatusClosed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// transitions is the one statement of how a case moves (the API and
// docs/cases.md show it):
//
//	open          → investigation, closed (nothing to pursue)
//	investigation → before_court (referral), closed
//	before_court  → adjudicated, investigation (the court sends it back or
//	                the referral is withdrawn), before_court (the referral is
//	                updated: another hearing date, court or legal basis)
//	adjudicated   → closed
//	closed        → nothing: a closed case stays closed; new facts open a new case
var transitions = map[Status][]Status{
	StatusOpen:          {StatusInvestigation, StatusClosed},
	StatusInvestigation: {StatusBeforeCourt, StatusClosed},
	StatusBeforeCourt:   {StatusAdjudicated, StatusInvestigation, StatusBeforeCourt},
	StatusAdjudicated:   {StatusClosed},
	StatusClosed:        nil,
}

// Next returns the statuses a case in status s may move to.
func Next(s Status) []Status { return slices.Clone(transitions[s]) }

// CanMove reports whether a case may move from status from to status to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Level is how much of a case a principal sees.
type Level string

// Access levels (ACCESS.md, Case grants).
const (
	LevelSummary Level = "summary"
	LevelFull    Level = "full"
)

// Access is the principal's access to a case as the database reports it:
// the level, and the highest classification of its documents it may read
// (nil when every grant is summary).
type Access struct {
	Level   Level
	Ceiling *access.Classification
}

// AgencyRef names an agency in a case.
type AgencyRef struct {
	ID   uuid.UUID
	Code string
	Name string
	Kind access.Kind
}

// Operation is the raid or inspection a case comes from.
type Operation struct {
	Name  string
	Place string
	Date  *time.Time // a calendar date
}

// Case is a case as one principal sees it. Details is nil at summary level.
type Case struct {
	ID          uuid.UUID
	Reference   string
	Title       string
	Kind        Kind
	Status      Status
	Owner       AgencyRef
	Court       *AgencyRef
	HearingDate *time.Time // a calendar date
	UpdatedAt   time.Time
	Version     int
	Access      Access
	Details     *Details
}

// Details is what a full grant adds to the summary.
type Details struct {
	Summary        string
	Notes          string
	Operation      Operation
	LegalBasis     string
	PersonsCount   int
	PossibleVictim bool
	CreatedAt      time.Time
}

// Field limits, as the database checks them.
const (
	maxTitle      = 300
	maxOperation  = 200
	maxSummary    = 20000
	maxNotes      = 50000
	maxLegalBasis = 500
	maxNote       = 2000
	maxPurpose    = 1000
	// MaxShareDays is the longest a share may run (ACCESS.md, Actions).
	MaxShareDays = 365
)

// NewCase is what a caller gives to open a case; the server assigns the
// reference, the owner (the caller's agency) and the status (open).
type NewCase struct {
	Title     string
	Kind      Kind
	Summary   string
	Notes     string
	Operation Operation
}

func (n *NewCase) normalize() {
	n.Title = strings.TrimSpace(n.Title)
	n.Operation.Name = strings.TrimSpace(n.Operation.Name)
	n.Operation.Place = strings.TrimSpace(n.Operation.Place)
}

// Validate returns every bad field.
func (n NewCase) Validate() error {
	var f apperr.Fields
	checkTitle(&f, n.Title)
	if !n.Kind.Valid() {
		f.Add("kind", "must be one of %s", joinKinds())
	}
	checkLen(&f, "summary", n.Summary, maxSummary)
	checkLen(&f, "notes", n.Notes, maxNotes)
	checkLen(&f, "operation.name", n.Operation.Name, maxOperation)
	checkLen(&f, "operation.place", n.Operation.Place, maxOperation)
	return f.Err()
}

// Patch changes some fields of a case; nil leaves a field as it is.
// Status and court referral change through ChangeStatus.
type Patch struct {
	Title          *string
	Kind           *Kind
	Summary        *string
	Notes          *string
	OperationName  *string // "" clears
	OperationPlace *string // "" clears
	OperationDate  **time.Time
}

func (p *Patch) normalize() {
	for _, s := range []*string{p.Title, p.OperationName, p.OperationPlace} {
		if s != nil {
			*s = strings.TrimSpace(*s)
		}
	}
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool {
	return p.Title == nil && p.Kind == nil && p.Summary == nil && p.Notes == nil &&
		p.OperationName == nil && p.OperationPlace == nil && p.OperationDate == nil
}

// Validate returns every bad field.
func (p Patch) Validate() error {
	var f apperr.Fields
	if p.Empty() {
		f.Add("body", "changes nothing; send at least one field")
	}
	if p.Title != nil {
		checkTitle(&f, *p.Title)
	}
	if p.Kind != nil && !p.Kind.Valid() {
		f.Add("kind", "must be one of %s", joinKinds())
	}
	if p.Summary != nil {
		checkLen(&f, "summary", *p.Summary, maxSummary)
	}
	if p.Notes != nil {
		checkLen(&f, "notes", *p.Notes, maxNotes)
	}
	if p.OperationName != nil {
		checkLen(&f, "operation.name", *p.OperationName, maxOperation)
	}
	if p.OperationPlace != nil {
		checkLen(&f, "operation.place", *p.OperationPlace, maxOperation)
	}
	return f.Err()
}

// StatusChange moves a case to another status. A referral to court
// (status before_court) names the court, the hearing date and the legal
// basis; other statuses take none of them.
type StatusChange struct {
	Status        Status
	Note          string
	CourtAgencyID *uuid.UUID
	HearingDate   *time.Time
	LegalBasis    *string
}

// Validate returns every bad field.
func (s StatusChange) Validate() error {
	var f apperr.Fields
	if !s.Status.Valid() {
		f.Add("status", "must be one of %s", join(Statuses))
	}
	checkLen(&f, "note", s.Note, maxNote)
	if s.Status == StatusBeforeCourt {
		if s.CourtAgencyID == nil {
			f.Add("court_agency_id", "is required to refer a case to court")
		}
		if s.HearingDate == nil {
			f.Add("hearing_date", "is required to refer a case to court")
		}
		if s.LegalBasis == nil || strings.TrimSpace(*s.LegalBasis) == "" {
			f.Add("legal_basis", "is required to refer a case to court")
		} else {
			checkLen(&f, "legal_basis", *s.LegalBasis, maxLegalBasis)
		}
	} else if s.Status.Valid() {
		if s.CourtAgencyID != nil {
			f.Add("court_agency_id", "is only given with status before_court")
		}
		if s.HearingDate != nil {
			f.Add("hearing_date", "is only given with status before_court")
		}
		if s.LegalBasis != nil {
			f.Add("legal_basis", "is only given with status before_court")
		}
	}
	return f.Err()
}

func checkTitle(f *apperr.Fields, title string) {
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		f.Add("title", "is required")
	case n > maxTitle:
		f.Add("title", "must be at most %d characters", maxTitle)
	case strings.ContainsRune(title, 0):
		f.Add("title", "must not contain NUL characters")
	}
}

func checkLen(f *apperr.Fields, field, s string, limit int) {
	if utf8.RuneCountInString(s) > limit {
		f.Add(field, "must be at most %d characters", limit)
	}
	if strings.ContainsRune(s, 0) {
		f.Add(field, "must not contain NUL characters")
	}
}

func joinKinds() string { return join(Kinds) }

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
