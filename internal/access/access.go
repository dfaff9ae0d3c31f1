// Package access is the Go side of the access rules in spec/ACCESS.md: agency
// kinds, roles, classification levels and the signed-in principal. Row
// visibility itself is decided by the database (Row-Level Security policies in
// migrations/); this package only names the vocabulary both sides share and
// carries the principal through a request's context.
package access

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Kind is the kind of an agency.
type Kind string

// Agency kinds (ACCESS.md, Principals).
const (
	KindImmigrationPolice  Kind = "immigration_police"
	KindCounterTrafficking Kind = "counter_trafficking"
	KindEmbassy            Kind = "embassy"
	KindInteriorMinistry   Kind = "interior_ministry"
	KindCourt              Kind = "court"
)

// Kinds lists every agency kind.
var Kinds = []Kind{KindImmigrationPolice, KindCounterTrafficking, KindEmbassy, KindInteriorMinistry, KindCourt}

// Valid reports whether k is a known agency kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Role is a role a principal holds within its agency.
type Role string

// Roles (ACCESS.md, Principals).
const (
	RoleViewer      Role = "viewer"
	RoleOfficer     Role = "officer"
	RoleSupervisor  Role = "supervisor"
	RoleAdmin       Role = "admin"
	RoleLiaison     Role = "liaison"
	RoleCoordinator Role = "coordinator"
	RoleClerk       Role = "clerk"
)

// allowedRoles is the table of roles each agency kind may hold.
var allowedRoles = map[Kind][]Role{
	KindImmigrationPolice:  {RoleViewer, RoleOfficer, RoleSupervisor, RoleAdmin},
	KindCounterTrafficking: {RoleViewer, RoleOfficer, RoleSupervisor, RoleAdmin},
	KindEmbassy:            {RoleLiaison},
	KindInteriorMinistry:   {RoleCoordinator, RoleAdmin},
	KindCourt:              {RoleClerk},
}

// AllowedRoles returns the roles an agency of kind k may hold.
func AllowedRoles(k Kind) []Role { return slices.Clone(allowedRoles[k]) }

// FilterRoles keeps the roles in claimed that are allowed for kind k, in a
// stable order without duplicates, and returns the ones it dropped.
func FilterRoles(k Kind, claimed []string) (kept []Role, dropped []string) {
	allowed := allowedRoles[k]
	for _, c := range claimed {
		r := Role(c)
		switch {
		case !slices.Contains(allowed, r):
			dropped = append(dropped, c)
		case !slices.Contains(kept, r):
			kept = append(kept, r)
		}
	}
	slices.Sort(kept)
	return kept, dropped
}

// Classification is a document's classification level.
type Classification string

// Classification levels, lowest first.
const (
	Public       Classification = "public"
	Restricted   Classification = "restricted"
	Confidential Classification = "confidential"
	Secret       Classification = "secret"
)

var classificationRank = map[Classification]int{Public: 0, Restricted: 1, Confidential: 2, Secret: 3}

// Valid reports whether c is a known classification.
func (c Classification) Valid() bool { _, ok := classificationRank[c]; return ok }

// AtMost reports whether c is no higher than ceiling.
func (c Classification) AtMost(ceiling Classification) bool {
	a, okA := classificationRank[c]
	b, okB := classificationRank[ceiling]
	return okA && okB && a <= b
}

// Principal is who is making a request: a signed-in user or a partner system.
type Principal struct {
	UserID     uuid.UUID // users.id; uuid.Nil for a partner system without a user row
	Issuer     string
	Subject    string
	Name       string
	AgencyID   uuid.UUID
	AgencyCode string
	AgencyName string
	Kind       Kind
	Country    string // ISO 3166-1 alpha-2; set for embassies
	Roles      []Role
	SessionID  string // empty for bearer-token requests
}

// Has reports whether p holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// HasAny reports whether p holds any of roles.
func (p Principal) HasAny(roles ...Role) bool {
	for _, r := range roles {
		if p.Has(r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal carried by ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
