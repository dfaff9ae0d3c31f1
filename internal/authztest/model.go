package authztest

import (
	"slices"

	"github.com/casebridge/casebridge/internal/access"
)

// The model: spec/ACCESS.md's tables, written as plainly as they read, and
// written independently of the SQL in migrations/ that implements them.

// Classification ranks.
var rank = map[string]int{"public": 0, "restricted": 1, "confidential": 2, "secret": 3}

// RankName is the classification of a rank.
func RankName(r int) string { return []string{"public", "restricted", "confidential", "secret"}[r] }

// staffCeiling: viewer → confidential, officer/supervisor → secret; -1 for
// none of those roles.
func staffCeiling(p *Principal) int {
	switch {
	case p.Has(access.RoleOfficer, access.RoleSupervisor):
		return 3
	case p.Has(access.RoleViewer):
		return 2
	}
	return -1
}

// shareCeiling: the ceiling of P's best role for G2 (liaison and
// coordinator → restricted, clerk → confidential); -1 when P has no role
// but admin.
func shareCeiling(p *Principal) int {
	best := staffCeiling(p)
	if p.Has(access.RoleClerk) {
		best = max(best, 2)
	}
	if p.Has(access.RoleLiaison, access.RoleCoordinator) {
		best = max(best, 1)
	}
	return best
}

// Grant is a principal's access to a case: Level "" for none, else
// "summary" or "full"; Ceiling the best full ceiling (-1 when none).
type Grant struct {
	Level   string
	Ceiling int
}

// CaseAccess is the union of grants G1–G5 of P on C.
func (w *World) CaseAccess(p *Principal, c *Case) Grant {
	type grant struct {
		full    bool
		ceiling int
	}
	var gs []grant
	// G1 owner
	if p.Agency == c.Owner && staffCeiling(p) >= 0 {
		gs = append(gs, grant{true, staffCeiling(p)})
	}
	// G2 share
	for _, s := range c.Shares {
		if s.Agency == p.Agency && s.Active() && shareCeiling(p) >= 0 {
			gs = append(gs, grant{s.Level == "full", min(rank[s.Ceiling], shareCeiling(p))})
		}
	}
	// G3 trafficking duty
	if p.Agency.Kind == access.KindCounterTrafficking && p.Has(access.RoleViewer, access.RoleOfficer, access.RoleSupervisor) &&
		slices.ContainsFunc(c.Persons, func(x *Person) bool { return x.Flag == "suspected" || x.Flag == "identified" }) {
		ceiling := 1
		if p.Has(access.RoleOfficer, access.RoleSupervisor) {
			ceiling = 2
		}
		gs = append(gs, grant{true, ceiling})
	}
	// G4 oversight
	if p.Agency.Kind == access.KindInteriorMinistry && p.Has(access.RoleCoordinator) {
		gs = append(gs, grant{true, 1})
	}
	// G5 court
	if p.Agency.Kind == access.KindCourt && p.Has(access.RoleClerk) && c.Court == p.Agency &&
		(c.Status == "before_court" || c.Status == "adjudicated") {
		gs = append(gs, grant{true, 2})
	}
	if len(gs) == 0 {
		return Grant{Ceiling: -1}
	}
	g := Grant{Level: "summary", Ceiling: -1}
	for _, x := range gs {
		if x.full {
			g.Level = "full"
			g.Ceiling = max(g.Ceiling, x.ceiling)
		}
	}
	return g
}

// Sees reports whether P has any grant on C.
func (w *World) Sees(p *Principal, c *Case) bool { return w.CaseAccess(p, c).Level != "" }

// ConsularMatch: conditions 1–4 of the consular view.
func (w *World) ConsularMatch(p *Principal, x *Person) bool {
	custody := []string{"detained", "charged", "convicted", "awaiting_deportation", "deported"}
	return p.Agency.Kind == access.KindEmbassy && p.Has(access.RoleLiaison) &&
		x.Nationality == p.Agency.Country &&
		slices.Contains(custody, x.Custody) &&
		(x.Notification == "requested" || x.Notification == "mandatory") &&
		(x.Flag == "none" || x.Flag == "cleared" || x.Consents)
}

// OwnState reports whether x is a national of P's country and P an embassy:
// such a person is seen only through the consular view (ACCESS.md, Own state).
func (w *World) OwnState(p *Principal, x *Person) bool {
	return p.Agency.Kind == access.KindEmbassy && x.Nationality == p.Agency.Country
}

// PersonFull: a full grant on a linking case, the creating agency while the
// person is unlinked (staff roles), or a coordinator; never the person's own
// state.
func (w *World) PersonFull(p *Principal, x *Person) bool {
	// A person's own state sees them only in the consular projection,
	// whatever shares it holds.
	if w.OwnState(p, x) {
		return false
	}
	for _, c := range x.Cases {
		if w.CaseAccess(p, c).Level == "full" {
			return true
		}
	}
	if len(x.Cases) == 0 && x.Creator == p.Agency && staffCeiling(p) >= 0 {
		return true
	}
	return p.Agency.Kind == access.KindInteriorMinistry && p.Has(access.RoleCoordinator)
}

// PersonSummary: only summary grants on the cases linking x (and not the
// own state): x is seen in the summary projection.
func (w *World) PersonSummary(p *Principal, x *Person) bool {
	if w.OwnState(p, x) || w.PersonFull(p, x) {
		return false
	}
	return slices.ContainsFunc(x.Cases, func(c *Case) bool { return w.Sees(p, c) })
}

// Projection is "full", "summary", "consular" or "" (the person does not
// exist for P).
func (w *World) Projection(p *Principal, x *Person) string {
	switch {
	case w.OwnState(p, x):
		if w.ConsularMatch(p, x) {
			return "consular"
		}
		return ""
	case w.PersonFull(p, x):
		return "full"
	case w.PersonSummary(p, x):
		return "summary"
	}
	return ""
}

// CasePersons lists the persons of c that P may see listed with the case
// (and so count): every linked person when P sees c, except an embassy's own
// nationals.
func (w *World) CasePersons(p *Principal, c *Case) []*Person {
	if !w.Sees(p, c) {
		return nil
	}
	var out []*Person
	for _, x := range c.Persons {
		if !w.OwnState(p, x) {
			out = append(out, x)
		}
	}
	return out
}

// Charges lists the cases whose charges an embassy sees for x in its
// consular view: those linking x as detainee or suspect.
func (w *World) Charges(p *Principal, x *Person) []*Case {
	if !w.ConsularMatch(p, x) {
		return nil
	}
	var out []*Case
	for _, c := range x.Cases {
		if r := x.Role(c); r == "detainee" || r == "suspect" {
			out = append(out, c)
		}
	}
	return out
}

// ConsularFacility is the facility as x's own state sees it: a shelter is
// never named.
func (w *World) ConsularFacility(x *Person) string {
	if x.FacilityKind == "shelter" {
		return "in the care of the authorities"
	}
	return x.Facility
}

func ownerStaff(p *Principal, c *Case, roles ...access.Role) bool {
	return p.Agency == c.Owner && p.Has(roles...)
}

// CanEdit: officer, supervisor of the owner agency.
func (w *World) CanEdit(p *Principal, c *Case) bool {
	return ownerStaff(p, c, access.RoleOfficer, access.RoleSupervisor)
}

// CanChangeStatus and CanShare: supervisor of the owner agency.
func (w *World) CanChangeStatus(p *Principal, c *Case) bool {
	return ownerStaff(p, c, access.RoleSupervisor)
}

// CanShare: supervisor of the owner agency.
func (w *World) CanShare(p *Principal, c *Case) bool { return ownerStaff(p, c, access.RoleSupervisor) }

// CanEditPerson: an editor of a linking case, or the creating agency's
// officers while the person is unlinked.
func (w *World) CanEditPerson(p *Principal, x *Person) bool {
	if slices.ContainsFunc(x.Cases, func(c *Case) bool { return w.CanEdit(p, c) }) {
		return true
	}
	return len(x.Cases) == 0 && x.Creator == p.Agency && p.Has(access.RoleOfficer, access.RoleSupervisor)
}

// CanScreen: officer, supervisor of counter-trafficking with a grant on a
// linked case.
func (w *World) CanScreen(p *Principal, x *Person) bool {
	return p.Agency.Kind == access.KindCounterTrafficking && p.Has(access.RoleOfficer, access.RoleSupervisor) &&
		slices.ContainsFunc(x.Cases, func(c *Case) bool { return w.Sees(p, c) })
}

// CanFlagSuspected: a screener, or an owner officer of a linking case
// (who may raise a suspicion and nothing more).
func (w *World) CanFlagSuspected(p *Principal, x *Person) bool {
	return w.CanScreen(p, x) || slices.ContainsFunc(x.Cases, func(c *Case) bool { return w.CanEdit(p, c) })
}

// ShareVisible: the owner agency's staff see the shares of its cases; the
// receiving agency (any role but admin) sees its own.
func (w *World) ShareVisible(p *Principal, s *Share) bool {
	return (s.Case.Owner == p.Agency && staffCeiling(p) >= 0) || (s.Agency == p.Agency && shareCeiling(p) >= 0)
}

// IsAdmin: manages agencies and users.
func (w *World) IsAdmin(p *Principal) bool { return p.Has(access.RoleAdmin) }

// IsConsularViewer: an embassy liaison.
func (w *World) IsConsularViewer(p *Principal) bool {
	return p.Agency.Kind == access.KindEmbassy && p.Has(access.RoleLiaison)
}

// DocumentReadable: P reads document d iff it is not withdrawn (or P is a
// supervisor of the owner agency) and either a full grant on its case has a
// ceiling at or above its classification — never for an embassy about its
// own national — or (embassies) d is about a person in P's consular view,
// consular releasable and at most restricted.
func (w *World) DocumentReadable(p *Principal, d *Document) bool {
	if d.Withdrawn && !(p.Agency == d.Case.Owner && p.Has(access.RoleSupervisor)) {
		return false
	}
	g := w.CaseAccess(p, d.Case)
	if g.Level == "full" && g.Ceiling >= rank[d.Classification] && (d.Person == nil || !w.OwnState(p, d.Person)) {
		return true
	}
	return p.Agency.Kind == access.KindEmbassy && d.Person != nil && w.ConsularMatch(p, d.Person) &&
		d.Releasable && rank[d.Classification] <= rank["restricted"]
}

// DocumentListed: d appears in its case's document list for P — readable,
// and not about an embassy's own national (those are shown with the person
// in the consular view).
func (w *World) DocumentListed(p *Principal, d *Document) bool {
	return w.DocumentReadable(p, d) && (d.Person == nil || !w.OwnState(p, d.Person))
}
