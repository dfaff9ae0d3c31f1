package documents

import (
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
)

// Kinds of document. The database checks the same list.
var Kinds = []string{
	"passport", "identity_document", "visa", "work_permit", "residence_permit",
	"court_order", "judgment", "indictment", "charge_sheet", "deportation_order",
	"statement", "evidence", "photo", "medical_report", "police_report",
	"correspondence", "consular_note", "other",
}

// Metadata is what an uploader says about a new document.
type Metadata struct {
	Title              string
	Kind               string
	Classification     access.Classification
	ConsularReleasable bool
	PersonID           *uuid.UUID // the person the document is about, if any
}

const maxTitle = 300

// Validate collects every bad field.
func (m Metadata) Validate() error {
	var f apperr.Fields
	switch t := strings.TrimSpace(m.Title); {
	case t == "":
		f.Add("title", "is required")
	case !utf8.ValidString(t) || strings.ContainsFunc(t, isControl):
		f.Add("title", "must be text without control characters")
	case utf8.RuneCountInString(t) > maxTitle:
		f.Add("title", "must be at most %d characters", maxTitle)
	}
	if !slices.Contains(Kinds, m.Kind) {
		f.Add("kind", "must be one of %s", strings.Join(Kinds, ", "))
	}
	if !m.Classification.Valid() {
		f.Add("classification", "must be one of public, restricted, confidential, secret")
	}
	if m.ConsularReleasable && m.Classification.Valid() && !m.Classification.AtMost(access.Restricted) {
		f.Add("consular_releasable", "only public or restricted documents may be released to an embassy")
	}
	if m.PersonID != nil && *m.PersonID == uuid.Nil {
		f.Add("person_id", "must be a person id")
	}
	return f.Err()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// Document is a document's metadata and its current version.
type Document struct {
	ID uuid.UUID
	// CaseID and CreatedBy are zero when the principal reads the document
	// only through the consular rule (ACCESS.md): an embassy learns neither
	// the case nor other agencies' staff.
	CaseID             uuid.UUID
	PersonID           *uuid.UUID
	Title              string
	Kind               string
	Classification     access.Classification
	ConsularReleasable bool
	CurrentVersion     int
	// Revision counts changes to the row (new version, withdrawal); it is
	// the document's ETag for If-Match.
	Revision   int
	Withdrawal *Withdrawal
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Current    Version
	// Versions, oldest first; filled by Get only.
	Versions []Version

	caseID uuid.UUID // always set, for the service's own checks
}

// Withdrawal records a soft delete.
type Withdrawal struct {
	At     time.Time
	By     uuid.UUID
	Reason string
}

// Version is one immutable version of a document's bytes.
type Version struct {
	Number    int
	SHA256    string
	Size      int64
	MediaType string
	Filename  string
	CreatedBy uuid.UUID // zero under the consular projection
	CreatedAt time.Time
}

// File is the byte stream of an upload and the name the client gave it.
type File struct {
	Name string
	Body io.Reader
}

// FileFunc yields the file of an upload. The service calls it only after
// the metadata and the principal's permission have been checked, so that an
// HTTP handler reading a multipart body does not stream a byte before then.
type FileFunc func() (File, error)

// Page is one page of a list.
type Page struct {
	Items      []Document
	NextCursor string // empty on the last page
}

// ListFilter selects the documents of one case or about one person.
type ListFilter struct {
	CaseID   uuid.UUID
	PersonID uuid.UUID
	// Narrowing a case's list (zero values do not filter): the kind, the
	// person the document is about, and words of the title.
	Kind   string
	About  uuid.UUID
	Title  string
	Limit  int
	Cursor string
}

// validate returns every bad field of the narrowing filters.
func (f ListFilter) validate() error {
	var fs apperr.Fields
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		fs.Add("kind", "must be one of %s", strings.Join(Kinds, ", "))
	}
	if len(f.Title) > 200 {
		fs.Add("q", "must be at most 200 characters")
	}
	return fs.Err()
}

// Content is an open version's bytes.
type Content struct {
	Document Document
	Version  Version
	Body     io.ReadSeekCloser
}
