// Package facilities is the managed list of places where persons are held
// (ACCESS.md, Consular view: facilities have a kind, and a shelter is never
// named to the person's own state). A person's facility names one of them.
// Who may read and register them is decided by the database
// (migrations/access/45_facilities.sql).
package facilities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// Kind is what a facility is.
type Kind string

// Kinds of facility (ACCESS.md).
const (
	KindDetentionCentre Kind = "detention_centre"
	KindPoliceStation   Kind = "police_station"
	KindPrison          Kind = "prison"
	KindShelter         Kind = "shelter"
	KindOther           Kind = "other"
)

// Kinds lists every kind, in the order forms offer them.
var Kinds = []Kind{KindDetentionCentre, KindPoliceStation, KindPrison, KindShelter, KindOther}

// PermRegister is the permission to register a facility.
const PermRegister = "facility.register"

// Facility is one registered place.
type Facility struct {
	ID        uuid.UUID `gorm:"column:id"`
	Name      string    `gorm:"column:name"`
	Kind      Kind      `gorm:"column:kind"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// New is a facility to register.
type New struct {
	Name string
	Kind Kind
}

// Validate returns every bad field.
func (n New) Validate() error {
	var fs apperr.Fields
	name := strings.TrimSpace(n.Name)
	switch {
	case name == "":
		fs.Add("name", "is required")
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0) || strings.ContainsRune(name, utf8.RuneError):
		fs.Add("name", "must be valid text")
	case utf8.RuneCountInString(name) > 200:
		fs.Add("name", "must be at most 200 characters")
	}
	if !slices.Contains(Kinds, n.Kind) {
		fs.Add("kind", "must be one of detention_centre, police_station, prison, shelter, other")
	}
	return fs.Err()
}

// Service reads and registers facilities.
type Service struct{}

// List returns every facility, by name (the list is short: a country's
// detention centres, police stations, prisons and shelters).
func (Service) List(ctx context.Context) ([]Facility, error) {
	var out []Facility
	err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT id, name, kind, created_at FROM facilities ORDER BY name, id`).Scan(&out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	return out, nil
}

// Create registers a facility.
func (Service) Create(ctx context.Context, n New) (Facility, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return Facility{}, fmt.Errorf("register facility: %w", err)
	}
	var f Facility
	err := store.WithTx(ctx, func(ctx context.Context) error {
		err := store.DB(ctx).Raw(`INSERT INTO facilities (name, kind) VALUES (?, ?) RETURNING id, name, kind, created_at`,
			n.Name, string(n.Kind)).Scan(&f).Error
		if store.IsUniqueViolation(err, "") {
			return apperr.Invalid("name", "is taken by another facility")
		}
		if err != nil {
			return pgerr.Map(err, PermRegister)
		}
		return audit.Record(ctx, audit.Event{Action: "facility.create", ObjectType: "facility", ObjectID: f.ID.String(),
			Details: map[string]any{"name": f.Name, "kind": f.Kind}})
	})
	if err != nil {
		return Facility{}, fmt.Errorf("register facility: %w", err)
	}
	return f, nil
}
