// Package bundles is the court bundle: per case, an ordered list of lettered
// sections, each an ordered list of document versions, built by a
// background job (bundles.build, on River) into one indexed, paginated PDF
// (internal/bundles/render), then sealed: contents and PDF fixed, the PDF's
// SHA-256 and a manifest recorded, the documents under legal hold.
//
// Who sees and may do what is the database's answer (RLS on bundles, and
// cb_bundle_can in migrations/access/50_bundles.sql); this package never
// filters rows itself. The build job runs as the principal who asked for
// it, so it reads exactly the documents that principal may read.
package bundles

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
)

// Numbering is how bundle pages are labelled.
type Numbering string

// Numberings (render.Consecutive, render.PerSection).
const (
	Consecutive Numbering = "consecutive"
	PerSection  Numbering = "per_section"
)

// Valid reports whether n is a known numbering.
func (n Numbering) Valid() bool { return n == Consecutive || n == PerSection }

// State is where a bundle is in its life.
type State string

// States.
const (
	Draft    State = "draft"
	Building State = "building"
	Built    State = "built"
	Failed   State = "failed"
	Sealed   State = "sealed"
)

// Permission names, as shown in 403 problems. Building a bundle is editing
// it (ACCESS.md: "create, edit, build a bundle").
const (
	PermEdit     = "bundle.edit"
	PermSeal     = "bundle.seal"
	PermDownload = "bundle.download"
)

// Pages is where an item landed in the last build of its bundle.
type Pages struct {
	First, Last           int
	FirstLabel, LastLabel string
}

// Item is one document version in a section. Title, MediaType and
// Classification are nil when the caller may not read the document (it was
// withdrawn, or is above the caller's ceiling).
type Item struct {
	DocumentID     uuid.UUID
	Version        int
	Title          *string
	MediaType      *string
	Classification *string
	Pages          *Pages // nil unless the bundle is built from its current contents
}

// Section is one lettered part of a bundle.
type Section struct {
	Label string
	Title string
	Items []Item
}

// Progress of a build, in documents.
type Progress struct {
	Percent, Done, Total int
}

// BuildError says why the last build failed, naming the document at fault
// when there is one.
type BuildError struct {
	DocumentID *uuid.UUID `json:"document_id"`
	Title      string     `json:"title"`
	Reason     string     `json:"reason"`
}

// Can is what the caller may do with a bundle now: the SQL action
// predicates (cb_bundle_can) combined with the bundle's state.
type Can struct {
	Edit, Build, Seal, Download bool
}

// Bundle is one court bundle.
type Bundle struct {
	ID            uuid.UUID
	CaseID        uuid.UUID
	CaseReference string
	Title         string
	HearingDate   *time.Time
	Numbering     Numbering
	State         State
	Stale         bool
	Progress      Progress
	Error         *BuildError
	Sections      []Section
	LateAdditions []Section
	BasedOn       *uuid.UUID
	BundleVersion int
	Pages         *int
	PDFSHA256     *string
	BuiltAt       *time.Time
	SealedAt      *time.Time
	Version       int
	Can           Can
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ItemRef names a document version to place in a section.
type ItemRef struct {
	DocumentID uuid.UUID
	Version    int
}

// SectionInput is a section as a client sends it.
type SectionInput struct {
	Label string
	Title string
	Items []ItemRef
}

// NewBundle is what creating a bundle takes. With BasedOn, the new bundle is
// the next version of that sealed bundle: its main part is the sealed one's
// contents and Sections must be empty.
type NewBundle struct {
	Title       string
	HearingDate *time.Time
	Numbering   Numbering
	Sections    []SectionInput
	BasedOn     *uuid.UUID
}

// Patch is a merge-patch of a bundle: nil fields are left alone.
type Patch struct {
	Title         *string
	HearingDate   **time.Time
	Numbering     *Numbering
	Sections      *[]SectionInput
	LateAdditions *[]SectionInput
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool {
	return p.Title == nil && p.HearingDate == nil && p.Numbering == nil && p.Sections == nil && p.LateAdditions == nil
}

// Limits of a bundle's contents.
const (
	MaxSections = 50
	MaxItems    = 1000
)

var labelRE = regexp.MustCompile(`^[A-Z]{1,3}$`)

func validTitle(fs *apperr.Fields, field, s string, max int) {
	switch {
	case strings.TrimSpace(s) == "":
		fs.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		fs.Add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		fs.Add(field, "must not hold control characters")
	}
}

// validSections checks one part's sections; seen collects the document
// versions of the whole bundle (each may appear once).
func validSections(fs *apperr.Fields, field string, secs []SectionInput, seen map[ItemRef]bool, count *int) {
	if len(secs) > MaxSections {
		fs.Add(field, "must hold at most %d sections", MaxSections)
		return
	}
	labels := map[string]bool{}
	for i, s := range secs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !labelRE.MatchString(s.Label) {
			fs.Add(f+".label", "must be one to three capital letters (A, B, … AA)")
		} else if labels[s.Label] {
			fs.Add(f+".label", "is used by another section")
		}
		labels[s.Label] = true
		validTitle(fs, f+".title", s.Title, 200)
		for j, it := range s.Items {
			g := fmt.Sprintf("%s.items[%d]", f, j)
			*count++
			switch {
			case it.DocumentID == uuid.Nil:
				fs.Add(g+".document_id", "is required")
			case it.Version < 1:
				fs.Add(g+".version", "must be a version number (1 or more)")
			case seen[it]:
				fs.Add(g, "names a document version that is already in the bundle")
			}
			seen[it] = true
		}
	}
}

// Validate checks a new bundle.
func (n NewBundle) Validate() error {
	var fs apperr.Fields
	validTitle(&fs, "title", n.Title, 300)
	if !n.Numbering.Valid() {
		fs.Add("numbering", "must be one of consecutive, per_section")
	}
	count := 0
	validSections(&fs, "sections", n.Sections, map[ItemRef]bool{}, &count)
	if count > MaxItems {
		fs.Add("sections", "must hold at most %d documents", MaxItems)
	}
	if n.BasedOn != nil && len(n.Sections) > 0 {
		fs.Add("sections", "must be empty with based_on: the main part is the sealed bundle's contents")
	}
	return fs.Err()
}

// Validate checks what a patch holds on its own (the bundle's own rules are
// checked by Update).
func (p Patch) Validate() error {
	var fs apperr.Fields
	if p.Title != nil {
		validTitle(&fs, "title", *p.Title, 300)
	}
	if p.Numbering != nil && !p.Numbering.Valid() {
		fs.Add("numbering", "must be one of consecutive, per_section")
	}
	seen, count := map[ItemRef]bool{}, 0
	if p.Sections != nil {
		validSections(&fs, "sections", *p.Sections, seen, &count)
	}
	if p.LateAdditions != nil {
		validSections(&fs, "late_additions", *p.LateAdditions, seen, &count)
	}
	if count > MaxItems {
		fs.Add("sections", "must hold at most %d documents", MaxItems)
	}
	return fs.Err()
}

// Manifest is what a sealed bundle holds: the PDF's hash and, for every
// source document version, its hash and page range.
type Manifest struct {
	BundleID      uuid.UUID        `json:"bundle_id"`
	CaseID        uuid.UUID        `json:"case_id"`
	CaseReference string           `json:"case_reference"`
	BundleVersion int              `json:"bundle_version"`
	PDFSHA256     string           `json:"pdf_sha256"`
	Pages         int              `json:"pages"`
	Numbering     Numbering        `json:"numbering"`
	SealedAt      *time.Time       `json:"sealed_at"`
	Sources       []ManifestSource `json:"sources"`
}

// ManifestSource is one document version of a manifest.
type ManifestSource struct {
	Section    string    `json:"section"`
	DocumentID uuid.UUID `json:"document_id"`
	Version    int       `json:"version"`
	Title      string    `json:"title"`
	SHA256     string    `json:"sha256"`
	FirstPage  int       `json:"first_page"`
	LastPage   int       `json:"last_page"`
	FirstLabel string    `json:"first_label"`
	LastLabel  string    `json:"last_label"`
}
